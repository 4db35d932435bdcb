package io.haraft.spring.boot;

import io.haraft.RaftConfigException;
import io.haraft.RaftNode;
import io.haraft.StateMachine;
import io.haraft.metrics.RaftMetrics;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.integration.leader.event.DefaultLeaderEventPublisher;
import org.springframework.integration.leader.event.LeaderEventPublisher;
import org.springframework.integration.leader.event.OnGrantedEvent;

/**
 * Auto-configuration of an HA-Raft node from the {@code haraft.*} properties
 * ({@link HaRaftProperties}).
 *
 * <p><b>Beans.</b>
 * <ul>
 *   <li>{@link RaftNode}, built from the properties, the application's {@link StateMachine} bean if
 *       it has exactly one, its {@link RaftMetrics} bean if it has exactly one (with
 *       ha-raft-micrometer and a Micrometer {@code MeterRegistry}, {@link HaRaftMetricsAutoConfiguration}
 *       provides one), and every {@link RaftNodeBuilderCustomizer}; only if the application
 *       declares no {@code RaftNode} of its own. Configuration errors fail the start with a message
 *       that names the property and the fix ({@link RaftConfigFailureAnalyzer}).</li>
 *   <li>{@link LeadershipEventPublisher}: publishes {@link LeadershipGrantedEvent} and
 *       {@link LeadershipRevokedEvent}; the auto-configured node's listener.</li>
 *   <li>{@link RaftNodeLifecycle}: starts the node (the application's own too, if not started) with
 *       the context and closes it, after a handover, when the context closes.</li>
 *   <li>With spring-integration-core on the class path, {@link IntegrationLeaderEvents}: the same
 *       transitions as Spring Integration's {@code OnGrantedEvent} and {@code OnRevokedEvent}
 *       ({@code haraft.integration.enabled=false} turns them off).</li>
 * </ul>
 *
 * <p>{@code haraft.enabled=false} turns all of it off.
 */
@AutoConfiguration
@ConditionalOnProperty(prefix = "haraft", name = "enabled", havingValue = "true", matchIfMissing = true)
@EnableConfigurationProperties(HaRaftProperties.class)
public class HaRaftAutoConfiguration {

    /** The listener of the auto-configured node: leadership as application events. */
    @Bean
    @ConditionalOnMissingBean
    public LeadershipEventPublisher haRaftLeadershipEventPublisher(HaRaftProperties properties,
                                                                   ApplicationEventPublisher publisher) {
        String clusterId = properties.getClusterId();
        return new LeadershipEventPublisher(clusterId == null ? "" : clusterId, publisher);
    }

    /** The node, built (not started) from the properties; closed when the context is destroyed. */
    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    public RaftNode raftNode(HaRaftProperties properties, LeadershipEventPublisher events,
                             ObjectProvider<StateMachine> stateMachine, ObjectProvider<RaftMetrics> metrics,
                             ObjectProvider<RaftNodeBuilderCustomizer> customizers) {
        RaftNode.Builder builder = NodeFromProperties.builder(properties).listener(events);
        stateMachine.ifUnique(builder::stateMachine);
        metrics.ifUnique(builder::metrics);
        try {
            customizers.orderedStream().forEach(c -> c.customize(builder));
            return builder.build();
        } catch (RaftConfigException e) {
            throw NodeFromProperties.inPropertyTerms(e);
        }
    }

    /** Starts and closes whichever {@link RaftNode} the context has. */
    @Bean
    @ConditionalOnBean(RaftNode.class)
    @ConditionalOnMissingBean
    public RaftNodeLifecycle haRaftLifecycle(RaftNode node, HaRaftProperties properties) {
        return new RaftNodeLifecycle(node, properties.getLifecycle().isAutoStartup(),
                properties.getLifecycle().getPhase());
    }

    /** Spring Integration leader events, when Spring Integration is on the class path. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(OnGrantedEvent.class)
    @ConditionalOnProperty(prefix = "haraft.integration", name = "enabled", havingValue = "true",
            matchIfMissing = true)
    static class IntegrationConfiguration {

        @Bean
        @ConditionalOnMissingBean
        IntegrationLeaderEvents haRaftIntegrationLeaderEvents(RaftNode node, HaRaftProperties properties,
                                                              ObjectProvider<LeaderEventPublisher> leaderEvents,
                                                              ApplicationEventPublisher publisher) {
            String role = properties.getIntegration().getRole();
            return new IntegrationLeaderEvents(node, role != null ? role : node.config().clusterId(),
                    leaderEvents.getIfUnique(() -> new DefaultLeaderEventPublisher(publisher)));
        }
    }
}
