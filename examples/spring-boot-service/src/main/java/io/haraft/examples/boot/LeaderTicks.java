package io.haraft.examples.boot;

import io.haraft.Leadership;
import io.haraft.fencing.job.LeaderOnlyJob;
import io.haraft.spring.boot.LeadershipGrantedEvent;
import io.haraft.spring.boot.LeadershipRevokedEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

import java.util.ArrayList;
import java.util.List;

/**
 * The leader-only job: started when this node is granted leadership, stopped when its leadership
 * is revoked. Each tick writes a row through {@link TickTable}, with the token of the leadership the
 * job runs for.
 *
 * <p>The starter's {@link LeadershipGrantedEvent} carries the {@link Leadership} (and so the
 * fencing token), which Spring Integration's {@code OnGrantedEvent} does not; the events reach
 * this bean one at a time, granted and revoked alternating. {@link LeaderOnlyJob} runs the ticks on
 * its own thread, skips a tick whose lease has ended and interrupts a tick in progress on
 * revocation. What keeps a tick that outlives its leadership (a pause) harmless is the fence.
 *
 * <p>Thread-safe.
 */
@Component
public class LeaderTicks implements DisposableBean {

    private static final Logger LOG = LoggerFactory.getLogger(LeaderTicks.class);

    private final TickTable table;
    private final LeaderOnlyJob job;
    private final List<Long> granted = new ArrayList<>();   // guarded by itself
    private volatile boolean tablesReady;

    LeaderTicks(TickTable table, TickProperties properties) {
        this.table = table;
        this.job = LeaderOnlyJob.builder("ticks", this::tick).fixedDelay(properties.interval()).build();
    }

    /** Starts the job for the new leadership. */
    @EventListener
    public void onGranted(LeadershipGrantedEvent event) {
        synchronized (granted) {
            granted.add(event.getToken().value());   // recorded before any row of this leadership exists
        }
        job.elected(event.getLeadership());
    }

    /** Stops the job; a tick in progress is interrupted. */
    @EventListener
    public void onRevoked(LeadershipRevokedEvent event) {
        job.revoked(event.getLeadership(), event.getReason());
    }

    /** The tokens of every leadership this node was granted since it started, oldest first. */
    public List<Long> grantedTokens() {
        synchronized (granted) {
            return List.copyOf(granted);
        }
    }

    /** Whether the job runs for a leadership of this node now. */
    public boolean isRunning() {
        return job.leadership().isPresent();
    }

    @Override
    public void destroy() {
        job.close();
    }

    private void tick(Leadership leadership) throws Exception {
        if (!tablesReady) {
            // here rather than at start-up: three instances creating the same table at once can
            // collide in PostgreSQL's catalog; a failed attempt is logged and the next tick retries
            table.createTablesIfNotExist();
            tablesReady = true;
        }
        table.write(leadership);
        LOG.debug("tick written with {} of node {}", leadership.token(), leadership.nodeId());
    }
}
