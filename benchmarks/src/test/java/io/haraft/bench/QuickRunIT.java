package io.haraft.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The CI smoke run of the benchmark harness, run by {@code mvn -B verify} in the integration-test phase (the
 * {@code quick-run} execution in {@code benchmarks/pom.xml}): the packaged driver jar runs every
 * suite with {@code --quick --strict} on HA-Raft, Ratis and Atomix, each node its own JVM. It passes
 * when failover.csv, throughput.csv and footprint.csv (and their Markdown and PNG) have a measured
 * row for each system and none says unavailable; it asserts no timing. Results, node logs and the
 * load averages stay in {@code benchmarks/target/quick}. {@code -Dbench.quick.skip=true} skips it.
 */
class QuickRunIT {

    static final List<String> SUITES = List.of("failover", "throughput", "footprint");
    static final List<String> SYSTEMS = List.of("haraft", "ratis", "atomix");

    @Test
    void everySuiteHasAMeasuredRowForEverySystem() throws Exception {
        assumeFalse(Boolean.getBoolean("bench.quick.skip"), "-Dbench.quick.skip=true");
        Path jar = Path.of(System.getProperty("bench.jar", "target/ha-raft-benchmarks.jar"));
        Path out = Path.of(System.getProperty("bench.quick.out", "target/quick"));
        long timeoutS = Long.getLong("bench.quick.timeout.s", 480);
        assertThat(jar).as("the driver jar (package phase)").isRegularFile();
        deleteRecursively(out); // no CSV of an earlier run can pass for this one

        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Djava.awt.headless=true", "-jar", jar.toString(), "all", "--systems", String.join(",", SYSTEMS),
                "--quick", "--strict", "--out", out.toString()));
        System.out.println("quick run: " + String.join(" ", cmd));
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try {
            Thread pump = new Thread(() -> echo(p), "quick-run-output");
            pump.setDaemon(true);
            pump.start();
            if (!p.waitFor(timeoutS, TimeUnit.SECONDS)) {
                fail("the quick run did not end within " + timeoutS + " s (-Dbench.quick.timeout.s); node logs in "
                        + out.resolve("work/logs"));
            }
            pump.join(TimeUnit.SECONDS.toMillis(10));
            System.out.printf("quick run took %.0f s, exit status %d%n", (System.nanoTime() - t0) / 1e9, p.exitValue());
            assertThat(Completeness.problems(out, SUITES, SYSTEMS)).as("missing or unavailable rows in " + out).isEmpty();
            assertThat(p.exitValue()).as("driver exit status (a suite failed outright; see its output above)").isZero();
        } finally {
            // the driver and the node JVMs it started, if a timeout or an error left them running
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (Files.exists(dir)) {
            try (Stream<Path> s = Files.walk(dir)) {
                for (Path f : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(f);
                }
            }
        }
    }

    private static void echo(Process p) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                System.out.println(line);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
