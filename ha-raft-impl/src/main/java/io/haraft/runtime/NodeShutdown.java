package io.haraft.runtime;

import io.haraft.NotLeaderException;
import io.haraft.RaftConfig;
import io.haraft.RevokeReason;
import io.haraft.transport.Transport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Stops the parts of one started node in the order its guarantees need: a leader hands over, or
 * revokes with {@code SHUT_DOWN}; the listener's last callback returns (waiting a bounded time)
 * before the transport closes; then the loop, the snapshot and apply threads, the callbacks, the
 * store and the meters stop. Or, for a crash, all at once without revoking or delivering anything.
 * Every wait is bounded; the node's lifecycle state (who closes, and when close() returns) is
 * {@link RaftNodeImpl}'s business.
 */
final class NodeShutdown {
    /** The log of {@link RaftNodeImpl}, which these messages have always been written to. */
    private static final Logger LOG = LoggerFactory.getLogger(RaftNodeImpl.class);
    /** How long close() waits for the listener to return from its callbacks before it goes on. */
    static final long CALLBACK_DRAIN_NANOS = TimeUnit.SECONDS.toNanos(10);
    /** How long each part may take to stop. */
    static final long STOP_NANOS = TimeUnit.SECONDS.toNanos(5);

    private final RaftNodeImpl node;
    private final RaftConfig config;
    private final NodeEnvironment env;
    private final long electionTimeoutNanos;
    private volatile long callbackDrainNanos = CALLBACK_DRAIN_NANOS;

    NodeShutdown(RaftNodeImpl node, RaftConfig config, NodeEnvironment env) {
        this.node = node;
        this.config = config;
        this.env = env;
        this.electionTimeoutNanos = config.electionTimeout().toNanos();
    }

    /** How long close() waits for the listener (default {@link #CALLBACK_DRAIN_NANOS}); tests shorten it. */
    void callbackDrainNanos(long nanos) {
        callbackDrainNanos = nanos;
    }

    /** The longest a close() that another thread runs can take: a second close() waits that long. */
    long closeBoundNanos() {
        return 5 * STOP_NANOS + callbackDrainNanos + 2 * electionTimeoutNanos;
    }

    /** Stops a running node: hand over, revoke, drain the listener, then stop every part. */
    void stopRunning() {
        String failure = node.failure();
        node.dispatcher().stopWaiters("node " + config.nodeId() + (failure != null ? " stopped after a fatal error ("
                + failure + ")" : node.removed() ? " was removed from cluster " + config.clusterId() : " was closed")
                + " before it became leader");
        boolean listenerBlocked = false;
        NodeLoop l = node.loop();
        if (l != null && l.isRunning()) {
            if (!node.failed()) {
                // 1. A leader hands over (revoking with LEADERSHIP_TRANSFERRED first), waiting at most
                //    one election timeout for the target to take over.
                awaitQuietly(l.handOver(), electionTimeoutNanos + electionTimeoutNanos / 2);
            }
            // 2. A leader still in office revokes with SHUT_DOWN; wait until that Ready is processed.
            awaitQuietly(l.shutdownCore(), STOP_NANOS);
        }
        LeadershipDispatcher d = node.dispatcher();
        if (d != null) {
            // 3. Whatever is still open (the loop failed or is stuck) is revoked here.
            d.revokeOpen(RevokeReason.SHUT_DOWN);
            d.stopWatchdog();
            // 4. The listener's revoked returns before the listening socket closes (unless close() was
            //    called by the listener itself, which cannot wait for its own return). A listener blocked
            //    for longer is reported in an ERROR, and its queued callbacks are still delivered later.
            if (!d.isCallbackThread() && !d.awaitQueuedCallbacks(callbackDrainNanos)) {
                listenerBlocked = true;
                d.reportBlocked(callbackDrainNanos, "close() of node " + config.nodeId());
            }
        }
        if (l != null && l.isRunning()) {
            awaitQuietly(l.call(() -> null), STOP_NANOS);   // sends posted by the callback thread (TimeoutNow)
        }
        // 5. Stop listening, then stop the loop.
        closeTransport();
        if (l != null && l.stop(STOP_NANOS, false)) {
            l.failPendingAfterStop();
        }
        SnapshotTransfer st = node.snapshots();
        if (st != null) {
            st.stop(STOP_NANOS);
        }
        Applier a = node.applier();
        if (a != null) {
            // On the apply thread itself (a state machine closing its node) it cannot wait for itself.
            a.stop(a.isApplyThread() ? 0 : STOP_NANOS, () -> new NotLeaderException(config.nodeId(), null, null));
            a.failAllPending("node " + config.nodeId() + " shut down");
        }
        if (d != null) {
            // On the callback thread itself (a listener closing its node), or behind a listener already
            // reported blocked, the queued callbacks run after close() returns: stopping never drops them.
            d.stopCallbacks(d.isCallbackThread() || listenerBlocked ? 0 : callbackDrainNanos,
                    "close() of node " + config.nodeId());
        }
        LogStore s = node.store();
        if (s != null) {
            closeOrWarn(s::close, "closing the log store of {} failed");
        }
        node.metrics().close();
        LOG.info("node {} closed", config.nodeId());
    }

    /**
     * Stops a running node like a crashed process: nothing is revoked or delivered, nothing more is
     * sent, the transport closes and every thread stops; the store is closed as the operating system
     * would release a dead process's files.
     */
    void stopNow() {
        node.dispatcher().stopNow();
        node.loop().stop(STOP_NANOS, true);
        closeTransport();
        node.applier().stopNow();
        node.snapshots().stopNow();
        closeOrWarn(() -> node.store().close(), "closing the log store of crashed node {} failed");
        node.metrics().close();
    }

    private void closeTransport() {
        Transport t = node.transport();
        if (t != null) {
            closeOrWarn(t::close, "closing the transport of {} failed");
        }
    }

    /** Runs {@code close}; a failure is logged as a WARN ({@code message} with the node id), not thrown. */
    private void closeOrWarn(Runnable close, String message) {
        try {
            close.run();
        } catch (RuntimeException e) {
            LOG.warn(message, config.nodeId(), e);
        }
    }

    /** Waits at most {@code nanos} for {@code f} (on the node's environment's time), then goes on either way. */
    void awaitQuietly(CompletableFuture<?> f, long nanos) {
        try {
            env.await(f, nanos);   // bounded wait: go on with the next step either way
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
