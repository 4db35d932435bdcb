package io.haraft.core;

import io.haraft.RevokeReason;
import io.haraft.core.lease.LeaseTracker;
import io.haraft.core.lease.Stickiness;
import io.haraft.core.log.Entry;
import io.haraft.core.log.RaftLog;
import io.haraft.core.progress.Progress;
import io.haraft.core.quorum.Membership;
import io.haraft.core.quorum.Quorum;
import io.haraft.core.read.ReadOnly;
import io.haraft.core.read.ReadState;
import org.slf4j.Logger;
import org.slf4j.helpers.NOPLogger;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.random.RandomGenerator;

/**
 * The pure Raft state machine of one node: elections with pre-vote, leader stickiness and
 * check-quorum; pipelined log replication with fast back-off; the majority-acknowledged lease;
 * leadership transfer; the leadership events that carry fencing tokens; and log compaction with
 * snapshot transfer to followers that need compacted entries.
 *
 * <p>It reads no clock, starts no thread and does no I/O. Every input carries the node's
 * monotonic time in nanoseconds ({@code now}); the caller asks {@link #nextDeadline()} when to call
 * {@link #tick(long)} next. Output is collected into a {@link Ready}, whose Javadoc states the
 * persistence contract. Not thread-safe: one thread drives a core.
 *
 * <pre>{@code
 * RaftCore core = new RaftCore(config, storedHardState, recoveredLog, clock.nanos(), random, log);
 * core.step(message, clock.nanos());
 * core.tick(clock.nanos());
 * if (core.hasReady()) { Ready r = core.ready(); persist(r); send(r); apply(r); core.advance(r, clock.nanos()); }
 * }</pre>
 *
 * <p><b>Snapshots.</b> After the runtime made a snapshot of the state machine at an applied index
 * durable, it calls {@link #compact(long, long)} and the core forgets the entries it covers. A
 * leader whose follower needs compacted entries streams its latest snapshot to it: it asks the
 * runtime for one chunk at a time ({@link Ready#snapshotRequests()}); the runtime answers with
 * {@link #snapshotChunk}, passing the configuration recorded with that snapshot (or with
 * {@link #snapshotUnavailable} if it no longer has that snapshot, and the core restarts with its
 * current one); the core sends the chunk with the configuration in force at the snapshot's index,
 * and asks for the next when the follower acknowledges it. A transfer without an answer for an
 * election timeout restarts from byte 0. A follower persists chunks in order
 * ({@link Ready#snapshotChunks()}, each with the configuration the leader sent with it), answers an
 * out-of-order chunk with the offset it expects (0 if it knows no transfer of that snapshot, as
 * after a restart), and on the last chunk installs the
 * snapshot ({@link Ready#installSnapshot()}): its log then starts after the snapshot and its commit
 * index is the snapshot's index. Only that last answer promises durability; the answers to earlier
 * chunks may leave before those chunks are durable ({@link Ready} says why that is safe). Chunks
 * count as leader contact and as heartbeat acknowledgements.
 *
 * <p><b>Membership.</b> Every node uses the latest configuration in its log (a CONFIG entry), else
 * the one recorded with its snapshot, else the bootstrap configuration of {@link CoreConfig}. The
 * leader changes it one voter at a time with {@link #changeMembership}; {@link Quorum} states the
 * rules and why they are safe. Learners receive the log but neither vote nor campaign; witnesses
 * vote but never campaign, and receive entries without payloads (see {@link Entry#forWitness()}),
 * and a snapshot of no bytes when they need compacted entries. A node that is not a voter in its
 * latest configuration never campaigns. {@link Ready#membership()} reports a changed configuration.
 *
 * <p><b>Mixed timing.</b> Nodes may run with different election timeouts (a rolling change of the
 * timeout passes through that state): every leader message carries the stickiness the leader's
 * lease relies on, a follower honours the larger of its own and that, makes the promise durable
 * before acknowledging it, and a leader counts only acknowledgements that promise enough
 * ({@link LeaseTracker} gives the argument, {@link Stickiness} the durable promise).
 *
 * <p><b>Cluster identity.</b> The first leader of an empty log proposes the random candidate the
 * runtime injected ({@link #bootstrapIdentity}) in its no-op at index 1; a node learns the identity
 * only from committed state (that entry, or the leader's snapshot) and reports it once in
 * {@link Ready#clusterUuid()}. {@link ClusterIdentity} gives the argument.
 *
 * <p><b>Bounds.</b> A message whose term, index, offset or stickiness is out of {@link Bounds} is
 * refused whole, adopting nothing from it, with a warning (at most one per sender per minute). A
 * node whose own term reached {@link Bounds#MAX_TERM} never campaigns, and says so.
 *
 * <p>Safety of the lease assumes the monotonic clocks of all nodes run within the configured drift
 * bound ρ of real time.
 */
public final class RaftCore {
    private static final long NEVER = Long.MIN_VALUE;

    private final CoreConfig cfg;
    private final String id;
    private Membership membership;            // the latest configuration in the log: elections use it
    private Membership committedMembership;   // the configuration in force at the commit index
    private Quorum quorum;                    // the voters of the latest configuration
    private Quorum commitQuorum;              // a leader's quorum: joint while a change is uncommitted
    private List<String> peers;               // members of either configuration, this node excluded
    private boolean membershipChanged;
    private String removeOnElection;          // the old leader that handed over to leave the cluster
    private boolean transferRemovesSelf;
    private Set<String> wonWith = Set.of();
    private final RandomGenerator random;
    private final Logger log;
    private final Bugs bugs;
    private final RaftLog raftLog;

    private long term;
    private String votedFor;
    private boolean hardStateDirty;

    private Role role = Role.FOLLOWER;
    private String leader;
    private long now;
    private long lastLeaderContact;
    /** How long after {@link #lastLeaderContact} this node refuses votes and does not campaign. */
    private long stickyWindow;
    private final Stickiness stickiness;
    /** Answers that promise more stickiness than is durable: they leave with the next Ready, never early. */
    private final Set<Message> waitForDisk = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
    private final BoundsLog boundsLog;
    /** The leader stickiness last reported as longer than this node's own timeout, or 0. */
    private long reportedStickiness;
    private long electionDeadline;
    /** How much later than usual this node campaigns ({@link #setCandidacyDelay}); 0: not deferred. */
    private long candidacyDelay;
    private final Map<String, Boolean> votes = new HashMap<>();
    /**
     * Whether this candidate's vote for itself (its hard state for the current term) is durable.
     * Its vote requests leave before that (they promise nothing about its disk), but it wins only
     * once its own vote is on disk: otherwise it could crash, restart in the previous term, win the
     * same term a second time with the same voters and hand out the same fencing token twice.
     */
    private boolean ownVoteDurable;
    /**
     * Pre-votes refused only because this node still heard from its leader recently, by sender.
     * If this node's own connection attempt then finds the leader's process gone (fast failover),
     * it answers them after all, so that the first node to notice the crash wins at once instead
     * of waiting for its next election timeout.
     */
    private final Map<String, HeldPreVote> heldPreVotes = new HashMap<>();

    private record HeldPreVote(Message.PreVote preVote, long at) { }

    // leader state
    private final Map<String, Progress> progress = new LinkedHashMap<>();
    private LeaseTracker lease;
    private long leaderSince;
    private long heartbeatDeadline;
    private long firstIndexOfTerm;
    private boolean electedDelivered;
    private String transferTarget;
    private long transferDeadline;

    // the cluster identity (see ClusterIdentity): known, proposed if this node bootstraps, newly learnt
    private java.util.UUID clusterUuid;
    private java.util.UUID identityCandidate;
    private java.util.UUID identityLearnt;

    // read requests until they are answered (the only place reads are decided)
    private final ReadOnly readOnly = new ReadOnly();

    // output
    private final List<Message> outbox = new ArrayList<>();
    private final List<LeadershipEvent> events = new ArrayList<>();
    private final List<Ready.SnapshotRequest> snapshotRequests = new ArrayList<>();
    private final List<Ready.SnapshotChunk> snapshotChunks = new ArrayList<>();
    private Ready.SnapshotPoint installSnapshot;
    private long appliedHandedOut;
    private Ready inFlight;

    // follower: the snapshot transfer being received (leader, its term, snapshot, next byte offset)
    private String recvFrom;
    private long recvTerm;
    private long recvIndex;
    private long recvSnapTerm;
    private long recvOffset;

    /**
     * Creates the core of a node that starts (or restarts) at local time {@code now}.
     *
     * <p>The node withholds votes and pre-votes (and does not campaign) for one minimum election
     * timeout after it starts, or for the longer stickiness recorded in {@code hardState}: before a
     * crash it may have acknowledged a leader's heartbeat and it has forgotten when.
     *
     * @param hardState the durable term and vote
     * @param raftLog   the durable log (its entries count as already persisted): after a snapshot,
     *                  {@code new RaftLog(snapshotIndex, snapshotTerm, entriesAfterIt)}, with the
     *                  state machine restored from that snapshot; committed entries after it are
     *                  handed out for applying again
     * @param logger    where the core logs; may be {@code null} for no logging
     */
    public RaftCore(CoreConfig cfg, HardState hardState, RaftLog raftLog, long now, RandomGenerator random,
                    Logger logger) {
        this(cfg, hardState, raftLog, now, random, logger, Bugs.NONE);
    }

