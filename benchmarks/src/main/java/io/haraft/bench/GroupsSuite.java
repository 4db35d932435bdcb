package io.haraft.bench;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.HdrHistogram.Histogram;

/**
 * Many groups (active-active): 3 nodes, each hosting the same N named groups in one JVM, for N = 1,
 * 100 and 1,000 ({@code --quick}: 1 and 20; {@code --groups} chooses). Per row, on one cluster:
 * <ol>
 *   <li>start: every group gets a leader that can serve (a {@code GREADY} line); HA-Raft's balancer
 *       then spreads them (the row waits for counts differing by at most one, up to 60 s);</li>
 *   <li>idle: CPU of each node JVM over the idle window, and TCP segments per second sent on the
 *       cluster's own loopback (the nodes run in a network namespace of their own when the
 *       machine allows it, so nothing else is counted);</li>
 *   <li>aggregate throughput: 128 closed-loop clients in all, 128 B entries, fsync on, spread over
 *       the nodes in proportion to the groups each leads, every node loading the groups it leads;</li>
 *   <li>{@code kill -9} of the node leading the most groups: for each group it led, the time until
 *       another node's leadership of that group can serve (p50, p99, max over those groups);</li>
 *   <li>restart of that node: time from launching its JVM until the leaderships are balanced again
 *       (counts differing by at most one over the three nodes).</li>
 * </ol>
 * Times come from the nodes' {@code System.nanoTime()} (CLOCK_MONOTONIC, shared by every process).
 * HA-Raft's nodes log at INFO here ({@link #QUIET_LOGS}).
 */
final class GroupsSuite {

    static final List<String> COLUMNS = List.of("system", "groups", "leaders_at_start", "idle_cpu_pct_per_node",
            "tcp_segments_per_s", "agg_ops_per_s", "agg_p99_ms", "killed_led", "kill_p50_ms", "kill_p99_ms",
            "kill_max_ms", "rebalance_ms");
    static final int TOTAL_CLIENTS = 128;
    static final int ENTRY_BYTES = 128;
    /**
     * HA-Raft's core and transport at INFO: the failover suite logs their DEBUG steps, which with a
     * thousand groups would be the nodes' main work.
     */
    static final List<String> QUIET_LOGS = List.of("-Dorg.slf4j.simpleLogger.log.io.haraft.core.RaftCore=info",
            "-Dorg.slf4j.simpleLogger.log.io.haraft.transport.GrpcTransport=info");

    private GroupsSuite() {
    }

    static List<Integer> counts(Options o) {
        if (!o.groups().isEmpty()) {
            return o.groups();
        }
        return o.quick() ? List.of(1, 20) : List.of(1, 100, 1000);
    }

    static Table run(Options o, Layout layout, Path work) throws Exception {
        Table t = new Table(COLUMNS.toArray(String[]::new));
        try (Namespace ns = Namespace.create()) {
            for (String system : o.systems()) {
                for (int n : counts(o)) {
                    if (system.equals("atomix")) {
                        t.add(system, n, "unavailable: this harness hosts one Atomix Raft partition group per cluster",
                                "", "", "", "", "", "", "", "", "");
                        continue;
                    }
                    runRow(o, layout, work, t, system, n, ns);
                }
            }
            t.note(ns.description());
        }
        t.note("leaders_at_start: groups led by n1/n2/n3 once every group had a leader (HA-Raft: after its balancer"
                + " settled, up to 60 s; Ratis has no balancer: as its elections left them).");
        t.note("idle_cpu_pct_per_node: CPU time of the three node JVMs over " + o.idleSeconds()
                + " s idle, divided by 3, as a percentage of one core; settings: hb 100 ms / election 300 ms.");
        t.note("tcp_segments_per_s: TCP segments sent per second on the cluster's loopback while idle, all nodes"
                + " together (heartbeats, their answers and TCP's own acknowledgements).");
        t.note("agg_ops_per_s / agg_p99_ms: " + TOTAL_CLIENTS + " clients in all, " + ENTRY_BYTES + " B entries, fsync on,"
                + " every node loading the groups it leads (round robin), " + o.seconds() + " s measured after a warm-up;"
                + " Ratis through its in-process request path (RaftServer.submitClientRequestAsync).");
        t.note("kill: kill -9 of the node leading the most groups; per group it led, fault to the new leader's"
                + " ready-to-serve event (HA-Raft: elected; Ratis: notifyLeaderReady).");
        t.note("rebalance_ms: from launching the killed node's JVM again (JVM start included) to counts differing by at"
                + " most one; 'not within S s' if that did not happen.");
        return t;
    }

