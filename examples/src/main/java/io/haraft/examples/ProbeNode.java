package io.haraft.examples;

import io.haraft.Committed;
import io.haraft.NodeStatus;
import io.haraft.RaftNode;
import io.haraft.StateMachine;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * One member of the link probe ({@link LinkProbe}): a throwaway Raft node of its own cluster
 * ({@value #CLUSTER_ID}, a temporary data directory, fast heartbeats) that waits until every member
 * runs, takes its turn as leader, and measures its links to the others with the library's own
 * heartbeat counters ({@link NodeStatus.PeerStats#totalHeartbeatsSent()} and
 * {@link NodeStatus.PeerStats#totalHeartbeatsAnswered()}).
 *
 * <p><b>Turns.</b> Once every member answers its heartbeats, the leader writes {@code BEGIN} to the
 * log with the order of the turns, itself last. The leader of the moment hands leadership to the
 * member whose turn it is; that member leads for its slice, writes {@code END <id>} and hands over.
 * A node reads its counters twice, each time when it has not led for an election timeout (so every
 * heartbeat it sent is decided, answered or lost): after {@code BEGIN}, and after its own
 * {@code END}. The difference is every heartbeat it sent in between, all while every member ran,
 * whether it led once or, after an unplanned election, several times. After the last {@code END}
 * every node waits a grace period before it stops, so that the last leader can hand over and take
 * its second reading first.
 *
 * <p><b>Round trips.</b> While it measures, the node samples the runtime's window (the last 128
 * heartbeats) every {@value #SAMPLE_EVERY} heartbeats: p50 is the median of the windows' medians,
 * p99 the worst window's p99 and max the longest round trip of any window.
 */
final class ProbeNode {
    /** The probe's own cluster id: a production cluster on the same ports refuses its connections. */
    static final String CLUSTER_ID = "ha-raft-link-probe";
    static final int SAMPLE_EVERY = 50;
    private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(5);
    private static final long RETRY_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    /**
     * How a probe runs.
     *
     * @param slice           how long each member leads and measures
     * @param heartbeat       the probe's heartbeat interval (fast, so the sample is large)
     * @param electionTimeout the probe's election timeout; a heartbeat unanswered this long is lost
     * @param formWait        how long to wait for every member to start
     */
    record Settings(Duration slice, Duration heartbeat, Duration electionTimeout, Duration formWait) {
        Duration grace() {
            return Duration.ofSeconds(3).plus(electionTimeout.multipliedBy(2));
        }
    }

    /**
     * What one node measured on its link to one peer.
     *
     * @param sent     heartbeats whose outcome is known
     * @param answered of those, the answered ones
     * @param missing  why the link was not measured, if it was not
     */
    record Link(String from, String to, long sent, long answered, Duration rttP50, Duration rttP99,
                Duration rttMax, Optional<String> missing) {
        LinkVerdict verdict() {
            return LinkVerdict.judge(sent, answered);
        }
    }

    private final String id;
    private final Map<String, String> members;
    private final Settings settings;
    private final Consumer<String> say;

    /**
     * @param members every member, {@code id -> host:port}, in the same order on every host
     * @param say     where progress lines go
     */
    ProbeNode(String id, Map<String, String> members, Settings settings, Consumer<String> say) {
        if (!members.containsKey(id)) {
            throw new IllegalArgumentException("--node " + id + " is not one of the members " + members.keySet()
                    + "; give this host's own id");
        }
        this.id = id;
        this.members = new LinkedHashMap<>(members);
        this.settings = settings;
        this.say = say;
    }

    /** Runs this member's part of the probe (blocking) and returns its links, one per peer. */
    List<Link> run() throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("ha-raft-probe-" + id);
        Turns turns = new Turns();
        RaftNode.Builder b = RaftNode.builder().clusterId(CLUSTER_ID).nodeId(id).dataDir(dir.resolve("raft"))
                .heartbeatInterval(settings.heartbeat()).electionTimeout(settings.electionTimeout())
                .stateMachine(turns);
        members.forEach(b::member);
        try (RaftNode node = b.build()) {
            node.start();
            return new Run(node, turns).loop();
        } finally {
            try (Stream<Path> walk = Files.walk(dir)) {
                for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    /** The state of one run: readings, samples, and the one request (submit or transfer) in flight. */
    private final class Run {
        private final RaftNode node;
        private final Turns turns;
        private final long et = settings.electionTimeout().toNanos();
        private final long started = System.nanoTime();
        private long lastLedAt = started;   // as if it led at start: quiet only an election timeout later
        private long leaderSince = -1;
        private long beganAt = -1;
        private long allEndedAt = -1;
        private long turnStart = -1;
        private long nextRequestAt = started;
        private long lastWaitNote = started;
        private CompletableFuture<?> request = CompletableFuture.completedFuture(null);
        private Map<String, NodeStatus.PeerStats> first;
        private Map<String, NodeStatus.PeerStats> second;
        private String secondProblem;
        private final Map<String, Windows> windows = new HashMap<>();

        Run(RaftNode node, Turns turns) {
            this.node = node;
            this.turns = turns;
        }

        List<Link> loop() throws InterruptedException {
            String stopped = null;
            while (true) {
                long now = System.nanoTime();
                NodeStatus s = node.status();
                observe(s, now);
                if (s.isLeader()) {
                    lead(s, now);
                }
                long sinceAllEnded = allEndedAt < 0 ? -1 : now - allEndedAt;
                if (sinceAllEnded >= settings.grace().toNanos() && (second != null || sinceAllEnded >= 2 * settings.grace().toNanos())) {
                    break;
                }
                if (beganAt < 0 && now - started > settings.formWait().toNanos()) {
                    stopped = "not every member started within " + settings.formWait().toSeconds() + " s";
                    break;
                }
                long budget = settings.slice().toNanos() * members.size() * 3 + TimeUnit.SECONDS.toNanos(30);
                if (beganAt >= 0 && now - beganAt > budget) {
                    stopped = "the turns did not finish in time";
                    break;
                }
                TimeUnit.NANOSECONDS.sleep(POLL_NANOS);
            }
            return links(stopped);
        }

        /** Readings and samples; what any node does whatever its role. */
        private void observe(NodeStatus s, long now) {
            if (s.isLeader()) {
                lastLedAt = now;
                leaderSince = leaderSince < 0 ? now : leaderSince;
            } else {
                leaderSince = -1;
            }
            boolean quiet = !s.isLeader() && now - lastLedAt > et + POLL_NANOS;
            if (turns.begun() && beganAt < 0) {
                beganAt = now;
                say.accept(id + ": every member runs; turns " + turns.order() + ", "
                        + settings.slice().toMillis() + " ms each");
            }
            if (turns.allEnded() && allEndedAt < 0) {
                allEndedAt = now;
            }
            if (beganAt >= 0 && quiet && first == null) {
                first = byPeer(s);
            }
            if (first != null && second == null && turns.ended(id) && quiet) {
                second = byPeer(s);
                if (allEndedAt >= 0 && lastLedAt - allEndedAt > settings.grace().toNanos() - TimeUnit.SECONDS.toNanos(1)) {
                    secondProblem = "this node handed leadership over too late: the others may have stopped";
                }
            }
            if (first != null && second == null && s.isLeader()) {
                sample(s, false);
            }
            if (beganAt < 0 && now - lastWaitNote > TimeUnit.SECONDS.toNanos(5)) {
                lastWaitNote = now;
                say.accept(id + ": waiting for every member to start (run the same command on every host); leader "
                        + s.leaderId().orElse("none") + (s.isLeader() ? ", answering: " + answering(s) : ""));
            }
        }

        /** What the leader does: start the turns, hand over to the member whose turn it is, end its own turn. */
        private void lead(NodeStatus s, long now) {
            if (!request.isDone() || now < nextRequestAt) {
                return;
            }
            Optional<String> current = turns.current();
            if (!turns.begun()) {
                if (now - leaderSince >= 2 * et && answering(s).size() == members.size() - 1) {
                    List<String> order = new ArrayList<>(members.keySet());
                    order.remove(id);
                    order.add(id);   // the first leader goes last: by then it has been quiet for a while
                    submit("BEGIN " + String.join(",", order), now);
                }
            } else if (current.isPresent() && !current.get().equals(id)) {
                transfer(current.get(), now);
            } else if (current.isPresent()) {
                if (turnStart < 0) {
                    turnStart = now;
                    say.accept(id + ": leads and measures its links for " + settings.slice().toMillis() + " ms");
                }
                if (now - turnStart >= settings.slice().toNanos()) {
                    sample(s, true);
                    submit("END " + id, now);
                }
            } else if (second == null) {
                // all turns done and this node still leads: hand over, so that it can take its second reading
                transfer(members.keySet().stream().filter(m -> !m.equals(id)).findFirst().orElseThrow(), now);
            }
        }

        private void submit(String command, long now) {
            request = node.submit(command.getBytes(StandardCharsets.UTF_8));
            nextRequestAt = now + RETRY_NANOS;
        }

        private void transfer(String to, long now) {
            request = node.transferLeadership(to);
            nextRequestAt = now + RETRY_NANOS;
        }

        /** The peers that answered a heartbeat within the last election timeout. */
        private List<String> answering(NodeStatus s) {
            return s.peers().stream().filter(p -> p.totalHeartbeatsAnswered() > 0
                    && p.lastContact().map(d -> d.toNanos() < et).orElse(false)).map(NodeStatus.PeerStats::peerId).toList();
        }

        private void sample(NodeStatus s, boolean last) {
            if (first == null) {
                return;   // led before its first reading (its BEGIN applied late): nothing to sample against
            }
            for (NodeStatus.PeerStats p : s.peers()) {
                NodeStatus.PeerStats base = first.get(p.peerId());
                if (base != null) {
                    windows.computeIfAbsent(p.peerId(), k -> new Windows(base.totalHeartbeatsSent())).offer(p, last);
                }
            }
        }

        private List<Link> links(String stopped) {
            List<Link> out = new ArrayList<>();
            for (String peer : members.keySet()) {
                if (peer.equals(id)) {
                    continue;
                }
                String missing = first != null && second != null ? secondProblem
                        : stopped != null ? stopped : "no reading before and after its turn";
                NodeStatus.PeerStats a = first == null ? null : first.get(peer);
                NodeStatus.PeerStats z = second == null ? null : second.get(peer);
                if (missing == null && (a == null || z == null)) {
                    missing = "the peer was not in this node's configuration";
                }
                if (missing != null) {
                    out.add(new Link(id, peer, 0, 0, Duration.ZERO, Duration.ZERO, Duration.ZERO, Optional.of(missing)));
                    continue;
                }
                Windows w = windows.getOrDefault(peer, new Windows(0));
                out.add(new Link(id, peer, z.totalHeartbeatsSent() - a.totalHeartbeatsSent(),
                        z.totalHeartbeatsAnswered() - a.totalHeartbeatsAnswered(), w.p50(), w.p99(), w.max(),
                        Optional.empty()));
            }
            return out;
        }
    }

    private static Map<String, NodeStatus.PeerStats> byPeer(NodeStatus s) {
        Map<String, NodeStatus.PeerStats> m = new HashMap<>();
        s.peers().forEach(p -> m.put(p.peerId(), p));
        return m;
    }

    /** The round trips of the windows sampled on one link. */
    private static final class Windows {
        private final List<Duration> p50s = new ArrayList<>();
        private Duration p99 = Duration.ZERO;
        private Duration max = Duration.ZERO;
        private final long start;
        private long sampledAt;

        Windows(long startTotal) {
            this.start = startTotal;
            this.sampledAt = startTotal;
        }

        /**
         * Takes the window when 50 heartbeats were decided since the last one and
         * the whole window lies after the first reading, and at the end of a turn (then, if the turn
         * was shorter than a window, also a window that reaches back before the first reading).
         */
        void offer(NodeStatus.PeerStats p, boolean last) {
            long total = p.totalHeartbeatsSent();
            boolean windowIsNew = total - start >= p.heartbeatsSent();   // no heartbeat from before the first reading
            boolean due = windowIsNew && total - sampledAt >= SAMPLE_EVERY;
            boolean closing = last && total > sampledAt && (windowIsNew || p50s.isEmpty());
            if ((due || closing) && p.heartbeatsAnswered() > 0) {
                sampledAt = total;
                p50s.add(p.rttP50());
                p99 = p.rttP99().compareTo(p99) > 0 ? p.rttP99() : p99;
                max = p.rttMax().compareTo(max) > 0 ? p.rttMax() : max;
            }
        }

        Duration p50() {
            if (p50s.isEmpty()) {
                return Duration.ZERO;
            }
            Duration[] sorted = p50s.toArray(Duration[]::new);
            Arrays.sort(sorted);
            return sorted[(sorted.length - 1) / 2];
        }

        Duration p99() {
            return p99;
        }

        Duration max() {
            return max;
        }
    }

    /**
     * The probe's replicated state: the order of the turns and the members whose turn ended.
     * Commands {@code BEGIN <id,id,...>} (the first one counts) and {@code END <id>}.
     */
    static final class Turns implements StateMachine {
        private List<String> order = List.of();
        private final Set<String> ended = new LinkedHashSet<>();

        @Override
        public synchronized byte[] apply(Committed entry) {
            String[] cmd = new String(entry.data(), StandardCharsets.UTF_8).split(" ");
            if (cmd.length == 2 && cmd[0].equals("BEGIN") && order.isEmpty()) {
                order = List.of(cmd[1].split(","));
            } else if (cmd.length == 2 && cmd[0].equals("END") && order.contains(cmd[1])) {
                ended.add(cmd[1]);
            }
            return new byte[0];
        }

        @Override
        public synchronized void snapshot(OutputStream out) throws IOException {
            String s = String.join(",", order) + "\n" + String.join(",", ended);
            out.write(s.getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public synchronized void restore(InputStream in) throws IOException {
            String[] lines = (new String(in.readAllBytes(), StandardCharsets.UTF_8) + "\n ").split("\n", -1);
            order = lines[0].isEmpty() ? List.of() : List.of(lines[0].split(","));
            ended.clear();
            if (!lines[1].isBlank()) {
                ended.addAll(List.of(lines[1].split(",")));
            }
        }

        synchronized boolean begun() {
            return !order.isEmpty();
        }

        synchronized List<String> order() {
            return order;
        }

        synchronized boolean ended(String id) {
            return ended.contains(id);
        }

        /** The member whose turn it is: the first in order whose turn has not ended; empty before BEGIN and after the last END. */
        synchronized Optional<String> current() {
            return order.stream().filter(m -> !ended.contains(m)).findFirst();
        }

        synchronized boolean allEnded() {
            return begun() && ended.containsAll(order);
        }
    }
}
