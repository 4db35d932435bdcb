package io.haraft.examples;

import java.util.ArrayList;
import java.util.List;

/**
 * The main demo: a local 3-node cluster as three processes on loopback. It shows the elected
 * leader and its fencing token, kills the leader hard ({@code kill -9}) several times and restarts
 * it, performs one graceful handover, prints each failover time and token and the leader's
 * heartbeat statistics, and ends with exactly one line
 * {@code demo: failovers=<k> max_failover_ms=<x> tokens_strictly_increasing=<true|false>}.
 * Exits 0 only when every new leadership carried a larger token.
 */
public final class LocalClusterDemo {
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
        List<Long> tokens = new ArrayList<>();
        say("starting 3 nodes on loopback: " + cluster.members() + " (data in " + cluster.dataDir() + ")");
        cluster.startAll();
        ProcessCluster.Event first = cluster.await("ELECTED", e -> true);
        String leader = first.node();
        tokens.add(Long.parseLong(first.field(2)));
        say("leader is " + leader + " with fencing token " + first.field(2));

        double maxMs = 0;
        int failovers = 0;
        for (int i = 1; i <= kills; i++) {
            cluster.awaitAllFollow(leader);
            String dead = leader;
            long t0 = System.nanoTime();
            cluster.kill(dead);
            say("kill -9 " + dead + " (the leader)");
            ProcessCluster.Event e = cluster.await("ELECTED", ev -> !ev.node().equals(dead));
            double ms = (Long.parseLong(e.field(3)) - t0) / 1e6;
            tokens.add(Long.parseLong(e.field(2)));
            failovers++;
            maxMs = Math.max(maxMs, ms);
            leader = e.node();
            say(String.format("failover %d: %s elected with token %s after %.1f ms", i, leader, e.field(2), ms));
            cluster.start(dead);
            say("restarted " + dead + " on its data");
        }

        cluster.awaitAllFollow(leader);
        String from = leader;
        String to = cluster.members().keySet().stream().filter(id -> !id.equals(from)).findFirst().orElseThrow();
        long t0 = System.nanoTime();
        cluster.send(from, "transfer " + to);
        say("graceful handover " + from + " -> " + to);
        ProcessCluster.Event e = cluster.await("ELECTED", ev -> !ev.node().equals(from));
        double ms = (Long.parseLong(e.field(3)) - t0) / 1e6;
        tokens.add(Long.parseLong(e.field(2)));
        failovers++;
        maxMs = Math.max(maxMs, ms);
        leader = e.node();
        say(String.format("handover: %s elected with token %s after %.1f ms", leader, e.field(2), ms));

        cluster.awaitAllFollow(leader);
        Thread.sleep(2_000); // let two seconds of heartbeats (every 100 ms) fill the statistics window
        cluster.send(leader, "stats");
        say("heartbeat statistics of the leader " + leader + " (round trip and answered share per follower):");
        while (true) {
            ProcessCluster.Event s = cluster.await("STATS", ev -> true);
            if (s.fields().length == 1 || s.field(1).equals("END")) {
                break;
            }
            System.out.println("  " + String.join(" ", List.of(s.fields()).subList(1, s.fields().length)));
        }

        boolean increasing = true;
        for (int i = 1; i < tokens.size(); i++) {
            increasing &= tokens.get(i) > tokens.get(i - 1);
        }
        say("tokens in order of leadership: " + tokens);
        System.out.printf("demo: failovers=%d max_failover_ms=%.1f tokens_strictly_increasing=%s%n",
                failovers, maxMs, increasing);
        return increasing ? 0 : 1;
    }

    private static void say(String s) {
        System.out.println("demo: " + s);
    }
}
