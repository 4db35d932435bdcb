package io.haraft.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Footprint: the system's runtime jars (its own class path, without the harness), used heap per
 * node after start and a full GC, CPU of the idle 3-node cluster (sum of the three JVMs, percent of
 * one core), and time from launching the three JVMs to the first ready leader.
 */
final class FootprintSuite {

    static final List<String> COLUMNS =
            List.of("system", "jars", "classpath_mb", "heap_mb", "idle_cpu_pct", "start_to_leader_ms");

    private FootprintSuite() {
    }

    static Table run(Options o, Layout layout, Path work) throws Exception {
        Table t = new Table(COLUMNS.toArray(String[]::new));
        for (String system : o.systems()) {
            List<Path> jars;
            long bytes = 0;
            try {
                jars = layout.systemJars(system);
                for (Path j : jars) {
                    bytes += Files.size(j);
                }
            } catch (IllegalStateException e) {
                t.add(system, "", "", "unavailable: " + Main.shorten(e.getMessage()), "", "");
                continue;
            }
            String jarCount = String.valueOf(jars.size());
            String mb = Table.ms(bytes / 1048576.0);
            Main.log("footprint: " + system + " starting 3 nodes");
            try (Cluster c = new Cluster(layout, Settings.equal(system), work, "footprint-" + system, 1000)) {
                c.start(Duration.ofSeconds(60));
                Cluster.Ready first = c.firstReady(Duration.ofSeconds(1));
                double startToLeader = (first.nanos() - c.launchedNanos()) / 1e6;
                Thread.sleep(o.quick() ? 1000 : 5000); // let start-up work settle before the idle window
                long cpu0 = cpuNanos(c);
                long w0 = System.nanoTime();
                Thread.sleep(o.idleSeconds() * 1000L);
                long cpu1 = cpuNanos(c);
                long w1 = System.nanoTime();
                double idle = 100.0 * (cpu1 - cpu0) / (w1 - w0);
                long heap = 0;
                for (Cluster.Node n : c.nodes()) {
                    c.send(n.id, "HEAP");
                }
                c.await(() -> c.nodes().stream().allMatch(n -> n.heapBytes >= 0) ? Boolean.TRUE : null,
                        Duration.ofSeconds(30), "heap report");
                for (Cluster.Node n : c.nodes()) {
                    heap += n.heapBytes;
                }
                t.add(system, jarCount, mb, Table.ms(heap / 3.0 / 1048576.0), Table.ms(idle), Table.ms(startToLeader));
                Main.log("footprint: " + system + " done");
            } catch (Unavailable e) {
                t.add(system, jarCount, mb, "unavailable: " + Main.shorten(e.getMessage()), "", "");
                Main.log("footprint: " + system + " unavailable: " + e.getMessage());
            }
        }
        t.note("jars/classpath_mb: the system's own runtime class path (resolved alone), harness excluded;"
                + " slf4j-api is managed to the project's version for all three; no logging backend counted"
                + " (HA-Raft node JVMs get slf4j-simple from outside their class path, for their logs only).");
        t.note("heap_mb: used heap per node (mean of 3) after start-up, " + o.idleSeconds() + " s idle and System.gc();"
                + " every node JVM runs with -Xmx1g -XX:+UseG1GC.");
        t.note("idle_cpu_pct: CPU time of the three node JVMs together over " + o.idleSeconds()
                + " s idle, as a percentage of one core; settings: our timeouts (hb 100 ms / election 300 ms).");
        t.note("start_to_leader_ms: from launching the three JVMs (JVM start included) to the first ready leader.");
        return t;
    }

    private static long cpuNanos(Cluster c) {
        long sum = 0;
        for (Cluster.Node n : c.nodes()) {
            sum += n.process.info().totalCpuDuration().map(Duration::toNanos).orElse(0L);
        }
        return sum;
    }
}
