package io.haraft.runtime;

import io.haraft.NodeStatus;
import io.haraft.RevokeReason;
import io.haraft.metrics.MeterId;
import io.haraft.metrics.RaftMetrics;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What a node reports through {@link RaftMetrics}, where it happens (the leader is the node whose
 * own listener was elected), that a metrics implementation that throws never breaks a node, and
 * the health in {@code status()}.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class MetricsRuntimeTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    private LocalCluster cluster;

    @AfterEach
    void tearDown() {
        LocalCluster.closeAndCheck(cluster);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** A three-node cluster whose nodes report to {@code metrics}, started. */
    private LocalCluster start(Map<String, ? extends RaftMetrics> metrics) {
        // timeouts generous enough that a loaded machine does not move the leadership while a test looks at it
        cluster = new LocalCluster(3, Duration.ofMillis(100), Duration.ofMillis(1000), 0.01);
        cluster.metricsFactory = metrics::get;
        cluster.ids.forEach(cluster::create);
        return cluster.start();
    }

    @Test
    void eachMeterMovesOnTheNodeWhereItsEventHappened() throws Exception {
        Map<String, RecordingMetrics> metrics = new HashMap<>();
        for (String id : List.of("n1", "n2", "n3")) {
            metrics.put(id, new RecordingMetrics());
        }
        start(metrics);
        String leader = cluster.awaitLeader();            // from the node's own listener
        RecordingMetrics lm = metrics.get(leader);
        Await.until(WAIT, () -> cluster.ids.stream().allMatch(id -> metrics.get(id).gauge("haraft.leader")
                == (id.equals(leader) ? 1 : 0)), "haraft.leader 1 on " + leader + " only");
        assertThat(lm.count("haraft.elections.started")).isGreaterThanOrEqualTo(1);
        assertThat(lm.count("haraft.elections.won")).isGreaterThanOrEqualTo(1);
        assertThat(lm.gauge("haraft.term")).isEqualTo((double) cluster.listener(leader).current().term());
        Await.until(WAIT, () -> cluster.ids.stream().allMatch(id -> metrics.get(id).count("haraft.leader.changes") >= 1),
                "every node learned of a leader");
        for (String id : cluster.ids) {
            // every delivered leadership was won; a won election may end before elected is delivered
            long elected = cluster.listener(id).events.stream().filter(RecordingListener.Event::elected).count();
            assertThat(metrics.get(id).count("haraft.elections.won")).as(id).isGreaterThanOrEqualTo(elected);
            assertThat(metrics.get(id).count("haraft.elections.started")).as(id)
                    .isGreaterThanOrEqualTo(metrics.get(id).count("haraft.elections.won"));
        }

        List<CompletableFuture<?>> submitted = new java.util.ArrayList<>();
        for (int i = 0; i < 20; i++) {
            submitted.add(cluster.node(leader).submit(bytes("c" + i)));
        }
        CompletableFuture.allOf(submitted.toArray(CompletableFuture[]::new)).get(20, TimeUnit.SECONDS);
        assertThat(lm.recorded("haraft.commit.latency")).isGreaterThanOrEqualTo(20);
        Await.until(WAIT, () -> lm.gauge("haraft.proposals.pending") == 0, "no proposal pending");
        Await.until(WAIT, () -> cluster.ids.stream().allMatch(id -> metrics.get(id).gauge("haraft.apply.lag") == 0),
                "everything applied");
        for (String other : cluster.others(leader)) {
            assertThat(metrics.get(other).recorded("haraft.commit.latency")).as(other).isZero();
        }
        assertThat(lm.gauge("haraft.lease.remaining")).isGreaterThan(0);
        assertThat(lm.recorded("haraft.callback.duration")).isGreaterThanOrEqualTo(1);
        for (String peer : cluster.others(leader)) {
            Await.until(WAIT, () -> lm.samples.entrySet().stream().anyMatch(e -> e.getKey().name()
                    .equals("haraft.heartbeat.rtt") && peer.equals(e.getKey().tags().get("peer"))
                    && !e.getValue().isEmpty()), "a heartbeat round trip to " + peer);
            DoubleSupplier ratio = lm.gauges.get(lm.gauges.keySet().stream().filter(k -> k.name()
                    .equals("haraft.heartbeat.answered.ratio") && peer.equals(k.tags().get("peer"))).findFirst()
                    .orElseThrow());
            assertThat(ratio.getAsDouble()).as("share answered by " + peer).isBetween(0.5, 1.0);
        }

        // Cut the leader off: its lease runs out, and its listener says so.
        cluster.network.isolate(leader, cluster.ids);
        Await.until(WAIT, () -> cluster.listener(leader).events.stream()
                        .anyMatch(e -> e.reason() == RevokeReason.LEASE_EXPIRED),
                "the isolated leader " + leader + " revoked with LEASE_EXPIRED");
        long expiredByListener = cluster.listener(leader).events.stream()
                .filter(e -> e.reason() == RevokeReason.LEASE_EXPIRED).count();
        assertThat(lm.count("haraft.lease.expiries")).isEqualTo(expiredByListener);
        assertThat(lm.gauge("haraft.lease.remaining")).isZero();
        Await.until(WAIT, () -> lm.gauge("haraft.leader") == 0, "the cut-off leader's gauge drops to 0");
        cluster.network.heal();
    }

    @Test
    void aMetricsImplementationThatThrowsNeverBreaksTheNode() throws Exception {
        RaftMetrics refusesToRegister = new RaftMetrics() {
            @Override
            public Counter counter(MeterId id) {
                throw new IllegalStateException("no counters today");
            }

            @Override
            public Timer timer(MeterId id) {
                throw new IllegalStateException("no timers today");
            }

            @Override
            public Distribution distribution(MeterId id) {
                throw new IllegalStateException("no distributions today");
            }

            @Override
            public void gauge(MeterId id, DoubleSupplier value) {
                throw new IllegalStateException("no gauges today");
            }
        };
        RaftMetrics throwsOnEveryUse = new RaftMetrics() {
            @Override
            public Counter counter(MeterId id) {
                return amount -> {
                    throw new IllegalStateException("counter broken");
                };
            }

            @Override
            public Timer timer(MeterId id) {
                return nanos -> {
                    throw new IllegalStateException("timer broken");
                };
            }

            @Override
            public Distribution distribution(MeterId id) {
                return amount -> {
                    throw new IllegalStateException("distribution broken");
                };
            }

            @Override
            public void gauge(MeterId id, DoubleSupplier value) {
            }

            @Override
            public void remove(MeterId id) {
                throw new IllegalStateException("remove broken");
            }
        };
        start(Map.of("n1", refusesToRegister, "n2", throwsOnEveryUse, "n3", throwsOnEveryUse));
        String leader = cluster.awaitLeader();
        for (int i = 0; i < 10; i++) {
            cluster.node(leader).submit(bytes("c" + i)).get(20, TimeUnit.SECONDS);
        }
        Await.until(WAIT, () -> cluster.ids.stream().allMatch(id -> cluster.node(id).status().appliedIndex()
                == cluster.node(leader).status().commitIndex()), "every node applied everything");
        for (String id : cluster.ids) {
            assertThat(cluster.node(id).status().state()).as(id).isEqualTo(NodeStatus.State.RUNNING);
        }
        assertThat(cluster.listener(leader).current().isValid()).isTrue();
        // a transfer makes another node win, with its callbacks timed by a broken timer
        String next = cluster.others(leader).get(0);
        cluster.node(leader).transferLeadership(next).get(20, TimeUnit.SECONDS);
        cluster.awaitLeader(List.of(next), WAIT);
        cluster.node(next).submit(bytes("after")).get(20, TimeUnit.SECONDS);
    }

    @Test
    void healthIsUpWithQuorumContactDegradedWithoutItAndDownWhenStopped() {
        start(Map.of("n1", RaftMetrics.none(), "n2", RaftMetrics.none(), "n3", RaftMetrics.none()));
        String leader = cluster.awaitLeader();
        Await.until(WAIT, () -> cluster.ids.stream().allMatch(id -> cluster.node(id).status().health().isUp()),
                "all three UP");
        Await.until(WAIT, () -> cluster.ids.stream().anyMatch(id -> {
            io.haraft.Leadership l = cluster.listener(id).current();
            return l != null && l.isValid() && cluster.node(id).status().health().reason().contains("valid lease");
        }), "the node whose listener holds a valid leadership says UP with a valid lease");

        List<String> followers = cluster.others(leader);
        String survivor = followers.get(0);
        cluster.node(leader).close();
        cluster.node(followers.get(1)).close();
        java.util.concurrent.atomic.AtomicReference<NodeStatus.Health> degraded = new java.util.concurrent.atomic.AtomicReference<>();
        Await.until(WAIT, () -> {
            NodeStatus.Health h = cluster.node(survivor).status().health();   // judged as read, not read again
            degraded.set(h);
            return h.status() == NodeStatus.Health.Status.DEGRADED;
        }, "the survivor without a majority is DEGRADED");
        // the closing leader may have handed over to the survivor, which then leads without a lease
        assertThat(degraded.get().reason())
                .containsAnyOf("no leader heard", "without a valid lease");
        NodeStatus.Health stopped = cluster.node(leader).status().health();
        assertThat(stopped.status()).isEqualTo(NodeStatus.Health.Status.DOWN);
        assertThat(stopped.reason()).isEqualTo("stopped");
    }

    @Test
    void aClosedNodeRemovesEveryMeterItRegistered() {
        RecordingMetrics m1 = new RecordingMetrics();
        start(Map.of("n1", m1, "n2", RaftMetrics.none(), "n3", RaftMetrics.none()));
        cluster.awaitLeader();
        List<MeterId> registered = NodeTestHooks.meters(cluster.node("n1"));
        assertThat(registered).extracting(MeterId::name).contains("haraft.leader", "haraft.term",
                "haraft.commit.latency", "haraft.heartbeat.rtt", "haraft.heartbeat.answered.ratio");
        assertThat(registered).allSatisfy(id -> assertThat(id.tags()).containsEntry("cluster", "test")
                .containsEntry("node", "n1").containsEntry("group", "default"));
        cluster.node("n1").close();
        assertThat(m1.removed).containsExactlyInAnyOrderElementsOf(registered);
        assertThat(m1.gauges).isEmpty();
        assertThat(NodeTestHooks.meters(cluster.node("n1"))).isEmpty();
    }
}
