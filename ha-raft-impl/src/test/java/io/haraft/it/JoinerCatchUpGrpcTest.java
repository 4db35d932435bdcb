package io.haraft.it;

import io.haraft.MemberRole;
import io.haraft.NodeStatus;
import io.haraft.RaftNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.haraft.transport.TransportTesting.awaitTrue;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A node that joins replays the log from its start, configuration entries older than its own
 * addition included; those need not list the leader that feeds it (found by the chaos suite: the
 * joining node refused the stream of a leader that had itself joined after them, and never caught
 * up). Real gRPC on loopback, the file store, the public API.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class JoinerCatchUpGrpcTest {

    private static final Duration PATIENCE = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private GrpcCluster cluster;

    @AfterEach
    void tearDown() {
        if (cluster != null) {
            cluster.close();
            cluster.assertListenerContracts();
        }
    }

    /** Commits {@code n} commands, pipelined, on whichever node leads; asked again if leadership moves. */
    private void commit(int n) throws Exception {
        for (int attempt = 0; ; attempt++) {
            RaftNode leader = cluster.node(cluster.awaitLeader());
            CompletableFuture<?>[] done = new CompletableFuture<?>[n];
            for (int i = 0; i < n; i++) {
                done[i] = leader.submit(("c" + i).getBytes(StandardCharsets.UTF_8));
            }
            try {
                CompletableFuture.allOf(done).get(60, TimeUnit.SECONDS);
                return;
            } catch (java.util.concurrent.ExecutionException e) {
                if (attempt >= 5) {
                    throw e;
                }
            }
        }
    }

    /** Starts {@code id} as a learner with the current members, adds it and promotes it on the leader. */
    private void join(String id) throws Exception {
        cluster.joining(id, MemberRole.LEARNER);
        cluster.create(id).start();
        onTheLeader(leader -> leader.addLearner(id, cluster.address(id)));   // asking again is safe
        onTheLeader(leader -> leader.promote(id, PATIENCE));
        cluster.bootstrap.add(id);                    // later nodes start with the members of the moment
        cluster.roles.put(id, MemberRole.VOTER);
    }

    /**
     * Runs a membership change on whichever node leads, and asks again (which is safe: the leader
     * skips what is done) when leadership moved before the outcome was known.
     */
    private void onTheLeader(java.util.function.Function<RaftNode, CompletableFuture<?>> change) throws Exception {
        for (int attempt = 0; ; attempt++) {
            try {
                change.apply(cluster.node(cluster.awaitLeader())).get(60, TimeUnit.SECONDS);
                return;
            } catch (java.util.concurrent.ExecutionException e) {
                if (attempt >= 5 || !(e.getCause() instanceof io.haraft.MembershipChangeException || e.getCause() instanceof io.haraft.NotLeaderException)) {
                    throw e;
                }
            }
        }
    }

    /** Makes n5 the leader, then runs the change on it, again if n5 lost its leadership meanwhile. */
    private void onN5(java.util.function.Function<RaftNode, CompletableFuture<?>> change) throws Exception {
        for (int attempt = 0; ; attempt++) {
            String leader = cluster.awaitLeader();
            if (!leader.equals("n5")) {
                cluster.node(leader).transferLeadership("n5").get(30, TimeUnit.SECONDS);
            }
            cluster.awaitLeader(List.of("n5"), PATIENCE);
            try {
                change.apply(cluster.node("n5")).get(60, TimeUnit.SECONDS);
                return;
            } catch (java.util.concurrent.ExecutionException e) {
                if (attempt >= 5 || !(e.getCause() instanceof io.haraft.MembershipChangeException || e.getCause() instanceof io.haraft.NotLeaderException)) {
                    throw e;
                }
            }
        }
    }

    @Test
    void aJoiningNodeCatchesUpFromALeaderThatOlderConfigurationsInTheLogDoNotList() throws Exception {
        cluster = new GrpcCluster("orders", 3, dir, Duration.ofMillis(100), Duration.ofMillis(600), 0.01).start();
        cluster.commitSomewhere("first");
        commit(3000);
        join("n4");                                   // configuration entries that do not list n5
        commit(3000);
        join("n5");
        onN5(n5 -> CompletableFuture.completedFuture(null));
        commit(3000);

        cluster.joining("n6", MemberRole.LEARNER);   // started with n1-n5 and itself as a learner
        cluster.create("n6").start();
        onN5(n5 -> n5.addLearner("n6", cluster.address("n6")));
        RaftNode n5 = cluster.node("n5");
        long target = n5.status().commitIndex();
        awaitTrue("n6 catches up with n5's log up to index " + target, PATIENCE,
                () -> cluster.node("n6").status().commitIndex() >= target);
        NodeStatus n6 = cluster.node("n6").status();
        assertThat(n6.members().stream().map(NodeStatus.MemberStatus::id)).contains("n5", "n6");
        onTheLeader(leader -> leader.promote("n6", PATIENCE));
    }
}