    RaftCore(CoreConfig cfg, HardState hardState, RaftLog raftLog, long now, RandomGenerator random,
             Logger logger, Bugs bugs) {
        this.cfg = cfg;
        this.id = cfg.nodeId();
        this.random = random;
        this.log = logger == null ? NOPLogger.NOP_LOGGER : logger;
        this.boundsLog = new BoundsLog(log);
        this.bugs = bugs;
        this.raftLog = raftLog;
        this.term = hardState.term();
        this.votedFor = hardState.votedFor();
        this.now = now;
        this.stickiness = new Stickiness(cfg.electionTimeoutNanos(), hardState.stickiness(), now);
        this.lastLeaderContact = now;
        this.stickyWindow = stickiness.restartWindow();
        if (stickyWindow > cfg.electionTimeoutNanos()) {
            log.info("term {}: withholding votes for {} ms after starting, longer than this node's election timeout"
                    + " ({} ms): before it stopped it may have promised a leader with a longer timeout as much",
                    term, stickyWindow / 1_000_000, cfg.electionTimeoutNanos() / 1_000_000);
        }
        this.appliedHandedOut = raftLog.commitIndex();
        refreshMembership();
        membershipChanged = false;
        resetElectionTimer();
        if (term >= Bounds.MAX_TERM) {
            boundsLog.termAtBound(term, now);
        }
    }

    /**
     * Gives this node its cluster identity ({@link ClusterIdentity}): {@code recorded} is the one
     * its store recorded, or {@code null} if it knows none yet; {@code candidate} is a fresh
     * random one that it proposes if it becomes the first leader of an empty log, or {@code null}
     * to propose none. Call before the first input; without it the node proposes none and learns
     * one only from its log or a snapshot.
     */
    public void bootstrapIdentity(java.util.UUID recorded, java.util.UUID candidate) {
        this.clusterUuid = recorded;
        this.identityCandidate = candidate;
    }

    /** The cluster identity this node knows, or {@code null} (see {@link ClusterIdentity}). */
    public java.util.UUID clusterUuid() {
        return clusterUuid;
    }

    /** Learns the identity from committed state; the first one learnt stays (see {@link ClusterIdentity}). */
    private void learnIdentity(java.util.UUID carried, String source) {
        if (clusterUuid == null) {
            clusterUuid = carried;
            identityLearnt = carried;
            log.info("term {}: this node belongs to cluster incarnation {} (learnt from {})", term, carried, source);
        } else if (!clusterUuid.equals(carried)) {
            log.error("term {}: {} carries cluster identity {}, but this node belongs to {}; keeping {}: the log or"
                    + " snapshot comes from another cluster with the same name", term, source, carried, clusterUuid,
                    clusterUuid);
        }
    }

    // ------------------------------------------------------------------ inputs

    /** Fires whatever timers are due at local time {@code now}. */
    public void tick(long now) {
        advanceTime(now);
        if (role == Role.LEADER) {
            if (now - leaderSince >= cfg.electionTimeoutNanos() && !recentlyActiveMajority()) {
                log.info("term {}: no contact with a majority for an election timeout; stepping down", term);
                stepDown(RevokeReason.STEPPED_DOWN);
                return;
            }
            if (transferTarget != null && now >= transferDeadline) {
                log.info("term {}: leadership transfer to {} timed out; staying leader", term, transferTarget);
                transferTarget = null;
                handOverIfNotMember(); // a leader outside its configuration tries again
            }
            if (now >= heartbeatDeadline) {
                broadcastHeartbeat();
            }
        } else {
            if (!heldPreVotes.isEmpty() && !inLease()) {
                answerHeldPreVotes(); // the leader stayed silent for the whole window
            }
            if (now < electionDeadline) {
                return;
            }
            if (term >= Bounds.MAX_TERM) {
                boundsLog.termAtBound(term, now);
                resetElectionTimer();
            } else if (mayCampaign()) {
                preCampaign();
            } else {
                resetElectionTimer(); // learners, witnesses and removed nodes never campaign
            }
        }
    }

    /**
     * A node-wide heartbeat tick at local time {@code now}: a leader whose heartbeat is due within
     * half a heartbeat interval treats it as due now and does what {@link #tick} does at that
     * deadline (the checks, then the heartbeat round: same messages, term and lease round), and its
     * next heartbeat is due a heartbeat interval from now. A node hosting many groups ticks them all at once, so that their
     * heartbeats to one peer leave together. Does nothing on a follower or candidate, or when the
     * last round started less than half an interval ago. Never sends less often than {@link #tick}.
     */
    public void heartbeatTick(long now) {
        advanceTime(now);
        if (role == Role.LEADER && heartbeatDeadline - this.now <= cfg.heartbeatNanos() / 2) {
            heartbeatDeadline = this.now;
            tick(this.now);
        }
    }

    /** Handles one message received at local time {@code now}. */
    public void step(Message m, long now) {
        advanceTime(now);
        if (!m.to().equals(id) || m.from().equals(id)) {
            log.warn("ignoring {} from {} to {}: not for this node", m.getClass().getSimpleName(), m.from(), m.to());
            return;
        }
        if (!fromLeader(m) && !membership.contains(m.from()) && !committedMembership.contains(m.from())) {
            // a leader may be newer than our configuration (we learn it from its log); anyone else
            // must be a member of it
            log.debug("ignoring {} from {}: not a member of {}", m.getClass().getSimpleName(), m.from(), membership);
            return;
        }
        String outOfBounds = Bounds.violation(m);
        if (outOfBounds != null) {
            boundsLog.refused(m, term, now, outOfBounds);
            return;
        }
        if (m.term() > term) {
            boolean voteRequest = m instanceof Message.PreVote || (m instanceof Message.Vote v && !v.transfer());
            if (voteRequest && inLease()) {
                // Leader stickiness: we heard from a live leader less than an election timeout ago.
                log.debug("term {}: ignoring {} from {} for term {}: a leader is alive", term,
                        m.getClass().getSimpleName(), m.from(), m.term());
                if (m instanceof Message.PreVote pv && role != Role.LEADER) {
                    heldPreVotes.put(pv.from(), new HeldPreVote(pv, now));
                }
                return;
            }
            boolean keepTerm = m instanceof Message.PreVote
                    || (m instanceof Message.PreVoteResponse r && r.granted());
            if (!keepTerm) {
                String newLeader = fromLeader(m) ? m.from() : null;
                becomeFollower(m.term(), newLeader, RevokeReason.HIGHER_TERM);
            }
        } else if (m.term() < term) {
            // Tell a stale leader or pre-candidate about the newer term so that it steps down.
            if (fromLeader(m)) {
                send(new Message.HeartbeatResponse(id, m.from(), term, 0));
            } else if (m instanceof Message.PreVote) {
                send(new Message.PreVoteResponse(id, m.from(), term, false));
            }
            return;
        }
        if (m instanceof Message.PreVote pv) {
            onPreVote(pv);
        } else if (m instanceof Message.PreVoteResponse r) {
            onPreVoteResponse(r);
        } else if (m instanceof Message.Vote v) {
            onVote(v);
        } else if (m instanceof Message.VoteResponse r) {
            onVoteResponse(r);
        } else if (m instanceof Message.Append a) {
            onAppend(a);
        } else if (m instanceof Message.AppendResponse r) {
            onAppendResponse(r);
        } else if (m instanceof Message.Heartbeat h) {
            onHeartbeat(h);
        } else if (m instanceof Message.HeartbeatResponse r) {
            onHeartbeatResponse(r);
        } else if (m instanceof Message.InstallSnapshot is) {
            onInstallSnapshot(is);
        } else if (m instanceof Message.InstallSnapshotResponse r) {
            onInstallSnapshotResponse(r);
        } else if (m instanceof Message.TimeoutNow t) {
            onTimeoutNow(t);
        }
        refreshMembership();
    }

    private static boolean fromLeader(Message m) {
        return m instanceof Message.Append || m instanceof Message.Heartbeat || m instanceof Message.InstallSnapshot;
    }

    /**
     * The runtime made a snapshot of the state machine at {@code index} durable: the core drops the
     * log entries up to {@code index}, and from now on sends this snapshot to followers that need
     * them. Call it after {@link #advance} of the Ready whose {@code committed} reached
     * {@code index}, so that every entry up to it is applied and durable.
     *
     * @throws IllegalArgumentException if {@code index} is beyond the entries handed out for
     *                                  applying or beyond the durable log
     */
    public void compact(long index, long now) {
        advanceTime(now);
        if (index > appliedHandedOut) {
            throw new IllegalArgumentException("cannot compact up to " + index + ": only entries up to "
                    + appliedHandedOut + " were handed out for applying");
        }
        raftLog.compact(index);
    }

