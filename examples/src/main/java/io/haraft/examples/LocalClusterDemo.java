package io.haraft.examples;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The main demo: a local 3-node cluster as three processes on loopback. It shows the elected
 * leader and its fencing token, kills the leader hard ({@code kill -9}) several times and restarts
 * it, performs one graceful handover, prints each failover time and token and the leader's
 * heartbeat statistics (once it sent 20 heartbeats to each follower), and ends with exactly one line
 * {@code demo: failovers=<k> max_failover_ms=<x> tokens_strictly_increasing=<true|false>}.
 * Exits 0 only when every new leadership carried a larger token.
 */
public final class LocalClusterDemo {
    private static final Pattern SENT = Pattern.compile("answered=\\d+/(\\d+)");   // in a STATS line

    private LocalClusterDemo() {
    }

    public static void main(String[] args) throws Exception {
        int kills = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        int code;
        try (ProcessCluster cluster = new ProcessCluster(List.of("n1", "n2", "n3"), List.of())) {
            code = run(cluster, kills);
        }
        System.exit(code);
    }

    static int run(ProcessCluster cluster, int kills) throws Exception {
        say("starting 3 nodes on loopback: " + cluster.members() + " (data in " + cluster.dataDir() + ")");
        cluster.startAll();
        ProcessCluster.Event first = cluster.await("ELECTED", e -> true);
        say("leader is " + first.node() + " with fencing token " + first.field(2));

        double maxMs = 0;
        int failovers = 0;
        for (int i = 1; i <= kills; i++) {
            String dead = cluster.awaitCommonLeader(Set.of());   // the leader of the moment, followed by all
            long t0 = System.nanoTime();
            cluster.kill(dead);
            say("kill -9 " + dead + " (the leader)");
            ProcessCluster.Event e = cluster.await("ELECTED", ev -> !ev.node().equals(dead) && atNanos(ev) > t0);
            double ms = (atNanos(e) - t0) / 1e6;
            failovers++;
            maxMs = Math.max(maxMs, ms);
            say(String.format(Locale.ROOT, "failover %d: %s elected with token %s after %.1f ms", i, e.node(), e.field(2), ms));
            cluster.start(dead);
            say("restarted " + dead + " on its data");
        }

        for (int attempt = 1; ; attempt++) {
            String from = cluster.awaitCommonLeader(Set.of());
            String to = cluster.members().keySet().stream().filter(id -> !id.equals(from)).findFirst().orElseThrow();
            long t0 = System.nanoTime();
            cluster.send(from, "transfer " + to);
            say("graceful handover " + from + " -> " + to);
            ProcessCluster.Event e = cluster.await("ELECTED", ev -> !ev.node().equals(from) && atNanos(ev) > t0,
                    "TRANSFER-FAILED", ev -> ev.node().equals(from));
            if (e.kind().equals("ELECTED")) {
                double ms = (atNanos(e) - t0) / 1e6;
                failovers++;
                maxMs = Math.max(maxMs, ms);
                say(String.format(Locale.ROOT, "handover: %s elected with token %s after %.1f ms", e.node(), e.field(2), ms));
                break;
            }
            if (attempt == 3) {
                throw new IllegalStateException("the graceful handover failed 3 times: " + String.join(" ", e.fields()));
            }
            say("handover refused (" + String.join(" ", e.fields()) + "); again with the leader of the moment");
        }

        String leader = cluster.awaitCommonLeader(Set.of());
        say("heartbeat statistics of the leader " + leader + " (round trip and answered share per follower):");
        for (String line : statsAfter(cluster, leader, 20)) {
            System.out.println("  " + line);
        }

        // every leadership of the run, in the order of the shared monotonic clock, unexpected ones included
        List<Long> tokens = cluster.elected().stream().sorted(Comparator.comparingLong(LocalClusterDemo::atNanos))
                .map(ev -> Long.parseLong(ev.field(2))).toList();
        boolean increasing = true;
        for (int i = 1; i < tokens.size(); i++) {
            increasing &= tokens.get(i) > tokens.get(i - 1);
        }
        say("tokens in order of leadership: " + tokens);
        System.out.printf(Locale.ROOT, "demo: failovers=%d max_failover_ms=%.1f tokens_strictly_increasing=%s%n",
                failovers, maxMs, increasing);
        return increasing ? 0 : 1;
    }

    /**
     * The leader's statistics lines once it has sent at least {@code heartbeats} heartbeats (every
     * 100 ms) to each follower, asking again every 200 ms.
     */
    private static List<String> statsAfter(ProcessCluster cluster, String leader, int heartbeats)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            cluster.send(leader, "stats");
            List<String> lines = new ArrayList<>();
            boolean enough = true;
            for (ProcessCluster.Event s = cluster.await("STATS", ev -> true); !s.field(1).equals("END");
                 s = cluster.await("STATS", ev -> true)) {
                lines.add(String.join(" ", List.of(s.fields()).subList(1, s.fields().length)));
                Matcher m = SENT.matcher(lines.get(lines.size() - 1));
                enough &= m.find() && Long.parseLong(m.group(1)) >= heartbeats;
            }
            if (enough || System.nanoTime() > deadline) {
                return lines;
            }
            Thread.sleep(200);
        }
    }

    /** When (host monotonic clock) a node printed its ELECTED line. */
    private static long atNanos(ProcessCluster.Event elected) {
        return Long.parseLong(elected.field(3));
    }

    private static void say(String s) {
        System.out.println("demo: " + s);
    }
}
