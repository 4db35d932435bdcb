package io.haraft.examples.chaos;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The chaos suite on real processes (examples/CHAOS.md): the short profile must pass, with at
 * least one node replaced while it runs and the provoked stale write rejected by the guard; each
 * planted bug must fail the verdict through the check that is meant to catch it (with the bug
 * switched off, that check stays clean and the test fails). Needs PostgreSQL on 127.0.0.1:5432
 * (started by {@code .ci/run}); without it the tests are skipped, except with {@code CI=true},
 * where they fail.
 *
 * <p>System properties: {@code chaos.seed} (default: from the time, printed), {@code chaos.seconds}
 * (length of the fault phase of the short profile, default 120), {@code chaos.nodeLogLevel} (the node
 * processes' slf4j-simple level, default warn; their logs are kept under the run's folder).
 */
class ChaosTest {

    private static final String LINE = "chaos: seed=-?\\d+ faults=\\d+ acked=\\d+ lost=\\d+ stale_writes_accepted=\\d+"
            + " linearizable=(true|false) overlapping_leases=\\d+";

    @BeforeAll
    static void needsPostgres() {
        ChaosController.Config c = ChaosController.Config.of(0, Duration.ZERO, "none");
        boolean reachable;
        try (var conn = DriverManager.getConnection(c.jdbcUrl(), c.user(), c.password())) {
            reachable = conn.isValid(5);
        } catch (SQLException e) {
            reachable = false;
        }
        if (!reachable) {
            assertThat(System.getenv("CI")).as("PostgreSQL must be running in CI (examples/scripts/postgres-setup.sh)")
                    .isNotEqualTo("true");
            Assumptions.abort("no PostgreSQL on 127.0.0.1:5432; run examples/scripts/postgres-setup.sh");
        }
    }

    private static long seed() {
        return Long.getLong("chaos.seed", System.nanoTime() & 0xffffff);
    }

    @Test
    void shortProfilePasses() throws Exception {
        ChaosController.Result r = ChaosController.run(
                ChaosController.Config.of(seed(), Duration.ofSeconds(Long.getLong("chaos.seconds", 120)), "none"),
                System.out);
        assertThat(r.line()).matches(LINE);
        assertThat(r.faults()).as(r.line()).isGreaterThanOrEqualTo(5);
        assertThat(r.acked()).as(r.line()).isPositive();
        assertThat(r.replicasAgree()).as("all replicas reach the same state; " + r.line()).isTrue();
        assertThat(r.line()).endsWith("lost=0 stale_writes_accepted=0 linearizable=true overlapping_leases=0");
        assertThat(r.writeAttempts()).as("the fenced writers wrote; " + r.line()).isPositive();
        assertThat(r.provokedStaleWrite())
                .as("the leader frozen between its lease check and its write wrote after a newer leader: the"
                        + " guard rejected it; " + r.fencingLine())
                .isEqualTo("REJECTED");
        assertThat(r.staleWritesRejected()).as(r.fencingLine()).isPositive();
        assertThat(r.replacements()).as("membership changes were part of the fault mix; " + r.membershipLine())
                .isPositive();
        assertThat(r.membershipStalled()).as("every membership change completed; " + r.membershipLine()).isZero();
    }

    /**
     * A writer that writes without the guard (its token is never checked by the database): the
     * leader frozen between its lease check and its write gets its stale write accepted, and the
     * fencing check fails the run.
     */
    @Test
    void plantedUnfencedWriterIsCaught() throws Exception {
        ChaosController.Result r = ChaosController.run(
                ChaosController.Config.of(seed(), Duration.ofSeconds(10), "unfenced-writer"), System.out);
        assertThat(r.line()).matches(LINE);
        assertThat(r.provokedStaleWrite()).as(r.fencingLine()).isEqualTo("ACCEPTED");
        assertThat(r.staleWritesAccepted()).as("the stale writes PostgreSQL accepted are counted; " + r.line())
                .isPositive();
        assertThat(r.passed()).as(r.line()).isFalse();
    }

    /**
     * A leader that ignores its lease (it acts from elected until revoked): frozen past its lease, it
     * still counts itself leader while a newer one is elected, and the lease check fails the run.
     */
    @Test
    void plantedLeaseIgnorerIsCaught() throws Exception {
        ChaosController.Result r = ChaosController.run(
                ChaosController.Config.of(seed(), Duration.ofSeconds(10), "lease-ignorer"), System.out);
        assertThat(r.line()).matches(LINE);
        assertThat(r.overlappingLeases()).as("its leadership overlaps the next one; " + r.line()).isPositive();
        assertThat(r.passed()).as(r.line()).isFalse();
    }

    /** Reads served from local state without a read barrier, on any node: the checker catches it. */
    @Test
    void plantedFollowerReadIsCaught() throws Exception {
        ChaosController.Result r = ChaosController.run(
                ChaosController.Config.of(seed(), Duration.ofSeconds(20), "follower-read"), System.out);
        assertThat(r.line()).matches(LINE).contains("linearizable=false");
    }
}