    /**
     * The runtime's answer to a {@link Ready.SnapshotRequest}: bytes {@code [offset, offset +
     * data.length)} of its snapshot at ({@code index}, {@code snapTerm}), {@code last} if they end
     * it, and {@code recorded}, the configuration stored with that snapshot. Ignored unless this
     * node is still leader and this is the chunk it waits for.
     *
     * <p>Every chunk goes out with the configuration in force at {@code index}, which the follower
     * stores with the snapshot and uses after a restart. While {@code index} is still this log's
     * snapshot, the log knows it. The answer may arrive after the log was compacted further (the
     * runtime read the chunk just before it took a newer snapshot): the log then no longer knows
     * the configuration at {@code index}, and {@code recorded} is sent. If that is {@code null} too
     * (a snapshot of format 1, which recorded none), the chunk is not sent and the transfer restarts
     * with the current snapshot.
     *
     * @param recorded the configuration stored with the snapshot the chunk was read from, or
     *                 {@code null} if it records none
     * @throws IllegalArgumentException if {@code data} is empty but {@code last} is not set (the
     *                                  transfer would never advance)
     */
    public void snapshotChunk(String peer, long index, long snapTerm, long offset, byte[] data, boolean last,
                              Membership recorded, long now) {
        if (data.length == 0 && !last) {
            throw new IllegalArgumentException("empty chunk of snapshot " + index + "@" + snapTerm + " at offset "
                    + offset + " that is not the last: serve at least one byte");
        }
        advanceTime(now);
        Progress pr = role == Role.LEADER ? progress.get(peer) : null;
        if (pr == null || pr.mode() != Progress.Mode.SNAPSHOT
                || pr.snapshotState() != Progress.SnapshotState.REQUESTED || pr.snapshotIndex() != index
                || pr.snapshotTerm() != snapTerm || pr.snapshotOffset() != offset) {
            log.debug("term {}: ignoring a stale chunk of snapshot {}@{} at offset {} for {}", term, index, snapTerm,
                    offset, peer);
            return;
        }
        Membership at = index >= raftLog.snapshotIndex() ? membershipAt(index)
                : bugs.snapshotWithoutConfiguration() ? null : recorded;
        if (at == null && !bugs.snapshotWithoutConfiguration()) {
            log.info("term {}: snapshot {}@{} for {} records no configuration and the log no longer knows it;"
                    + " restarting the transfer with snapshot {}@{}", term, index, snapTerm, peer,
                    raftLog.snapshotIndex(), raftLog.snapshotTerm());
            restartSnapshot(peer, pr);
            return;
        }
        pr.snapshotSent();
        send(new Message.InstallSnapshot(id, peer, term, index, snapTerm, offset, data, last, lease.currentRound(), at,
                lease.reliesOn(), clusterUuid));
    }

    /**
     * The runtime cannot serve the snapshot asked for {@code peer} (it has a newer one, or lost
     * it). The leader restarts the transfer with its current snapshot, or, if that is the one
     * that is unavailable, retries on the peer's next heartbeat answer.
     */
    public void snapshotUnavailable(String peer, long now) {
        advanceTime(now);
        Progress pr = role == Role.LEADER ? progress.get(peer) : null;
        if (pr == null || pr.mode() != Progress.Mode.SNAPSHOT) {
            return;
        }
        if (pr.snapshotIndex() != raftLog.snapshotIndex() || pr.snapshotTerm() != raftLog.snapshotTerm()) {
            restartSnapshot(peer, pr);
        } else {
            log.info("term {}: snapshot {}@{} for {} is unavailable; retrying on its next heartbeat answer", term,
                    pr.snapshotIndex(), pr.snapshotTerm(), peer);
            pr.snapshotIdle();
        }
    }

    /**
     * Appends a command if this node is leader and not handing over.
     *
     * @return the index the command will have, or 0 if this node cannot accept it now (see
     *         {@link #leader()} for a hint)
     */
    public long propose(byte[] data, long now) {
        advanceTime(now);
        if (role != Role.LEADER || transferTarget != null || !membership.canLead(id)
                || raftLog.lastIndex() >= Bounds.MAX_INDEX) {
            return 0;
        }
        long index = raftLog.lastIndex() + 1;
        raftLog.append(Entry.command(index, term, data));
        return index;
    }

    /**
     * Starts handing leadership over to {@code target}: once the target's log is complete the
     * leader revokes its own leadership, steps down and sends TimeoutNow.
     *
     * @return whether a transfer started (false if this node is not leader or target is unknown)
     */
    public boolean transferLeadership(String target, long now) {
        advanceTime(now);
        if (role != Role.LEADER || !membership.canLead(target) || target.equals(id)) {
            return false;
        }
        startTransfer(target, false);
        return true;
    }

    private void startTransfer(String target, boolean removeSelf) {
        transferTarget = target;
        transferRemovesSelf = removeSelf;
        transferDeadline = now + cfg.electionTimeoutNanos();
        log.info("term {}: transferring leadership to {}", term, target);
        if (progress.get(target).match() == raftLog.lastIndex()) {
            finishTransfer();
        } else {
            sendAppend(target);
        }
    }

    /**
     * Starts a change of the configuration to {@code next}, by appending a CONFIG entry that takes
     * effect at once (see {@link Quorum} for the rules and why they are safe).
     *
     * <p>A change that would remove this leader (or stop it from leading) is not appended here:
     * the leader hands leadership over to the most up-to-date voter that stays, and that node
     * removes it once elected. The return value is then -1.
     *
     * @return the index of the CONFIG entry (the latest one if {@code next} is already the
     *         configuration), or -1 when a handover started instead
     * @throws MembershipChangeRefused if the change cannot start now or at all; nothing changed
     */
    public long changeMembership(Membership next, long now) {
        advanceTime(now);
        if (role != Role.LEADER || transferTarget != null) {
            throw new MembershipChangeRefused(MembershipChangeRefused.Reason.NOT_LEADER,
                    id + " is not the leader" + (leader != null && !leader.equals(id) ? "; the leader is " + leader : "")
                            + (transferTarget != null ? " (it is handing leadership over)" : ""));
        }
        if (next.equals(membership)) {
            return raftLog.latestMembershipIndex();
        }
        if (raftLog.latestMembershipIndex() > raftLog.commitIndex()) {
            throw new MembershipChangeRefused(MembershipChangeRefused.Reason.IN_PROGRESS,
                    "change in progress: the configuration " + membership + " at index "
                            + raftLog.latestMembershipIndex() + " is not committed yet; retry once it is");
        }
        if (!electedDelivered && !bugs.unsafeMembership()) {
            throw new MembershipChangeRefused(MembershipChangeRefused.Reason.TERM_NOT_COMMITTED,
                    "the leader has not yet committed an entry of its term " + term + "; retry in a moment");
        }
        int diff = membership.votingDifference(next);
        if (diff > 1) {
            throw new MembershipChangeRefused(MembershipChangeRefused.Reason.INVALID,
                    "only one voter may be added or removed at a time: " + membership + " -> " + next);
        }
        int voters = next.voters().size();
        if (voters == 2 && membership.voters().size() != 1) {
            throw new MembershipChangeRefused(MembershipChangeRefused.Reason.INVALID,
                    "the change " + membership + " -> " + next + " would leave 2 voters, and 2 voters cannot keep a "
                            + "majority through one failure; add a witness (addWitness) or replace the node instead");
        }
        for (String v : next.voters()) {
            if (membership.isVoter(v)) {
                continue;
            }
            if (!membership.contains(v)) {
                throw new MembershipChangeRefused(MembershipChangeRefused.Reason.INVALID,
                        v + " would vote before it holds the log; add it as a learner first, then promote it");
            }
            Progress pr = progress.get(v);
            if (pr == null || !pr.respondedSince(now - 2 * cfg.electionTimeoutNanos())) {
                throw new MembershipChangeRefused(MembershipChangeRefused.Reason.LAGGING,
                        "learner " + v + " has not answered the leader within two election timeouts (is it running and"
                                + " reachable?); it is promoted only once it holds the log");
            }
            long lag = raftLog.lastIndex() - pr.match();
            if (lag > cfg.promoteMaxLag()) {
                throw new MembershipChangeRefused(MembershipChangeRefused.Reason.LAGGING,
                        "learner " + v + " is " + lag + " entries behind the leader (at most " + cfg.promoteMaxLag()
                                + " to be promoted); retry once it caught up");
            }
        }
        if (!next.canLead(id)) {
            String target = null;
            long best = -1;
            for (String v : next.voters()) {
                Progress pr = progress.get(v);
                if (next.canLead(v) && pr != null && pr.match() > best) {
                    best = pr.match();
                    target = v;
                }
            }
            if (target == null) {
                throw new MembershipChangeRefused(MembershipChangeRefused.Reason.INVALID,
                        "no voter of " + next + " can take leadership over from " + id);
            }
            log.info("term {}: {} leaves the configuration; handing leadership over to {} first", term, id, target);
            startTransfer(target, true);
            return -1;
        }
        long index = raftLog.lastIndex() + 1;
        raftLog.append(Entry.config(index, term, next));
        log.info("term {}: configuration change {} -> {} at index {}", term, membership, next, index);
        refreshMembership();
        return index;
    }

    /** The latest configuration in this node's log (in force for elections). */
    public Membership membership() {
        return membership;
    }

    /** The configuration in force at the commit index. */
    public Membership committedMembership() {
        return committedMembership;
    }

    /** The configuration in force at {@code index}, which must not be compacted. */
    public Membership membershipAt(long index) {
        Membership m = raftLog.membershipAt(index);
        return m != null ? m : cfg.membership();
    }

