package io.haraft.examples;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

/**
 * The active-active example ({@code java -jar ha-raft-examples.jar active-active}): 3
 * {@link ActiveActiveNode} processes on loopback host {@value ActiveActiveNode#GROUPS} Raft groups
 * {@code partition-0}..., each node processing the partitions it leads with fenced writes to a
 * {@link PartitionLedger}. Shows the partitions per node once balanced, kills ({@code kill -9}) one
 * node, shows its partitions moving to the survivors (with the time each was without leader,
 * from the kill until a survivor printed its ELECTED line), restarts it, waits until the balance is
 * restored, and ends with exactly one line
 * {@code active-active: groups=<g> nodes=<n> max_leaderless_ms=<x> balanced=<true|false> tokens_strictly_increasing=<true|false>}.
 *
 * <p>Who leads what is taken only from the nodes' own ELECTED and REVOKED lines. Every wait has a
 * 60-second deadline; on timeout the program says what it waited for and exits non-zero. Exits 0
 * only when the final distribution is balanced and every partition's tokens strictly increased.
 */
public final class ActiveActiveDemo {
    private static final List<String> NODES = List.of("n1", "n2", "n3");
    private static final long WAIT_NANOS = TimeUnit.SECONDS.toNanos(60);

    /** The leader of a partition as last reported, and the token of that leadership. */
    private record Lead(String node, long token) {
    }

    private final ProcessCluster cluster;
    private final Map<String, Lead> leaders = new TreeMap<>(ActiveActiveDemo::byNumber);
    /** The nodes this program killed and has not restarted yet. */
    private final Set<String> down = new TreeSet<>();
    private int rejected;

    private ActiveActiveDemo(ProcessCluster cluster) {
        this.cluster = cluster;
    }

    public static void main(String[] args) throws Exception {
        int code;
        try (ProcessCluster cluster = new ProcessCluster(NODES, List.of(), ActiveActiveNode.class)) {
            code = new ActiveActiveDemo(cluster).run();
        } catch (Failure e) {
            System.out.println("active-active: " + e.getMessage());
            code = 3;
        }
        System.exit(code);
    }

    private int run() throws Exception {
        int groups = ActiveActiveNode.GROUPS;
        say("starting " + NODES.size() + " nodes on loopback, each hosting " + groups + " groups partition-0.."
                + (groups - 1) + ": " + cluster.members() + " (data and partition ledgers in " + cluster.dataDir() + ")");
        cluster.startAll();
        awaitState("every partition led and the leaderships balanced over " + NODES, this::balanced);
        say("balanced: " + distribution());

        String victim = leaders.values().iterator().next().node();   // the leader of partition-0
        Set<String> orphans = partitionsOf(victim);
        long t0 = System.nanoTime();
        cluster.kill(victim);
        down.add(victim);
        say("kill -9 " + victim + " (leader of " + orphans + ")");
        Map<String, ProcessCluster.Event> takeovers = new TreeMap<>(ActiveActiveDemo::byNumber);
        awaitState("a survivor elected for each of " + orphans, () -> {
            for (String p : orphans) {
                Lead l = leaders.get(p);
                if (l == null || l.node().equals(victim)) {
                    return false;
                }
            }
            return true;
        }, e -> {
            if (e.kind().equals("ELECTED") && orphans.contains(e.field(2)) && !takeovers.containsKey(e.field(2))
                    && atNanos(e) > t0) {
                takeovers.put(e.field(2), e);
            }
        });
        double maxMs = 0;
        for (ProcessCluster.Event e : takeovers.values()) {
            double ms = (atNanos(e) - t0) / 1e6;
            maxMs = Math.max(maxMs, ms);
            say(String.format(Locale.ROOT, "%s: %s -> %s (token %s), leaderless for %.1f ms", e.field(2), victim,
                    e.node(), e.field(3), ms));
        }
        awaitState("the survivors balanced", this::balanced);
        say("survivors balanced: " + distribution());

        cluster.start(victim);
        down.remove(victim);
        say("restarted " + victim + " on its data");
        boolean balanced = awaitState("the balance restored over " + NODES + " (the restarted node leading its share)",
                this::balanced, e -> { }, false);
        say((balanced ? "balance restored: " : "balance NOT restored within 60 s: ") + distribution());

        boolean increasing = tokensStrictlyIncrease(cluster.elected(), groups);
        say("ledger: " + ledgerSummary() + "; writes rejected as stale: " + rejected);
        System.out.printf(Locale.ROOT,
                "active-active: groups=%d nodes=%d max_leaderless_ms=%.1f balanced=%s tokens_strictly_increasing=%s%n",
                groups, NODES.size(), maxMs, balanced, increasing);
        return balanced && increasing ? 0 : 1;
    }

