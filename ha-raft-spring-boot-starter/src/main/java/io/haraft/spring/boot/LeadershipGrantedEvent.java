package io.haraft.spring.boot;

import io.haraft.Leadership;

/**
 * This application's node has become leader of its cluster: the counterpart of Spring
 * Integration's {@code OnGrantedEvent}, with the {@link #getToken() fencing token} of the new
 * leadership.
 *
 * <p><b>Guarantees.</b> Published only after the leader's first entry of its term has committed.
 * Tokens of successive granted events strictly increase, across restarts and across the cluster.
 * See {@link LeadershipEvent} for order and threads.
 *
 * <pre>{@code
 * @EventListener
 * void onGranted(LeadershipGrantedEvent e) {
 *     jobs.startWith(e.getLeadership());       // each write carries e.getToken()
 * }
 * }</pre>
 *
 * <p><b>Limits.</b> The leadership may have ended before the event is handled; a
 * {@link LeadershipRevokedEvent} then follows right after.
 */
public class LeadershipGrantedEvent extends LeadershipEvent {

    private static final long serialVersionUID = 1L;

    /**
     * Creates the event.
     *
     * @param source     the publisher
     * @param clusterId  the cluster's id
     * @param leadership the new leadership
     * @throws NullPointerException if an argument is null
     */
    public LeadershipGrantedEvent(Object source, String clusterId, Leadership leadership) {
        super(source, clusterId, leadership);
    }

    @Override
    public String toString() {
        return "LeadershipGrantedEvent[cluster " + getClusterId() + ", node " + getNodeId() + ", " + getToken() + "]";
    }
}