    /**
     * Whether this node knows it was removed: the committed configuration does not include it.
     * A removed node never campaigns; the runtime stops it.
     */
    public boolean isRemoved() {
        return !committedMembership.contains(id) && !membership.contains(id);
    }

    /** Test hook: the voters whose votes made this node leader of the current term (empty if not). */
    public Set<String> wonWith() {
        return role == Role.LEADER ? wonWith : Set.of();
    }

    /**
     * Whether this node may stand for election: it can lead in its latest configuration, or that
     * configuration drops it but is not yet committed while the committed one lets it lead. The
     * second case matters: the leader that appended the removal may have crashed before its own
     * copy was durable, and the nodes that hold the removal may all be this node and witnesses; it
     * then wins with a majority of the new configuration, commits it, and hands over without ever
     * reporting {@code elected}.
     */
    private boolean mayCampaign() {
        return membership.canLead(id)
                || (raftLog.latestMembershipIndex() > raftLog.commitIndex() && committedMembership.canLead(id));
    }

    /** A leader outside its own configuration hands over once that configuration is committed. */
    private void handOverIfNotMember() {
        if (role != Role.LEADER || membership.canLead(id) || transferTarget != null
                || raftLog.latestMembershipIndex() > raftLog.commitIndex()) {
            return;
        }
        String target = null;
        long best = -1;
        for (String v : membership.voters()) {
            Progress pr = progress.get(v);
            if (membership.canLead(v) && pr != null && pr.match() > best) {
                best = pr.match();
                target = v;
            }
        }
        if (target == null) {
            stepDown(RevokeReason.STEPPED_DOWN);
            return;
        }
        log.info("term {}: the configuration {} without this node is committed; handing leadership over to {}", term,
                membership, target);
        startTransfer(target, false);
    }

    /**
     * The configuration this node can be sure is committed, given that {@code latest} is the latest
     * one in its log. If the latest configuration entry is not known committed, the one it was
     * appended over is: a leader appends a configuration only once the previous one has committed
     * (one change at a time). That holds also when this node does not know how far the log is
     * committed, for example right after a restart; the start-up configuration is used only when the
     * log and snapshot record no earlier configuration. Falling back to the start-up configuration
     * after a restart would ask a majority of members that may have been removed and stopped long
     * ago: a cluster whose members were all replaced could then never commit again after a
     * whole-cluster restart.
     */
    private Membership committedConfiguration(Membership latest) {
        long latestIndex = raftLog.latestMembershipIndex();
        if (latestIndex <= raftLog.commitIndex()) {
            return latest;
        }
        long known = bugs.restartWithStartupConfiguration() ? raftLog.commitIndex()
                : Math.max(raftLog.commitIndex(), latestIndex - 1);
        Membership committed = raftLog.membershipAt(known);
        return committed != null ? committed : cfg.membership();
    }

    private void refreshMembership() {
        Membership latest = raftLog.latestMembership();
        if (latest == null) {
            latest = cfg.membership();
        }
        Membership committed = committedConfiguration(latest);
        if (latest.equals(membership) && committed.equals(committedMembership)) {
            return;
        }
        if (membership != null && !latest.equals(membership)) {
            log.info("term {}: configuration is now {}", term, latest);
            membershipChanged = true;
        }
        Membership before = membership;
        Membership committedBefore = committedMembership;
        membership = latest;
        committedMembership = committed;
        quorum = latest.quorum();
        commitQuorum = latest.equals(committed) || bugs.unsafeMembership()
                ? quorum : Quorum.joint(committed.quorum(), quorum);
        Set<String> all = new LinkedHashSet<>(latest.ids());
        all.addAll(committed.ids());
        all.remove(id);
        List<String> oldPeers = peers == null ? List.of() : peers;
        peers = List.copyOf(all);
        if (role != Role.LEADER) {
            return;
        }
        lease.setQuorum(commitQuorum);
        for (String p : peers) {
            if (!progress.containsKey(p)) {
                Progress pr = new Progress(raftLog.lastIndex() + 1, cfg.maxInflight(), now);
                progress.put(p, pr);
                sendAppend(p);
            }
        }
        for (String p : oldPeers) {
            if (!all.contains(p)) {
                tellRemoved(p, progress.remove(p), before.isWitness(p) || committedBefore.isWitness(p));
            }
        }
        if (transferTarget != null && !membership.canLead(transferTarget)) {
            log.info("term {}: transfer target {} can no longer lead; transfer cancelled", term, transferTarget);
            transferTarget = null;
        }
        handOverIfNotMember();
    }

    /**
     * One last message to a member whose removal just committed: the committed entries it may lack
     * (up to a batch) with the commit index, so that it learns it was removed and stops, even if it
     * never acknowledged the removal entry. Its answers are ignored from now on.
     */
    private void tellRemoved(String peer, Progress pr, boolean witness) {
        long prev = pr.match();
        long prevTerm = raftLog.term(prev);
        if (prevTerm < 0 || pr.mode() == Progress.Mode.SNAPSHOT) {
            send(new Message.Heartbeat(id, peer, term, Math.min(pr.match(), raftLog.commitIndex()),
                    lease.currentRound(), lease.reliesOn()));
            return;
        }
        List<Entry> tail = new ArrayList<>();
        for (Entry e : raftLog.slice(prev + 1, cfg.maxBatchEntries(), cfg.maxBatchBytes())) {
            if (e.index() > raftLog.commitIndex()) {
                break;
            }
            tail.add(witness ? e.forWitness() : e);
        }
        send(new Message.Append(id, peer, term, prev, prevTerm, tail, raftLog.commitIndex(), lease.currentRound(),
                lease.reliesOn()));
    }

    /**
     * Asks for a linearizable read (the read-index protocol): the leader notes its commit index,
     * then confirms with a heartbeat round acknowledged by a majority that it is still leader. A
     * request made before the leader's first entry of its term committed waits for that commit and
     * takes the commit index then. The answer comes in {@link Ready#reads()} (or earlier through
     * {@link #takeReadStates()}); the read may be served once the state machine has applied the
     * returned index. Relies on no clock. See {@link ReadOnly}.
     *
     * @return false if this node is not leader; no answer will come
     */
    public boolean readIndex(long requestId, long now) {
        advanceTime(now);
        if (role != Role.LEADER) {
            return false;
        }
        if (termCommittedForReads()) {
            readOnly.awaitRound(requestId, raftLog.commitIndex(), lease.currentRound() + 1);
        } else {
            readOnly.awaitTermCommit(requestId);
        }
        return true;
    }

    /**
     * Asks for a read under this leader's lease, decided now: accepted only if this node is leader
     * with a valid lease at {@code now} and its term's first entry committed. The answer (the
     * commit index) comes at once through {@link #takeReadStates()} (or in the next
     * {@link Ready#reads()}); the read may be served once the state machine has applied it, and
     * only while the lease is still valid. Relies on the clock-drift bound, like the lease.
     *
     * @return false if the read cannot be served under a lease now; no answer will come
     */
    public boolean leaseRead(long requestId, long now) {
        advanceTime(now);
        if (role != Role.LEADER || !lease.isValid(now) || !termCommittedForReads()) {
            return false;
        }
        readOnly.serve(requestId, raftLog.commitIndex());
        return true;
    }

    /** Whether this leader's commit index covers every entry an earlier leader committed. */
    private boolean termCommittedForReads() {
        return electedDelivered || bugs.readBeforeFirstCommit();
    }

    /**
     * Hands out the answers to read requests decided so far, without waiting for the next
     * {@link Ready}: they promise nothing about this node's durable state (the state machine
     * applies only entries a {@code Ready} handed out).
     */
    public List<ReadState> takeReadStates() {
        return readOnly.takeAnswers();
    }

    /**
     * The runtime's own connection attempt to {@code peer} was refused: no process listens there.
     * If {@code peer} is our leader and fast failover is on, stop waiting out leader stickiness.
     */
    public void peerUnreachable(String peer, long now) {
        advanceTime(now);
        if (role == Role.LEADER) {
            Progress pr = progress.get(peer);
            if (pr != null && pr.mode() == Progress.Mode.SNAPSHOT) {
                // the transfer resumes (from byte 0) on its next heartbeat answer; probing now would
                // restart it at once, and a refused chunk would restart it again, in a tight loop
                pr.snapshotIdle();
            } else if (pr != null) {
                // whatever was in flight to it is lost; probe once it is back (answers a heartbeat)
                pr.becomeProbeWhenBack();
            }
            return;
        }
        if (!cfg.fastFailover() || !peer.equals(leader)) {
            return;
        }
        log.info("term {}: connection to leader {} refused; its process is gone, campaigning soon", term, peer);
        leader = null;
        lastLeaderContact = NEVER;
        electionDeadline = Math.min(electionDeadline, now + turnDelay(peer) + candidacyDelay);
        answerHeldPreVotes(); // no leader to stick to any more
    }