    /** Whether every partition has a leader that runs, and the running nodes lead counts within one. */
    private boolean balanced() {
        Map<String, String> leaderOf = new HashMap<>();
        leaders.forEach((p, l) -> leaderOf.put(p, l.node()));
        Set<String> live = NODES.stream().filter(cluster::isRunning).collect(Collectors.toSet());
        return withinOne(leaderOf, live, ActiveActiveNode.GROUPS);
    }

    /**
     * Whether all {@code groups} partitions have a leader in {@code live} ({@code leaderOf}: partition
     * to node) and the numbers of partitions the live nodes lead differ by at most one.
     */
    static boolean withinOne(Map<String, String> leaderOf, Set<String> live, int groups) {
        if (leaderOf.size() < groups || !live.containsAll(leaderOf.values())) {
            return false;
        }
        Map<String, Integer> counts = new HashMap<>();
        live.forEach(n -> counts.put(n, 0));
        leaderOf.values().forEach(n -> counts.merge(n, 1, Integer::sum));
        int min = counts.values().stream().mapToInt(Integer::intValue).min().orElse(0);
        int max = counts.values().stream().mapToInt(Integer::intValue).max().orElse(0);
        return max - min <= 1;
    }

    private void awaitState(String what, BooleanSupplier done) throws InterruptedException {
        awaitState(what, done, e -> { });
    }

    private void awaitState(String what, BooleanSupplier done, java.util.function.Consumer<ProcessCluster.Event> seen)
            throws InterruptedException {
        awaitState(what, done, seen, true);
    }

