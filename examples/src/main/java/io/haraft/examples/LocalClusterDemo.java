package io.haraft.examples;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The main demo: a local 3-node cluster as three processes on loopback. It shows the elected
 * leader and its fencing token, kills the leader hard ({@code kill -9}) several times and restarts
 * it, performs one graceful handover, prints each failover time and token and the followers'
 * heartbeat statistics, and ends with one line:
 * {@code demo: failovers=<k> max_failover_ms=<x> tokens_strictly_increasing=<true|false>}.
 * Exits 0 only when every new leadership carried a larger token.
 */
public final class LocalClusterDemo {
    private static final long TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(20);

    private record Event(String kind, String node, String[] fields) { }

    private final Path dir;
    private final Map<String, String> members = new TreeMap<>();
    private final Map<String, Process> processes = new TreeMap<>();
    private final Map<String, PrintWriter> stdin = new TreeMap<>();
    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private final List<Long> tokens = new ArrayList<>();
    private final Map<String, String> following = new java.util.concurrent.ConcurrentHashMap<>();

    private LocalClusterDemo(Path dir) {
        this.dir = dir;
    }

    public static void main(String[] args) throws Exception {
        int kills = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        Path dir = Files.createTempDirectory("ha-raft-demo");
        LocalClusterDemo demo = new LocalClusterDemo(dir);
        int code;
        try {
            code = demo.run(kills);
        } finally {
            demo.stopAll();
            deleteTree(dir);
        }
        System.exit(code);
    }

    private int run(int kills) throws Exception {
        for (String id : List.of("n1", "n2", "n3")) {
            members.put(id, "127.0.0.1:" + freePort());
        }
        say("starting 3 nodes on loopback: " + members + " (data in " + dir + ")");
        for (String id : members.keySet()) {
            start(id);
        }
        Event first = await("ELECTED", null);
        String leader = first.node();
        record(first);
        say(String.format("leader is %s with fencing token %s", leader, first.fields()[1]));

        double maxMs = 0;
        int failovers = 0;
        for (int i = 1; i <= kills; i++) {
            awaitAllFollow(leader);
            long t0 = System.nanoTime();
            processes.get(leader).destroyForcibly().waitFor();
            say("kill -9 " + leader + " (the leader)");
            Event e = await("ELECTED", leader);
            double ms = (Long.parseLong(e.fields()[2]) - t0) / 1e6;
            record(e);
            failovers++;
            maxMs = Math.max(maxMs, ms);
            say(String.format("failover %d: %s elected with token %s after %.1f ms", i, e.node(), e.fields()[1], ms));
            String dead = leader;
            leader = e.node();
            following.remove(dead);
            start(dead);
            say("restarted " + dead + " with its data");
        }

        awaitAllFollow(leader);
        String newLeaderTarget = members.keySet().stream().filter(id -> !id.equals(lastLeader)).findFirst().orElseThrow();
        long t0 = System.nanoTime();
        stdin.get(lastLeader).println("transfer " + newLeaderTarget);
        say("graceful handover: " + lastLeader + " -> " + newLeaderTarget);
        Event e = await("ELECTED", lastLeader);
        double ms = (Long.parseLong(e.fields()[2]) - t0) / 1e6;
        record(e);
        failovers++;
        maxMs = Math.max(maxMs, ms);
        say(String.format("handover: %s elected with token %s after %.1f ms", e.node(), e.fields()[1], ms));

        awaitAllFollow(lastLeader);
        stdin.get(lastLeader).println("stats");
        say("heartbeat statistics seen by the leader " + lastLeader + ":");
        while (true) {
            Event s = awaitAny("STATS", "STATS-END");
            if (s.kind().equals("STATS-END")) {
                break;
            }
            System.out.println("  " + String.join(" ", s.fields()));
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

    private String lastLeader;

    private void record(Event e) {
        tokens.add(Long.parseLong(e.fields()[1]));
        lastLeader = e.node();
    }

    private void start(String id) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(javaBin(), "-cp", System.getProperty("java.class.path"),
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", DemoNode.class.getName(), id,
                dir.resolve(id).toString()));
        members.forEach((k, v) -> cmd.add(k + "=" + v));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        processes.put(id, p);
        stdin.put(id, new PrintWriter(p.getOutputStream(), true, StandardCharsets.UTF_8));
        Thread reader = new Thread(() -> pump(p), "demo-read-" + id);
        reader.setDaemon(true);
        reader.start();
    }

    private void pump(Process p) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                String[] f = line.trim().split(" +");
                if (f[0].equals("FOLLOWING") && f.length == 3) {
                    synchronized (following) {
                        following.put(f[1], f[2]);
                        following.notifyAll();
                    }
                } else {
                    events.add(new Event(f[0], f.length > 1 ? f[1] : "", f));
                }
            }
        } catch (IOException ignored) {
            // the process died
        }
    }

    /** The next ELECTED (or other kind) event from a node other than {@code notFrom}. */
    private Event await(String kind, String notFrom) throws InterruptedException {
        long deadline = System.nanoTime() + TIMEOUT_NANOS;
        while (true) {
            Event e = events.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (e == null) {
                throw new IllegalStateException("no " + kind + " event within 20 s");
            }
            if (e.kind().equals(kind) && !e.node().equals(notFrom)) {
                return e;
            }
        }
    }

    private Event awaitAny(String a, String b) throws InterruptedException {
        long deadline = System.nanoTime() + TIMEOUT_NANOS;
        while (true) {
            Event e = events.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (e == null) {
                throw new IllegalStateException("no " + a + " event within 20 s");
            }
            if (e.kind().equals(a) || e.kind().equals(b)) {
                return e;
            }
        }
    }

    /** Waits until every node reports following {@code leader}, so the next fault starts from a whole cluster. */
    private void awaitAllFollow(String leader) throws InterruptedException {
        long deadline = System.nanoTime() + TIMEOUT_NANOS;
        while (System.nanoTime() < deadline) {
            if (members.keySet().stream().allMatch(id -> leader.equals(following.get(id)))) {
                return;
            }
            synchronized (following) {
                following.wait(50);
            }
        }
        throw new IllegalStateException("not every node follows " + leader + " within 20 s: " + following);
    }

    private void stopAll() {
        for (Process p : processes.values()) {
            p.destroyForcibly();
        }
    }

    private static void say(String s) {
        System.out.println("demo: " + s);
    }

    private static String javaBin() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(p)) {
            for (Path x : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(x);
            }
        }
    }
}
