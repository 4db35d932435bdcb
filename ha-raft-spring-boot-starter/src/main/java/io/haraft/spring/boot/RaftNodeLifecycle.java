package io.haraft.spring.boot;

import io.haraft.NodeStatus;
import io.haraft.RaftNode;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

/**
 * Starts the application's {@link RaftNode} with the application context and closes it when the
 * context closes.
 *
 * <p><b>Guarantees.</b> In the default phase ({@link #DEFAULT_PHASE}, as Spring Integration's
 * leader initiators use) the node starts after the application's other lifecycle beans, so the
 * application is ready when leadership is granted, and stops before them: a leader hands its
 * leadership to the most up-to-date peer and its {@link LeadershipRevokedEvent} is published while
 * the rest of the application (schedulers, data sources, endpoints) still runs. {@link #stop()}
 * returns once the node has closed ({@link RaftNode#close()}). A node that was started by someone
 * else is not started again, but is closed.
 *
 * <p><b>Limits.</b> Closing a leader waits up to one election timeout for the handover and up to
 * 10 s for a blocked leadership callback; keep {@code spring.lifecycle.timeout-per-shutdown-phase}
 * above that.
 */
public class RaftNodeLifecycle implements SmartLifecycle {

    /** Late in the start order and early in the stop order: {@code Integer.MAX_VALUE - 1000}. */
    public static final int DEFAULT_PHASE = Integer.MAX_VALUE - 1000;

    private static final Logger LOG = LoggerFactory.getLogger(RaftNodeLifecycle.class);

    private final RaftNode node;
    private final boolean autoStartup;
    private final int phase;
    private boolean running;

    /**
     * Creates the lifecycle of a node.
     *
     * @param node        the node to start and close
     * @param autoStartup whether it starts with the application context
     * @param phase       the lifecycle phase
     * @throws NullPointerException if {@code node} is null
     */
    public RaftNodeLifecycle(RaftNode node, boolean autoStartup, int phase) {
        this.node = Objects.requireNonNull(node, "node");
        this.autoStartup = autoStartup;
        this.phase = phase;
    }

    @Override
    public synchronized void start() {
        if (running) {
            return;
        }
        if (node.status().state() == NodeStatus.State.NOT_STARTED) {
            node.start();
            LOG.info("HA-Raft node {} of cluster {} started", node.config().nodeId(), node.config().clusterId());
        }
        running = true;
    }

    @Override
    public synchronized void stop() {
        if (!running) {
            return;
        }
        running = false;
        node.close();
        LOG.info("HA-Raft node {} of cluster {} closed", node.config().nodeId(), node.config().clusterId());
    }

    @Override
    public synchronized boolean isRunning() {
        return running;
    }

    @Override
    public boolean isAutoStartup() {
        return autoStartup;
    }

    @Override
    public int getPhase() {
        return phase;
    }
}