    private static void runRow(Options o, Layout layout, Path work, Table t, String system, int groups, Namespace ns)
            throws Exception {
        String name = "groups-" + system + "-" + groups;
        Main.log("groups: " + system + " " + groups + " groups: starting 3 nodes");
        Row row = new Row();
        try (Cluster c = new Cluster(layout, Settings.equal(system), work, name, 1000)
                .withNodeArgs(List.of("groups=" + groups), ns.prefix()).withJvmArgs(QUIET_LOGS)) {
            c.launchAll();
            awaitAllLed(c, groups, Duration.ofSeconds(60 + groups / 10));
            if (system.equals("haraft")) {
                try {
                    awaitBalanced(c, groups, Duration.ofSeconds(60));
                } catch (TimeoutException e) {
                    t.note(system + " " + groups + " groups: not balanced 60 s after every group had a leader");
                }
            }
            row.spread = spread(c);
            Main.log("groups: " + system + " " + groups + " groups led " + row.spread);
            idle(o, c, ns, row);
            throughput(o, c, groups, row, t, system);
            kill(c, row, t, system, groups);
        } catch (Unavailable | TimeoutException e) {
            Main.log("groups: " + system + " " + groups + " groups: " + e.getMessage());
            row.failure = Main.shorten(e.getMessage());
        }
        t.add(system, groups, row.cell(row.spread), row.cell(row.idleCpu), row.cell(row.segments),
                row.cell(row.aggOps), row.cell(row.aggP99), row.cell(row.killedLed), row.cell(row.killP50),
                row.cell(row.killP99), row.cell(row.killMax), row.cell(row.rebalance));
    }

    /** One row's cells; those not reached say why. */
    private static final class Row {
        String spread;
        String idleCpu;
        String segments;
        String aggOps;
        String aggP99;
        String killedLed;
        String killP50;
        String killP99;
        String killMax;
        String rebalance;
        String failure;

        private boolean told;

        /** {@code v}, or for the first cell not reached why the row stopped, "-" for the others. */
        String cell(String v) {
            if (v != null) {
                return v;
            }
            if (failure == null) {
                return "";
            }
            if (told) {
                return "-";
            }
            told = true;
            return "not measured: " + failure;
        }
    }

    private static void idle(Options o, Cluster c, Namespace ns, Row row) throws Exception {
        Thread.sleep(o.quick() ? 2000 : 10_000); // start-up work (JIT, balancer handovers) settles first
        long cpu0 = c.cpuNanos();
        long seg0 = ns.outSegments();
        long w0 = System.nanoTime();
        Thread.sleep(o.idleSeconds() * 1000L);
        long cpu1 = c.cpuNanos();
        long seg1 = ns.outSegments();
        long w1 = System.nanoTime();
        row.idleCpu = Table.ms(100.0 * (cpu1 - cpu0) / (w1 - w0) / 3);
        row.segments = seg0 < 0 || seg1 < 0 ? "unknown" : String.format(Locale.ROOT, "%.0f", (seg1 - seg0) * 1e9 / (w1 - w0));
    }

