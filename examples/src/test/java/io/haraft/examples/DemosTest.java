package io.haraft.examples;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.sql.DriverManager;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Runs the examples as a user does: real node processes on loopback, real files, and for the
 * fenced writer a real PostgreSQL (started by {@code .ci/run} through
 * {@code examples/scripts/postgres-setup.sh}).
 */
class DemosTest {

    @Test
    void theLocalDemoFailsOverWithStrictlyIncreasingTokens() throws Exception {
        String out = capture(() -> {
            try (ProcessCluster cluster = new ProcessCluster(List.of("n1", "n2", "n3"), List.of())) {
                assertThat(LocalClusterDemo.run(cluster, 2)).isZero();
            }
        });
        String last = out.strip().lines().reduce((a, b) -> b).orElseThrow();
        assertThat(last).matches("demo: failovers=3 max_failover_ms=[0-9.]+ tokens_strictly_increasing=true");
        assertThat(out).contains("kill -9").contains("graceful handover").contains("reliability=");
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
