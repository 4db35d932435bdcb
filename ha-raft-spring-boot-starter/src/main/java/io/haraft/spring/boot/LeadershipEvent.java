package io.haraft.spring.boot;

import io.haraft.FencingToken;
import io.haraft.Leadership;
import java.util.Objects;
import org.springframework.context.ApplicationEvent;

/**
 * A leadership transition of this application's {@link io.haraft.RaftNode}, published as a Spring
 * application event: {@link LeadershipGrantedEvent} or {@link LeadershipRevokedEvent}.
 *
 * <p><b>Guarantees.</b> Immutable. The events of one node strictly alternate, granted first, and
 * are never dropped (they are the node's {@link io.haraft.LeadershipListener} callbacks); a revoked
 * event carries the same {@link Leadership} as the granted event before it. They are published on
 * the node's callback thread, one at a time, so a slow {@code @EventListener} delays the next
 * event but never heartbeats, elections or the lease.
 *
 * <p><b>Limits.</b> An event is a notification, not a lock: by the time a listener runs, the
 * leadership may be over. Check {@link Leadership#checkValid()} right before acting, and give every
 * write outside the process the {@link #getToken() fencing token}.
 */
public abstract class LeadershipEvent extends ApplicationEvent {

    private static final long serialVersionUID = 1L;

    private final String clusterId;
    private final transient Leadership leadership;

    LeadershipEvent(Object source, String clusterId, Leadership leadership) {
        super(source);
        this.clusterId = Objects.requireNonNull(clusterId, "clusterId");
        this.leadership = Objects.requireNonNull(leadership, "leadership");
    }

    /** The leadership this event is about; check {@link Leadership#isValid()} before acting on it. */
    public Leadership getLeadership() {
        return leadership;
    }

    /** The fencing token of that leadership: give it to every write outside the process. */
    public FencingToken getToken() {
        return leadership.token();
    }

    /** The id of the node this event comes from: this application's node. */
    public String getNodeId() {
        return leadership.nodeId();
    }

    /** The id of the cluster. */
    public String getClusterId() {
        return clusterId;
    }
}