    private static void throughput(Options o, Cluster c, int groups, Row row, Table t, String system) throws Exception {
        Map<String, Integer> led = ledCounts(c);
        Map<String, Integer> clients = new LinkedHashMap<>();
        led.forEach((node, k) -> {
            if (k > 0) {
                clients.put(node, Math.max(1, Math.round((float) TOTAL_CLIENTS * k / groups)));
            }
        });
        long warmMs = o.quick() ? 1000 : 10_000;
        for (Map.Entry<String, Integer> e : clients.entrySet()) {
            c.clearLoadResult(e.getKey());
            c.send(e.getKey(), "LOAD " + e.getValue() + " " + warmMs + " " + o.seconds() * 1000L + " " + ENTRY_BYTES);
        }
        double ops = 0;
        Histogram all = new Histogram(3);
        List<String> problems = new ArrayList<>();
        for (String node : clients.keySet()) {
            String r = c.await(() -> {
                Cluster.Node n = c.node(node);
                return n.loadResult != null ? n.loadResult : n.alive() ? null : "EXITED";
            }, Duration.ofSeconds(o.seconds() + warmMs / 1000 + 60), "load result of " + node);
            if (r.startsWith("UNAVAILABLE") || r.equals("EXITED")) {
                problems.add(node + ": " + r);
                continue;
            }
            String[] w = r.split(" ", 6);
            ops += Long.parseLong(w[1]) * 1e9 / Long.parseLong(w[2]);
            all.add(Histogram.decodeFromCompressedByteBuffer(ByteBuffer.wrap(Base64.getDecoder().decode(w[4])), 0));
            if (Long.parseLong(w[3]) > 0) {
                problems.add(node + ": " + w[3] + " failed submits" + (w.length > 5 ? " (" + Main.shorten(w[5]) + ")" : ""));
            }
        }
        row.aggOps = String.format(Locale.ROOT, "%.0f", ops);
        row.aggP99 = all.getTotalCount() == 0 ? "-" : Table.ms3(all.getValueAtPercentile(99) / 1000.0);
        Main.log("groups: " + system + " " + groups + " groups: " + row.aggOps + " ops/s over " + clients);
        if (!problems.isEmpty()) {
            t.note(system + " " + groups + " groups, load: " + String.join("; ", problems));
        }
    }

    private static void kill(Cluster c, Row row, Table t, String system, int groups) throws Exception {
        Map<String, Cluster.GroupReady> before = c.groupLeaders();
        Map<String, Integer> led = ledCounts(c);
        String victim = led.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
        List<String> itsGroups = new ArrayList<>();
        before.forEach((g, r) -> {
            if (r.node().equals(victim)) {
                itsGroups.add(g);
            }
        });
        row.killedLed = victim + ":" + itsGroups.size();
        long t0 = c.crash(victim);
        Map<String, Long> taken = new LinkedHashMap<>();
        try {
            c.await(() -> {
                Map<String, Cluster.GroupReady> now = c.groupLeaders();
                for (String g : itsGroups) {
                    Cluster.GroupReady r = now.get(g);
                    if (r != null && !r.node().equals(victim) && r.term() > before.get(g).term()) {
                        taken.putIfAbsent(g, r.nanos() - t0);
                    }
                }
                return taken.size() == itsGroups.size() ? Boolean.TRUE : null;
            }, Duration.ofSeconds(60), "new leaders for the " + itsGroups.size() + " groups of " + victim);
        } catch (TimeoutException e) {
            t.note(system + " " + groups + " groups: " + (itsGroups.size() - taken.size()) + " of the killed node's groups"
                    + " had no new leader within 60 s");
        }
        Histogram h = new Histogram(3);
        for (long nanos : taken.values()) {
            h.recordValue(Math.max(1, nanos / 1000));
        }
        if (h.getTotalCount() > 0) {
            row.killP50 = Table.ms(h.getValueAtPercentile(50) / 1000.0);
            row.killP99 = Table.ms(h.getValueAtPercentile(99) / 1000.0);
            row.killMax = Table.ms(h.getMaxValue() / 1000.0);
        }
        Main.log("groups: " + system + " " + groups + " groups: killed " + row.killedLed + ", p99 " + row.killP99 + " ms");
        long relaunch = System.nanoTime();
        c.restart(victim, Duration.ofSeconds(1));
        int waitS = system.equals("haraft") ? 120 : 30;
        try {
            awaitBalanced(c, groups, Duration.ofSeconds(waitS));
            row.rebalance = Table.ms((System.nanoTime() - relaunch) / 1e6);
        } catch (TimeoutException e) {
            row.rebalance = "not within " + waitS + " s (" + spread(c) + ")";
        }
    }

