package io.haraft.examples.chaos;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Real processes, real files: every member the cluster started with but one is replaced by a new
 * node (with {@code replaceMember}) and its process stopped for good, then all three running nodes
 * are killed with {@code kill -9} at once and restarted with the start-up members they were first
 * given, as an operator who never edits them would. Their logs say the voters are the new ones; a
 * leader must be elected and commit (a node prints {@code ELECTED} only once the first entry of its
 * term committed) within a minute, and again after a second whole-cluster restart. Needs PostgreSQL
 * like {@link ChaosTest} (the chaos nodes write through the fence).
 */
class WholeClusterRestartTest {
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    @BeforeAll
    static void needsPostgres() {
        ChaosTest.needsPostgres();
    }

    @Test
    void aClusterWhoseStartUpMembersWereReplacedElectsALeaderAfterEveryNodeRestarts() throws Exception {
        ChaosController.Config c = ChaosController.Config.of(0, Duration.ZERO, "none");
        Path dir = Files.createTempDirectory("ha-raft-restart-all");
        List<String> nodeArgs = List.of(c.jdbcUrl(), c.user(), c.password(), "restart-all-" + System.nanoTime(), "none");
        try (NodeProcesses n = new NodeProcesses(dir, System.getProperty("java.class.path"), List.of("n1", "n2", "n3"),
                nodeArgs)) {
            for (String id : n.ids()) {
                n.start(id);
            }
            assertThat(n.awaitLeader(60 * SECOND)).as("a first leader; logs in %s", n.logs()).isNotNull();
            replace(n, "n1", "n4");
            replace(n, "n2", "n5");
            assertThat(n.ids()).containsExactlyInAnyOrder("n3", "n4", "n5");
            for (int round = 1; round <= 2; round++) {
                for (String id : n.ids()) {
                    n.kill(id);
                }
                for (String id : n.ids()) {
                    n.start(id);
                }
                assertThat(n.awaitLeader(60 * SECOND))
                        .as("a leader elected and committing after whole-cluster restart %d; logs in %s", round, n.logs())
                        .isNotNull();
            }
        }
    }

    /** Replaces {@code old} by the fresh node {@code fresh} through whichever node leads, then stops {@code old} for good. */
    private static void replace(NodeProcesses n, String old, String fresh) throws Exception {
        String address = n.join(fresh);
        n.start(fresh);
        String answer = "none";
        long deadline = System.nanoTime() + 120 * SECOND;
        while (!answer.startsWith("OK") && System.nanoTime() < deadline) {
            String leader = n.awaitLeader(30 * SECOND);
            if (leader != null) {
                answer = admin(n, leader, "replace " + old + " " + fresh + " " + address);
            }
            if (!answer.startsWith("OK")) {
                Thread.sleep(200); // pacing between attempts, not a wait for a condition
            }
        }
        assertThat(answer).as("replacing %s by %s; logs in %s", old, fresh, n.logs()).startsWith("OK");
        List<String> voters = new ArrayList<>(n.ids());
        voters.set(voters.indexOf(old), fresh);
        n.setMembers(voters);
        n.kill(old);
    }

    private static String admin(NodeProcesses n, String id, String command) throws Exception {
        long deadline = System.nanoTime() + 10 * SECOND;
        while (true) {
            try (AdminConnection c = AdminConnection.open(n.adminPort(id))) {
                return c.call(command, Duration.ofSeconds(30));
            } catch (AdminConnection.NotSentException e) {
                if (System.nanoTime() > deadline || !n.running(id)) {
                    return "FAIL unreachable";
                }
                Thread.sleep(50); // the node is starting: its command socket is not open yet
            }
        }
    }
}