    /**
     * Defers this node's candidacy by {@code nanos} from now on; 0 restores the usual timing. While
     * deferred, the node's election timer runs {@code nanos} longer each time it starts (the running
     * one is moved by the difference at once), and after a refused connection to its leader it takes
     * its turn after every member that does not defer (deferring members take theirs by id after
     * those), and waits {@code nanos} more: the followers learn of the refusal at different moments,
     * and one that learns it late must still come first. So a member that does not defer and can win
     * campaigns first; if none does (the others are down, cannot win, or defer too), this node still
     * campaigns once the longer wait has passed.
     * Only timing changes: the node votes and grants pre-votes as before, a leadership transfer to it
     * ({@code TimeoutNow}) is not delayed, and a leader is not affected. The runtime defers the node
     * of a drained {@code RaftGroups} by one election timeout.
     *
     * @throws IllegalArgumentException if {@code nanos} is negative or more than an hour
     */
    public void setCandidacyDelay(long nanos) {
        if (nanos < 0 || nanos > 3_600_000_000_000L) {
            throw new IllegalArgumentException("candidacy delay must be between 0 and an hour: " + nanos + " ns");
        }
        long change = nanos - candidacyDelay;
        candidacyDelay = nanos;
        if (change != 0 && role != Role.LEADER) {
            electionDeadline += change;
            if (change > 0) {
                log.debug("term {}: candidacy deferred by {} ms", term, nanos / 1_000_000);
            } else {
                log.debug("term {}: candidacy no longer deferred", term);
            }
        }
    }

    /** The delay set by {@link #setCandidacyDelay}; 0 if none. */
    public long candidacyDelay() {
        return candidacyDelay;
    }

    /**
     * Answers the pre-votes refused only because a leader was alive, as if they came now; those
     * older than an election timeout are dropped (their sender has moved on).
     */
    private void answerHeldPreVotes() {
        List<HeldPreVote> held = List.copyOf(heldPreVotes.values());
        heldPreVotes.clear();
        for (HeldPreVote h : held) {
            if (now - h.at() < cfg.electionTimeoutNanos()) {
                step(h.preVote(), now);
            }
        }
    }

    /**
     * How long a follower waits, once its leader is gone (its process refused a connection) or
     * silent (its election timer ran out), before asking for pre-votes. The followers that may lead
     * take turns by id, a fifth of the election timeout each, plus up to a twentieth of jitter: if
     * two campaigned at once they would split the vote and both wait a whole election timeout more.
     * The turns are that long because followers notice the loss at different moments (measured up
     * to about 30 ms apart on a busy host: each learns it from its own stream's end, its own
     * connection attempt or the last heartbeat it received); the next in turn normally hears from
     * the new leader before its turn comes. A pre-vote that reaches a follower whose own window has
     * not ended yet is held and answered when it ends, so the first in turn need not wait for the
     * slowest clock. A node that defers its candidacy ({@link #setCandidacyDelay}) takes its turn
     * after all the others could have taken theirs.
     */
    private long turnDelay(String absentLeader) {
        long slot = cfg.electionTimeoutNanos() / 5;
        int rank = 0;
        int others = 0;
        for (String v : membership.voters()) {
            if (!v.equals(absentLeader) && !v.equals(id) && membership.canLead(v)) {
                others++;
                if (v.compareTo(id) < 0) {
                    rank++;
                }
            }
        }
        if (candidacyDelay > 0) {
            rank += others + 1;   // the others' turns are 0..others (they count this node too)
        }
        return rank * slot + random.nextLong(cfg.electionTimeoutNanos() / 20 + 1);
    }

    /** The node is stopping: a leader revokes its leadership (reason SHUT_DOWN). */
    public void shutdown(long now) {
        stepDown(RevokeReason.SHUT_DOWN, now);
    }

    /**
     * Makes a leader step down at once with {@code reason} (for example when the runtime's lease
     * watchdog already revoked the leadership, or a handover timed out). It stays a follower of the
     * same term and never leads this term again. No-op for a follower.
     */
    public void stepDown(RevokeReason reason, long now) {
        advanceTime(now);
        if (role == Role.LEADER) {
            log.info("term {}: stepping down ({})", term, reason);
            stepDown(reason);
        }
    }

    // ------------------------------------------------------------------ output

    /** Whether {@link #ready()} has something to hand out. */
    public boolean hasReady() {
        if (inFlight != null) {
            return false;
        }
        return hardStateDirty || stickiness.dirty() || raftLog.hasUnstable() || !outbox.isEmpty() || !events.isEmpty()
                || readOnly.hasAnswers() || readOnly.roundNeeded() || raftLog.commitIndex() > appliedHandedOut
                || !snapshotRequests.isEmpty() || !snapshotChunks.isEmpty() || installSnapshot != null
                || membershipChanged || identityLearnt != null || hasPendingReplication();
    }

    /**
     * Hands out the messages that may be sent at once, even while a {@link Ready} is being
     * persisted: they promise nothing about this node's durable state. They are the leader's
     * heartbeats, appends and snapshot chunks (a leader counts its own log toward commit only
     * once durable, so followers may store entries before the leader does), heartbeat answers
     * (an acknowledgement of a leader's round; the stickiness it implies survives a crash because a
     * restarted node withholds votes for the longest stickiness it made durable, except an answer
     * that promises more than that: it stays in the next {@code Ready}), pre-votes and their answers
     * (they change no state), and a candidate's vote requests (a candidate counts its own vote only
     * once its hard state is durable, so its fsync and its voters' run in parallel). Vote answers,
     * append acknowledgements and TimeoutNow stay in the next {@code Ready}. Call it after every input; without it those messages simply go out
     * with the next {@code Ready}, later.
     *
     * <p>Sending them early keeps heartbeats and their answers flowing while a slow fsync is in
     * progress, so a disk stall does not cost a healthy leader its lease, and lets the leader's
     * fsync and its followers' run in parallel.
     */
    public List<Message> takeUrgentMessages() {
        if (role == Role.LEADER) {
            if (readOnly.roundNeeded()) {
                broadcastHeartbeat(); // one round confirms every read asked since the last one
            }
            flushReplication();
        }
        if (outbox.isEmpty()) {
            return List.of();
        }
        List<Message> urgent = new ArrayList<>();
        java.util.Iterator<Message> it = outbox.iterator();
        while (it.hasNext()) {
            Message m = it.next();
            if (waitForDisk.contains(m)) {
                continue;
            }
            if (m instanceof Message.Heartbeat || m instanceof Message.HeartbeatResponse || m instanceof Message.Append
                    || m instanceof Message.InstallSnapshot || m instanceof Message.PreVote
                    || m instanceof Message.PreVoteResponse || m instanceof Message.Vote) {
                urgent.add(m);
                it.remove();
            }
        }
        return urgent;
    }

    /** Hands out the pending work; see {@link Ready} for the contract. */
    public Ready ready() {
        if (inFlight != null) {
            throw new IllegalStateException("advance() the previous Ready first");
        }
        if (readOnly.roundNeeded() && role == Role.LEADER) {
            broadcastHeartbeat(); // one round confirms every read asked since the last one
        }
        flushReplication();
        HardState hs = hardStateDirty || stickiness.dirty() ? new HardState(term, votedFor, stickiness.promised())
                : null;
        hardStateDirty = false;
        if (hs != null) {
            stickiness.writing(hs.stickiness());
        }
        List<Entry> entries = raftLog.takeUnstable();
        if (bugs.identityBeforeCommit() && !entries.isEmpty() && entries.get(0).index() == 1
                && ClusterIdentity.of(entries.get(0)) != null) {
            learnIdentity(ClusterIdentity.of(entries.get(0)), "an uncommitted entry at index 1");
        }
        List<Entry> committed = raftLog.range(appliedHandedOut + 1, raftLog.commitIndex());
        appliedHandedOut = raftLog.commitIndex();
        if (!committed.isEmpty() && committed.get(0).index() == 1) {
            java.util.UUID carried = ClusterIdentity.of(committed.get(0));
            if (carried != null) {
                learnIdentity(carried, "the committed entry at index 1");
            }
        }
        inFlight = new Ready(hs, entries, outbox, committed, events, readOnly.takeAnswers(), snapshotChunks, installSnapshot,
                snapshotRequests, membershipChanged ? membership : null, identityLearnt);
        identityLearnt = null;
        membershipChanged = false;
        outbox.clear();
        waitForDisk.clear();
        events.clear();
        snapshotChunks.clear();
        installSnapshot = null;
        snapshotRequests.clear();
        return inFlight;
    }

    /** The runtime finished processing {@code ready} (persisted, sent, applied, delivered). */
    public void advance(Ready ready, long now) {
        if (ready != inFlight) {
            throw new IllegalStateException("advance() with a Ready that is not the one in flight");
        }
        advanceTime(now);
        inFlight = null;
        HardState hs = ready.hardState();
        if (hs != null) {
            stickiness.written();
        }
        if (hs != null && role == Role.CANDIDATE && hs.term() == term && id.equals(hs.votedFor())) {
            ownVoteDurable = true;
            tallyVotes();
        }
        if (!ready.entries().isEmpty()) {
            Entry last = ready.entries().get(ready.entries().size() - 1);
            raftLog.stableTo(last.index(), last.term());
            if (role == Role.LEADER) {
                maybeCommit();
            }
        }
    }

    /** The local time at which {@link #tick(long)} must next be called. */
    public long nextDeadline() {
        if (role != Role.LEADER) {
            if (!heldPreVotes.isEmpty() && lastLeaderContact != NEVER) {
                return Math.min(electionDeadline, lastLeaderContact + stickyWindow); // answer them then
            }
            return electionDeadline;
        }
        long d = heartbeatDeadline;
        if (lease.acquired()) {
            d = Math.min(d, lease.leaseUntil());
        }
        if (transferTarget != null) {
            d = Math.min(d, transferDeadline);
        }
        return d;
    }

