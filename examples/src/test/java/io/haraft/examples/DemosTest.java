package io.haraft.examples;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Runs the examples as a user does: real node processes on loopback, real files, and for the
 * fenced writer a real PostgreSQL (started by {@code .ci/run} through
 * {@code examples/scripts/postgres-setup.sh}).
 */
class DemosTest {

    @Test
    void theReadmeDemoCommandEndsWithItsFinalLine() throws Exception {
        // README: java -jar examples/target/ha-raft-examples.jar demo
        List<String> lines = runMain("demo");
        assertThat(lines.get(lines.size() - 1))
                .matches("demo: failovers=4 max_failover_ms=[0-9]+\\.[0-9] tokens_strictly_increasing=true");
        assertThat(String.join("\n", lines)).contains("kill -9").contains("graceful handover").contains("reliability=");
    }

    @Test
    void theActiveActiveCommandSpreadsTwelvePartitionsOverThreeNodesAcrossAKillAndARestart() throws Exception {
        // docs/active-active.md: java -jar examples/target/ha-raft-examples.jar active-active
        List<String> lines = runMain("active-active");
        assertThat(lines.get(lines.size() - 1)).matches("active-active: groups=12 nodes=3 max_leaderless_ms=[0-9]+\\.[0-9]"
                + " balanced=true tokens_strictly_increasing=true");
        assertThat(String.join("\n", lines)).contains("kill -9").contains("leaderless for").contains("restarted")
                .contains("balance restored: ");
    }

    /**
     * Runs the jar's main class with {@code command} in a child JVM on the freshly compiled class
     * path (a jar left by an earlier build could be stale), as a user runs the command, within 3
     * minutes; returns its output lines once it exited 0 with some output.
     */
    private static List<String> runMain(String command) throws Exception {
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), Main.class.getName(), command);
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        List<String> lines = new CopyOnWriteArrayList<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                    System.out.println(line);
                    lines.add(line);
                }
            } catch (java.io.IOException e) {
                // the process ended
            }
        }, command + "-output");
        reader.start();
        boolean exited = p.waitFor(3, TimeUnit.MINUTES);
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        if (!exited) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly().waitFor();
        }
        reader.join(TimeUnit.SECONDS.toMillis(10));
        assertThat(exited).as("%s ended within 3 minutes; output: %s", command, lines).isTrue();
        assertThat(p.exitValue()).as("exit code; output: %s", lines).isZero();
        assertThat(lines).as("output").isNotEmpty();
        // How long it took (README quotes a measurement) is printed, not asserted: timing is for benchmarks.
        System.out.println(command + " run took " + took.toMillis() + " ms, JVM start-ups included");
        return lines;
    }

    @Test
    void postgresRejectsTheWriteOfALeaderThatWasPausedPastItsLease() throws Exception {
        boolean reachable;
        try (var c = DriverManager.getConnection(FencedWriterDemo.URL, FencedWriterDemo.USER, FencedWriterDemo.PASSWORD)) {
            reachable = c.isValid(5);
        } catch (java.sql.SQLException e) {
            reachable = false;
        }
        if (!reachable) {
            assertThat(System.getenv("CI")).as("PostgreSQL must be running in CI (examples/scripts/postgres-setup.sh)")
                    .isNotEqualTo("true");
            Assumptions.abort("no PostgreSQL on 127.0.0.1:5432; run examples/scripts/postgres-setup.sh");
        }
        String out = capture(() -> {
            try (ProcessCluster cluster = new ProcessCluster(List.of("n1", "n2", "n3"), FencedWriterDemo.nodeArgs())) {
                assertThat(FencedWriterDemo.run(cluster)).isTrue();
            }
        });
        assertThat(out).contains("PostgreSQL rejected the stale write");
        assertThat(out.strip().lines().reduce((a, b) -> b).orElseThrow())
                .matches("fenced: stale_write_rejected=true old_token=\\d+ new_token=\\d+");
    }

    @Test
    void theLeaderOnlyJobRunsOnlyOnTheLeaderOfTheMomentAndFollowsLeadership() throws Exception {
        LeaderOnlyJobDemo.Result r = LeaderOnlyJobDemo.run(5);
        assertThat(r.leaderships()).as("leaderships that ran the job").isGreaterThanOrEqualTo(2);
        assertThat(r.nodes()).as("the job resumed on another node").isGreaterThanOrEqualTo(2);
        assertThat(r.runsOutsideLeadership()).as("runs before elected or after revoked: %s %s", r.runs(), r.tenures())
                .isZero();
        assertThat(r.overlapping()).as("a run of an older leadership after one of a newer: %s", r.runs()).isFalse();
        assertThat(r.ok()).isTrue();
    }

    @Test
    void theJobDemoVerdictCatchesARunAfterRevokeAndTwoLeadershipsAtOnce() {
        List<LeaderOnlyJobDemo.Tenure> tenures = List.of(new LeaderOnlyJobDemo.Tenure("n1", 2, 100, 200),
                new LeaderOnlyJobDemo.Tenure("n2", 3, 250, 400));
        LeaderOnlyJobDemo.Result good = new LeaderOnlyJobDemo.Result(List.of(run("n1", 2, 110), run("n1", 2, 190),
                run("n2", 3, 260)), tenures);
        assertThat(good.ok()).isTrue();
        assertThat(good.leaderships()).isEqualTo(2);

        LeaderOnlyJobDemo.Result afterRevoke = new LeaderOnlyJobDemo.Result(List.of(run("n1", 2, 110), run("n1", 2, 210),
                run("n2", 3, 260)), tenures);
        assertThat(afterRevoke.runsOutsideLeadership()).isEqualTo(1);
        assertThat(afterRevoke.ok()).isFalse();

        LeaderOnlyJobDemo.Result wrongNode = new LeaderOnlyJobDemo.Result(List.of(run("n1", 2, 110), run("n3", 3, 300)),
                tenures);
        assertThat(wrongNode.runsOutsideLeadership()).isEqualTo(1);

        List<LeaderOnlyJobDemo.Tenure> overlappingTenures = List.of(new LeaderOnlyJobDemo.Tenure("n1", 2, 100, 300),
                new LeaderOnlyJobDemo.Tenure("n2", 3, 150, 400));
        LeaderOnlyJobDemo.Result both = new LeaderOnlyJobDemo.Result(List.of(run("n1", 2, 110), run("n2", 3, 160),
                run("n1", 2, 170)), overlappingTenures);
        assertThat(both.runsOutsideLeadership()).isZero();
        assertThat(both.overlapping()).isTrue();
        assertThat(both.ok()).isFalse();

        LeaderOnlyJobDemo.Result one = new LeaderOnlyJobDemo.Result(List.of(run("n1", 2, 110)), tenures);
        assertThat(one.ok()).as("only one leadership ran the job").isFalse();
    }

    private static LeaderOnlyJobDemo.Run run(String node, long token, long at) {
        return new LeaderOnlyJobDemo.Run(node, token, at);
    }

    interface Body {
        void run() throws Exception;
    }

    /** Runs {@code body} with System.out captured (and still echoed). */
    private static String capture(Body body) throws Exception {
        PrintStream original = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream tee = new PrintStream(new java.io.OutputStream() {
            @Override
            public void write(int b) {
                buf.write(b);
                original.write(b);
            }
        }, true, StandardCharsets.UTF_8);
        System.setOut(tee);
        try {
            body.run();
        } finally {
            System.setOut(original);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }
}
