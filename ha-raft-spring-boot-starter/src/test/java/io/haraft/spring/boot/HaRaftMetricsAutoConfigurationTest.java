package io.haraft.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import io.haraft.RaftNode;
import io.haraft.metrics.MeterId;
import io.haraft.metrics.RaftMetrics;
import io.haraft.micrometer.MicrometerRaftMetrics;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The node's metrics on the application's Micrometer registry: present with ha-raft-micrometer and
 * a {@link MeterRegistry} bean, absent (and the node still starts) without either. Which node
 * leads is read from each node's own status.
 */
class HaRaftMetricsAutoConfigurationTest {

    @TempDir
    Path dir;

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(HaRaftAutoConfiguration.class,
                    HaRaftMetricsAutoConfiguration.class));

    private final Map<String, ConfigurableApplicationContext> apps = new LinkedHashMap<>();

    @AfterEach
    void closeAll() {
        apps.values().forEach(ConfigurableApplicationContext::close);
    }

    /** A one-node cluster, not started (each test starts it when it wants). */
    private ApplicationContextRunner solo() {
        return runner.withPropertyValues("haraft.cluster-id=solo", "haraft.node-id=s1",
                "haraft.members.s1=" + LoopbackPorts.address(), "haraft.data-dir=" + dir.resolve("s1"),
                "haraft.lifecycle.auto-startup=false");
    }

    /**
     * With a SimpleMeterRegistry bean: the node's meters appear in it when the node starts, tagged
     * cluster and node, the leader gauge turns 1 once the node's status says it leads, a command
     * moves the commit latency timer, and closing the node removes its meters.
     */
    @Test
    void aRegistryBeanGetsTheNodesMetersWhichMoveAndGoAwayWithTheNode() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        solo().withBean(SimpleMeterRegistry.class, () -> registry).run(context -> {
            assertThat(context).hasNotFailed().hasSingleBean(MicrometerRaftMetrics.class);
            assertThat(context.getBean(MicrometerRaftMetrics.class).registry()).isSameAs(registry);
            assertThat(haraftMeterNames(registry)).as("no meters before the node starts").isEmpty();

            context.getBean(RaftNodeLifecycle.class).start();
            RaftNode node = context.getBean(RaftNode.class);
            assertThat(haraftMeterNames(registry)).contains("haraft.leader", "haraft.term", "haraft.health",
                    "haraft.lease.remaining", "haraft.apply.lag", "haraft.proposals.pending",
                    "haraft.elections.won", "haraft.commit.latency", "haraft.fsync.latency");
            Gauge leader = registry.get("haraft.leader").tags("cluster", "solo", "node", "s1", "group", "default")
                    .gauge();
            Await.until(() -> node.status().isLeader() && leader.value() == 1.0,
                    () -> "s1 leads by its status and its haraft.leader gauge is 1; status " + node.status()
                            + ", gauge " + leader.value());
            assertThat(registry.get("haraft.elections.won").tags("node", "s1").counter().count()).isGreaterThanOrEqualTo(1);
            assertThat(registry.get("haraft.term").tags("node", "s1").gauge().value())
                    .isEqualTo(node.status().term());

            Timer commit = registry.get("haraft.commit.latency").tags("cluster", "solo", "node", "s1").timer();
            long before = commit.count();
            node.submit("x".getBytes(StandardCharsets.UTF_8)).get(30, TimeUnit.SECONDS);
            Await.until(() -> commit.count() == before + 1, () -> "haraft.commit.latency records the command;"
                    + " count " + commit.count() + ", before " + before);
        });
        assertThat(haraftMeterNames(registry)).as("meters left after the node closed").isEmpty();
    }

    /**
     * Three applications with the starter and Spring Boot's own metrics auto-configuration
     * (spring-boot-micrometer-metrics on the test class path): each node reports to its
     * application's registry; the leader gauge is 1 on the node whose status says it leads and 0
     * on the others, and the leader's heartbeat timers to both peers move.
     */
    @Test
    void threeApplicationsEachReportToSpringBootsRegistry() {
        Map<String, String> members = new LinkedHashMap<>();
        for (String id : List.of("m1", "m2", "m3")) {
            members.put(id, LoopbackPorts.address());
        }
        members.keySet().forEach(id -> apps.put(id, start(id, members)));
        apps.forEach((id, app) -> assertThat(app.getBean(MicrometerRaftMetrics.class).registry())
                .as("the binding of " + id + " uses Spring Boot's registry")
                .isSameAs(app.getBean(MeterRegistry.class)));

        Await.until(() -> leaderByStatus() != null && apps.keySet().stream()
                        .allMatch(id -> leaderGauge(id) == (id.equals(leaderByStatus()) ? 1.0 : 0.0)),
                () -> "one leader by status, and haraft.leader 1 there and 0 elsewhere; statuses " + statuses()
                        + ", gauges " + apps.keySet().stream().collect(Collectors.toMap(id -> id, this::leaderGauge)));
        String leader = leaderByStatus();
        MeterRegistry registry = apps.get(leader).getBean(MeterRegistry.class);
        for (String peer : members.keySet()) {
            if (peer.equals(leader)) {
                continue;
            }
            Timer rtt = registry.get("haraft.heartbeat.rtt").tags("cluster", "metrics-test", "node", leader,
                    "peer", peer).timer();
            Await.until(() -> rtt.count() > 0, () -> "heartbeats from " + leader + " to " + peer + " recorded");
        }
        assertThat(registry.get("haraft.elections.won").tags("node", leader).counter().count())
                .isGreaterThanOrEqualTo(1);
    }

    @Test
    void withoutMicrometerOnTheClassPathTheNodeStartsWithoutMetrics() {
        solo().withBean(SimpleMeterRegistry.class, SimpleMeterRegistry::new)
                .withClassLoader(new FilteredClassLoader(MicrometerRaftMetrics.class)).run(this::startsWithoutMetrics);
        solo().withClassLoader(new FilteredClassLoader("io.micrometer.core")).run(this::startsWithoutMetrics);
    }

    @Test
    void withoutARegistryBeanOrWhenDisabledTheNodeStartsWithoutMetrics() {
        solo().run(this::startsWithoutMetrics);
        solo().withBean(SimpleMeterRegistry.class, SimpleMeterRegistry::new)
                .withPropertyValues("haraft.metrics.enabled=false").run(this::startsWithoutMetrics);
    }

    /** An application's own RaftMetrics bean replaces the binding and is the one the node reports to. */
    @Test
    void theApplicationsOwnRaftMetricsBeanIsUsed() {
        RecordingMetrics own = new RecordingMetrics();
        solo().withBean(SimpleMeterRegistry.class, SimpleMeterRegistry::new)
                .withBean(RaftMetrics.class, () -> own).run(context -> {
                    assertThat(context).hasNotFailed().doesNotHaveBean(MicrometerRaftMetrics.class);
                    context.getBean(RaftNodeLifecycle.class).start();
                    RaftNode node = context.getBean(RaftNode.class);
                    Await.until(() -> node.status().isLeader() && own.gauge("haraft.leader") == 1.0,
                            () -> "the node leads and its leader gauge in the application's RaftMetrics is 1");
                });
    }

    private void startsWithoutMetrics(AssertableApplicationContext context) {
        assertThat(context).hasNotFailed().hasSingleBean(RaftNode.class).doesNotHaveBean(RaftMetrics.class);
        context.getBean(RaftNodeLifecycle.class).start();
        RaftNode node = context.getBean(RaftNode.class);
        Await.until(() -> node.status().isLeader(), () -> "the single node leads; status " + node.status());
    }

    private ConfigurableApplicationContext start(String id, Map<String, String> members) {
        // three registries in one JVM: keep them apart
        return StarterApplications.node("metrics-test", id, members, dir)
                .properties("management.metrics.use-global-registry=false").run();
    }

    /** The one node whose own status says it leads, or null if none or several do. */
    private String leaderByStatus() {
        List<String> leaders = apps.keySet().stream()
                .filter(id -> apps.get(id).getBean(RaftNode.class).status().isLeader()).toList();
        return leaders.size() == 1 ? leaders.get(0) : null;
    }

    private Map<String, String> statuses() {
        return apps.keySet().stream().collect(Collectors.toMap(id -> id,
                id -> apps.get(id).getBean(RaftNode.class).status().role().name()));
    }

    private double leaderGauge(String id) {
        Gauge g = apps.get(id).getBean(MeterRegistry.class).find("haraft.leader")
                .tags("cluster", "metrics-test", "node", id).gauge();
        return g == null ? Double.NaN : g.value();
    }

    private static Set<String> haraftMeterNames(MeterRegistry registry) {
        return registry.getMeters().stream().map(m -> m.getId().getName()).filter(n -> n.startsWith("haraft."))
                .collect(Collectors.toSet());
    }

    /** A RaftMetrics of the application's own that keeps its gauges' suppliers by name and drops the rest. */
    static final class RecordingMetrics implements RaftMetrics {
        private final Map<String, DoubleSupplier> gauges = new ConcurrentHashMap<>();

        double gauge(String name) {
            DoubleSupplier g = gauges.get(name);
            return g == null ? Double.NaN : g.getAsDouble();
        }

        @Override
        public Counter counter(MeterId id) {
            return RaftMetrics.none().counter(id);
        }

        @Override
        public RaftMetrics.Timer timer(MeterId id) {
            return RaftMetrics.none().timer(id);
        }

        @Override
        public Distribution distribution(MeterId id) {
            return RaftMetrics.none().distribution(id);
        }

        @Override
        public void gauge(MeterId id, DoubleSupplier value) {
            gauges.put(id.name(), value);
        }

        @Override
        public void remove(MeterId id) {
            gauges.remove(id.name());
        }
    }
}