    /**
     * Reads the nodes' events into {@link #leaders} until {@code done} holds, for at most 60 s.
     * On timeout throws {@link Failure} if {@code mustHold}, else returns {@code false}.
     */
    private boolean awaitState(String what, BooleanSupplier done, java.util.function.Consumer<ProcessCluster.Event> seen,
                               boolean mustHold) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT_NANOS;
        while (!done.getAsBoolean()) {
            for (String n : NODES) {
                if (!down.contains(n) && !cluster.isRunning(n)) {
                    throw new Failure("node " + n + " exited on its own (see its stderr above) while waiting for "
                            + what);
                }
            }
            // wakes at least every second to check that the nodes still run
            ProcessCluster.Event e = cluster.next(Math.min(deadline, System.nanoTime() + TimeUnit.SECONDS.toNanos(1)));
            if (e == null && System.nanoTime() < deadline) {
                continue;
            }
            if (e == null) {
                if (mustHold) {
                    throw new Failure("timed out after 60 s waiting for " + what + "; leaders now: " + distribution());
                }
                return false;
            }
            apply(e);
            seen.accept(e);
        }
        return true;
    }

    private void apply(ProcessCluster.Event e) {
        switch (e.kind()) {
            case "ELECTED" -> {
                long token = Long.parseLong(e.field(3));
                Lead now = leaders.get(e.field(2));
                if (now == null || token > now.token()) {
                    leaders.put(e.field(2), new Lead(e.node(), token));
                }
            }
            case "REVOKED" -> leaders.remove(e.field(2), new Lead(e.node(), Long.parseLong(e.field(3))));
            case "REJECTED" -> {
                rejected++;
                say(e.node() + " wrote " + e.field(2) + " with stale token " + e.field(3) + "; the ledger refused it "
                        + "(highest " + e.field(4) + ")");
            }
            case "WRITE-FAILED", "UNKNOWN" -> say("node said: " + String.join(" ", e.fields()));
            default -> {
                // WROTE: the first write of a leadership; the ledger summary counts them all
            }
        }
    }

    private Set<String> partitionsOf(String node) {
        return leaders.entrySet().stream().filter(x -> x.getValue().node().equals(node)).map(Map.Entry::getKey)
                .collect(Collectors.toCollection(() -> new TreeSet<>(ActiveActiveDemo::byNumber)));
    }

    /** E.g. {@code n1=4 [partition-0, partition-5, ...] n2=4 [...] n3=4 [...]}; a dead leader is not counted. */
    private String distribution() {
        List<String> parts = new ArrayList<>();
        for (String n : NODES) {
            Set<String> led = partitionsOf(n);
            parts.add(n + (cluster.isRunning(n) ? "" : " (down)") + "=" + (cluster.isRunning(n) ? led.size() : 0)
                    + " " + (cluster.isRunning(n) ? led : "[]").toString().replace("partition-", "p"));
        }
        return String.join("  ", parts);
    }

    /**
     * Whether, for each of the {@code groups} partitions, the tokens of the ELECTED lines
     * {@code elected} ({@code ELECTED <node> <group> <token> <nanos>}, every one seen), in the order
     * the leaderships began, strictly increase; says which partition's do not.
     */
    static boolean tokensStrictlyIncrease(List<ProcessCluster.Event> elected, int groups) {
        Map<String, List<ProcessCluster.Event>> byPartition = elected.stream()
                .collect(Collectors.groupingBy(e -> e.field(2)));
        boolean ok = byPartition.size() == groups;
        for (Map.Entry<String, List<ProcessCluster.Event>> x : byPartition.entrySet()) {
            List<Long> tokens = x.getValue().stream().sorted(Comparator.comparingLong(ActiveActiveDemo::atNanos))
                    .map(e -> Long.parseLong(e.field(3))).toList();
            for (int i = 1; i < tokens.size(); i++) {
                if (tokens.get(i) <= tokens.get(i - 1)) {
                    say(x.getKey() + ": tokens do not strictly increase: " + tokens);
                    ok = false;
                    break;
                }
            }
        }
        return ok;
    }

    /** How many fenced writes the ledger holds, by how many leaderships, and whether each file's tokens never go down. */
    private String ledgerSummary() throws IOException {
        PartitionLedger ledger = new PartitionLedger(cluster.dataDir().resolve("ledger"));
        long writes = 0;
        Set<String> leaderships = new java.util.HashSet<>();
        boolean ordered = true;
        for (int p = 0; p < ActiveActiveNode.GROUPS; p++) {
            long last = 0;
            for (PartitionLedger.Entry e : ledger.read(ActiveActiveNode.partition(p))) {
                writes++;
                leaderships.add(p + "/" + e.token());
                ordered &= e.token() >= last;
                last = e.token();
            }
        }
        return writes + " fenced writes by " + leaderships.size() + " leaderships, tokens never going down in any "
                + "partition: " + ordered;
    }

    /** Orders {@code partition-2} before {@code partition-10}. */
    private static int byNumber(String a, String b) {
        return Comparator.comparingInt((String s) -> Integer.parseInt(s.substring(s.lastIndexOf('-') + 1)))
                .compare(a, b);
    }

    /** When (host monotonic clock) a node printed its ELECTED line. */
    private static long atNanos(ProcessCluster.Event elected) {
        return Long.parseLong(elected.field(4));
    }

    private static void say(String s) {
        System.out.println("active-active: " + s);
    }

    /** A wait that reached its deadline, or a node that died on its own. */
    private static final class Failure extends RuntimeException {
        Failure(String message) {
            super(message);
        }
    }
}
