package io.haraft.spring.boot;

import io.haraft.Leadership;
import io.haraft.RaftNode;
import java.util.Objects;
import org.springframework.context.ApplicationListener;
import org.springframework.integration.leader.Context;
import org.springframework.integration.leader.event.LeaderEventPublisher;

/**
 * Makes HA-Raft a Spring Integration leader-election backend: republishes each
 * {@link LeadershipGrantedEvent} as an {@code OnGrantedEvent} and each
 * {@link LeadershipRevokedEvent} as an {@code OnRevokedEvent}, through the application's
 * {@link LeaderEventPublisher}. Code written for a {@code LeaderInitiator} runs unchanged:
 * {@code @EventListener(OnGrantedEvent.class)} methods, and {@code SmartLifecycleRoleController},
 * which starts the endpoints of the role ({@code @Role}) on granted and stops them on revoked.
 *
 * <p><b>Guarantees.</b> The events carry the configured role (by default the cluster id) and a
 * {@link Context} whose {@link Context#isLeader()} is {@link Leadership#isValid()} and whose
 * {@link Context#yield()} hands the leadership over to the most up-to-date peer, which takes over
 * without waiting for an election timeout. They keep the order of the HA-Raft events, on the same
 * thread.
 *
 * <p><b>Limits.</b> Spring Integration's {@code Context} has no fencing token: code that writes
 * outside the process should listen to {@link LeadershipGrantedEvent} (or read
 * {@link RaftNode#leadership()}) to get one.
 */
public class IntegrationLeaderEvents implements ApplicationListener<LeadershipEvent> {

    private final RaftNode node;
    private final String role;
    private final LeaderEventPublisher publisher;

    /**
     * Creates the bridge.
     *
     * @param node      the node whose leadership {@link Context#yield()} hands over
     * @param role      the role of the events
     * @param publisher where to publish Spring Integration's events
     * @throws NullPointerException if an argument is null
     */
    public IntegrationLeaderEvents(RaftNode node, String role, LeaderEventPublisher publisher) {
        this.node = Objects.requireNonNull(node, "node");
        this.role = Objects.requireNonNull(role, "role");
        this.publisher = Objects.requireNonNull(publisher, "publisher");
    }

    @Override
    public void onApplicationEvent(LeadershipEvent event) {
        Context context = new RaftContext(node, event.getLeadership(), role);
        if (event instanceof LeadershipGrantedEvent) {
            publisher.publishOnGranted(this, context, role);
        } else if (event instanceof LeadershipRevokedEvent) {
            publisher.publishOnRevoked(this, context, role);
        }
    }

    /** Spring Integration's view of one leadership. */
    static final class RaftContext implements Context {
        private final RaftNode node;
        private final Leadership leadership;
        private final String role;

        RaftContext(RaftNode node, Leadership leadership, String role) {
            this.node = node;
            this.leadership = leadership;
            this.role = role;
        }

        @Override
        public boolean isLeader() {
            return leadership.isValid();
        }

        /** Hands the leadership over if it is still held; returns at once, the handover goes on. */
        @Override
        public void yield() {
            if (leadership.isValid()) {
                Handover.toBestPeer(node);
            }
        }

        @Override
        public String getRole() {
            return role;
        }

        @Override
        public String toString() {
            return "RaftContext[role " + role + ", node " + leadership.nodeId() + ", " + leadership.token()
                    + (leadership.isValid() ? ", leader" : ", not leader") + "]";
        }
    }
}