    /** Waits until every group has a ready leader on a live node. */
    private static void awaitAllLed(Cluster c, int groups, Duration timeout) throws Exception {
        c.await(() -> {
            Map<String, Cluster.GroupReady> now = c.groupLeaders();
            if (now.size() < groups) {
                return null;
            }
            for (Cluster.GroupReady r : now.values()) {
                if (!c.node(r.node()).alive()) {
                    return null;
                }
            }
            return Boolean.TRUE;
        }, timeout, "leader for every one of " + groups + " groups");
    }

    /** Waits until every group is led by a live node and the three nodes' counts differ by at most one. */
    private static void awaitBalanced(Cluster c, int groups, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            awaitAllLed(c, groups, Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
            Map<String, Integer> led = ledCounts(c);
            int max = led.values().stream().mapToInt(Integer::intValue).max().orElse(0);
            int min = led.values().stream().mapToInt(Integer::intValue).min().orElse(0);
            if (max - min <= 1) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new TimeoutException("leaderships not balanced within " + timeout.toSeconds() + " s: " + spread(c));
            }
            Thread.sleep(50);
        }
    }

    /** Groups led per node (every node listed, in order), by the driver's view of the current leaders. */
    private static Map<String, Integer> ledCounts(Cluster c) {
        Map<String, Integer> led = new LinkedHashMap<>();
        for (Cluster.Node n : c.nodes()) {
            led.put(n.id, 0);
        }
        for (Cluster.GroupReady r : c.groupLeaders().values()) {
            led.merge(r.node(), 1, Integer::sum);
        }
        return led;
    }

    private static String spread(Cluster c) {
        StringBuilder b = new StringBuilder();
        for (int k : ledCounts(c).values()) {
            b.append(b.length() == 0 ? "" : "/").append(k);
        }
        return b.toString();
    }

    /**
     * A network namespace of the suite's own, so the TCP counters ({@code /proc/net/snmp}) count the
     * benchmarked cluster alone; without root or {@code ip}, the nodes run in the machine's namespace
     * and the count is machine-wide.
     */
    static final class Namespace implements AutoCloseable {
        private final String name;

        private Namespace(String name) {
            this.name = name;
        }

        static Namespace create() {
            String name = "habench" + ProcessHandle.current().pid();
            if (ip("netns", "add", name) && ip("-n", name, "link", "set", "lo", "up")) {
                return new Namespace(name);
            }
            ip("netns", "del", name);
            return new Namespace(null);
        }

        List<String> prefix() {
            return name == null ? List.of() : List.of("ip", "netns", "exec", name);
        }

        String description() {
            return name == null
                    ? "the nodes ran in the machine's network namespace (no root or no `ip`): tcp_segments_per_s counts"
                    + " every TCP segment the machine sent"
                    : "the nodes ran in a network namespace of their own (loopback only): tcp_segments_per_s counts theirs"
                    + " alone";
        }

        /** TCP {@code OutSegs} of the namespace so far, or -1. */
        long outSegments() {
            try {
                List<String> cmd = new ArrayList<>(prefix());
                cmd.addAll(List.of("cat", "/proc/net/snmp"));
                Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
                p.waitFor(10, TimeUnit.SECONDS);
                String[] header = null;
                for (String line : out.split("\n")) {
                    if (!line.startsWith("Tcp:")) {
                        continue;
                    }
                    String[] w = line.trim().split("\\s+");
                    if (header == null) {
                        header = w;
                    } else {
                        for (int i = 0; i < header.length; i++) {
                            if (header[i].equals("OutSegs")) {
                                return Long.parseLong(w[i]);
                            }
                        }
                    }
                }
                return -1;
            } catch (Exception e) {
                return -1;
            }
        }

        @Override
        public void close() {
            if (name != null) {
                ip("netns", "del", name);
            }
        }

        private static boolean ip(String... args) {
            try {
                List<String> cmd = new ArrayList<>(List.of("ip"));
                cmd.addAll(List.of(args));
                Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
                p.getInputStream().readAllBytes();
                return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
            } catch (Exception e) {
                return false;
            }
        }
    }
}
