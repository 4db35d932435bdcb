package io.haraft.bench;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeoutException;
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

    /**
     * Warm-up before the rows (seconds): at least {@code WARM_MIN_S}, since on a loaded machine the
     * rate can stall for several windows and then still double; at most {@code WARM_CAP_S}.
     */
    static final int WARM_MIN_S = 60;
    static final int WARM_CAP_S = 120;
    static final int WARM_WINDOW_S = 5;

    /**
     * Runs {@value #WARM_WINDOW_S} s windows at 128 in flight on fresh JVMs for at least {@code minS}
     * seconds, then until the rate settles ({@link #settled}) or {@code capS} seconds have passed, and
     * says how it went (every window's rate). A JVM's JIT compiles the hot path only after many thousands of calls, and each
     * node JVM compiles its own at its own op rate: right after start Ratis ran at a twentieth of its
     * warm rate, and still rose for 80 s at 128 in flight on 2 shared cores.
     */
    static String warmUntilSteady(Cluster c, String system, int minS, int capS) throws Exception {
        List<String> rates = new java.util.ArrayList<>();
        List<Double> values = new java.util.ArrayList<>();
        long start = System.nanoTime();
        long until = start + java.util.concurrent.TimeUnit.SECONDS.toNanos(capS);
        long notBefore = start + java.util.concurrent.TimeUnit.SECONDS.toNanos(minS);
        boolean steady = false;
        while (System.nanoTime() < until) {
            Measured m = measure(c, system, 128, 0, WARM_WINDOW_S, true, n -> { });
            if (m.histogram() == null) {
                rates.add("-");
                break;
            }
            rates.add(String.format(java.util.Locale.ROOT, "%.0f", m.opsPerS()));
            values.add(m.opsPerS());
            if (System.nanoTime() >= notBefore && settled(values)) {
                steady = true;
                break;
            }
        }
        String how = "warm-up at 128 in flight, " + WARM_WINDOW_S + " s windows: " + String.join(", ", rates) + " ops/s"
                + (steady ? " (settled)" : " (not settled within " + capS + " s)");
        Main.log("throughput: " + system + " " + how);
        return how;
    }

    /** Whether the last window (of at least three) is within 10% of the one before. */
    static boolean settled(List<Double> rates) {
        int n = rates.size();
        return n >= 3 && rates.get(n - 2) > 0 && Math.abs(rates.get(n - 1) - rates.get(n - 2)) <= 0.1 * rates.get(n - 2);
    }

    /** Attempts per row: the first plus restarts after leadership moved or nothing was committed. */
    static final int ATTEMPTS = 3;

    static Table run(Options o, Layout layout, Path work) throws Exception {
        Table t = new Table(COLUMNS.toArray(String[]::new));
        for (String system : o.systems()) {
            Settings s = Settings.equal(system);
            Main.log("throughput: " + system + " starting 3 nodes");
            try (Cluster c = new Cluster(layout, s, work, "throughput-" + system, 20)) {
                c.start(Duration.ofSeconds(60));
                long warmupMs = o.quick() ? 500 : 3000;
                if (!o.quick()) {
                    t.note(system + ": " + warmUntilSteady(c, system, WARM_MIN_S, WARM_CAP_S));
                }
                for (int clients : CLIENTS) {
                    runRow(o, c, t, system, clients, warmupMs);
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

    /**
     * One row: waits for a leader that stays leader, runs the load in its JVM, and checks that the
     * leadership did not move during the row. If it moved, or nothing was committed, the row starts
     * again on the current leader (at most {@link #ATTEMPTS} times) and a note says so. A row that
     * never ran cleanly says why instead of a number.
     */
    private static void runRow(Options o, Cluster c, Table t, String system, int clients, long warmupMs)
            throws Exception {
        Measured m = measure(c, system, clients, warmupMs, o.seconds(), o.quick(), t::note);
        if (m.unavailable() != null) {
            t.add(system, clients, "unavailable: " + Main.shorten(m.unavailable()), "", "", "");
            return;
        }
        if (m.failure() != null) {
            t.add(system, clients, "not measured: " + Main.shorten(m.failure()), "", "", "");
            return;
        }
        Histogram h = m.histogram();
        t.add(system, clients, String.format(java.util.Locale.ROOT, "%.0f", m.opsPerS()),
                Table.ms3(h.getValueAtPercentile(50) / 1000.0), Table.ms3(h.getValueAtPercentile(99) / 1000.0),
                Table.ms3(h.getValueAtPercentile(99.9) / 1000.0));
    }

    /**
     * One measured row, or why there is none: {@code unavailable} (the system says it cannot serve
     * the load) or {@code failure} (no clean run in {@link #ATTEMPTS} attempts).
     */
    record Measured(double opsPerS, Histogram histogram, long errors, String unavailable, String failure,
            long cpuNanos) {
    }

    /**
     * Waits for a leader that stays leader, runs the load in its JVM, and checks that the leadership
     * did not move during the row; restarts the row on the current leader if it moved or nothing was
     * committed, at most {@link #ATTEMPTS} times. Every restart and failed submit goes to {@code notes}.
     * {@code cpuNanos}: CPU time of the three node JVMs over the row, warm-up included.
     */
    static Measured measure(Cluster c, String system, int clients, long warmupMs, int seconds, boolean quick,
            java.util.function.Consumer<String> notes) throws Exception {
        String why = null;
        for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
            Cluster.Ready leader;
            try {
                leader = c.awaitSettledLeader(Duration.ofMillis(quick ? 500 : 2000), Duration.ofSeconds(60));
            } catch (TimeoutException e) {
                why = "no stable leader: " + e.getMessage();
                break;
            }
            c.clearLoadResult(leader.node());
            long cpu0 = c.cpuNanos();
            c.send(leader.node(), "LOAD " + clients + " " + warmupMs + " " + seconds * 1000L + " " + ENTRY_BYTES);
            String r;
            try {
                r = c.await(() -> {
                    Cluster.Node n = c.node(leader.node());
                    return n.loadResult != null ? n.loadResult : n.alive() ? null : "EXITED";
                }, Duration.ofSeconds(seconds + warmupMs / 1000 + 60), "load result");
            } catch (TimeoutException e) {
                why = "no load result: " + e.getMessage();
                break;
            }
            long cpu = c.cpuNanos() - cpu0;
            if (r.startsWith("UNAVAILABLE")) {
                return new Measured(0, null, 0, r.substring("UNAVAILABLE ".length()), null, 0);
            }
            String moved = c.describeChangeSince(leader);
            if (r.equals("EXITED")) {
                why = "the leader's JVM " + leader.node() + " exited during the row";
                notes.accept(system + " at " + clients + " clients, attempt " + attempt + ": " + why);
                continue;
            }
            String[] w = r.split(" ", 6);
            long ops = Long.parseLong(w[1]);
            long nanos = Long.parseLong(w[2]);
            long errors = Long.parseLong(w[3]);
            String error = w.length > 5 ? w[5] : "";
            Histogram h = Histogram.decodeFromCompressedByteBuffer(ByteBuffer.wrap(Base64.getDecoder().decode(w[4])), 0);
            if (moved != null) {
                why = "leadership moved during the row: load on " + leader.node() + " (term " + leader.term() + "), then "
                        + moved + (error.isEmpty() ? "" : "; submits failed: " + Main.shorten(error));
                notes.accept(system + " at " + clients + " clients, attempt " + attempt + ": " + why
                        + (attempt < ATTEMPTS ? "; row restarted on the new leader" : ""));
                Main.log("throughput: " + system + " clients=" + clients + " attempt " + attempt + ": " + why);
                continue;
            }
            if (ops == 0) {
                why = "no commit in the measurement window (" + errors + " failed submits"
                        + (error.isEmpty() ? "" : ": " + Main.shorten(error)) + ")";
                notes.accept(system + " at " + clients + " clients, attempt " + attempt + ": " + why);
                Main.log("throughput: " + system + " clients=" + clients + " attempt " + attempt + ": " + why);
                continue;
            }
            double opsPerS = ops * 1e9 / nanos;
            if (errors > 0) {
                notes.accept(system + " at " + clients + " clients: " + errors + " failed submits (" + Main.shorten(error) + ")");
            }
            if (attempt > 1) {
                notes.accept(system + " at " + clients + " clients: measured on attempt " + attempt + ", leader "
                        + leader.node() + " term " + leader.term());
            }
            Main.log(String.format("throughput: %s clients=%d on %s term %d: %.0f ops/s p50 %.3f ms p99 %.3f ms", system,
                    clients, leader.node(), leader.term(), opsPerS, h.getValueAtPercentile(50) / 1000.0,
                    h.getValueAtPercentile(99) / 1000.0));
            return new Measured(opsPerS, h, errors, null, null, cpu);
        }
        Main.log("throughput: " + system + " clients=" + clients + " not measured: " + why);
        return new Measured(0, null, 0, null, why, 0);
    }
}
