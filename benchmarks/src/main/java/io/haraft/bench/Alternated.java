package io.haraft.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * Throughput of several variants measured in alternation within one run (A B C, A B C, ...), so
 * every variant sees the same machine load: {@code java -jar ha-raft-benchmarks.jar ab --out DIR
 * [--runs 3] [--seconds 5] [--warmup-ms 3000] [--clients 1,128] VARIANT...}.
 *
 * <p>A variant is {@code name=kind[:key=value;key=value]}. Kinds:
 * <ul>
 *   <li>{@code haraft}, {@code ratis}, {@code atomix}: the side-by-side suite's layout (three node
 *       JVMs, the load in the leader's JVM, {@link ThroughputSuite#measure}); keys go to the node as
 *       its options (Ratis: {@code path}, {@code leader}, {@code tuning}), except
 *       {@code timeouts=default}, which gives the system its own default timeouts instead of ours,
 *       {@code warmup=ms} (before each row) and {@code steady=S} (first warm up until the rate settles,
 *       at most S seconds: {@link ThroughputSuite#warmUntilSteady}) or {@code warm=S} (the same, but
 *       at least S seconds and at most 2 S, as the suite does).</li>
 *   <li>{@code onejvm}: the independent one-JVM Ratis harness, {@code io.haraft.bench.ratis.RatisOneJvm}, in
 *       a JVM of its own; keys are its arguments.</li>
 * </ul>
 * Each run of a variant starts fresh JVMs on fresh data. Writes {@code runs.csv} (every measurement,
 * with the load average when it started), {@code summary.csv} and {@code summary.md} (median and range over
 * the runs, and each variant's ratio to the first one, taken within each run).
 */
final class Alternated {

    record Variant(String name, String kind, Map<String, String> options) {

        static Variant parse(String spec) {
            int eq = spec.indexOf('=');
            String name = spec.substring(0, eq);
            String rest = spec.substring(eq + 1);
            int colon = rest.indexOf(':');
            String kind = colon < 0 ? rest : rest.substring(0, colon);
            Map<String, String> opts = new LinkedHashMap<>();
            if (colon >= 0) {
                for (String kv : rest.substring(colon + 1).split(";")) {
                    if (!kv.isBlank()) {
                        int e = kv.indexOf('=');
                        opts.put(kv.substring(0, e), kv.substring(e + 1));
                    }
                }
            }
            if (!List.of("haraft", "ratis", "atomix", "onejvm").contains(kind)) {
                throw new IllegalArgumentException("unknown kind " + kind + " in " + spec);
            }
            return new Variant(name, kind, opts);
        }
    }

    /** {@code cpuMsPerOp}: CPU time of every JVM of the variant over the row (warm-up included) per op. */
    record Row(int run, String variant, int clients, double opsPerS, double p50, double p99, double p999, long errors,
            double cpuMsPerOp, String load, String note) {
    }

    private Alternated() {
    }

    static void main(String[] args) throws Exception {
        Path out = null;
        int runs = 3;
        int seconds = 5;
        long warmupMs = 3000;
        List<Integer> clients = List.of(1, 128);
        List<Variant> variants = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--out" -> out = Path.of(args[++i]);
                case "--runs" -> runs = Integer.parseInt(args[++i]);
                case "--seconds" -> seconds = Integer.parseInt(args[++i]);
                case "--warmup-ms" -> warmupMs = Long.parseLong(args[++i]);
                case "--clients" -> {
                    List<Integer> c = new ArrayList<>();
                    for (String s : args[++i].split(",")) {
                        c.add(Integer.parseInt(s));
                    }
                    clients = c;
                }
                default -> variants.add(Variant.parse(args[i]));
            }
        }
        if (out == null || variants.isEmpty()) {
            throw new IllegalArgumentException("usage: ab --out DIR [--runs N] [--seconds S] [--warmup-ms MS]"
                    + " [--clients 1,128] name=kind[:k=v;k=v] ...");
        }
        Files.createDirectories(out);
        Path work = Files.createTempDirectory(out, "work-");
        Layout layout = Layout.locate();
        Path csv = out.resolve("runs.csv");
        Files.writeString(csv, "run,variant,clients,ops_per_s,p50_ms,p99_ms,p999_ms,errors,cpu_ms_per_op,load_avg_1_5_15,note\n",
                StandardCharsets.UTF_8);
        String loadBefore = Main.loadAverage();
        long t0 = System.nanoTime();
        List<Row> rows = new ArrayList<>();
        for (int run = 1; run <= runs; run++) {
            for (Variant v : variants) {
                String load = Main.loadAverage();
                Main.log("ab: run " + run + " " + v.name() + " (load " + load + ")");
                List<Row> got = v.kind().equals("onejvm")
                        ? oneJvm(layout, work, v, run, clients, seconds, warmupMs, load)
                        : suite(layout, work, v, run, clients, seconds, warmupMs, load);
                for (Row r : got) {
                    rows.add(r);
                    Files.writeString(csv, String.format(Locale.ROOT, "%d,%s,%d,%.0f,%.3f,%.3f,%.3f,%d,%.3f,%s,%s%n", r.run(),
                            r.variant(), r.clients(), r.opsPerS(), r.p50(), r.p99(), r.p999(), r.errors(), r.cpuMsPerOp(),
                            Table.csvCell(r.load()), Table.csvCell(r.note())), StandardCharsets.UTF_8,
                            StandardOpenOption.APPEND);
                    Main.log(String.format(Locale.ROOT, "ab: run %d %s clients=%d: %.0f ops/s p50 %.3f ms p99 %.3f ms cpu %.3f ms/op %s",
                            r.run(), r.variant(), r.clients(), r.opsPerS(), r.p50(), r.p99(), r.cpuMsPerOp(), r.note()));
                }
            }
        }
        String loadAfter = Main.loadAverage();
        Table summary = summarize(variants, clients, rows);
        summary.note("variants, run in this order in every run: " + String.join("; ", variants.stream()
                .map(v -> v.name() + " = " + v.kind() + (v.options().isEmpty() ? "" : " " + v.options())).toList()));
        summary.note(runs + " runs, " + seconds + " s measured per row after a " + warmupMs + " ms warm-up (unless a"
                + " variant sets its own), 128 B entries, 3 nodes on loopback, fsync on; each run of a variant on fresh"
                + " JVMs and data");
        summary.note(String.format(Locale.ROOT, "took %.0f s; load average (1/5/15 min) before: %s; after: %s (%d cores,"
                + " shared machine: absolute numbers are indicative, the ratios within a run are the result)",
                (System.nanoTime() - t0) / 1e9, loadBefore, loadAfter, Runtime.getRuntime().availableProcessors()));
        summary.write(out, "summary", "alternated throughput");
        System.out.println(summary.markdown("alternated throughput"));
    }

    static Table summarize(List<Variant> variants, List<Integer> clients, List<Row> rows) {
        Table t = new Table("variant", "clients", "runs", "ops_per_s_median", "ops_per_s_min_max", "p50_ms_median",
                "p99_ms_median", "cpu_ms_per_op_median", "ratio_to_" + variants.get(0).name() + "_median_min_max");
        for (Variant v : variants) {
            for (int c : clients) {
                List<Row> mine = rows.stream().filter(r -> r.variant().equals(v.name()) && r.clients() == c
                        && r.opsPerS() > 0).toList();
                if (mine.isEmpty()) {
                    t.add(v.name(), c, 0, "not measured", "", "", "", "", "");
                    continue;
                }
                List<Double> ratios = new ArrayList<>();
                for (Row r : mine) {
                    rows.stream().filter(b -> b.run() == r.run() && b.clients() == c && b.opsPerS() > 0
                            && b.variant().equals(variants.get(0).name())).findFirst()
                            .ifPresent(b -> ratios.add(r.opsPerS() / b.opsPerS()));
                }
                List<Double> ops = mine.stream().map(Row::opsPerS).toList();
                t.add(v.name(), c, mine.size(), String.format(Locale.ROOT, "%.0f", median(ops)),
                        String.format(Locale.ROOT, "%.0f-%.0f", min(ops), max(ops)),
                        Table.ms3(median(mine.stream().map(Row::p50).toList())),
                        Table.ms3(median(mine.stream().map(Row::p99).toList())),
                        Table.ms3(median(mine.stream().map(Row::cpuMsPerOp).toList())),
                        ratios.isEmpty() ? "" : String.format(Locale.ROOT, "%.2f (%.2f-%.2f)", median(ratios),
                                min(ratios), max(ratios)));
            }
        }
        return t;
    }

    /**
     * CPU time per committed op, with the ops over warm-up and measurement estimated at the measured
     * rate (both harnesses are treated alike).
     */
    static double cpuMsPerOp(long cpuNanos, double opsPerS, long warmupMs, int seconds) {
        double ops = opsPerS * (warmupMs / 1000.0 + seconds);
        return ops <= 0 ? 0 : cpuNanos / 1e6 / ops;
    }

    static double median(List<Double> xs) {
        List<Double> s = xs.stream().sorted().toList();
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }

    private static double min(List<Double> xs) {
        return xs.stream().mapToDouble(Double::doubleValue).min().orElse(0);
    }

    private static double max(List<Double> xs) {
        return xs.stream().mapToDouble(Double::doubleValue).max().orElse(0);
    }

    /** The side-by-side suite's layout: three node JVMs, the load in the leader's JVM. */
    private static List<Row> suite(Layout layout, Path work, Variant v, int run, List<Integer> clients, int seconds,
            long defaultWarmupMs, String load) throws Exception {
        Map<String, String> opts = new LinkedHashMap<>(v.options());
        boolean defaults = "default".equals(opts.remove("timeouts"));
        String w = opts.remove("warmup");
        String steadyCap = opts.remove("steady");
        String warmMin = opts.remove("warm");
        long warmupMs = w == null ? defaultWarmupMs : Long.parseLong(w);
        Settings s = defaults ? Settings.alternative(v.kind()) : Settings.equal(v.kind());
        s = s.with(s.label(), Map.copyOf(opts));
        List<Row> rows = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        try (Cluster c = new Cluster(layout, s, work, "ab-" + v.name() + "-" + run, 20)) {
            c.start(Duration.ofSeconds(60));
            if (steadyCap != null) {
                notes.add(ThroughputSuite.warmUntilSteady(c, v.kind(), 0, Integer.parseInt(steadyCap)));
            } else if (warmMin != null) {
                int min = Integer.parseInt(warmMin);
                notes.add(ThroughputSuite.warmUntilSteady(c, v.kind(), min, 2 * min));
            }
            for (int n : clients) {
                ThroughputSuite.Measured m = ThroughputSuite.measure(c, v.kind(), n, warmupMs, seconds, false, notes::add);
                if (m.histogram() == null) {
                    String why = m.unavailable() != null ? "unavailable: " + m.unavailable() : "not measured: " + m.failure();
                    rows.add(new Row(run, v.name(), n, 0, 0, 0, 0, 0, 0, load, Main.shorten(why)));
                    continue;
                }
                Histogram h = m.histogram();
                rows.add(new Row(run, v.name(), n, m.opsPerS(), h.getValueAtPercentile(50) / 1000.0,
                        h.getValueAtPercentile(99) / 1000.0, h.getValueAtPercentile(99.9) / 1000.0, m.errors(),
                        cpuMsPerOp(m.cpuNanos(), m.opsPerS(), warmupMs, seconds), load, String.join(" / ", notes)));
                notes.clear();
            }
        } catch (Unavailable e) {
            rows.add(new Row(run, v.name(), clients.get(0), 0, 0, 0, 0, 0, 0, load, "unavailable: " + e.getMessage()));
        }
        return rows;
    }

    /** The independent harness: three Ratis servers and the load in one JVM of its own. */
    private static List<Row> oneJvm(Layout layout, Path work, Variant v, int run, List<Integer> clients, int seconds,
            long warmupMs, String load) throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory(work, "onejvm-" + v.name() + "-" + run + "-");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1g", "-XX:+UseG1GC", "-Djava.net.preferIPv4Stack=true", "-cp", layout.nodeClassPath("ratis"),
                "io.haraft.bench.ratis.RatisOneJvm", "dir=" + dir, "label=" + v.name(), "seconds=" + seconds,
                "warmup=" + warmupMs, "clients=" + String.join(",", clients.stream().map(String::valueOf).toList())));
        v.options().forEach((k, val) -> cmd.add(k + "=" + val));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.redirectError(ProcessBuilder.Redirect.appendTo(work.resolve("onejvm-" + v.name() + ".log").toFile()));
        Process p = pb.start();
        List<Row> rows = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (!line.startsWith("ROW ")) {
                    continue;
                }
                String[] f = line.split(" ");
                double opsPerS = Double.parseDouble(f[4]);
                long w = v.options().containsKey("warmup") ? Long.parseLong(v.options().get("warmup")) : warmupMs;
                rows.add(new Row(run, v.name(), Integer.parseInt(f[2]), opsPerS,
                        Double.parseDouble(f[5]), Double.parseDouble(f[6]), Double.parseDouble(f[7]),
                        Long.parseLong(f[8]), cpuMsPerOp(Long.parseLong(f[9]), opsPerS, w, seconds), load,
                        f.length > 10 ? f[10] : ""));
            }
        }
        if (!p.waitFor(seconds * clients.size() + 120L, TimeUnit.SECONDS)) {
            p.destroyForcibly();
        }
        if (rows.isEmpty()) {
            rows.add(new Row(run, v.name(), clients.get(0), 0, 0, 0, 0, 0, 0, load,
                    "not measured: the one-JVM harness exited " + p.exitValue() + " without a row"));
        }
        return rows;
    }
}
