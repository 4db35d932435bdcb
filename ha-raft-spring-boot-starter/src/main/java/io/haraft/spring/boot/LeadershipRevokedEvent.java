package io.haraft.spring.boot;

import io.haraft.Leadership;
import io.haraft.RevokeReason;
import java.util.Objects;

/**
 * This application's node is no longer leader: the counterpart of Spring Integration's
 * {@code OnRevokedEvent}, with the reason.
 *
 * <p><b>Guarantees.</b> Follows the {@link LeadershipGrantedEvent} of the same leadership
 * ({@link #getLeadership()} is the same object); by the time it is published that leadership is
 * no longer valid. When the application context closes while this node leads, the node hands its
 * leadership over first and this event, with {@link RevokeReason#LEADERSHIP_TRANSFERRED} (or
 * {@link RevokeReason#SHUT_DOWN} when no peer can take over), is published while the application's
 * other beans still run. See {@link LeadershipEvent} for order and threads.
 *
 * <pre>{@code
 * @EventListener
 * void onRevoked(LeadershipRevokedEvent e) {
 *     jobs.stop();                              // e.getReason() says why
 * }
 * }</pre>
 *
 * <p><b>Limits.</b> It comes some time after the lease ran out, never before: stop leader-only work
 * on {@link Leadership#checkValid()}, not on this event alone.
 */
public class LeadershipRevokedEvent extends LeadershipEvent {

    private static final long serialVersionUID = 1L;

    private final RevokeReason reason;

    /**
     * Creates the event.
     *
     * @param source     the publisher
     * @param clusterId  the cluster's id
     * @param leadership the leadership that ended
     * @param reason     why it ended
     * @throws NullPointerException if an argument is null
     */
    public LeadershipRevokedEvent(Object source, String clusterId, Leadership leadership, RevokeReason reason) {
        super(source, clusterId, leadership);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    /** Why the leadership ended. */
    public RevokeReason getReason() {
        return reason;
    }

    @Override
    public String toString() {
        return "LeadershipRevokedEvent[cluster " + getClusterId() + ", node " + getNodeId() + ", " + getToken()
                + ", " + reason + "]";
    }
}
