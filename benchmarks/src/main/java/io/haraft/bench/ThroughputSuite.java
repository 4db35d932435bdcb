package io.haraft.bench;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import org.HdrHistogram.Histogram;

/**
 * Commit throughput: 3 nodes, fsync on, 128 B entries, closed-loop clients at 1, 16 and 128 in
 * flight. The load runs inside the leader's JVM (HA-Raft is embedded, so that is where its users
 * call submit; Ratis's RaftClient in that JVM still goes through gRPC on loopback).
 */
final class ThroughputSuite {

    static final List<String> COLUMNS = List.of("system", "clients", "ops_per_s", "p50_ms", "p99_ms", "p999_ms");
    static final int[] CLIENTS = {1, 16, 128};
    static final int ENTRY_BYTES = 128;

    private ThroughputSuite() {
    }

    static Table run(Options o, Layout layout, Path work) throws Exception {
        Table t = new Table(COLUMNS.toArray(String[]::new));
        for (String system : o.systems()) {
            Settings s = Settings.equal(system);
            Main.log("throughput: " + system + " starting 3 nodes");
            try (Cluster c = new Cluster(layout, s, work, "throughput-" + system, 20)) {
                Cluster.Ready leader = c.start(Duration.ofSeconds(60));
                long warmupMs = o.quick() ? 500 : 3000;
                for (int clients : CLIENTS) {
                    c.clearLoadResult(leader.node());
                    c.send(leader.node(), "LOAD " + clients + " " + warmupMs + " " + o.seconds() * 1000L + " " + ENTRY_BYTES);
                    String r = c.await(() -> c.node(leader.node()).loadResult,
                            Duration.ofSeconds(o.seconds() + warmupMs / 1000 + 60), "load result");
                    if (r.startsWith("UNAVAILABLE")) {
                        t.add(system, clients, "unavailable: " + Main.shorten(r.substring("UNAVAILABLE ".length())), "", "", "");
                        continue;
                    }
                    String[] w = r.split(" ");
                    long ops = Long.parseLong(w[1]);
                    long nanos = Long.parseLong(w[2]);
                    long errors = Long.parseLong(w[3]);
                    Histogram h = Histogram.decodeFromCompressedByteBuffer(
                            ByteBuffer.wrap(Base64.getDecoder().decode(w[4])), 0);
                    double opsPerS = ops * 1e9 / nanos;
                    t.add(system, clients, String.format(java.util.Locale.ROOT, "%.0f", opsPerS),
                            Table.ms3(h.getValueAtPercentile(50) / 1000.0), Table.ms3(h.getValueAtPercentile(99) / 1000.0),
                            Table.ms3(h.getValueAtPercentile(99.9) / 1000.0));
                    if (errors > 0) {
                        t.note(system + " at " + clients + " clients: " + errors + " failed submits");
                    }
                    Main.log(String.format("throughput: %s clients=%d %.0f ops/s p50 %.3f ms", system, clients, opsPerS,
                            h.getValueAtPercentile(50) / 1000.0));
                }
            } catch (Unavailable e) {
                for (int clients : CLIENTS) {
                    t.add(system, clients, "unavailable: " + Main.shorten(e.getMessage()), "", "", "");
                }
                Main.log("throughput: " + system + " unavailable: " + e.getMessage());
            }
        }
        t.note("3 nodes on loopback, " + ENTRY_BYTES + " B entries, " + o.seconds() + " s measured per row after a warm-up;"
                + " settings: our timeouts (hb 100 ms / election 300 ms) for every system.");
        t.note("fsync: HA-Raft fsyncs on a majority before acknowledging; Ratis fsyncs its log (unsafe-flush off);"
                + " Atomix 3.1.12 never fsyncs as shipped, the harness forces its journal's flush-on-commit on.");
        return t;
    }
}
