package io.haraft.spring.boot;

import io.haraft.RaftNode;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;

/**
 * The health indicator {@code haraft} ({@link HaRaftHealthIndicator}) for the application's
 * {@link RaftNode}, when spring-boot-health is on the class path (spring-boot-starter-actuator
 * brings it); {@code management.health.haraft.enabled=false} turns it off.
 */
@AutoConfiguration(after = HaRaftAutoConfiguration.class)
@ConditionalOnClass(HealthIndicator.class)
@ConditionalOnBean(RaftNode.class)
@ConditionalOnProperty(prefix = "management.health.haraft", name = "enabled", havingValue = "true",
        matchIfMissing = true)
public class HaRaftHealthAutoConfiguration {

    /** Named so that the health component is {@code haraft}. */
    @Bean
    @ConditionalOnMissingBean(name = "haraftHealthIndicator")
    public HaRaftHealthIndicator haraftHealthIndicator(RaftNode node) {
        return new HaRaftHealthIndicator(node);
    }
}
