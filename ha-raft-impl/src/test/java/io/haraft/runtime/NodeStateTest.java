package io.haraft.runtime;

import io.haraft.NodeStatus;
import io.haraft.RevokeReason;
import io.haraft.core.HardState;
import io.haraft.core.log.Entry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code status().state()}: a node says whether it runs, was stopped or failed, and a node that
 * is not running never shows itself as leader (it used to show LEADER forever after a fatal error).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class NodeStateTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    private LocalCluster cluster;

    @AfterEach
    void tearDown() {
        LocalCluster.closeAndCheck(cluster);
    }

    /** A store whose writes fail from the moment the test says so, as a disk that died would. */
    private static final class DyingStore extends ForwardingLogStore {
        volatile boolean dead;

        DyingStore(InMemoryLogStore inner) {
            super(inner);
        }

        @Override
        public CompletableFuture<Void> persist(HardState hardState, List<Entry> entries) {
            return dead ? CompletableFuture.failedFuture(new IOException("fsync failed: input/output error"))
                    : inner.persist(hardState, entries);
        }

        @Override
        public void close() {
            // the in-memory store outlives its node, as a disk would
        }
    }

    @Test
    void aLeaderWhoseStorageFailsReportsFailedWithTheCauseAndNoLongerLeads() throws Exception {
        cluster = LocalCluster.ofThree();
        Map<String, DyingStore> stores = new ConcurrentHashMap<>();
        cluster.storeWrap = (id, store) -> stores.computeIfAbsent(id, x -> new DyingStore(store));
        cluster.ids.forEach(cluster::create);
        cluster.start();
        String leaderId = cluster.awaitLeader();
        RaftNodeImpl leader = cluster.node(leaderId);
        assertThat(leader.status().state()).isEqualTo(NodeStatus.State.RUNNING);
        assertThat(leader.status().role()).isEqualTo(NodeStatus.Role.LEADER);

        stores.get(leaderId).dead = true;
        leader.submit("lost".getBytes(StandardCharsets.UTF_8));
        Await.until(WAIT, () -> leader.status().state() == NodeStatus.State.FAILED, "the leader reports FAILED");
        Await.until(WAIT, () -> cluster.listener(leaderId).last() != null && !cluster.listener(leaderId).last().elected(),
                "the failed leader revokes");
        // SHUT_DOWN when it failed as leader; on a busy machine its lease may have run out just before.
        assertThat(cluster.listener(leaderId).last().reason()).isIn(RevokeReason.SHUT_DOWN, RevokeReason.LEASE_EXPIRED);
        assertThat(leader.leadership()).as("a failed node holds no leadership").isEmpty();
        leader.close();   // returns once the node's own fatal stop has finished

        NodeStatus s = leader.status();
        assertThat(s.state()).isEqualTo(NodeStatus.State.FAILED);
        assertThat(s.isRunning()).isFalse();
        assertThat(s.failure()).hasValueSatisfying(f -> assertThat(f).contains("fsync failed: input/output error"));
        assertThat(s.role()).isEqualTo(NodeStatus.Role.FOLLOWER);
        assertThat(s.isLeader()).isFalse();
        assertThat(s.leaderId()).isEmpty();
        assertThat(leader.leadership()).isEmpty();
        // the others elect a new leader, and they say RUNNING
        String next = cluster.awaitLeader(cluster.others(leaderId), WAIT);
        assertThat(cluster.node(next).status().state()).isEqualTo(NodeStatus.State.RUNNING);
        assertThat(cluster.node(next).status().failure()).isEmpty();
    }

    @Test
    void aNodeReportsNotStartedThenRunningThenStoppedAfterClose() {
        cluster = LocalCluster.ofThree();
        RaftNodeImpl n1 = cluster.node("n1");
        assertThat(n1.status().state()).isEqualTo(NodeStatus.State.NOT_STARTED);
        cluster.start();
        String leaderId = cluster.awaitLeader();
        RaftNodeImpl leader = cluster.node(leaderId);
        assertThat(leader.status().state()).isEqualTo(NodeStatus.State.RUNNING);
        assertThat(leader.status().isLeader()).isTrue();

        leader.close();
        NodeStatus s = leader.status();
        assertThat(s.state()).isEqualTo(NodeStatus.State.STOPPED);
        assertThat(s.failure()).isEmpty();
        assertThat(s.role()).isEqualTo(NodeStatus.Role.FOLLOWER);
        assertThat(s.leaderId()).isEmpty();
        assertThat(s.term()).as("the last term it knew").isPositive();
    }

    @Test
    void aNodeWhoseStartFailsReportsFailed() {
        cluster = LocalCluster.ofThree();
        cluster.storeWrap = (id, store) -> new ForwardingLogStore(store) {
            @Override
            public HardState hardState() {
                throw new IllegalStateException("hard state file unreadable");
            }
        };
        RaftNodeImpl n1 = cluster.create("n1");
        try {
            n1.start();
        } catch (IllegalStateException expected) {
            // the failure below is what status() shows afterwards
        }
        NodeStatus s = n1.status();
        assertThat(s.state()).isEqualTo(NodeStatus.State.FAILED);
        assertThat(s.failure()).hasValueSatisfying(f -> assertThat(f).contains("hard state file unreadable"));
    }
}
