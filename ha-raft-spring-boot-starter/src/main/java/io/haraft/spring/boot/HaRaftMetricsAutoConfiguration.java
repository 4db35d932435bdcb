package io.haraft.spring.boot;

import io.haraft.RaftNode;
import io.haraft.metrics.RaftMetrics;
import io.haraft.micrometer.MicrometerRaftMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;

/**
 * The node's metrics on the application's Micrometer {@link MeterRegistry}: a
 * {@link MicrometerRaftMetrics} bean, which {@link HaRaftAutoConfiguration} gives to the
 * {@link RaftNode} it builds. Its meters ({@code haraft.leader}, {@code haraft.term},
 * {@code haraft.commit.latency}, ...) carry the tags {@code cluster}, {@code node} and
 * {@code group}.
 *
 * <p><b>Guarantees.</b> Switches on only when ha-raft-micrometer is on the class path and the
 * application has a {@code MeterRegistry} bean (Spring Boot's, from spring-boot-micrometer-metrics,
 * which this runs after, or one of its own); otherwise the node reports nothing and starts as
 * without it. An application {@link RaftMetrics} bean of its own replaces this one.
 * {@code haraft.metrics.enabled=false} turns it off.
 *
 * <p><b>Limits.</b> A {@code RaftNode} the application builds itself gets no metrics from this:
 * give it the {@link RaftMetrics} bean ({@code .metrics(metrics)}).
 */
@AutoConfiguration(afterName = {
    "org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration",
    "org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration"})
@ConditionalOnClass({MicrometerRaftMetrics.class, MeterRegistry.class})
@ConditionalOnBean(MeterRegistry.class)
@ConditionalOnProperty(prefix = "haraft", name = {"enabled", "metrics.enabled"}, havingValue = "true",
        matchIfMissing = true)
public class HaRaftMetricsAutoConfiguration {

    /** The binding to the application's registry (its primary one, if it has several). */
    @Bean
    @ConditionalOnMissingBean(RaftMetrics.class)
    public MicrometerRaftMetrics haRaftMetrics(MeterRegistry registry) {
        return new MicrometerRaftMetrics(registry);
    }
}
