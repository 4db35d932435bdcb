package io.haraft.spring.boot;

import io.haraft.Leadership;
import io.haraft.LeadershipListener;
import io.haraft.RevokeReason;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The {@link LeadershipListener} that publishes a node's transitions as
 * {@link LeadershipGrantedEvent} and {@link LeadershipRevokedEvent} through Spring's
 * {@link ApplicationEventPublisher}. The auto-configured node uses it; a node you build yourself
 * can too: {@code RaftNode.builder()...listener(leadershipEventPublisher)}.
 *
 * <p><b>Guarantees.</b> Each callback publishes exactly one event, synchronously, on the node's
 * callback thread, so events keep the listener's order and are never dropped. An exception thrown
 * by an event listener propagates to the node, which logs it and goes on with later transitions.
 *
 * <p><b>Limits.</b> A transition delivered after the application context was closed (a callback
 * that blocked longer than the node's close waits) cannot be published any more: it is logged.
 */
public class LeadershipEventPublisher implements LeadershipListener {

    private static final Logger LOG = LoggerFactory.getLogger(LeadershipEventPublisher.class);

    private final String clusterId;
    private final ApplicationEventPublisher publisher;

    /**
     * Creates the publisher.
     *
     * @param clusterId the id of the node's cluster, carried by every event
     * @param publisher where to publish
     * @throws NullPointerException if an argument is null
     */
    public LeadershipEventPublisher(String clusterId, ApplicationEventPublisher publisher) {
        this.clusterId = Objects.requireNonNull(clusterId, "clusterId");
        this.publisher = Objects.requireNonNull(publisher, "publisher");
    }

    @Override
    public void elected(Leadership leadership) {
        publish(new LeadershipGrantedEvent(this, clusterId, leadership));
    }

    @Override
    public void revoked(Leadership leadership, RevokeReason reason) {
        publish(new LeadershipRevokedEvent(this, clusterId, leadership, reason));
    }

    private void publish(LeadershipEvent event) {
        if (publisher instanceof ConfigurableApplicationContext context && !context.isActive()) {
            LOG.warn("Did not publish {}: the application context is closed", event);
            return;
        }
        publisher.publishEvent(event);
    }
}
