package io.haraft;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The complete, validated configuration of one node. Usually built by {@link RaftNode.Builder};
 * implementations of {@link io.haraft.spi.RaftNodeFactory} receive it.
 *
 * <p><b>Guarantees.</b> Every instance is valid: the constructor checks every value and throws a
 * {@link RaftConfigException} whose message says what is wrong and how to fix it. Immutable and
 * safe to share; the member list is an unmodifiable copy; no component is {@code null} (the
 * optional TLS setting is an {@link Optional}). The constructor does not touch the file system;
 * {@link #prepareDataDir()} does, and {@link RaftNode.Builder#build()} calls it.
 *
 * <p><b>Voter count.</b> Voting members are voters and witnesses ({@link MemberRole#votes()}). The
 * rule is: 1 voter is allowed for development only (no fault tolerance at all); 2 voting members
 * are refused, because a majority of 2 is 2, so either failure stops the cluster, which is worse
 * than one node; 3 to 7 are allowed. Odd counts are best: 3 tolerate 1 failure and 5 tolerate 2,
 * while 4 still tolerate only 1 and 6 only 2, with a larger majority to wait for on every commit.
 * More than 7 is refused: every commit and every heartbeat round would wait for more
 * acknowledgements without a practical gain in availability. A site with two servers runs them as
 * voters plus a {@link MemberRole#WITNESS witness} on a third, small machine: the witness votes but
 * stores no data and never leads, and there must be at least two data voters beside witnesses.
 * Learners do not count.
 *
 * <p><b>Timing.</b> A follower that hears nothing for its election timeout, drawn at random from
 * {@code [electionTimeout, 2 * electionTimeout)}, starts an election. The leader's lease is
 * {@link #leaseDuration()} = {@code electionTimeout * (1 - 2 * clockDriftBound)} from the start of
 * the last heartbeat round a majority acknowledged. The default rule is three missed heartbeats:
 * 100 ms heartbeats and a 300 ms election timeout. The heartbeat interval is at least 1 ms and at
 * most 30 s; the election timeout at least twice the heartbeat interval and at most
 * {@link #MAX_ELECTION_TIMEOUT} (60 s). Nodes of one cluster may run with different timings (as
 * during a rolling change of them, node by node): every leader's messages carry its election
 * timeout, and a follower withholds its vote for the larger of its own and its leader's, so the
 * lease stays safe.
 *
 * <p><b>Log size.</b> A node holds the log since its latest snapshot in memory, and reads it back
 * into memory when it restarts. A snapshot is taken once {@link #snapshotThreshold()} entries or
 * {@link #snapshotThresholdBytes()} bytes of log were applied since the last one, whichever comes
 * first, so the heap a node needs for its log stays near {@code snapshotThresholdBytes}. Without a
 * {@link StateMachine} a snapshot is empty and only compacts the log.
 *
 * <p><b>Backpressure.</b> At most {@link #maxPendingProposals()} submitted commands are in progress
 * on a node at once; {@link RaftNode#submit} refuses one more at once with
 * {@link OverloadedException}, before appending it, so a client can back off and retry safely.
 *
 * <pre>{@code
 * RaftConfig config = RaftNode.builder()
 *     .clusterId("orders").nodeId("n1")
 *     .member("n1", "10.0.0.1:7001").member("n2", "10.0.0.2:7001").member("n3", "10.0.0.3:7001")
 *     .dataDir(Path.of("/var/lib/orders/raft"))
 *     .config();                                    // validated, nothing started
 * Duration lease = config.leaseDuration();          // 294 ms with the defaults
 * }</pre>
 *
 * <p><b>Members at start-up and later.</b> The members given here are the <em>bootstrap</em>
 * configuration: a new cluster starts with it, every node of it given the same list. Once the
 * cluster changes its configuration ({@link RaftNode#addLearner}, {@link RaftNode#promote},
 * {@link RaftNode#removeMember}, {@link RaftNode#replaceMember}), the change is stored in the log
 * and in snapshots, and a node uses the latest configuration it has stored, not this list; it logs
 * a warning when the two differ. A node that joins a running cluster is started with the current
 * members plus itself as a {@link MemberRole#LEARNER learner} (or a witness), then added on the
 * leader.
 *
 * <p><b>Limits.</b> Addresses are checked and compared as written, without DNS: an IPv4 literal
 * must be four numbers from 0 to 255 and a host name must be made of DNS labels, but whether a
 * name resolves shows only at start; {@code localhost:7001} and {@code 127.0.0.1:7001} are not
 * detected as duplicates.
 *
 * @param clusterId                       the cluster's name, checked on every connection
 * @param nodeId                          this node's id; one of {@code members}
 * @param members                         the bootstrap configuration: every member with its role,
 *                                        this node included, in a stable order
 * @param dataDir                         where this node keeps its log, term and snapshots (absolute)
 * @param heartbeatInterval               how often the leader sends heartbeats
 * @param electionTimeout                 the minimum election timeout (see above)
 * @param clockDriftBound                 the assumed bound on the rate difference between any two
 *                                        nodes' monotonic clocks, in {@code [0, 0.1)}
 * @param fastFailoverOnRefusedConnection whether a refused connection to the leader counts as the
 *                                        leader being gone (a node closes its listener only after
 *                                        revoking its own leadership)
 * @param tls                             mutual TLS between nodes, or empty for plain TCP
 * @param maxMessageBytes                 the largest message a node sends or accepts; also bounds
 *                                        the size of one command
 * @param snapshotThreshold               how many entries are applied between two snapshots
 * @param promoteMaxLag                   how many log entries a learner may be behind the leader
 *                                        and still be promoted to voter; on a node hosting groups,
 *                                        also how far behind a member may be and still be handed
 *                                        a group by the leadership balancer
 * @param snapshotThresholdBytes          how many bytes of log (payloads plus
 *                                        {@value #SNAPSHOT_ENTRY_OVERHEAD_BYTES} per entry) are
 *                                        applied between two snapshots: a snapshot is taken when
 *                                        this bound or {@code snapshotThreshold} is reached, which
 *                                        bounds the heap a node needs for its log, also at restart
 * @param maxPendingProposals             how many submitted commands may be in progress at once
 *                                        (not yet committed and applied, nor failed); one more is
 *                                        refused with {@link OverloadedException}, without being
 *                                        appended
 */
public record RaftConfig(
        String clusterId,
        String nodeId,
        List<Member> members,
        Path dataDir,
        Duration heartbeatInterval,
        Duration electionTimeout,
        double clockDriftBound,
        boolean fastFailoverOnRefusedConnection,
        Optional<TlsConfig> tls,
        int maxMessageBytes,
        long snapshotThreshold,
        long promoteMaxLag,
        long snapshotThresholdBytes,
        int maxPendingProposals) {

    /** Default heartbeat interval: 100 ms. */
    public static final Duration DEFAULT_HEARTBEAT_INTERVAL = Duration.ofMillis(100);
    /** Default election timeout: 300 ms, that is three heartbeat intervals. */
    public static final Duration DEFAULT_ELECTION_TIMEOUT = Duration.ofMillis(300);
    /** Default clock-drift bound: 0.01 (1 %), far above what real monotonic clocks show. */
    public static final double DEFAULT_CLOCK_DRIFT_BOUND = 0.01;
    /** Default maximum message size: 4 MiB. */
    public static final int DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
    /** Default snapshot threshold: a snapshot every 10,000 applied entries. */
    public static final long DEFAULT_SNAPSHOT_THRESHOLD = 10_000;
    /** Default {@link #promoteMaxLag()}: 1,000 entries. */
    public static final long DEFAULT_PROMOTE_MAX_LAG = 1000;
    /** Default {@link #snapshotThresholdBytes()}: a snapshot at the latest every 64 MiB of applied log. */
    public static final long DEFAULT_SNAPSHOT_THRESHOLD_BYTES = 64L * 1024 * 1024;
    /** Default {@link #maxPendingProposals()}: 10,000 commands in progress. */
    public static final int DEFAULT_MAX_PENDING_PROPOSALS = 10_000;
    /** The largest {@code maxPendingProposals} allowed: 10,000,000. */
    public static final int MAX_MAX_PENDING_PROPOSALS = 10_000_000;
    /** The smallest {@code snapshotThresholdBytes} allowed: 64 KiB. */
    public static final long MIN_SNAPSHOT_THRESHOLD_BYTES = 64L * 1024;
    /** The largest {@code snapshotThresholdBytes} allowed: 1 TiB. */
    public static final long MAX_SNAPSHOT_THRESHOLD_BYTES = 1L << 40;
    /**
     * What one log entry counts for {@link #snapshotThresholdBytes()} besides its payload: 64
     * bytes, about what an entry costs in memory besides its payload.
     */
    public static final int SNAPSHOT_ENTRY_OVERHEAD_BYTES = 64;
    /** The largest number of voting members (voters and witnesses) allowed. */
    public static final int MAX_VOTERS = 7;
    /**
     * The largest election timeout allowed: 60 s. A leader's messages carry its election timeout
     * (followers honour it as leader stickiness), and nodes refuse a stickiness above this bound
     * from the network, so that no peer can make them withhold their votes for long.
     */
    public static final Duration MAX_ELECTION_TIMEOUT = Duration.ofSeconds(60);
    /** The largest heartbeat interval allowed: 30 s, half of {@link #MAX_ELECTION_TIMEOUT}. */
    public static final Duration MAX_HEARTBEAT_INTERVAL = MAX_ELECTION_TIMEOUT.dividedBy(2);
    /** The smallest heartbeat interval allowed: 1 ms. */
    public static final Duration MIN_HEARTBEAT_INTERVAL = Duration.ofMillis(1);
    /** The smallest {@code maxMessageBytes} allowed: 64 KiB. */
    public static final int MIN_MAX_MESSAGE_BYTES = 64 * 1024;
    /** The largest {@code maxMessageBytes} allowed: 1 GiB. */
    public static final int MAX_MAX_MESSAGE_BYTES = 1024 * 1024 * 1024;

    private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    private static final String ID_RULE =
            "Use 1 to 64 characters: letters, digits, '.', '_' or '-', starting with a letter or digit.";

    /**
     * Validates and copies.
     *
     * @throws RaftConfigException if any value is invalid; the message explains the fix
     */
    public RaftConfig {
        checkId("clusterId", clusterId,
                "Set clusterId(...) to the same name on every node of the cluster, e.g. \"orders\".");
        checkId("nodeId", nodeId,
                "Set nodeId(...) to this node's id, which must also appear in member(id, address).");
        if (members == null || members.isEmpty()) {
            throw new RaftConfigException("No members are configured.",
                    "Add every voter, this node included, with member(id, \"host:port\"); "
                            + "use 3 voters (or 2 voters and a witness) for a cluster that survives one failure.");
        }
        members = List.copyOf(members);
        checkMembers(members);
        checkVoterCount(members);
        if (members.stream().noneMatch(m -> m.id().equals(nodeId))) {
            throw new RaftConfigException(
                    "This node's id \"" + nodeId + "\" is not among the members " + ids(members) + ".",
                    "Add member(\"" + nodeId + "\", \"host:port\") with this node's own address (learner(...)"
                            + " for a node that joins a running cluster), or correct nodeId(...); every node must"
                            + " list all members, itself included.");
        }
        if (dataDir == null) {
            throw new RaftConfigException("No data directory is configured.",
                    "Set dataDir(...) to a directory on local persistent storage that only this node uses,"
                            + " e.g. Path.of(\"/var/lib/orders/raft\").");
        }
        dataDir = dataDir.toAbsolutePath().normalize();
        checkHeartbeatInterval(heartbeatInterval);
        checkElectionTimeout(electionTimeout);
        if (electionTimeout.compareTo(heartbeatInterval.multipliedBy(2)) < 0) {
            throw new RaftConfigException("electionTimeout " + show(electionTimeout)
                    + " is less than 2 x heartbeatInterval (" + show(heartbeatInterval) + "): a follower"
                    + " would start an election after a single late heartbeat, causing needless leader changes.",
                    "Set electionTimeout to at least " + show(heartbeatInterval.multipliedBy(2))
                            + "; the default rule is 3 missed heartbeats, i.e. "
                            + show(heartbeatInterval.multipliedBy(3)) + ". Or lower heartbeatInterval.");
        }
        if (!(clockDriftBound >= 0 && clockDriftBound < 0.1)) {
            throw new RaftConfigException("clockDriftBound " + clockDriftBound + " is outside [0, 0.1).",
                    "It is a rate, not a percentage or a duration: 0.01 (the default) means clocks may run"
                            + " 1 % apart, far more than real monotonic clocks do. The lease is shortened"
                            + " by twice this bound, so use a value such as 0.01 or 0.05.");
        }
        if (tls == null) {
            throw new RaftConfigException("tls is null.", "Pass Optional.empty() for no TLS.");
        }
        if (maxMessageBytes < MIN_MAX_MESSAGE_BYTES || maxMessageBytes > MAX_MAX_MESSAGE_BYTES) {
            throw new RaftConfigException("maxMessageBytes " + maxMessageBytes
                    + " is outside [" + MIN_MAX_MESSAGE_BYTES + ", " + MAX_MAX_MESSAGE_BYTES + "] (64 KiB to 1 GiB).",
                    "Use a size between 64 KiB and 1 GiB that is larger than your biggest command;"
                            + " the default is 4 MiB.");
        }
        if (snapshotThreshold < 1) {
            throw new RaftConfigException("snapshotThreshold " + snapshotThreshold + " is not positive.",
                    "Use the number of applied entries between snapshots, e.g. 10000 (the default).");
        }
        if (snapshotThresholdBytes < MIN_SNAPSHOT_THRESHOLD_BYTES || snapshotThresholdBytes > MAX_SNAPSHOT_THRESHOLD_BYTES) {
            throw new RaftConfigException("snapshotThresholdBytes " + snapshotThresholdBytes + " is outside ["
                    + MIN_SNAPSHOT_THRESHOLD_BYTES + ", " + MAX_SNAPSHOT_THRESHOLD_BYTES + "] (64 KiB to 1 TiB).",
                    "Use how many bytes of log may be applied between two snapshots, e.g. 67108864 (64 MiB, the"
                            + " default); a node needs heap for about that much log, also when it restarts.");
        }
        if (promoteMaxLag < 0) {
            throw new RaftConfigException("promoteMaxLag " + promoteMaxLag + " is negative.",
                    "Use how many log entries a learner may be behind the leader when it is promoted,"
                            + " e.g. 1000 (the default); 0 waits until it has every entry.");
        }
        if (maxPendingProposals < 1 || maxPendingProposals > MAX_MAX_PENDING_PROPOSALS) {
            throw new RaftConfigException("maxPendingProposals " + maxPendingProposals + " is outside [1, "
                    + MAX_MAX_PENDING_PROPOSALS + "].",
                    "Use how many submitted commands may wait for their commit at once, e.g. 10000 (the"
                            + " default); more are refused with OverloadedException (not appended, safe to"
                            + " retry), which keeps a node that cannot commit from filling its heap.");
        }
    }

    /**
     * The configuration without {@code promoteMaxLag}, which gets its default
     * ({@value #DEFAULT_PROMOTE_MAX_LAG} entries).
     *
     * @throws RaftConfigException if any value is invalid; the message explains the fix
     */
    public RaftConfig(String clusterId, String nodeId, List<Member> members, Path dataDir, Duration heartbeatInterval,
                      Duration electionTimeout, double clockDriftBound, boolean fastFailoverOnRefusedConnection,
                      Optional<TlsConfig> tls, int maxMessageBytes, long snapshotThreshold) {
        this(clusterId, nodeId, members, dataDir, heartbeatInterval, electionTimeout, clockDriftBound,
                fastFailoverOnRefusedConnection, tls, maxMessageBytes, snapshotThreshold, DEFAULT_PROMOTE_MAX_LAG);
    }

    /**
     * The configuration without {@code snapshotThresholdBytes}, which gets its default
     * ({@value #DEFAULT_SNAPSHOT_THRESHOLD_BYTES} bytes).
     *
     * @throws RaftConfigException if any value is invalid; the message explains the fix
     */
    public RaftConfig(String clusterId, String nodeId, List<Member> members, Path dataDir, Duration heartbeatInterval,
                      Duration electionTimeout, double clockDriftBound, boolean fastFailoverOnRefusedConnection,
                      Optional<TlsConfig> tls, int maxMessageBytes, long snapshotThreshold, long promoteMaxLag) {
        this(clusterId, nodeId, members, dataDir, heartbeatInterval, electionTimeout, clockDriftBound,
                fastFailoverOnRefusedConnection, tls, maxMessageBytes, snapshotThreshold, promoteMaxLag,
                DEFAULT_SNAPSHOT_THRESHOLD_BYTES);
    }

    /**
     * The configuration without {@code maxPendingProposals}, which gets its default
     * ({@value #DEFAULT_MAX_PENDING_PROPOSALS} commands).
     *
     * @throws RaftConfigException if any value is invalid; the message explains the fix
     */
    public RaftConfig(String clusterId, String nodeId, List<Member> members, Path dataDir, Duration heartbeatInterval,
                      Duration electionTimeout, double clockDriftBound, boolean fastFailoverOnRefusedConnection,
                      Optional<TlsConfig> tls, int maxMessageBytes, long snapshotThreshold, long promoteMaxLag,
                      long snapshotThresholdBytes) {
        this(clusterId, nodeId, members, dataDir, heartbeatInterval, electionTimeout, clockDriftBound,
                fastFailoverOnRefusedConnection, tls, maxMessageBytes, snapshotThreshold, promoteMaxLag,
                snapshotThresholdBytes, DEFAULT_MAX_PENDING_PROPOSALS);
    }

    private static void checkId(String what, String value, String fix) {
        if (value == null || value.isBlank()) {
            throw new RaftConfigException(what + " is " + (value == null ? "missing" : "blank") + ".", fix);
        }
        if (!ID.matcher(value).matches()) {
            throw new RaftConfigException(what + " \"" + value + "\" has characters or a length that"
                    + " are not allowed (it is sent on every connection and used in logs and file names).",
                    ID_RULE);
        }
    }

    private static void checkMembers(List<Member> members) {
        Map<String, Member> byId = new HashMap<>();
        Map<String, Member> byAddress = new HashMap<>();
        for (Member m : members) {
            if (m == null) {
                throw new RaftConfigException("The member list contains null.", "Remove the null entry.");
            }
            Member sameId = byId.putIfAbsent(m.id(), m);
            if (sameId != null) {
                throw new RaftConfigException("Node id \"" + m.id() + "\" is configured twice (at "
                        + sameId.address() + " and at " + m.address() + ").",
                        "Give every member a unique id, and list each member once.");
            }
            Member sameAddress = byAddress.putIfAbsent(m.address().toLowerCase(Locale.ROOT), m);
            if (sameAddress != null) {
                throw new RaftConfigException("Members \"" + sameAddress.id() + "\" and \"" + m.id()
                        + "\" have the same address " + m.address() + ".",
                        "Give every member its own host:port; nodes on one host need different ports.");
            }
        }
    }

    private static void checkVoterCount(List<Member> members) {
        List<Member> voting = members.stream().filter(m -> m.role().votes()).toList();
        List<Member> data = voting.stream().filter(m -> m.role() == MemberRole.VOTER).toList();
        int n = voting.size();
        if (n == 0) {
            throw new RaftConfigException("No voting member is configured among " + members + ".",
                    "Add the voters with member(id, \"host:port\"); learners only receive the log.");
        }
        if (n == 2) {
            String fix = data.size() == 2
                    ? "Use 3 voters (tolerates 1 failure), or keep these two servers as voters and add a witness"
                            + " on a small third machine, which votes but stores no data and never leads: .member(\""
                            + data.get(0).id() + "\", \"" + data.get(0).address() + "\").member(\"" + data.get(1).id()
                            + "\", \"" + data.get(1).address() + "\").witness(\"w1\", \"host3:port\")."
                    : "Use 2 data voters plus 1 witness, or 3 voters.";
            throw new RaftConfigException((data.size() == 2 ? "2 voters" : "2 voting members") + " are configured "
                    + ids(voting) + ": a majority of 2 is 2,"
                    + " so the cluster stops as soon as either node fails or they cannot reach each"
                    + " other. That is less available than a single node.", fix);
        }
        if (n > MAX_VOTERS) {
            throw new RaftConfigException(n + " voters" + (data.size() < n ? " (witnesses included)" : "")
                    + " are configured; at most " + MAX_VOTERS
                    + " are allowed: every commit and heartbeat round waits for a majority, so more voters"
                    + " cost latency without a practical gain in availability.",
                    "Use 5 voters (tolerates 2 failures) or 7 (tolerates 3); add further nodes as learners.");
        }
        if (data.size() < 2 && n > data.size()) {
            throw new RaftConfigException("Witnesses " + ids(voting.stream().filter(m -> m.role().isWitness()).toList())
                    + " are configured with " + data.size() + " data voter(s) " + ids(data) + ": a witness stores no"
                    + " data and never leads, so it only helps while at least two data voters exist.",
                    "Configure at least 2 voters with member(id, \"host:port\") beside the witness, e.g. two"
                            + " servers plus one witness.");
        }
    }

    /**
     * Checks a heartbeat interval on its own: present, positive, within [1 ms, 30 s]. Also used
     * by the builder before it derives the election timeout from it.
     */
    static void checkHeartbeatInterval(Duration d) {
        checkPositive("heartbeatInterval", d);
        if (d.compareTo(MIN_HEARTBEAT_INTERVAL) < 0) {
            throw new RaftConfigException("heartbeatInterval " + show(d) + " is below the minimum of 1 ms.",
                    "Use at least 1 ms; 100 ms is the default and fails over in about 300-600 ms.");
        }
        if (d.compareTo(MAX_HEARTBEAT_INTERVAL) > 0) {
            throw new RaftConfigException("heartbeatInterval " + show(d) + " is above the maximum of "
                    + show(MAX_HEARTBEAT_INTERVAL) + " (the election timeout, at most " + show(MAX_ELECTION_TIMEOUT)
                    + ", must be at least twice the heartbeat interval).",
                    "Use a heartbeat interval of milliseconds to seconds, e.g. Duration.ofMillis(100) (the default);"
                            + " check the unit (ofMillis, not ofSeconds or ofDays).");
        }
    }

    /**
     * Checks an election timeout on its own: present, positive, at most 60 s. Also used by the
     * builder before it derives the heartbeat interval from it.
     */
    static void checkElectionTimeout(Duration d) {
        checkPositive("electionTimeout", d);
        if (d.compareTo(MAX_ELECTION_TIMEOUT) > 0) {
            throw new RaftConfigException("electionTimeout " + show(d) + " is above the maximum of "
                    + show(MAX_ELECTION_TIMEOUT) + ": the cluster would wait that long to replace a dead leader, and other"
                    + " nodes refuse a longer one in a leader's messages (a leader asks its followers to withhold their"
                    + " votes for its election timeout).",
                    "Use an election timeout of milliseconds to seconds, e.g. Duration.ofMillis(300) (the default);"
                            + " check the unit (ofMillis, not ofSeconds or ofDays).");
        }
    }

    private static void checkPositive(String what, Duration d) {
        if (d == null) {
            throw new RaftConfigException(what + " is missing (null).",
                    "Set " + what + "(...) or leave it out of the builder to get the default.");
        }
        if (d.isNegative() || d.isZero()) {
            throw new RaftConfigException(what + " must be positive, got " + show(d) + ".",
                    "Use a positive duration, e.g. " + ("heartbeatInterval".equals(what)
                            ? "Duration.ofMillis(100) (the default heartbeatInterval)."
                            : "Duration.ofMillis(300) (the default electionTimeout)."));
        }
    }

    private static String ids(List<Member> members) {
        return members.stream().map(Member::id).toList().toString();
    }

    /**
     * A duration for a message, in the largest whole unit; never throws, whatever the value
     * (unlike {@link Duration#toNanos()}, which overflows beyond 292 years).
     */
    static String show(Duration d) {
        if (d.isNegative()) {
            return d.toString();
        }
        long s = d.getSeconds();
        long n = d.getNano();
        if (s >= 2 * 86_400) {
            return (s % 86_400 == 0 && n == 0 ? "" : "about ") + s / 86_400 + " days";
        }
        if (n == 0 && s >= 60) {
            return s % 3600 == 0 ? s / 3600 + " h" : s % 60 == 0 ? s / 60 + " min" : s + " s";
        }
        if (n % 1_000_000 == 0) {
            return s * 1000 + n / 1_000_000 + " ms";
        }
        return (s * 1_000_000_000 + n) / 1000.0 + " µs";
    }

    /** This node's own member entry. */
    public Member self() {
        return member(nodeId).orElseThrow();
    }

    /** The member with the given id, if it is one. */
    public Optional<Member> member(String id) {
        return members.stream().filter(m -> m.id().equals(id)).findFirst();
    }

    /** Every member except this node, in configuration order. */
    public List<Member> peers() {
        return members.stream().filter(m -> !m.id().equals(nodeId)).toList();
    }

    /** The voting members (voters and witnesses), in configuration order. */
    public List<Member> voters() {
        return members.stream().filter(m -> m.role().votes()).toList();
    }

    /** The number of votes that make a majority: {@code voters().size() / 2 + 1}. */
    public int quorum() {
        return voters().size() / 2 + 1;
    }

    /** Whether this is a single-voter development cluster, which tolerates no failure. */
    public boolean isSingleNode() {
        return voters().size() == 1;
    }

    /**
     * The upper end (exclusive) of the randomised election timeout: {@code 2 * electionTimeout}. A follower
     * whose leader goes silent campaigns after {@code electionTimeout} plus its turn among the
     * followers (a fifth of {@code electionTimeout} per follower with a lower id, plus up to a
     * twentieth of jitter), so that followers do not split the vote; after a failed election, or
     * with no leader known, the timeout is drawn from {@code [electionTimeout, 2 * electionTimeout)}.
     * Either way a node never campaigns before {@code electionTimeout} has passed since it last
     * heard from a leader.
     */
    public Duration electionTimeoutMax() {
        return electionTimeout.multipliedBy(2);
    }

    /**
     * How long a leader's lease lasts after the start of a heartbeat round that a majority
     * acknowledged: {@code electionTimeout * (1 - 2 * clockDriftBound)}, rounded down to a
     * nanosecond.
     */
    public Duration leaseDuration() {
        return Duration.ofNanos((long) Math.floor(electionTimeout.toNanos() * (1 - 2 * clockDriftBound)));
    }

    /**
     * Creates the data directory if needed and proves that this process can write to it, by
     * creating, writing and deleting a probe file.
     *
     * @return this configuration
     * @throws RaftConfigException if the directory cannot be created or written; the cause is the
     *                             underlying {@link IOException}
     */
    public RaftConfig prepareDataDir() {
        if (Files.exists(dataDir) && !Files.isDirectory(dataDir)) {
            throw new RaftConfigException("The data directory " + dataDir + " exists but is not a directory.",
                    "Point dataDir(...) at a directory, or remove the file that is in the way.");
        }
        try {
            Files.createDirectories(dataDir);
        } catch (IOException e) {
            throw new RaftConfigException("The data directory " + dataDir + " cannot be created: " + e + ".",
                    "Create it yourself and give the user running this JVM write access to it, or choose"
                            + " another dataDir(...) on local persistent storage.", e);
        }
        Path probe = null;
        try {
            probe = Files.createTempFile(dataDir, ".write-probe-", ".tmp");
            Files.write(probe, new byte[] {42});
        } catch (IOException e) {
            throw new RaftConfigException("The data directory " + dataDir + " is not writable: " + e + ".",
                    "Give the user running this JVM write access to it (and check that the file system is"
                            + " not read-only or full), or choose another dataDir(...).", e);
        } finally {
            if (probe != null) {
                try {
                    Files.deleteIfExists(probe);
                } catch (IOException ignored) {
                    // A leftover probe file is harmless; the write already succeeded or failed above.
                }
            }
        }
        return this;
    }

    /**
     * One member: its id, the host and port where it listens for other nodes, and its role.
     *
     * <p>Immutable. Equality is by id, host, port and role.
     *
     * <pre>{@code
     * RaftConfig.Member m = RaftConfig.Member.parse("n1", "10.0.0.1:7001");
     * RaftConfig.Member v6 = RaftConfig.Member.parse("n2", "[fd00::2]:7001");
     * RaftConfig.Member w = RaftConfig.Member.parse("w1", "10.0.0.9:7001", MemberRole.WITNESS);
     * }</pre>
     *
     * @param id   the member's node id (1-64 of letters, digits, '.', '_', '-')
     * @param host a host name (DNS labels of letters, digits, '-' and '_') or an IP address literal
     *             (IPv4 as four numbers from 0 to 255, IPv6 without brackets); checked as written,
     *             without DNS
     * @param port a TCP port in {@code [1, 65535]}
     * @param role what it does; {@link MemberRole#VOTER} unless said otherwise
     */
    public record Member(String id, String host, int port, MemberRole role) {

        /**
         * Validates.
         *
         * @throws RaftConfigException if the id, host or port is invalid
         */
        public Member {
            checkId("member id", id, "Give each member(id, address) an id such as \"n1\".");
            String why = host == null ? "it is missing" : HostSyntax.problem(host);
            if (why != null) {
                throw new RaftConfigException("Member \"" + id + "\" has an invalid host \"" + host + "\": " + why + ".",
                        "Use a host name or IP address, e.g. \"10.0.0.1\", \"db1.example.com\" or \"fd00::1\".");
            }
            if (port < 1 || port > 65535) {
                throw new RaftConfigException("Member \"" + id + "\" has port " + port
                        + ", outside [1, 65535].", "Use the TCP port the node listens on, e.g. 7001.");
            }
            if (role == null) {
                throw new RaftConfigException("Member \"" + id + "\" has no role.",
                        "Use MemberRole.VOTER, or the 3-argument constructor, for a voting member.");
            }
        }

        /**
         * A voter.
         *
         * @throws RaftConfigException if the id, host or port is invalid
         */
        public Member(String id, String host, int port) {
            this(id, host, port, MemberRole.VOTER);
        }

        /**
         * Parses {@code "host:port"} of a member with the given role.
         *
         * @throws RaftConfigException if the address is malformed
         */
        public static Member parse(String id, String address, MemberRole role) {
            Member m = parse(id, address);
            return new Member(m.id(), m.host(), m.port(), Objects.requireNonNull(role, "role"));
        }

        /**
         * Parses {@code "host:port"}, with IPv6 literals in brackets: {@code "[fd00::1]:7001"}.
         *
         * @throws RaftConfigException if the address is malformed
         */
        public static Member parse(String id, String address) {
            Objects.requireNonNull(address, "address");
            String fix = "Write the address as \"host:port\", e.g. \"10.0.0.1:7001\", or \"[fd00::1]:7001\" for IPv6.";
            String host;
            String port;
            if (address.startsWith("[")) {
                int close = address.indexOf("]:");
                if (close < 0) {
                    throw new RaftConfigException("Address \"" + address + "\" of member \"" + id
                            + "\" has no port after the bracketed IPv6 address.", fix);
                }
                host = address.substring(1, close);
                port = address.substring(close + 2);
            } else {
                int colon = address.lastIndexOf(':');
                if (colon < 0 || address.indexOf(':') != colon) {
                    throw new RaftConfigException("Address \"" + address + "\" of member \"" + id + "\" is not"
                            + " \"host:port\"" + (colon < 0 ? " (no port)." : " (put IPv6 addresses in brackets)."),
                            fix);
                }
                host = address.substring(0, colon);
                port = address.substring(colon + 1);
            }
            int p;
            try {
                p = Integer.parseInt(port);
            } catch (NumberFormatException e) {
                throw new RaftConfigException("Address \"" + address + "\" of member \"" + id
                        + "\" has a port \"" + port + "\" that is not a number.", fix);
            }
            return new Member(id, host, p);
        }

        /** Returns {@code "host:port"}, with brackets around an IPv6 host. */
        public String address() {
            return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
        }

        /** Returns {@code "id@host:port"}, followed by the role unless it is a voter. */
        @Override
        public String toString() {
            return id + "@" + address() + (role == MemberRole.VOTER ? ""
                    : " (" + role.name().toLowerCase(Locale.ROOT).replace('_', ' ') + ")");
        }
    }
}