    // ------------------------------------------------------------------ state, read-only

    public String id() {
        return id;
    }

    public Role role() {
        return role;
    }

    public long term() {
        return term;
    }

    /** The leader this node follows, itself if leader, or {@code null} if unknown. */
    public String leader() {
        return leader;
    }

    public String votedFor() {
        return votedFor;
    }

    public long commitIndex() {
        return raftLog.commitIndex();
    }

    public long lastIndex() {
        return raftLog.lastIndex();
    }

    /** Read-only use only (for tests and status). */
    public RaftLog log() {
        return raftLog;
    }

    /** Local time at which this leader's lease ends, or {@link LeaseTracker#NO_LEASE}. */
    public long leaseUntil() {
        return role == Role.LEADER ? lease.leaseUntil() : LeaseTracker.NO_LEASE;
    }

    /** Whether this node is leader with a valid lease at local time {@code at}. */
    public boolean holdsLease(long at) {
        return role == Role.LEADER && lease.isValid(at);
    }

    /** Whether {@code elected} has been reported for the current leadership. */
    public boolean isElected() {
        return role == Role.LEADER && electedDelivered;
    }

    /** The leader's view of a follower, or {@code null} if not leader. */
    public Progress progress(String peer) {
        return role == Role.LEADER ? progress.get(peer) : null;
    }

    // ------------------------------------------------------------------ elections

    /**
     * Whether this node is leader, or heard from a live leader less than its stickiness window ago
     * (the larger of its own election timeout and the leader's, or after a restart the longest it
     * may have promised).
     */
    private boolean inLease() {
        if (role == Role.LEADER) {
            return true;
        }
        return !bugs.noStickiness() && lastLeaderContact != NEVER && now - lastLeaderContact < stickyWindow;
    }

    private void preCampaign() {
        role = Role.PRE_CANDIDATE;
        leader = null;
        votes.clear();
        votes.put(id, true);
        resetElectionTimer();
        log.debug("term {}: election timeout, asking for pre-votes for term {}", term, term + 1);
        if (quorum.tally(votes) == Quorum.VoteResult.WON) {
            campaign(false);
            return;
        }
        for (String p : peers) {
            send(new Message.PreVote(id, p, term + 1, raftLog.lastIndex(), raftLog.lastTerm()));
        }
    }

    private void campaign(boolean transfer) {
        if (term >= Bounds.MAX_TERM) {
            boundsLog.termAtBound(term, now);
            becomeFollower(term, null, null);
            return;
        }
        role = Role.CANDIDATE;
        term++;
        votedFor = id;
        hardStateDirty = true;
        leader = null;
        votes.clear();
        votes.put(id, true); // counted, but no win before it is durable (ownVoteDurable)
        ownVoteDurable = false;
        resetElectionTimer();
        log.debug("term {}: campaigning{}", term, transfer ? " (leadership transfer)" : "");
        for (String p : peers) {
            send(new Message.Vote(id, p, term, raftLog.lastIndex(), raftLog.lastTerm(), transfer));
        }
    }

    private void onPreVote(Message.PreVote m) {
        boolean grant = m.term() > term && raftLog.isUpToDate(m.lastIndex(), m.lastTerm()) && !inLease();
        send(new Message.PreVoteResponse(id, m.from(), grant ? m.term() : term, grant));
    }

    private void onPreVoteResponse(Message.PreVoteResponse m) {
        if (role != Role.PRE_CANDIDATE) {
            return;
        }
        if (m.granted() && m.term() == term + 1) {
            votes.put(m.from(), true);
        } else if (!m.granted() && m.term() == term) {
            votes.put(m.from(), false);
        } else {
            return;
        }
        Quorum.VoteResult r = quorum.tally(votes);
        if (r == Quorum.VoteResult.WON) {
            campaign(false);
        } else if (r == Quorum.VoteResult.LOST) {
            becomeFollower(term, null, null);
        }
    }

    private void onVote(Message.Vote m) {
        boolean canVote = votedFor == null || votedFor.equals(m.from()) || bugs.voteTwice();
        boolean sticky = !m.transfer() && inLease();
        boolean grant = canVote && !sticky && raftLog.isUpToDate(m.lastIndex(), m.lastTerm());
        if (grant) {
            votedFor = m.from();
            hardStateDirty = true;
            resetElectionTimer();
        }
        send(new Message.VoteResponse(id, m.from(), term, grant));
    }

    private void onVoteResponse(Message.VoteResponse m) {
        if (role != Role.CANDIDATE) {
            return;
        }
        votes.put(m.from(), m.granted());
        tallyVotes();
    }

    /** A candidate wins once a quorum granted and its own vote is durable; loses once it cannot win. */
    private void tallyVotes() {
        Quorum.VoteResult r = quorum.tally(votes);
        if (r == Quorum.VoteResult.WON && ownVoteDurable) {
            becomeLeader();
        } else if (r == Quorum.VoteResult.LOST) {
            becomeFollower(term, null, null);
        }
    }

    private void onTimeoutNow(Message.TimeoutNow m) {
        if (role == Role.LEADER) {
            return;
        }
        if (!membership.canLead(id)) {
            log.warn("term {}: {} handed leadership over, but this node cannot lead in {}", term, m.from(), membership);
            return;
        }
        removeOnElection = m.removeSender() ? m.from() : null;
        log.info("term {}: leader {} handed leadership over; campaigning now", term, m.from());
        campaign(true);
    }

    private void becomeFollower(long newTerm, String newLeader, RevokeReason reasonIfLeader) {
        if (role == Role.LEADER) {
            stepDown(reasonIfLeader == null ? RevokeReason.STEPPED_DOWN : reasonIfLeader);
        }
        if (newTerm > term) {
            term = newTerm;
            votedFor = null;
            hardStateDirty = true;
        }
        role = Role.FOLLOWER;
        leader = newLeader;
        removeOnElection = null;
        votes.clear();
        resetElectionTimer();
    }

    private void becomeLeader() {
        role = Role.LEADER;
        leader = id;
        leaderSince = now;
        lease = new LeaseTracker(commitQuorum, id, cfg.electionTimeoutNanos(), cfg.driftBound());
        wonWith = Set.copyOf(votes.entrySet().stream().filter(Map.Entry::getValue).map(Map.Entry::getKey).toList());
        electedDelivered = false;
        transferTarget = null;
        progress.clear();
        firstIndexOfTerm = raftLog.lastIndex() + 1;
        for (String p : peers) {
            progress.put(p, new Progress(firstIndexOfTerm, cfg.maxInflight(), now));
        }
        if (firstIndexOfTerm == 1 && identityCandidate != null && clusterUuid == null) {
            raftLog.append(ClusterIdentity.entry(term, identityCandidate));
            log.info("term {}: won the first election of an empty log; proposing cluster identity {}", term,
                    identityCandidate);
        } else {
            raftLog.append(Entry.noop(firstIndexOfTerm, term));
        }
        log.info("term {}: won the election; waiting for the first entry of the term to commit", term);
        lease.startRound(now);
        heartbeatDeadline = now + cfg.heartbeatNanos();
        for (String p : peers) {
            sendAppend(p);
        }
        maybeCommit();
    }

    /** Leaves leadership (same term), reporting {@code revoked} if {@code elected} was reported. */
    private void stepDown(RevokeReason reason) {
        if (electedDelivered) {
            events.add(new LeadershipEvent.Revoked(term, reason));
        }
        electedDelivered = false;
        transferTarget = null;
        progress.clear();
        readOnly.failAll();
        snapshotRequests.clear();
        role = Role.FOLLOWER;
        leader = null;
        lastLeaderContact = NEVER;
        resetElectionTimer();
    }

    /**
     * Sets the next election deadline: an election timeout E of this node's own, counted from the
     * end of its stickiness window if that ends later (a follower with a shorter timeout than its
     * leader's must not vote for itself while it still owes the leader its stickiness), plus, for
     * a follower of a known leader, its turn among the followers (see {@link #turnDelay}), and
     * otherwise (after a failed election, at start) a delay drawn from {@code [0, E)}.
     */
    private void resetElectionTimer() {
        long e = cfg.electionTimeoutNanos();
        long from = now + e;
        if (lastLeaderContact != NEVER && role != Role.LEADER) {
            from = Math.max(from, lastLeaderContact + stickyWindow);
        }
        if (role == Role.FOLLOWER && leader != null) {
            // Should this leader go silent, its followers take turns instead of drawing from [E, 2E):
            // a narrow range without split votes. A failed turn falls back to the random range.
            electionDeadline = from + turnDelay(leader) + candidacyDelay;
        } else {
            electionDeadline = from + random.nextLong(e) + candidacyDelay;
        }
    }

    // ------------------------------------------------------------------ replication (follower side)

