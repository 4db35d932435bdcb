package io.haraft.examples.chaos;

import io.haraft.examples.chaos.Op.Kind;
import io.haraft.examples.chaos.Op.Outcome;
import io.haraft.fencing.jdbc.JdbcFence;

import java.io.IOException;
import java.io.PrintStream;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The chaos suite: three {@link ChaosNode} JVMs on loopback with real data directories, clients
 * that increment a replicated counter and compare-and-set a replicated register, a fenced writer
 * to PostgreSQL on whichever node leads, and random faults from a seed: {@code kill -9} and
 * restart, SIGSTOP past the lease, a partition of one node or of the leader, a graceful
 * handover, a restart of all three at once, and the replacement of the leader or of a follower by
 * a fresh node ({@link #replace}). The first fault always freezes the leader inside its writer's
 * check-to-write window until a newer leader has written ({@link #provokeStaleWrite}). Between
 * faults the cluster has three voters, which the later faults, the clients and the state checks
 * address. Then it checks:
 * <ul>
 *   <li>every acknowledged increment is in the final state, and all current members agree;</li>
 *   <li>the counter and register histories are linearizable ({@link LinearizabilityChecker});</li>
 *   <li>PostgreSQL never accepted a write with a token lower than one it had already accepted;</li>
 *   <li>leaderships never overlap: each runs from its {@code ELECTED} instant to the end of its lease
 *       as its node printed it ({@code LEASE_END}), or to the node's {@code kill -9}.</li>
 * </ul>
 * The output ends with {@code chaos membership: replacements=<n> ...}, {@code chaos fencing:
 * stale_attempts=<n> stale_writes_rejected=<n> ...} and then {@code chaos: seed=<s> faults=<n>
 * acked=<n> lost=<n> stale_writes_accepted=<n> linearizable=<true|false> overlapping_leases=<n>}.
 *
 * <p>Usage: {@code ChaosController [--minutes N | --seconds N] [--seed S] [--bug }{@value #BUG_LIST}{@code ]};
 * needs PostgreSQL (examples/scripts/postgres-setup.sh). Exit code 0 only if every check passed.
 * See examples/CHAOS.md.
 */
public final class ChaosController {

    static final String BUG_LIST = "unfenced-writer|lease-ignorer|follower-read";

    /** A run's settings. */
    public record Config(long seed, Duration faultPhase, String bug, String jdbcUrl, String user, String password,
                         int counterClients, int registerClients) {
        public Config {
            if (!ChaosNode.BUGS.contains(bug)) {
                throw new IllegalArgumentException("unknown planted bug \"" + bug + "\"; use none or " + BUG_LIST);
            }
            if (faultPhase.isNegative()) {
                throw new IllegalArgumentException("the fault phase must not be negative: " + faultPhase);
            }
        }

        public static Config of(long seed, Duration faultPhase, String bug) {
            return new Config(seed, faultPhase, bug,
                    System.getProperty("haraft.jdbc.url", "jdbc:postgresql://127.0.0.1:5432/haraft"),
                    System.getProperty("haraft.jdbc.user", "haraft"),
                    System.getProperty("haraft.jdbc.password", "haraft"), 3, 2);
        }
    }

    /**
     * What a run found. {@code staleAttempts}: writes whose SQL transaction began after a newer
     * leader was elected; {@code staleWritesRejected}: those the guard rejected;
     * {@code provokedStaleWrite}: the outcome of the write held in the leader's check-to-write
     * window by the first fault ({@code ACCEPTED}, {@code REJECTED}, {@code ERROR}, or {@code missed},
     * {@code lost}, {@code none} if it did not happen as planned).
     */
    public record Result(long seed, int faults, long acked, long lost, long staleWritesAccepted, boolean linearizable,
                         long overlappingLeases, boolean replicasAgree, long writeAttempts, long rejectedByGuard,
                         long staleAttempts, long staleWritesRejected, String provokedStaleWrite, int replacements,
                         int membershipStalled, String membershipLine, String fencingLine, String line) {
        /** Whether every check passed. */
        public boolean passed() {
            return lost == 0 && staleWritesAccepted == 0 && linearizable && overlappingLeases == 0 && replicasAgree;
        }
    }

    private static final Duration OP_TIMEOUT = Duration.ofMillis(1500);
    /** How long the leader's writer holds the write it checked, when the first fault asks it to. */
    private static final long HOLD_WRITE_MS = 2000;
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    private final Config config;
    private final PrintStream out;
    private final Random random;
    private final AtomicLong opIds = new AtomicLong();
    private final List<Op> counterOps = Collections.synchronizedList(new ArrayList<>());
    private final List<Op> registerOps = Collections.synchronizedList(new ArrayList<>());
    private volatile boolean stopClients;
    private NodeProcesses nodes;
    private final Membership membership = new Membership();
    private final long started = System.nanoTime();
    /** The outcome of the write held in the check-to-write window by the first fault. */
    private String provokedStaleWrite = "none";

    /** What the membership faults did, for the {@code chaos membership:} line. */
    private static final class Membership {
        int nextId = 4;
        int replacements;
        int ofLeader;
        int stepwise;
        int disrupted;
        int stalled;
        final AtomicLong retriedCalls = new AtomicLong();
        int stoppedItself;

        String line(List<String> voters) {
            return "chaos membership: replacements=" + replacements + " of_leader=" + ofLeader + " stepwise="
                    + stepwise + " disrupted=" + disrupted + " stalled=" + stalled + " retried_calls="
                    + retriedCalls.get() + " removed_stopped_itself=" + stoppedItself + "/" + replacements
                    + " voters=" + String.join(",", voters);
        }
    }

    private ChaosController(Config config, PrintStream out) {
        this.config = config;
        this.out = out;
        this.random = new Random(config.seed());
    }

    public static void main(String[] args) throws Exception {
        long seed = System.nanoTime() & 0xffffff;
        Duration phase = Duration.ofMinutes(2);
        String bug = "none";
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--minutes" -> phase = Duration.ofMinutes(Long.parseLong(args[++i]));
                case "--seconds" -> phase = Duration.ofSeconds(Long.parseLong(args[++i]));
                case "--seed" -> seed = Long.parseLong(args[++i]);
                case "--bug" -> bug = args[++i];
                default -> throw new IllegalArgumentException("unknown argument " + args[i]
                        + "; usage: [--minutes N | --seconds N] [--seed S] [--bug " + BUG_LIST + "]");
            }
        }
        Result r = run(Config.of(seed, phase, bug), System.out);
        System.exit(r.passed() ? 0 : 1);
    }

    /** Runs the suite; every node process is killed before this returns. */
    public static Result run(Config config, PrintStream out) throws Exception {
        return new ChaosController(config, out).run();
    }

    private Result run() throws Exception {
        long t0 = System.nanoTime();
        String resource = "chaos-" + config.seed() + "-" + Long.toHexString(System.currentTimeMillis());
        prepareDatabase();
        Path dir = Files.createTempDirectory("ha-raft-chaos");
        say("seed=" + config.seed() + " t0_nanos=" + started + " fault_phase_s=" + config.faultPhase().toSeconds() + " bug=" + config.bug()
                + " resource=" + resource + " dir=" + dir);
        List<String> nodeArgs = List.of(config.jdbcUrl(), config.user(), config.password(), resource, config.bug());
        List<Thread> clients = new ArrayList<>();
        int faults;
        try (NodeProcesses n = new NodeProcesses(dir, classpath(), List.of("n1", "n2", "n3"), nodeArgs)) {
            nodes = n;
            for (String id : n.ids()) {
                n.start(id);
            }
            require(n.awaitLeader(30 * SECOND) != null, "no leader within 30 s of start");
            for (int c = 0; c < config.counterClients() + config.registerClients(); c++) {
                int client = c;
                boolean counter = c < config.counterClients();
                Thread t = new Thread(() -> clientLoop(client, counter), "chaos-client-" + c);
                t.setDaemon(true);
                t.start();
                clients.add(t);
            }
            faults = injectFaults();
            say("faults done; healing and letting clients run on a quiet cluster");
            healEverything();
            require(n.awaitLeader(30 * SECOND) != null, "no leader within 30 s after the faults stopped");
            pace(2000);
            stopClients = true;
            for (Thread t : clients) {
                t.join(TimeUnit.NANOSECONDS.toMillis(10 * SECOND));
            }
            Result r = verify(resource, faults);
            say(String.format("runtime_s=%.1f logs=%s", (System.nanoTime() - t0) / 1e9, n.logs()));
            out.println(r.membershipLine());
            out.println(r.fencingLine());
            out.println(r.line());
            return r;
        } finally {
            stopClients = true;
            deleteData(dir.resolve("data"));
        }
    }

    /** The nodes' data directories go; their logs stay for inspection. */
    private static void deleteData(Path data) throws IOException {
        if (!Files.exists(data)) {
            return;
        }
        try (var walk = Files.walk(data)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    // ---------------------------------------------------------------------------------- faults

    private int injectFaults() throws Exception {
        long end = System.nanoTime() + config.faultPhase().toNanos();
        int count = 0;
        String[] kinds = {"pause", "kill", "partition-node", "partition-leader", "handover", "restart-all", "replace"};
        while (System.nanoTime() < end) {
            pace(1500 + random.nextInt(2500));
            // the first fault is always a SIGSTOP of the leader between its lease check and its write;
            // the second always a membership change, so that every run has both
            String kind = count == 0 ? "provoke" : count == 1 ? "replace" : kinds[random.nextInt(kinds.length)];
            if (kind.equals("restart-all") && random.nextBoolean()) {
                kind = "kill"; // the whole-cluster restart is rarer than the others
            }
            String leader = nodes.awaitLeader(30 * SECOND);
            if (leader == null) {
                say("WARNING no leader for 30 s before fault " + (count + 1));
                leader = nodes.ids().get(random.nextInt(3));
            }
            String target = random.nextInt(3) < 2 ? leader : nodes.ids().get(random.nextInt(3));
            count++;
            switch (kind) {
                case "provoke" -> provokeStaleWrite(count);
                case "pause" -> {
                    int ms = 600 + random.nextInt(1400);
                    say(fault(count) + "SIGSTOP " + who(target, leader) + " for " + ms + " ms");
                    nodes.pause(target);
                    pace(ms);
                    nodes.resume(target);
                }
                case "kill" -> {
                    int ms = 300 + random.nextInt(1700);
                    say(fault(count) + "kill -9 " + who(target, leader) + ", restart after " + ms + " ms");
                    nodes.kill(target);
                    pace(ms);
                    nodes.start(target);
                }
                case "partition-node", "partition-leader" -> {
                    String victim = kind.equals("partition-leader") ? leader : nodes.ids().get(random.nextInt(3));
                    int ms = 800 + random.nextInt(2200);
                    say(fault(count) + "partition " + who(victim, leader) + " from the others for " + ms + " ms");
                    for (String id : nodes.ids()) {
                        List<String> others = new ArrayList<>(nodes.ids());
                        others.remove(id);
                        admin(id, id.equals(victim) ? "partition " + String.join(" ", others) : "partition " + victim);
                    }
                    pace(ms);
                    for (String id : nodes.ids()) {
                        admin(id, "heal");
                    }
                }
                case "replace" -> replace(target, leader, count);
                case "handover" -> {
                    List<String> others = new ArrayList<>(nodes.ids());
                    others.remove(leader);
                    String to = others.get(random.nextInt(others.size()));
                    say(fault(count) + "graceful handover " + leader + " -> " + to + ": "
                            + admin(leader, "transfer " + to));
                }
                default -> {
                    int ms = 200 + random.nextInt(1000);
                    say(fault(count) + "kill -9 all three nodes, restart after " + ms + " ms");
                    for (String id : nodes.ids()) {
                        nodes.kill(id);
                    }
                    pace(ms);
                    for (String id : nodes.ids()) {
                        nodes.start(id);
                    }
                }
            }
        }
        return count;
    }

    /**
     * The classic split-brain set-up, aimed: the leader's writer is asked to hold its next write
     * for {@value #HOLD_WRITE_MS} ms after its lease check (as if its work took that long); once it
     * says it is in that window, the leader is frozen with SIGSTOP until a newer leader has had a
     * write accepted, then resumed. The held write then reaches PostgreSQL with the old token: the
     * guard must reject it. Its outcome is {@link Result#provokedStaleWrite()}.
     */
    private void provokeStaleWrite(int count) throws Exception {
        long deadline = System.nanoTime() + 30 * SECOND;
        while (System.nanoTime() < deadline) {
            String leader = nodes.awaitLeader(10 * SECOND);
            if (leader == null) {
                continue;
            }
            long asked = System.nanoTime();
            if (!admin(leader, "holdwrite " + HOLD_WRITE_MS).equals("OK")) {
                pace(100);
                continue;
            }
            NodeProcesses.Window window = nodes.awaitWindow(leader, asked, 5 * SECOND);
            if (window == null) {
                say("  " + leader + " did not enter a write window within 5 s (not leading any more?); again");
                continue;
            }
            nodes.pause(leader);
            long stopped = System.nanoTime();
            say(fault(count) + "SIGSTOP " + leader + " (leader, token " + window.token() + ") "
                    + (stopped - window.nanos()) / 1_000_000 + " ms after its lease check for write " + window.seq()
                    + ", until a newer leader has written");
            NodeProcesses.Write newer = nodes.awaitWrite(w -> w.token() > window.token() && w.accepted(), 30 * SECOND);
            nodes.resume(leader);
            long resumed = System.nanoTime();
            NodeProcesses.Write held = nodes.awaitWrite(w -> w.node().equals(leader) && w.token() == window.token()
                    && w.seq() == window.seq(), 15 * SECOND);
            provokedStaleWrite = newer == null ? "no_newer_leader" : held == null ? "lost"
                    : held.start() < stopped ? "missed" : held.outcome();
            say(String.format("  SIGCONT %s after %d ms; %s; its held write with token %d: %s", leader,
                    (resumed - stopped) / 1_000_000, newer == null ? "NO newer leader wrote within 30 s"
                            : newer.node() + " had written with token " + newer.token(), window.token(),
                    provokedStaleWrite));
            return;
        }
        say(fault(count) + "WARNING no leader entered a write window within 30 s; nothing provoked");
    }

    /**
     * A membership fault: a fresh node (new id, empty data directory) joins as a learner and
     * replaces {@code old}, through {@code replaceMember} or, half of the time, through its steps
     * {@code addLearner}, {@code promote}, {@code removeMember}. Each call goes to whichever node
     * leads and is asked again (it is idempotent) after a refusal, a lost leadership or a broken
     * connection. Half of the time the change is disrupted: the leader or the joining node is
     * killed with {@code kill -9} while it runs, and restarted. Once the configuration without
     * {@code old} is committed, the three voters it lists are the members every other fault and
     * check uses; the replaced node gets a few seconds to notice its removal and stop its Raft node,
     * then its process is killed. Its logs still count for the fencing and lease checks.
     */
    private void replace(String old, String leader, int count) throws Exception {
        String fresh = "n" + membership.nextId++;
        String address = nodes.join(fresh);
        boolean stepwise = random.nextBoolean();
        int disruption = random.nextInt(4); // 2: kill -9 the leader during the change, 3: the joining node
        int disruptAfter = 200 + random.nextInt(1500);
        int downFor = 300 + random.nextInt(1200);
        List<String> commands = stepwise
                ? List.of("addlearner " + fresh + " " + address, "promote " + fresh, "remove " + old)
                : List.of("replace " + old + " " + fresh + " " + address);
        say(fault(count) + "replace " + who(old, leader) + " by " + fresh + " at " + address + " with "
                + (stepwise ? "addLearner, promote, removeMember" : "replaceMember")
                + (disruption == 2 ? ", kill -9 of the leader if the change still runs after " + disruptAfter + " ms"
                : disruption == 3 ? ", kill -9 of " + fresh + " if the change still runs after " + disruptAfter + " ms"
                : ""));
        nodes.start(fresh);
        java.util.concurrent.FutureTask<String> change = new java.util.concurrent.FutureTask<>(() -> {
            String last = null;
            for (String command : commands) {
                last = changeOnLeader(command);
            }
            return last;
        });
        Thread t = new Thread(change, "chaos-membership");
        t.setDaemon(true);
        t.start();
        if (disruption >= 2) {
            pace(disruptAfter);
            String victim = disruption == 2 ? nodes.leader() : fresh;
            if (victim != null && !change.isDone()) {
                membership.disrupted++;
                say("  during the change: kill -9 " + who(victim, leader) + ", restart after " + downFor + " ms");
                nodes.kill(victim);
                pace(downFor);
                nodes.start(victim);
            }
        }
        String answer;
        try {
            answer = change.get(5, TimeUnit.MINUTES);
        } catch (java.util.concurrent.ExecutionException e) {
            // the change did not complete: say why, then go back to three voters without the new node
            membership.stalled++;
            say("  STALLED: " + e.getCause().getMessage() + "; the configuration as each node sees it: "
                    + everyNodesView());
            answer = changeOnLeader("members");
            List<String> voters = parseVoters(answer);
            if (answer.split(" ")[1].equals("true") || voters == null || voters.size() != 3) {
                answer = changeOnLeader("remove " + fresh);
                voters = parseVoters(answer);
                say("  gave up: removed " + fresh + ": " + answer);
            }
            require(voters != null && voters.size() == 3, "after a stalled change, three voters are expected: " + answer);
            nodes.setMembers(voters);
            for (String id : List.of(old, fresh)) {
                if (!voters.contains(id)) {
                    nodes.kill(id);
                }
            }
            return;
        }
        // "OK <index> id:ROLE,...": the committed configuration
        String[] f = answer.split(" ");
        List<String> voters = parseVoters(answer);
        require(voters != null && voters.size() == 3 && voters.contains(fresh) && !voters.contains(old),
                "replacing " + old + " by " + fresh + " committed an unexpected configuration: " + answer);
        nodes.setMembers(voters);
        membership.replacements++;
        membership.ofLeader += old.equals(leader) ? 1 : 0;
        membership.stepwise += stepwise ? 1 : 0;
        // the removed node learns it and stops its Raft node (within a few election timeouts)
        long deadline = System.nanoTime() + 5 * SECOND;
        boolean stopped = false;
        while (!stopped && System.nanoTime() < deadline) {
            String[] status = admin(old, "members").split(" ");
            stopped = status.length > 2 && status[0].equals("OK") && status[2].equals("true");
            if (!stopped) {
                pace(100);
            }
        }
        membership.stoppedItself += stopped ? 1 : 0;
        say("  configuration " + f[1] + ": " + f[2] + "; " + old + (stopped ? " stopped itself" : " did NOT report"
                + " its removal within 5 s") + "; its process is killed");
        nodes.kill(old);
    }

    /**
     * The voters of an {@code OK <index> id:ROLE,...} answer (or of {@code members}: {@code OK
     * <pending> <removed> id:ROLE,...}), or null if it lists a learner.
     */
    private static List<String> parseVoters(String answer) {
        List<String> voters = new ArrayList<>();
        for (String m : answer.substring(answer.lastIndexOf(' ') + 1).split(",")) {
            String[] idRole = m.split(":");
            if (!idRole[1].equals("VOTER")) {
                return null;
            }
            voters.add(idRole[0]);
        }
        return voters;
    }

    /** Each running node's {@code members} answer: whether its configuration is pending, whether it was removed, the members. */
    private Map<String, String> everyNodesView() {
        Map<String, String> views = new java.util.TreeMap<>();
        for (String id : nodes.everyNode()) {
            if (nodes.running(id)) {
                views.put(id, admin(id, "members") + " / " + admin(id, "status"));
            }
        }
        return views;
    }

    /**
     * One membership command on whichever node leads, asked again until it succeeds (at most 60 s):
     * every operation skips what the configuration already shows, so a retry is always safe.
     * Returns the {@code OK ...} answer; throws if the change is refused as invalid or never succeeds.
     */
    private String changeOnLeader(String command) {
        long deadline = System.nanoTime() + 60 * SECOND;
        String answer = "none";
        while (System.nanoTime() < deadline) {
            String leader;
            try {
                leader = nodes.awaitLeader(10 * SECOND);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
            if (leader != null) {
                answer = admin(leader, command, Duration.ofSeconds(30));
                if (answer.startsWith("OK")) {
                    return answer;
                }
                if (answer.equals("REFUSED INVALID")) {
                    throw new IllegalStateException(leader + " refused " + command + " as invalid");
                }
                membership.retriedCalls.incrementAndGet();
                say("  " + command + " on " + leader + ": " + answer + "; asking again");
            }
            pace(200);
        }
        throw new IllegalStateException(command + " did not succeed within 60 s; last answer: " + answer);
    }

    /** {@code fault <n> (t=<s since the run started>)}: the time helps to find the fault in the nodes' logs. */
    private String fault(int count) {
        return String.format("fault %d (t=%.1f s): ", count, (System.nanoTime() - started) / 1e9);
    }

    private static String who(String node, String leader) {
        return node + (node.equals(leader) ? " (leader)" : "");
    }

    private void healEverything() throws Exception {
        for (String id : nodes.ids()) {
            if (nodes.paused(id)) {
                nodes.resume(id);
            }
            if (!nodes.running(id)) {
                nodes.start(id);
            }
        }
        for (String id : nodes.ids()) {
            admin(id, "heal");
        }
    }

    /** One admin command on a fresh connection; the answer, or a description of the failure. */
    private String admin(String id, String command) {
        return admin(id, command, Duration.ofSeconds(5));
    }

    private String admin(String id, String command, Duration timeout) {
        long deadline = System.nanoTime() + 5 * SECOND;
        while (true) {
            try (AdminConnection c = AdminConnection.open(nodes.adminPort(id))) {
                return c.call(command, timeout);
            } catch (AdminConnection.NotSentException e) {
                if (System.nanoTime() > deadline || !nodes.running(id)) {
                    return "FAIL unreachable";
                }
                pace(50); // the node is starting: its command socket is not open yet
            } catch (IOException e) {
                return "FAIL " + e.getClass().getSimpleName();
            }
        }
    }

    // --------------------------------------------------------------------------------- clients

    private void clientLoop(int client, boolean counter) {
        Random r = new Random(config.seed() * 31 + client);
        String target = nodes.ids().get(client % 3);
        AdminConnection conn = null;
        String connTo = null;
        long lastSeen = 0;
        while (!stopClients) {
            pace(10 + r.nextInt(20));
            long id = opIds.incrementAndGet();
            Kind kind;
            String command;
            long arg = 0;
            long arg2 = 0;
            // half of the reads go through the read barrier, half under the lease
            String read = r.nextBoolean() ? "read " : "leaseread ";
            if (counter) {
                kind = r.nextInt(10) < 7 ? Kind.INC : Kind.READ;
                command = kind == Kind.INC ? "inc " + id : read + "counter";
            } else {
                int k = r.nextInt(10);
                kind = k < 4 ? Kind.READ : k < 8 ? Kind.CAS : Kind.WRITE;
                arg = kind == Kind.CAS ? lastSeen : id;
                arg2 = kind == Kind.CAS ? id : 0;
                command = switch (kind) {
                    case READ -> read + "register";
                    case CAS -> "cas " + id + " " + arg + " " + arg2;
                    default -> "write " + id + " " + arg;
                };
            }
            // reads go to a random node a third of the time: only the leader may answer them
            String to = kind == Kind.READ && r.nextInt(3) == 0 ? nodes.ids().get(r.nextInt(3)) : target;
            if (conn != null && !to.equals(connTo)) {
                conn.close();
                conn = null;
            }
            long start = System.nanoTime();
            String answer;
            try {
                if (conn == null) {
                    conn = AdminConnection.open(nodes.adminPort(to));
                    connTo = to;
                }
                answer = conn.call(command, OP_TIMEOUT);
            } catch (AdminConnection.NotSentException e) {
                record(counter, new Op(id, client, kind, arg, arg2, null, Outcome.FAILED, start, System.nanoTime()));
                target = nodes.ids().get(r.nextInt(3));
                conn = null;
                continue;
            } catch (SocketTimeoutException e) {
                answer = "UNKNOWN timeout";
            } catch (IOException | RuntimeException e) {
                answer = "UNKNOWN " + e.getClass().getSimpleName();
            }
            long end = System.nanoTime();
            String[] f = answer.split(" ");
            Op op;
            switch (f[0]) {
                case "OK" -> {
                    Long output = kind == Kind.WRITE ? null : Long.parseLong(f[1]);
                    op = new Op(id, client, kind, arg, arg2, output, Outcome.OK, start, end);
                    if (kind == Kind.READ && !counter) {
                        lastSeen = output;
                    } else if (kind == Kind.CAS && output == 1) {
                        lastSeen = arg2;
                    } else if (kind == Kind.WRITE) {
                        lastSeen = arg;
                    }
                }
                case "NOTLEADER" -> {
                    op = new Op(id, client, kind, arg, arg2, null, Outcome.FAILED, start, end);
                    boolean hinted = f.length > 1 && !f[1].equals("-");
                    target = hinted ? f[1] : nodes.ids().get(r.nextInt(3));
                    if (!hinted) {
                        pace(50); // an election is running: do not spin
                    }
                    if (conn != null) {
                        conn.close();
                        conn = null;
                    }
                }
                default -> {
                    // a read that failed took no effect; a command may or may not have committed
                    op = new Op(id, client, kind, arg, arg2, null,
                            kind == Kind.READ ? Outcome.FAILED : Outcome.UNKNOWN, start, Long.MAX_VALUE);
                    if (conn != null) {
                        conn.close();
                        conn = null;
                    }
                    target = nodes.ids().get(r.nextInt(3));
                }
            }
            record(counter, op);
        }
        if (conn != null) {
            conn.close();
        }
    }

    private void record(boolean counter, Op op) {
        (counter ? counterOps : registerOps).add(op);
    }

    // ---------------------------------------------------------------------------------- checks

    private Result verify(String resource, int faults) throws Exception {
        // 1. a barrier through the leader, then every replica must reach the same state
        long barrier = opIds.incrementAndGet();
        long deadline = System.nanoTime() + 60 * SECOND;
        boolean barrierDone = false;
        while (!barrierDone && System.nanoTime() < deadline) {
            String leader = nodes.awaitLeader(10 * SECOND);
            if (leader != null) {
                barrierDone = admin(leader, "nop " + barrier).startsWith("OK");
            }
            if (!barrierDone) {
                pace(200);
                barrier = opIds.incrementAndGet();
            }
        }
        Map<String, String> summaries = new HashMap<>();
        boolean agree = false;
        while (barrierDone && System.nanoTime() < deadline) {
            for (String id : nodes.ids()) {
                summaries.put(id, admin(id, "summary"));
            }
            if (new HashSet<>(summaries.values()).size() == 1 && summaries.get(nodes.ids().get(0)).startsWith("OK")) {
                agree = true;
                break;
            }
            pace(200);
        }
        say("barrier=" + barrierDone + " replicas_agree=" + agree + " summaries(counter register ops digest)="
                + summaries);

        // 2. what every replica applied, by op id
        long lost = 0;
        long acked = 0;
        Map<Long, Long> applied = null;
        for (String id : nodes.ids()) {
            Map<Long, Long> results = parseResults(admin(id, "results"));
            applied = applied == null ? results : applied;
            long missing = 0;
            long ackedHere = 0;
            synchronized (counterOps) {
                for (Op op : counterOps) {
                    if (op.kind() == Kind.INC && op.outcome() == Outcome.OK) {
                        ackedHere++;
                        if (!op.output().equals(results.get(op.id()))) {
                            missing++;
                        }
                    }
                }
            }
            acked = ackedHere;
            lost = Math.max(lost, missing);
        }

        // 3. linearizability, with the commands of unknown outcome resolved from the final state
        boolean linearizable = true;
        for (boolean counter : new boolean[] {true, false}) {
            List<Op> history = resolve(counter ? counterOps : registerOps, applied);
            Model model = counter ? Model.COUNTER : Model.REGISTER;
            long started = System.nanoTime();
            LinearizabilityChecker.Result r = LinearizabilityChecker.check(model, history);
            Map<Outcome, Long> outcomes = new java.util.EnumMap<>(Outcome.class);
            synchronized (counter ? counterOps : registerOps) {
                for (Op o : counter ? counterOps : registerOps) {
                    outcomes.merge(o.outcome(), 1L, Long::sum);
                }
            }
            say(String.format("%s: ops=%d outcomes=%s checked=%d verdict=%s steps=%d check_ms=%d %s",
                    model.name(), history.size(), outcomes, r.ops(), r.verdict(), r.steps(),
                    (System.nanoTime() - started) / 1_000_000, r.detail()));
            linearizable &= r.linearizable();
        }

        // 4. fencing: the database and the writers' logs
        Fencing fencing = checkFencing(resource);

        // 5. leases
        long overlapping = overlappingLeases();

        String line = String.format("chaos: seed=%d faults=%d acked=%d lost=%d stale_writes_accepted=%d"
                        + " linearizable=%s overlapping_leases=%d",
                config.seed(), faults, acked, lost, fencing.staleAccepted, linearizable, overlapping);
        String fencingLine = "chaos fencing: stale_attempts=" + fencing.staleAttempts + " stale_writes_rejected="
                + fencing.staleRejected + " provoked_stale_write=" + provokedStaleWrite + " attempts=" + fencing.attempts
                + " rejected_by_guard=" + fencing.rejected;
        return new Result(config.seed(), faults, acked, lost, fencing.staleAccepted, linearizable, overlapping, agree,
                fencing.attempts, fencing.rejected, fencing.staleAttempts, fencing.staleRejected, provokedStaleWrite,
                membership.replacements, membership.stalled, membership.line(nodes.ids()), fencingLine, line);
    }

    /** The first index whose value is {@code >= key}. */
    private static int lowerBound(long[] sorted, long key) {
        int lo = 0;
        int hi = sorted.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (sorted[mid] < key) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    private static Map<Long, Long> parseResults(String answer) {
        Map<Long, Long> m = new HashMap<>();
        if (!answer.startsWith("OK ")) {
            return m;
        }
        String body = answer.substring(3);
        if (body.equals("-")) {
            return m;
        }
        for (String kv : body.split(",")) {
            int c = kv.indexOf(':');
            m.put(Long.parseLong(kv.substring(0, c)), Long.parseLong(kv.substring(c + 1)));
        }
        return m;
    }

    /**
     * An operation whose client never learned the outcome either was applied (then the final
     * state holds its result; it took effect at some time after its start) or was not (then it
     * never will be: every replica has applied a later barrier). Reads are left as they are.
     */
    private static List<Op> resolve(List<Op> ops, Map<Long, Long> applied) {
        List<Op> out = new ArrayList<>();
        synchronized (ops) {
            for (Op op : ops) {
                if (op.outcome() != Outcome.UNKNOWN || op.kind() == Kind.READ) {
                    out.add(op);
                } else if (applied.containsKey(op.id())) {
                    Long output = op.kind() == Kind.WRITE ? null : applied.get(op.id());
                    out.add(op.resolved(Outcome.UNKNOWN, output, Long.MAX_VALUE));
                } else {
                    out.add(op.resolved(Outcome.FAILED, null, op.start()));
                }
            }
        }
        return out;
    }

    private record Fencing(long attempts, long rejected, long staleAttempts, long staleRejected, long staleAccepted) {
    }

    /**
     * The database's side. A write is stale if its SQL transaction began after a newer leader was
     * elected (its writer checked its lease before a pause, say) or after a newer token's write was
     * accepted. Stale writes PostgreSQL accepted with a token lower than one it had already
     * accepted are the violations: a token regression in the ledger's commit order (the guard's
     * row lock makes the serial ids follow the commit order), or an accepted write that began after
     * a write with a larger token had been accepted. A stale write that lands before any newer
     * token has reached the database is accepted, correctly: the resource has not seen a newer
     * leader yet.
     */
    private Fencing checkFencing(String resource) throws SQLException {
        List<NodeProcesses.Write> writes = nodes.writes();
        List<NodeProcesses.Elected> elections = nodes.elections();
        Set<String> violations = new HashSet<>();
        long rows = 0;
        long regressions = 0;
        try (Connection c = DriverManager.getConnection(config.jdbcUrl(), config.user(), config.password());
             PreparedStatement p = c.prepareStatement(
                     "SELECT writer, token, seq FROM chaos_ledger WHERE resource = ? ORDER BY id")) {
            p.setString(1, resource);
            try (ResultSet rs = p.executeQuery()) {
                long max = 0;
                while (rs.next()) {
                    rows++;
                    long token = rs.getLong(2);
                    if (token < max) {
                        regressions++;
                        violations.add(rs.getString(1) + " " + token + " " + rs.getLong(3));
                    }
                    max = Math.max(max, token);
                }
            }
        }
        // accepted writes by end time, with the largest token accepted up to each
        List<NodeProcesses.Write> acceptedByEnd = new ArrayList<>(writes.stream()
                .filter(NodeProcesses.Write::accepted).toList());
        acceptedByEnd.sort(java.util.Comparator.comparingLong(NodeProcesses.Write::end));
        long[] ends = new long[acceptedByEnd.size()];
        long[] maxToken = new long[acceptedByEnd.size()];
        for (int i = 0; i < ends.length; i++) {
            ends[i] = acceptedByEnd.get(i).end();
            maxToken[i] = Math.max(i == 0 ? 0 : maxToken[i - 1], acceptedByEnd.get(i).token());
        }
        long rejected = 0;
        long staleAttempts = 0;
        long staleRejected = 0;
        long staleAcceptedFirst = 0;
        for (NodeProcesses.Write w : writes) {
            boolean isRejected = w.outcome().equals("REJECTED");
            rejected += isRejected ? 1 : 0;
            int before = lowerBound(ends, w.start()) - 1;
            boolean newerWritten = before >= 0 && maxToken[before] > w.token();
            boolean newerElected = elections.stream().anyMatch(e -> e.token() > w.token() && e.nanos() < w.start());
            if (newerWritten && w.accepted()) {
                violations.add(w.node() + " " + w.token() + " " + w.seq());
            }
            if (newerWritten || newerElected) {
                staleAttempts++;
                staleRejected += isRejected ? 1 : 0;
                staleAcceptedFirst += w.accepted() && !newerWritten ? 1 : 0;
            }
        }
        long accepted = writes.stream().filter(NodeProcesses.Write::accepted).count();
        say("fencing detail: attempts=" + writes.size() + " accepted=" + accepted + " rejected_by_guard=" + rejected
                + " stale_attempts=" + staleAttempts + " stale_rejected=" + staleRejected
                + " stale_accepted_before_any_newer_write=" + staleAcceptedFirst + " ledger_rows=" + rows
                + " ledger_token_regressions=" + regressions + " violations=" + violations);
        return new Fencing(writes.size(), rejected, staleAttempts, staleRejected, violations.size());
    }

    /**
     * Each leadership runs from its {@code ELECTED} instant to the end of its lease as its node
     * printed it ({@code LEASE_END}: exact, even when printed late after a pause), or, if the node
     * printed none, to the instant it was sent {@code kill -9}, or to the end of the run. Two
     * leaderships with different tokens overlap if their intervals intersect, however briefly.
     */
    private long overlappingLeases() {
        record Interval(String node, long token, long from, long to, String end) {
        }
        List<Interval> intervals = new ArrayList<>();
        Map<String, Integer> endedBy = new java.util.TreeMap<>();
        for (NodeProcesses.Elected e : nodes.elections()) {
            Long leaseEnd = nodes.leaseEnd(e.node(), e.token());
            Long killed = nodes.killedAfter(e.node(), e.nanos());
            String how = leaseEnd != null ? "lease_end" : killed != null ? "kill" : "open";
            long to = leaseEnd != null ? leaseEnd : killed != null ? killed : Long.MAX_VALUE;
            endedBy.merge(how, 1, Integer::sum);
            intervals.add(new Interval(e.node(), e.token(), e.nanos(), Math.max(to, e.nanos()), how));
        }
        long overlaps = 0;
        for (int i = 0; i < intervals.size(); i++) {
            for (int j = i + 1; j < intervals.size(); j++) {
                Interval a = intervals.get(i);
                Interval b = intervals.get(j);
                if (a.token() != b.token() && a.from() < b.to() && b.from() < a.to()) {
                    overlaps++;
                    say(String.format("OVERLAP %s token %d [%+.1f ms, %+.1f ms] (%s) and %s token %d [%+.1f ms,"
                                    + " %+.1f ms] (%s), times since the run started", a.node(), a.token(),
                            sinceStart(a.from()), sinceStart(a.to()), a.end(), b.node(), b.token(),
                            sinceStart(b.from()), sinceStart(b.to()), b.end()));
                }
            }
        }
        // how close the library came: the shortest time from one leadership's end to a later one's start
        long closest = Long.MAX_VALUE;
        for (Interval a : intervals) {
            for (Interval b : intervals) {
                if (a.token() < b.token() && a.to() <= b.from()) {
                    closest = Math.min(closest, b.from() - a.to());
                }
            }
        }
        say("leaderships=" + intervals.size() + " ended_by=" + endedBy + " closest_handover_ms="
                + (closest == Long.MAX_VALUE ? "-" : String.format("%.1f", closest / 1e6)) + " tokens="
                + intervals.stream().map(Interval::token).toList());
        return overlaps;
    }

    private double sinceStart(long nanos) {
        return nanos == Long.MAX_VALUE ? Double.POSITIVE_INFINITY : (nanos - started) / 1e6;
    }

    // ---------------------------------------------------------------------------------- helpers

    private void prepareDatabase() throws SQLException {
        JdbcFence.builder(() -> DriverManager.getConnection(config.jdbcUrl(), config.user(), config.password()))
                .resource("-").build().createTableIfNotExists();
        try (Connection c = DriverManager.getConnection(config.jdbcUrl(), config.user(), config.password());
             Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS chaos_ledger (id bigserial PRIMARY KEY, resource text NOT NULL,"
                    + " writer text NOT NULL, token bigint NOT NULL, seq bigint NOT NULL)");
        }
    }

    private static String classpath() {
        return System.getProperty("chaos.classpath", System.getProperty("java.class.path"));
    }

    private void say(String s) {
        out.println("chaos: " + s);
    }

    private static void require(boolean ok, String what) {
        if (!ok) {
            throw new IllegalStateException(what);
        }
    }

    /** Paces the workload and the fault schedule (not a wait for a condition). */
    private static void pace(long millis) {
        try {
            TimeUnit.MILLISECONDS.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
