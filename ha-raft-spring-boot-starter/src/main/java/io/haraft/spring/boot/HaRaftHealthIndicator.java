package io.haraft.spring.boot;

import io.haraft.NodeStatus;
import io.haraft.RaftNode;
import java.util.Objects;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * Actuator health of the application's {@link RaftNode} (Spring Boot's {@code HealthIndicator}), from {@link RaftNode#status()}:
 * {@code UP} while the node runs, {@code DOWN} once it stopped or failed (with the failure),
 * {@code OUT_OF_SERVICE} before it starts.
 *
 * <p><b>Guarantees.</b> Never throws and never blocks: {@code status()} is a cheap snapshot.
 * Details: cluster, node, state, the node's own health ({@code UP}, {@code DEGRADED} without
 * quorum contact, {@code DOWN}) and its reason, role, term, leader (or {@code none}), commit and applied index; on a
 * leader with a valid lease its fencing token and remaining lease; the failure of a failed node;
 * {@code removed} for a node that was removed from the cluster.
 *
 * <p><b>Limits.</b> {@code UP} means this node takes part in the cluster, not that the cluster has a
 * leader: a follower cut off from the others is {@code UP} with leader {@code none}. Alert on
 * {@code leader} across nodes for that.
 */
public class HaRaftHealthIndicator implements HealthIndicator {

    private final RaftNode node;

    /**
     * Creates the indicator.
     *
     * @throws NullPointerException if {@code node} is null
     */
    public HaRaftHealthIndicator(RaftNode node) {
        this.node = Objects.requireNonNull(node, "node");
    }

    @Override
    public Health health() {
        NodeStatus s = node.status();
        Health.Builder b = switch (s.state()) {
            case RUNNING -> Health.up();
            case NOT_STARTED -> Health.outOfService();
            case STOPPED, FAILED -> Health.down();
        };
        b.withDetail("cluster", node.config().clusterId())
                .withDetail("node", s.nodeId())
                .withDetail("state", s.state().name())
                .withDetail("health", s.health().status().name())
                .withDetail("healthReason", s.health().reason())
                .withDetail("role", s.role().name())
                .withDetail("term", s.term())
                .withDetail("leader", s.leaderId().orElse("none"))
                .withDetail("commitIndex", s.commitIndex())
                .withDetail("appliedIndex", s.appliedIndex());
        node.leadership().ifPresent(l -> b.withDetail("token", l.token().value())
                .withDetail("remainingLease", l.remainingLease().toString()));
        s.failure().ifPresent(f -> b.withDetail("failure", f));
        if (s.removed()) {
            b.withDetail("removed", true);
        }
        return b.build();
    }
}