    /**
     * A message from the leader of this term, which relies on {@code leaderStickiness}, is about
     * to be acknowledged: from now on this node honours the larger of that and its own timeout.
     *
     * @return whether the acknowledgement must wait for the hard state to be durable (it promises
     *         more stickiness than this node's disk records)
     */
    private boolean heardFromLeader(String from, long leaderStickiness) {
        if (role != Role.FOLLOWER) {
            becomeFollower(term, from, null);
        }
        leader = from;
        lastLeaderContact = now;
        boolean mustWait = stickiness.acknowledge(now, leaderStickiness);
        long own = cfg.electionTimeoutNanos();
        long longer = leaderStickiness > own ? leaderStickiness : 0;
        if (longer != reportedStickiness) {
            reportedStickiness = longer;
            if (longer > 0) {
                log.info("term {}: leader {} runs with a longer election timeout ({} ms) than this node ({} ms);"
                        + " honouring the leader's for stickiness and the election timer while it leads", term, from,
                        longer / 1_000_000, own / 1_000_000);
            } else {
                log.info("term {}: leader {} relies on no longer election timeout than this node's own ({} ms)", term,
                        from, own / 1_000_000);
            }
        }
        stickyWindow = bugs.ignoreLeaderStickiness() ? cfg.electionTimeoutNanos() : stickiness.window(leaderStickiness);
        resetElectionTimer();
        return mustWait;
    }

    /** The stickiness an acknowledgement of a message relying on {@code leaderStickiness} promises. */
    private long promises(long leaderStickiness) {
        return stickiness.window(leaderStickiness);
    }

    private void onAppend(Message.Append m) {
        if (role == Role.LEADER) {
            log.error("term {}: append from {} while leader of the same term; ignoring", term, m.from());
            return;
        }
        heardFromLeader(m.from(), m.stickiness()); // answers are never urgent: they wait for the disk anyway
        long promised = promises(m.stickiness());
        if (m.prevIndex() < raftLog.commitIndex()) {
            send(new Message.AppendResponse(id, m.from(), term, true, raftLog.commitIndex(), 0, 0, m.round(),
                    promised));
            return;
        }
        long lastNew = raftLog.maybeAppend(m.prevIndex(), m.prevTerm(), m.entries());
        if (lastNew >= 0) {
            raftLog.commitTo(Math.min(m.commit(), lastNew));
            send(new Message.AppendResponse(id, m.from(), term, true, lastNew, 0, 0, m.round(), promised));
        } else {
            long hint = raftLog.lastIndexWithTermAtMost(Math.min(m.prevIndex(), raftLog.lastIndex()), m.prevTerm());
            send(new Message.AppendResponse(id, m.from(), term, false, m.prevIndex(), hint, raftLog.term(hint),
                    m.round(), promised));
        }
    }

    private void onInstallSnapshot(Message.InstallSnapshot m) {
        if (role == Role.LEADER) {
            log.error("term {}: snapshot from {} while leader of the same term; ignoring", term, m.from());
            return;
        }
        heardFromLeader(m.from(), m.stickiness()); // answers are never urgent: they wait for the disk anyway
        long promised = promises(m.stickiness());
        if (m.snapIndex() <= raftLog.commitIndex()) {
            // We already hold every entry it covers, committed.
            send(new Message.InstallSnapshotResponse(id, m.from(), term, m.snapIndex(), 0, true, m.round(), promised));
            return;
        }
        if (m.offset() == 0) {
            recvFrom = m.from();
            recvTerm = term;
            recvIndex = m.snapIndex();
            recvSnapTerm = m.snapTerm();
            recvOffset = 0;
        }
        boolean sameTransfer = m.from().equals(recvFrom) && recvTerm == term && recvIndex == m.snapIndex()
                && recvSnapTerm == m.snapTerm();
        if (!sameTransfer || m.offset() != recvOffset) {
            long expected = sameTransfer ? recvOffset : 0;
            log.debug("term {}: chunk of snapshot {}@{} at offset {} is out of order; expecting offset {}", term,
                    m.snapIndex(), m.snapTerm(), m.offset(), expected);
            send(new Message.InstallSnapshotResponse(id, m.from(), term, m.snapIndex(), expected, false, m.round(),
                    promised));
            return;
        }
        snapshotChunks.add(new Ready.SnapshotChunk(m.snapIndex(), m.snapTerm(), m.offset(), m.data(), m.last(),
                m.membership()));
        recvOffset += m.size();
        if (m.last()) {
            boolean kept = raftLog.installSnapshot(m.snapIndex(), m.snapTerm(), m.membership());
            appliedHandedOut = m.snapIndex();
            installSnapshot = new Ready.SnapshotPoint(m.snapIndex(), m.snapTerm(), membershipAt(m.snapIndex()));
            recvFrom = null;
            if (m.clusterUuid() != null) {
                learnIdentity(m.clusterUuid(), "the snapshot of " + m.from());
            }
            log.info("term {}: installed snapshot {}@{} ({} bytes) from {}; {} the log after it", term,
                    m.snapIndex(), m.snapTerm(), recvOffset, m.from(), kept ? "kept" : "discarded");
        }
        send(new Message.InstallSnapshotResponse(id, m.from(), term, m.snapIndex(), recvOffset, m.last(),
                m.round(), promised));
    }

    private void onHeartbeat(Message.Heartbeat m) {
        if (role == Role.LEADER) {
            log.error("term {}: heartbeat from {} while leader of the same term; ignoring", term, m.from());
            return;
        }
        boolean mustWait = heardFromLeader(m.from(), m.stickiness());
        raftLog.commitTo(Math.min(m.commit(), raftLog.lastIndex()));
        Message answer = new Message.HeartbeatResponse(id, m.from(), term, m.round(), promises(m.stickiness()));
        send(answer);
        if (mustWait) {
            waitForDisk.add(answer);
        }
    }

    // ------------------------------------------------------------------ replication (leader side)

    private void onAppendResponse(Message.AppendResponse m) {
        if (m.success() && role == Role.LEADER && m.index() > raftLog.lastIndex()) {
            boundsLog.refused(m, term, now, "index " + m.index() + " (beyond this leader's last index "
                    + raftLog.lastIndex() + ")");
            return;
        }
        Progress pr = answered(m.from(), m.round(), m.stickiness());
        if (pr == null) {
            return;
        }
        if (m.success()) {
            boolean advanced = pr.maybeUpdate(m.index(), now);
            if (pr.mode() == Progress.Mode.SNAPSHOT && pr.match() >= pr.snapshotIndex()) {
                log.debug("term {}: {} caught up by appends; ending its snapshot transfer", term, m.from());
                pr.becomeReplicate();
            } else if (pr.mode() == Progress.Mode.PROBE && m.index() >= pr.match()) {
                pr.becomeReplicate();
            }
            if (advanced) {
                maybeCommit();
            }
            if (role == Role.LEADER && m.from().equals(transferTarget) && pr.match() == raftLog.lastIndex()) {
                finishTransfer();
            }
        } else if (m.index() > pr.match() && pr.mode() != Progress.Mode.SNAPSHOT
                && (pr.mode() == Progress.Mode.REPLICATE || m.index() == pr.next() - 1)) {
            long next = raftLog.lastIndexWithTermAtMost(m.hintIndex(), m.hintTerm()) + 1;
            pr.becomeProbe(Math.min(next, m.index()));
            sendAppend(m.from());
        }
        emitElectedIfDue();
    }

    /**
     * A follower answered a message of heartbeat round {@code round}, promising {@code promised}
     * of stickiness: records the contact and the lease acknowledgement, and confirms the reads
     * waiting for it. Returns its progress, or {@code null} if this node is not leader or
     * {@code from} is no longer a member.
     */
    private Progress answered(String from, long round, long promised) {
        if (role != Role.LEADER) {
            return null;
        }
        Progress pr = progress.get(from);
        if (pr == null) {
            return null;
        }
        pr.responded(now);
        lease.onAck(from, round, promised);
        readOnly.confirm(lease.quorumRound());
        return pr;
    }

    private void onHeartbeatResponse(Message.HeartbeatResponse m) {
        Progress pr = answered(m.from(), m.round(), m.stickiness());
        if (pr == null) {
            return;
        }
        pr.onHeartbeatResponse();
        if (pr.mode() == Progress.Mode.REPLICATE && pr.match() < raftLog.lastIndex()
                && pr.next() > raftLog.lastIndex() && now - pr.matchAdvancedAt() >= cfg.heartbeatNanos()) {
            // Everything was sent but not all acknowledged: the appends may be lost (the follower
            // restarted, or was cut off). An append at next - 1 (empty if nothing is new) finds out;
            // a rejection makes us probe, and, past the compacted prefix, send a snapshot.
            sendAppend(m.from());
        }
        if (pr.mode() == Progress.Mode.SNAPSHOT && (pr.snapshotState() == Progress.SnapshotState.IDLE
                || pr.snapshotStalled(now, cfg.electionTimeoutNanos()))) {
            if (pr.snapshotState() == Progress.SnapshotState.IDLE) {
                // its connection was refused, or the snapshot was unavailable: nothing is in flight
                log.info("term {}: {} answers again; (re)starting its snapshot transfer", term, m.from());
            } else {
                log.info("term {}: snapshot transfer to {} stalled at offset {}; restarting it", term, m.from(),
                        pr.snapshotOffset());
            }
            restartSnapshot(m.from(), pr);
        }
        emitElectedIfDue();
    }

