package io.haraft.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import io.haraft.RaftConfig;
import io.haraft.RaftConfigException;
import io.haraft.RaftNode;
import io.haraft.RevokeReason;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.context.annotation.ImportCandidates;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.diagnostics.FailureAnalyzer;
import org.springframework.boot.health.autoconfigure.registry.HealthContributorRegistryAutoConfiguration;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.health.registry.HealthContributorRegistry;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.core.io.support.SpringFactoriesLoader;

/** The auto-configuration in application contexts of one node each (Spring Boot's context runner). */
class HaRaftAutoConfigurationTest {

    @TempDir
    Path dir;

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(HaRaftAutoConfiguration.class,
                    HaRaftHealthAutoConfiguration.class));

    /** Three members, this node n1, not started (the tests that need a running node start one). */
    private ApplicationContextRunner threeMembers() {
        return runner.withPropertyValues("haraft.cluster-id=orders", "haraft.node-id=n1",
                "haraft.members.n1=127.0.0.1:7101", "haraft.members.n2=127.0.0.1:7102",
                "haraft.members.n3=127.0.0.1:7103", "haraft.data-dir=" + dir.resolve("n1"),
                "haraft.lifecycle.auto-startup=false");
    }

    @Test
    void propertiesBindIntoTheNodesConfiguration() {
        threeMembers().withPropertyValues("haraft.heartbeat-interval=50ms", "haraft.election-timeout=1s",
                "haraft.max-message-bytes=8MB", "haraft.snapshot-threshold=500",
                "haraft.snapshot-threshold-bytes=1MB", "haraft.clock-drift-bound=0.02",
                "haraft.fast-failover-on-refused-connection=false", "haraft.promote-max-lag=7",
                "haraft.witnesses.w1=127.0.0.1:7104", "haraft.learners.l1=127.0.0.1:7105").run(context -> {
                    assertThat(context).hasNotFailed().hasSingleBean(RaftNode.class)
                            .hasSingleBean(RaftNodeLifecycle.class).hasSingleBean(LeadershipEventPublisher.class)
                            .hasSingleBean(HaRaftHealthIndicator.class);
                    RaftConfig c = context.getBean(RaftNode.class).config();
                    assertThat(c.clusterId()).isEqualTo("orders");
                    assertThat(c.nodeId()).isEqualTo("n1");
                    assertThat(c.dataDir()).isEqualTo(dir.resolve("n1").toAbsolutePath());
                    assertThat(c.heartbeatInterval()).isEqualTo(Duration.ofMillis(50));
                    assertThat(c.electionTimeout()).isEqualTo(Duration.ofSeconds(1));
                    assertThat(c.maxMessageBytes()).isEqualTo(8 * 1024 * 1024);
                    assertThat(c.snapshotThreshold()).isEqualTo(500);
                    assertThat(c.snapshotThresholdBytes()).isEqualTo(1024 * 1024);
                    assertThat(c.clockDriftBound()).isEqualTo(0.02);
                    assertThat(c.fastFailoverOnRefusedConnection()).isFalse();
                    assertThat(c.promoteMaxLag()).isEqualTo(7);
                    assertThat(c.members()).extracting(m -> m.id() + "@" + m.host() + ":" + m.port() + " " + m.role())
                            .containsExactly("n1@127.0.0.1:7101 VOTER", "n2@127.0.0.1:7102 VOTER",
                                    "n3@127.0.0.1:7103 VOTER", "w1@127.0.0.1:7104 WITNESS",
                                    "l1@127.0.0.1:7105 LEARNER");
                    assertThat(context.getBean(RaftNodeLifecycle.class).isRunning()).isFalse();
                });
    }

    @Test
    void unsetPropertiesKeepTheBuildersDefaults() {
        threeMembers().run(context -> {
            RaftConfig c = context.getBean(RaftNode.class).config();
            assertThat(c.heartbeatInterval()).isEqualTo(RaftConfig.DEFAULT_HEARTBEAT_INTERVAL);
            assertThat(c.electionTimeout()).isEqualTo(RaftConfig.DEFAULT_ELECTION_TIMEOUT);
            assertThat(c.maxMessageBytes()).isEqualTo(RaftConfig.DEFAULT_MAX_MESSAGE_BYTES);
            assertThat(c.tls()).isEmpty();
            assertThat(c.fastFailoverOnRefusedConnection()).isTrue();
        });
    }

    @Test
    void backsOffWhenTheApplicationHasItsOwnNode() {
        threeMembers().withBean("ownNode", RaftNode.class, () -> RaftNode.builder().clusterId("own").nodeId("a")
                .member("a", "127.0.0.1:7201").dataDir(dir.resolve("own")).build()).run(context -> {
                    assertThat(context).hasNotFailed().hasSingleBean(RaftNode.class);
                    assertThat(context.getBean(RaftNode.class).config().clusterId()).isEqualTo("own");
                    // the application's node is still started and closed with the context, and has health
                    assertThat(context).hasSingleBean(RaftNodeLifecycle.class)
                            .hasSingleBean(HaRaftHealthIndicator.class);
                });
    }

    @Test
    void aBadPropertyFailsTheStartWithAMessageNamingThePropertyAndTheFix() {
        threeMembers().withPropertyValues("haraft.heartbeat-interval=100ms", "haraft.election-timeout=150ms")
                .run(context -> {
                    assertThat(context).hasFailed();
                    RaftConfigException e = rootConfigError(context.getStartupFailure());
                    assertThat(e.problem()).startsWith("haraft.election-timeout 150 ms is less than 2 x haraft.heartbeat-interval");
                    assertThat(e.fix()).contains("Set haraft.election-timeout to at least 200 ms");
                    FailureAnalysis analysis = new RaftConfigFailureAnalyzer().analyze(context.getStartupFailure());
                    assertThat(analysis.getDescription()).contains("haraft.election-timeout 150 ms is less than");
                    assertThat(analysis.getAction()).isEqualTo(e.fix());
                });
    }

    @Test
    void aMissingRequiredPropertyIsNamed() {
        runner.withPropertyValues("haraft.node-id=n1").run(context -> {
            assertThat(context).hasFailed();
            RaftConfigException e = rootConfigError(context.getStartupFailure());
            assertThat(e.problem()).isEqualTo("haraft.cluster-id is not set.");
            assertThat(e.fix()).contains("haraft.enabled=false");
        });
        runner.withPropertyValues("haraft.cluster-id=orders", "haraft.node-id=n9", "haraft.members.n1=127.0.0.1:7101",
                "haraft.data-dir=" + dir).run(context -> {
                    RaftConfigException e = rootConfigError(context.getStartupFailure());
                    assertThat(e.problem()).contains("\"n9\" is not among the members");
                    assertThat(e.fix()).contains("haraft.members.n9=<host:port>").contains("haraft.node-id");
                });
        runner.withPropertyValues("haraft.cluster-id=orders", "haraft.node-id=n1",
                "haraft.members.n1=127.0.0.1:7101", "haraft.data-dir=" + dir,
                "haraft.tls.private-key=" + dir.resolve("missing.key")).run(context -> {
                    RaftConfigException e = rootConfigError(context.getStartupFailure());
                    assertThat(e.problem()).contains("haraft.tls.certificate-chain is not set");
                });
    }

    @Test
    void theFailureAnalyzerIsRegistered() {
        List<FailureAnalyzer> analyzers = SpringFactoriesLoader.forDefaultResourceLocation(getClass().getClassLoader())
                .load(FailureAnalyzer.class, (type, name, failure) -> { });   // others need a BeanFactory
        assertThat(analyzers).hasAtLeastOneElementOfType(RaftConfigFailureAnalyzer.class);
    }

    @Test
    void theAutoConfigurationsAreRegistered() {
        assertThat(ImportCandidates.load(AutoConfiguration.class, getClass().getClassLoader()).getCandidates())
                .contains(HaRaftAutoConfiguration.class.getName(), HaRaftHealthAutoConfiguration.class.getName(),
                        HaRaftMetricsAutoConfiguration.class.getName());
    }

    @Test
    void disabledMeansNoNode() {
        threeMembers().withPropertyValues("haraft.enabled=false").run(context ->
                assertThat(context).hasNotFailed().doesNotHaveBean(RaftNode.class).doesNotHaveBean(RaftNodeLifecycle.class));
    }

    @Test
    void noHealthIndicatorWithoutSpringBootHealthOrWhenDisabled() {
        threeMembers().withClassLoader(new FilteredClassLoader("org.springframework.boot.health")).run(context ->
                assertThat(context).hasNotFailed().hasSingleBean(RaftNode.class).doesNotHaveBean(HaRaftHealthIndicator.class));
        threeMembers().withPropertyValues("management.health.haraft.enabled=false").run(context ->
                assertThat(context).hasNotFailed().doesNotHaveBean(HaRaftHealthIndicator.class));
    }

    /**
     * A single-node cluster started by the context: granted is published with the node's token,
     * health is UP with the role, and closing the context publishes revoked (SHUT_DOWN: no peer to
     * hand over to) before close returns.
     */
    @Test
    void aSingleNodeIsStartedWithTheContextPublishesItsLeadershipAndIsClosedWithIt() {
        List<EventLog.Entry> events = EventLog.newList();
        HaRaftHealthIndicator[] health = new HaRaftHealthIndicator[1];
        runner.withPropertyValues("haraft.cluster-id=solo", "haraft.node-id=s1",
                "haraft.members.s1=" + LoopbackPorts.address(), "haraft.data-dir=" + dir.resolve("s1"))
                .withBean(EventLog.class, () -> new EventLog("solo", events))
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    health[0] = context.getBean(HaRaftHealthIndicator.class);
                    Await.until(() -> !events.isEmpty(), () -> "a granted event");
                    EventLog.Entry granted = events.get(0);
                    assertThat(granted.event()).isInstanceOf(LeadershipGrantedEvent.class);
                    assertThat(granted.event().getNodeId()).isEqualTo("s1");
                    assertThat(granted.event().getClusterId()).isEqualTo("solo");
                    RaftNode node = context.getBean(RaftNode.class);
                    assertThat(granted.event().getToken()).isEqualTo(node.leadership().orElseThrow().token());
                    Health h = health[0].health();
                    assertThat(h.getStatus()).isEqualTo(Status.UP);
                    assertThat(h.getDetails()).containsEntry("role", "LEADER").containsEntry("leader", "s1")
                            .containsEntry("state", "RUNNING").containsEntry("token", granted.token());
                });
        assertThat(events).hasSize(2);
        LeadershipRevokedEvent revoked = (LeadershipRevokedEvent) events.get(1).event();
        assertThat(revoked.getReason()).isEqualTo(RevokeReason.SHUT_DOWN);
        assertThat(revoked.getLeadership()).isSameAs(events.get(0).event().getLeadership());
        assertThat(health[0].health().getStatus()).isEqualTo(Status.DOWN);
        assertThat(health[0].health().getDetails()).containsEntry("state", "STOPPED").containsEntry("health", "DOWN")
                .containsEntry("healthReason", "stopped");
    }

    /** Spring Boot's health registry (what the Actuator health endpoint reads) has it as {@code haraft}. */
    @Test
    void theHealthRegistryNamesTheIndicatorHaraft() {
        threeMembers().withConfiguration(AutoConfigurations.of(HealthContributorRegistryAutoConfiguration.class))
                .run(context -> assertThat(context.getBean(HealthContributorRegistry.class).getContributor("haraft"))
                        .isSameAs(context.getBean(HaRaftHealthIndicator.class)));
    }

    @Test
    void healthIsOutOfServiceBeforeTheStart() {
        threeMembers().run(context -> {
            Health h = context.getBean(HaRaftHealthIndicator.class).health();
            assertThat(h.getStatus()).isEqualTo(Status.OUT_OF_SERVICE);
            assertThat(h.getDetails()).containsEntry("cluster", "orders").containsEntry("node", "n1")
                    .containsEntry("leader", "none");
        });
    }

    private static RaftConfigException rootConfigError(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof RaftConfigException e) {
                return e;
            }
        }
        throw new AssertionError("no RaftConfigException in " + failure, failure);
    }

}
