package io.haraft.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;

/**
 * The side-by-side harness (HA-Raft against Apache Ratis and Atomix):
 * {@code java -jar benchmarks/target/ha-raft-benchmarks.jar <failover|throughput|footprint|groups|all>
 * --systems haraft,ratis,atomix [--reps N] [--seconds S] [--quick] [--strict] --out DIR}.
 * {@code ... storage [seconds] [dir] [emulated fsync µs]} runs {@link StorageBenchmark} instead,
 * {@code ... ab --out DIR VARIANT...} runs {@link Alternated} (variants alternated within one run).
 * {@code groups} ({@link GroupsSuite}, many groups per node) is not part of {@code all}.
 *
 * <p>Writes {@code DIR/<suite>.csv}, {@code DIR/<suite>.md} and {@code DIR/<suite>.png}, node logs in
 * {@code DIR/work/logs}, and prints the Markdown tables at the end. A system that cannot run is a row
 * saying {@code unavailable: <reason>}; the run goes on with the others, and with {@code --strict} it
 * ends with exit status 1 ({@link Completeness}).
 */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("storage")) {
            // the storage append benchmark (STORAGE-BENCHMARK.md): HA-Raft's file store alone, in this JVM
            StorageBenchmark.main(java.util.Arrays.copyOfRange(args, 1, args.length));
            return;
        }
        if (args.length > 0 && args[0].equals("ab")) {
            // variants measured in alternation within one run (Alternated)
            Alternated.main(java.util.Arrays.copyOfRange(args, 1, args.length));
            System.exit(0);
            return;
        }
        System.setProperty("java.awt.headless", "true");
        Options o;
        try {
            o = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.exit(64);
            return;
        }
        System.exit(run(o));
    }

    /**
     * Runs the suites; returns 0, or 1 if a suite failed outright, or with {@code --strict} if a system
     * was unavailable or has no measured row in a suite.
     */
    static int run(Options o) throws IOException {
        Layout layout = Layout.locate();
        Files.createDirectories(o.out());
        Path work = o.out().resolve("work");
        Files.createDirectories(work);
        List<String> suites = o.suite().equals("all") ? List.of("failover", "throughput", "footprint") : List.of(o.suite());
        List<String> printed = new ArrayList<>();
        int status = 0;
        long t0 = System.nanoTime();
        for (String suite : suites) {
            long s0 = System.nanoTime();
            String loadBefore = loadAverage();
            log(suite + ": load average before: " + loadBefore);
            try {
                Table t = switch (suite) {
                    case "failover" -> FailoverSuite.run(o, layout, work);
                    case "throughput" -> ThroughputSuite.run(o, layout, work);
                    case "groups" -> GroupsSuite.run(o, layout, work);
                    default -> FootprintSuite.run(o, layout, work);
                };
                String title = suite + (o.quick() ? " (--quick)" : "");
                t.note(String.format(java.util.Locale.ROOT, "suite took %.0f s", (System.nanoTime() - s0) / 1e9));
                String loadAfter = loadAverage();
                t.note("machine load average (1/5/15 min, `uptime`) before the suite: " + loadBefore + "; after: "
                        + loadAfter + " (" + Runtime.getRuntime().availableProcessors() + " cores)");
                recordLoad(o.out(), suite, loadBefore, loadAfter);
                t.write(o.out(), suite, title);
                chart(o.out(), suite, t);
                printed.add(t.markdown(title));
            } catch (Exception e) {
                status = 1;
                log(suite + " failed: " + e);
                e.printStackTrace();
            }
        }
        System.out.println();
        for (String md : printed) {
            System.out.println(md);
        }
        if (o.strict()) {
            List<String> problems = Completeness.problems(o.out(), suites, o.systems());
            for (String p : problems) {
                System.out.println("FAIL: " + p);
            }
            if (!problems.isEmpty()) {
                status = 1;
            }
        }
        System.out.printf("total %.0f s; results in %s%n", (System.nanoTime() - t0) / 1e9, o.out().toAbsolutePath());
        return status;
    }

    static void chart(Path dir, String suite, Table t) throws IOException {
        Path png = dir.resolve(suite + ".png");
        switch (suite) {
            case "failover" -> Charts.bars(png, "Failover: fault to new leader ready (ms)", "ms", t,
                    List.of(0, 1, 2), List.of(4, 5, 6));
            case "throughput" -> Charts.lines(png, "Commit throughput, 128 B entries, fsync on", "clients in flight",
                    "ops/s", t, 0, 1, 2);
            case "groups" -> Charts.bars(png, "Many groups: kill -9 of a node, until each of its groups has a new leader (ms)",
                    "ms", t, List.of(0, 1), List.of(8, 9, 10));
            default -> Charts.bars(png, "Footprint", "value", t, List.of(0), List.of(1, 2, 3, 4));
        }
    }

    /** The 1, 5 and 15 minute load averages from {@code /proc/loadavg}, or "unknown". */
    static String loadAverage() {
        try {
            String[] w = Files.readString(Path.of("/proc/loadavg")).trim().split(" ");
            return w[0] + " " + w[1] + " " + w[2];
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    /** Appends the suite's load averages to {@code DIR/machine.md} (created if missing). */
    static void recordLoad(Path dir, String suite, String before, String after) throws IOException {
        Files.writeString(dir.resolve("machine.md"), "- load average (1/5/15 min) around the " + suite + " suite: before "
                + before + ", after " + after + "\n", java.nio.charset.StandardCharsets.UTF_8,
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
    }

    static void log(String msg) {
        System.err.println(LocalTime.now().format(DateTimeFormatter.ofPattern("HH:mm:ss.SSS")) + " " + msg);
    }

    static String shorten(String s) {
        if (s == null) {
            return "unknown";
        }
        String one = s.replace('\n', ' ').replace('\r', ' ');
        return one.length() <= 160 ? one : one.substring(0, 157) + "...";
    }
}