    private void onInstallSnapshotResponse(Message.InstallSnapshotResponse m) {
        if (m.done() && role == Role.LEADER && m.snapIndex() > raftLog.lastIndex()) {
            boundsLog.refused(m, term, now, "snapIndex " + m.snapIndex() + " (beyond this leader's last index "
                    + raftLog.lastIndex() + ")");
            return;
        }
        Progress pr = answered(m.from(), m.round(), m.stickiness());
        if (pr == null) {
            return;
        }
        if (m.done()) {
            // The follower durably holds the log up to snapIndex: as good as a successful append.
            boolean advanced = m.snapIndex() > pr.match();
            if (pr.mode() == Progress.Mode.SNAPSHOT && m.snapIndex() >= pr.snapshotIndex()) {
                log.info("term {}: {} installed snapshot {}; replicating from {}", term, m.from(), m.snapIndex(),
                        m.snapIndex() + 1);
                pr.maybeUpdate(m.snapIndex(), now);
                pr.snapshotDone();
                sendAppend(m.from());
            } else if (advanced) {
                pr.maybeUpdate(m.snapIndex(), now);
            }
            if (advanced) {
                maybeCommit();
            }
            if (role == Role.LEADER && m.from().equals(transferTarget) && pr.match() == raftLog.lastIndex()) {
                finishTransfer();
            }
        } else if (pr.mode() == Progress.Mode.SNAPSHOT && m.snapIndex() == pr.snapshotIndex()
                && pr.snapshotState() == Progress.SnapshotState.SENT) {
            pr.snapshotProgress(now);
            requestChunk(m.from(), pr, m.nextOffset());
        }
        emitElectedIfDue();
    }

    /** (Re)starts streaming the current snapshot to {@code peer}, unless appends now suffice. */
    private void restartSnapshot(String peer, Progress pr) {
        if (pr.match() >= raftLog.snapshotIndex()) {
            pr.becomeReplicate();
            sendAppend(peer);
            return;
        }
        pr.becomeSnapshot(raftLog.snapshotIndex(), raftLog.snapshotTerm(), now);
        if (isWitness(peer)) {
            // a witness keeps no state-machine data: the snapshot's position and configuration suffice
            pr.snapshotSent();
            send(new Message.InstallSnapshot(id, peer, term, pr.snapshotIndex(), pr.snapshotTerm(), 0, new byte[0], true,
                    lease.currentRound(), membershipAt(pr.snapshotIndex()), lease.reliesOn(), clusterUuid));
            return;
        }
        snapshotRequests.add(new Ready.SnapshotRequest(peer, pr.snapshotIndex(), pr.snapshotTerm(), 0));
    }

    private void requestChunk(String peer, Progress pr, long offset) {
        pr.snapshotRequested(offset);
        snapshotRequests.add(new Ready.SnapshotRequest(peer, pr.snapshotIndex(), pr.snapshotTerm(), offset));
    }

    private boolean hasPendingReplication() {
        if (role != Role.LEADER) {
            return false;
        }
        for (Map.Entry<String, Progress> e : progress.entrySet()) {
            Progress pr = e.getValue();
            if (!pr.isPaused() && pr.next() <= sendLimit(e.getKey())) {
                return true;
            }
        }
        return false;
    }

    private void flushReplication() {
        if (role != Role.LEADER) {
            return;
        }
        for (String p : peers) {
            Progress pr = progress.get(p);
            long limit = sendLimit(p);
            while (!pr.isPaused() && pr.next() <= limit) {
                sendAppend(p);
            }
        }
    }

    private void sendAppend(String peer) {
        Progress pr = progress.get(peer);
        if (pr.isPaused()) {
            return;
        }
        long prevIndex = pr.next() - 1;
        long prevTerm = raftLog.term(prevIndex);
        if (prevTerm < 0) {
            log.info("term {}: follower {} needs entries before {}, which are compacted; sending snapshot {}@{}",
                    term, peer, raftLog.firstIndex(), raftLog.snapshotIndex(), raftLog.snapshotTerm());
            restartSnapshot(peer, pr);
            return;
        }
        List<Entry> batch = raftLog.slice(pr.next(), cfg.maxBatchEntries(), cfg.maxBatchBytes());
        if (isWitness(peer)) {
            long limit = sendLimit(peer);
            List<Entry> stripped = new ArrayList<>(batch.size());
            for (Entry e : batch) {
                if (e.index() > limit) {
                    break;
                }
                stripped.add(e.forWitness());
            }
            batch = stripped;
        }
        long commit = raftLog.commitIndex();
        send(new Message.Append(id, peer, term, prevIndex, prevTerm, batch, commit, lease.currentRound(),
                lease.reliesOn()));
        pr.sent(batch.isEmpty() ? -1 : batch.get(batch.size() - 1).index());
    }

    private boolean isWitness(String peer) {
        return membership.isWitness(peer) || committedMembership.isWitness(peer);
    }

    /**
     * The last index to send {@code peer}. A witness gets entries only once a data voter that
     * answered within an election timeout stores them (if none did, everything): its log then never
     * runs ahead of every live data node's, so whichever data node survives a single failure can
     * still win the witness's vote, and everything committed while both data nodes were up is on
     * both of them.
     */
    private long sendLimit(String peer) {
        long last = raftLog.lastIndex();
        if (!isWitness(peer)) {
            return last;
        }
        long since = now - cfg.electionTimeoutNanos();
        long dataMax = -1;
        for (Map.Entry<String, Progress> e : progress.entrySet()) {
            if (membership.canLead(e.getKey()) && e.getValue().respondedSince(since)) {
                dataMax = Math.max(dataMax, e.getValue().match());
            }
        }
        return dataMax < 0 ? last : Math.min(last, dataMax);
    }

    private void broadcastHeartbeat() {
        long round = lease.startRound(now);
        readOnly.roundStarted();
        readOnly.confirm(lease.quorumRound());
        heartbeatDeadline = now + cfg.heartbeatNanos();
        for (String p : peers) {
            Progress pr = progress.get(p);
            send(new Message.Heartbeat(id, p, term, Math.min(pr.match(), raftLog.commitIndex()), round,
                    lease.reliesOn()));
        }
    }

    private boolean recentlyActiveMajority() {
        long since = now - cfg.electionTimeoutNanos();
        Set<String> active = new java.util.HashSet<>();
        active.add(id);
        for (Map.Entry<String, Progress> e : progress.entrySet()) {
            if (e.getValue().respondedSince(since)) {
                active.add(e.getKey());
            }
        }
        return commitQuorum.isMajority(active);
    }

    private void maybeCommit() {
        long n = commitQuorum.committedIndex(v -> v.equals(id) ? raftLog.stableIndex() : match(v));
        if (n > raftLog.commitIndex() && (raftLog.term(n) == term || bugs.commitOldTermEntries())) {
            raftLog.commitTo(n);
            refreshMembership();
        }
        emitElectedIfDue();
        removeHandedOverLeader();
    }

    private void emitElectedIfDue() {
        if (role != Role.LEADER || electedDelivered || raftLog.commitIndex() < firstIndexOfTerm) {
            return;
        }
        if (!membership.canLead(id)) {
            return; // elected only to commit its own removal: it hands over, never reporting elected
        }
        if (!lease.isValid(now)) {
            return; // the next acknowledged round renews it, or tick() steps down
        }
        electedDelivered = true;
        readOnly.termCommitted(raftLog.commitIndex(), lease.currentRound() + 1);
        log.info("term {}: elected; fencing token {}", term, term);
        events.add(new LeadershipEvent.Elected(term, lease.leaseUntil()));
    }

    private long match(String peer) {
        Progress pr = progress.get(peer);
        return pr == null ? 0 : pr.match();
    }

    /** The old leader handed over to leave the cluster: remove it once this leadership is established. */
    private void removeHandedOverLeader() {
        if (removeOnElection == null || role != Role.LEADER || !electedDelivered
                || raftLog.latestMembershipIndex() > raftLog.commitIndex()) {
            return;
        }
        String old = removeOnElection;
        removeOnElection = null;
        if (!membership.contains(old)) {
            return;
        }
        try {
            changeMembership(membership.without(old), now);
        } catch (MembershipChangeRefused e) {
            log.warn("term {}: cannot remove {}, which handed leadership over to leave: {}", term, old, e.getMessage());
        }
    }

    private void finishTransfer() {
        String target = transferTarget;
        log.info("term {}: {} has the whole log; revoking own leadership and sending TimeoutNow", term, target);
        stepDown(RevokeReason.LEADERSHIP_TRANSFERRED);
        send(new Message.TimeoutNow(id, target, term, transferRemovesSelf));
        transferRemovesSelf = false;
    }

    // ------------------------------------------------------------------ helpers

    private void send(Message m) {
        outbox.add(m);
    }

    /**
     * Moves the core's notion of time forward. A leader whose lease ran out steps down before it
     * handles anything else, so no input can renew a lease that has already ended.
     */
    private void advanceTime(long t) {
        if (t > now) {
            now = t;
        }
        if (role == Role.LEADER && lease.acquired() && now >= lease.leaseUntil()) {
            log.info("term {}: lease expired without renewal by a majority; stepping down", term);
            stepDown(RevokeReason.LEASE_EXPIRED);
        }
    }

    @Override
    public String toString() {
        return id + "{" + role + " term=" + term + " leader=" + leader + " " + raftLog + "}";
    }
}
