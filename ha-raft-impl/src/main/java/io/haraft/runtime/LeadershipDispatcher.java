package io.haraft.runtime;

import io.haraft.LeadershipListener;
import io.haraft.RevokeReason;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Delivers leadership transitions to the application and revokes leases on time.
 *
 * <p>Two threads of its own: the serial callback thread, which runs the listener (so a blocking
 * listener never stalls the loop), and the lease watchdog, which revokes the open leadership with
 * {@link RevokeReason#LEASE_EXPIRED} the moment its lease runs out, whatever the loop is doing.
 * Revocation is a compare-and-set on the {@link LeadershipImpl}, so whichever of the loop and the
 * watchdog comes first delivers the one {@code revoked}; the other is silent. Enqueueing a
 * callback and revoking happen under one small lock (never held while the listener runs), so the
 * callback queue always alternates {@code elected}, {@code revoked}, {@code elected}, ...
 *
 * <p><b>Nothing queued is dropped</b>, except by a crash-like {@link #stopNow()}. Stopping
 * ({@link #stopCallbacks}) lets the callback thread deliver everything queued before it ends;
 * if the listener is blocked, the caller waits a bounded time, then {@link #reportBlocked} logs an
 * ERROR naming the blocked callback, its thread and stack, and how many transitions wait behind it,
 * and the caller goes on while those transitions are still delivered, in order, once the listener
 * returns. A transition that could not be queued at all (impossible unless the dispatcher was
 * stopped first) is reported in an ERROR log, never lost silently.
 */
final class LeadershipDispatcher {
    private static final Logger LOG = LoggerFactory.getLogger(LeadershipDispatcher.class);

    private final String clusterId;
    private final String nodeId;
    private final LeadershipListener listener;
    private final MonotonicClock clock;
    private final Runnable wakeLoop;
    private final ExecutorService callbacks;
    private final ScheduledExecutorService watchdog;
    private final Object lock = new Object();
    private volatile LeadershipImpl open;   // written under lock
    private volatile Thread callbackThread;
    /** Transitions queued and not yet handed to the listener. */
    private final AtomicInteger queuedTransitions = new AtomicInteger();
    /** The callback the listener is running now, such as "elected(term 7)", or null. */
    private volatile String delivering;
    private volatile long deliveringSince;
    private volatile boolean crashed;
    private volatile NodeMetrics metrics = NodeMetrics.NONE;

    /**
     * @param wakeLoop called by the watchdog after it revoked a lease, so that the loop makes the
     *                 core step down if it still leads that term
     */
    LeadershipDispatcher(String clusterId, String nodeId, LeadershipListener listener, MonotonicClock clock,
                         Runnable wakeLoop) {
        this.clusterId = clusterId;
        this.nodeId = nodeId;
        this.listener = listener;
        this.clock = clock;
        this.wakeLoop = wakeLoop;
        this.callbacks = Executors.newSingleThreadExecutor(r -> {
            Thread t = Threads.factory("haraft-callback-" + nodeId, clusterId, nodeId).newThread(r);
            callbackThread = t;
            return t;
        });
        this.watchdog = Executors.newSingleThreadScheduledExecutor(
                Threads.factory("haraft-lease-watchdog-" + nodeId, clusterId, nodeId));
    }

    /** Before the first leadership: where lease expiries and the callbacks' run times are reported. */
    void metrics(NodeMetrics m) {
        this.metrics = m;
    }

    /** The leadership whose {@code elected} was queued and that the loop has not closed yet, or null. */
    LeadershipImpl open() {
        return open;
    }

    /** Loop thread: the gate let an {@code Elected} through. */
    LeadershipImpl elected(long term, long leaseUntil, long commitIndex) {
        LeadershipImpl l = new LeadershipImpl(nodeId, term, leaseUntil, commitIndex, clock);
        synchronized (lock) {
            if (open != null) {
                // The gate guarantees this cannot happen; close the old one rather than lose alternation.
                LOG.error("term {}: elected while the leadership of term {} is still open; revoking it", term,
                        open.term());
                revokeLocked(open, RevokeReason.HIGHER_TERM);
            }
            open = l;
            queueTransition(l, null);
        }
        LOG.info("term {}: leadership delivered to the listener queue, fencing token {}, lease for {} ms", term,
                term, (leaseUntil - clock.nanos()) / 1_000_000);
        watch(l);
        return l;
    }

    /** Loop thread: the gate let a {@code Revoked} through for {@code term}. */
    void revoked(long term, RevokeReason reason) {
        synchronized (lock) {
            LeadershipImpl l = open;
            if (l == null || l.term() != term) {
                LOG.warn("term {}: revoked ({}) for a leadership that is not open; ignoring", term, reason);
                return;
            }
            open = null;
            if (!revokeLocked(l, reason)) {
                LOG.debug("term {}: already revoked ({}); not delivering {} again", term, l.revokeReason(), reason);
            }
        }
    }

    /** Any thread (close, fatal stop): revokes and closes whatever leadership is open. */
    void revokeOpen(RevokeReason reason) {
        synchronized (lock) {
            LeadershipImpl l = open;
            if (l != null) {
                open = null;
                revokeLocked(l, reason);
            }
        }
    }

    private boolean revokeLocked(LeadershipImpl l, RevokeReason reason) {
        if (l.revoke(reason)) {
            LOG.info("term {}: leadership revoked ({})", l.term(), reason);
            if (reason == RevokeReason.LEASE_EXPIRED) {
                metrics.leaseExpiries.increment();
            }
            queueTransition(l, reason);
            return true;
        }
        return false;
    }

    private void watch(LeadershipImpl l) {
        if (l.isRevoked()) {
            return;
        }
        long left = l.leaseUntil() - clock.nanos();
        if (left > 0) {
            try {
                watchdog.schedule(() -> watch(l), left, TimeUnit.NANOSECONDS);
            } catch (RejectedExecutionException stopped) {
                // the node is stopping
            }
            return;
        }
        boolean revokedNow;
        synchronized (lock) {
            revokedNow = revokeLocked(l, RevokeReason.LEASE_EXPIRED);
        }
        if (revokedNow) {
            LOG.warn("term {}: lease ran out {} µs ago without renewal; revoked by the watchdog", l.term(),
                    -left / 1000);
            wakeLoop.run();
        }
    }

    /**
     * Runs {@code action} on the callback thread after every callback queued so far has returned
     * (used to send TimeoutNow only after {@code revoked} was delivered). Runs it at once if the
     * callback thread is stopped.
     */
    void afterQueuedCallbacks(Runnable action) {
        if (!enqueue(action)) {
            action.run();
        }
    }

    /** Waits until every callback queued so far has returned, at most {@code timeoutNanos}. */
    boolean awaitQueuedCallbacks(long timeoutNanos) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        if (!enqueue(() -> done.complete(null))) {
            return true;
        }
        try {
            done.get(timeoutNanos, TimeUnit.NANOSECONDS);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (Exception e) {
            return false;
        }
    }

    /** Queues one transition for the listener ({@code reason} null for {@code elected}). */
    private void queueTransition(LeadershipImpl l, RevokeReason reason) {
        queuedTransitions.incrementAndGet();
        if (!enqueue(() -> deliver(l, reason))) {
            queuedTransitions.decrementAndGet();
            if (!crashed) {
                LOG.error("node {}: the transition {} could not be queued for the leadership listener because its"
                        + " callback thread was already stopped; the listener will not see it", nodeId,
                        describe(l, reason));
            }
        }
    }

    private static String describe(LeadershipImpl l, RevokeReason reason) {
        return reason == null ? "elected(term " + l.term() + ")" : "revoked(term " + l.term() + ", " + reason + ")";
    }

    private boolean enqueue(Runnable task) {
        try {
            callbacks.execute(task);
            return true;
        } catch (RejectedExecutionException stopped) {
            return false;
        }
    }

    private void deliver(LeadershipImpl l, RevokeReason reason) {
        queuedTransitions.decrementAndGet();
        MDC.put("term", Long.toString(l.term()));
        long since = clock.nanos();
        deliveringSince = since;
        delivering = describe(l, reason);
        try {
            if (reason == null) {
                listener.elected(l);
            } else {
                listener.revoked(l, reason);
            }
        } catch (Throwable t) {
            LOG.error("node {}, term {}: the leadership listener threw in {}; continuing with later callbacks",
                    nodeId, l.term(), reason == null ? "elected" : "revoked(" + reason + ")", t);
        } finally {
            NodeMetrics m = metrics;
            (reason == null ? m.electedCallback : m.revokedCallback).record(clock.nanos() - since);
            delivering = null;
            MDC.remove("term");
        }
    }

    /** Whether the caller is this node's callback thread (a listener calling back into the node). */
    boolean isCallbackThread() {
        return Thread.currentThread() == callbackThread;
    }

    /** Stops the watchdog (no more revocations from it). */
    void stopWatchdog() {
        watchdog.shutdownNow();
    }

    /**
     * Stops the callback thread once it has delivered every callback queued so far, waiting at most
     * {@code timeoutNanos} for that (not at all if zero or less). Never abandons a queued callback:
     * if the wait runs out, the thread goes on delivering after this method returns, and the ERROR
     * of {@link #reportBlocked} says so.
     *
     * @return whether every queued callback was delivered within the wait
     */
    boolean stopCallbacks(long timeoutNanos, String caller) {
        callbacks.shutdown();
        if (timeoutNanos <= 0) {
            return callbacks.isTerminated();
        }
        try {
            if (callbacks.awaitTermination(timeoutNanos, TimeUnit.NANOSECONDS)) {
                return true;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        reportBlocked(timeoutNanos, caller);
        return false;
    }

    /**
     * Logs an ERROR that the listener has not returned: which callback it is running and since
     * when, on which thread (with that thread's stack), and how many transitions wait behind it,
     * which are still delivered, in order, once it returns.
     *
     * @param waitedNanos how long the caller waited
     * @param caller      what goes on without waiting longer, for the message
     */
    void reportBlocked(long waitedNanos, String caller) {
        String running = delivering;
        Thread t = callbackThread;
        Throwable stack = null;
        if (t != null) {
            stack = new Throwable("stack of " + t.getName() + " (not an error in itself)");
            stack.setStackTrace(t.getStackTrace());
        }
        int behind = queuedTransitions.get();
        String what = running == null
                ? "has not drained its callback queue"
                : "has been running " + running + " for " + (clock.nanos() - deliveringSince) / 1_000_000 + " ms";
        LOG.error("node {}: the leadership listener {} on thread {}; {} goes on after waiting {} ms. The {}"
                        + " transition(s) queued behind it are not dropped: they are delivered, in order, on that"
                        + " thread once the listener returns. A listener must not block indefinitely", nodeId, what,
                t == null ? "(none)" : t.getName(), caller, waitedNanos / 1_000_000, behind, stack);
    }

    /** How many transitions are queued and not yet handed to the listener (for tests and reports). */
    int queuedTransitions() {
        return queuedTransitions.get();
    }

    /** Crash-like stop: drops queued callbacks and stops the watchdog at once. */
    void stopNow() {
        crashed = true;
        watchdog.shutdownNow();
        callbacks.shutdownNow();
    }

    String clusterId() {
        return clusterId;
    }
}
