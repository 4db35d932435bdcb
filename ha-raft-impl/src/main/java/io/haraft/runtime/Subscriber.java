package io.haraft.runtime;

import io.haraft.Subscription;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One registered listener and the serial queue of its calls: the per-listener half of
 * {@link LeadershipDispatcher}.
 *
 * <p><b>Guarantees.</b> Calls are queued in the order {@link #call} is invoked and run one at a
 * time, in that order, on the listener's executor (each run sees the effects of the one before: the
 * hand-over goes through an atomic flag). At most one task of this queue is submitted to the
 * executor at a time, and it runs every call queued until the queue is empty, so a listener that
 * blocks holds up its own queue only (or, on the shared callback thread, that thread). Nothing
 * queued is dropped: an executor that refuses the task is replaced by the fallback (the node's
 * callback thread), with a WARN; only if that refuses too (the node was stopped) can the call not be
 * queued, which {@link #call} reports to its caller. Markers ({@link #marker}) run
 * in queue order like calls, even after {@link #cancel()}; calls queued for a cancelled listener are
 * skipped.
 */
final class Subscriber implements Subscription {
    private static final Logger LOG = LoggerFactory.getLogger(Subscriber.class);
    /** The subscriber whose calls the current thread is running, if any. */
    private static final ThreadLocal<Subscriber> RUNNING = new ThreadLocal<>();

    /** Where a listener's calls run: the application's executor, else the node's callback thread. */
    interface Owner {
        Executor callbackThread();

        String nodeId();

        String clusterId();

        /** Called once by {@link #cancel()}. */
        void remove(Subscriber s);
    }

    private final Owner owner;
    private final Object listener;
    private final Executor executor;             // null: the owner's callback thread
    private final String kind;
    private final Queue<Runnable> queue = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean scheduled = new AtomicBoolean();
    /** Calls queued and not yet started (markers not counted). */
    private final AtomicInteger queued = new AtomicInteger();
    private final AtomicBoolean warnedRefusal = new AtomicBoolean();
    private volatile boolean cancelled;
    /** The call running now, such as "elected(term 7)", or null; and since when and on which thread. */
    private volatile String delivering;
    private volatile long deliveringSince;
    private volatile Thread deliveringThread;

    /**
     * @param kind     what the listener is, for messages ("leadership listener")
     * @param executor where its calls run, or null for the owner's callback thread
     */
    Subscriber(Owner owner, Object listener, Executor executor, String kind) {
        this.owner = owner;
        this.listener = listener;
        this.executor = executor;
        this.kind = kind;
    }

    Object listener() {
        return listener;
    }

    /** What the listener is, for messages: "leadership listener" or "leader-change listener". */
    String kind() {
        return kind;
    }

    /**
     * Queues one call of the listener, described as {@code what} (for reports of a blocked
     * listener); {@code term} goes into the MDC while it runs.
     *
     * @return false if it could not be queued at all (the node's callback thread is stopped)
     */
    boolean call(String what, long term, MonotonicClock clock, Runnable call) {
        queued.incrementAndGet();
        return add(() -> {
            queued.decrementAndGet();
            if (!cancelled) {
                run(what, term, clock, call);
            }
        });
    }

    /** Queues {@code action} behind every call queued so far; it runs even if the listener was removed. */
    boolean marker(Runnable action) {
        return add(action);
    }

    private void run(String what, long term, MonotonicClock clock, Runnable call) {
        Map<String, String> before = Threads.enterNode(owner.clusterId(), owner.nodeId());
        org.slf4j.MDC.put("term", Long.toString(term));
        deliveringThread = Thread.currentThread();
        deliveringSince = clock.nanos();
        delivering = what;
        try {
            call.run();
        } catch (Throwable t) {
            LOG.error("node {}, term {}: the {} {} threw in {}; continuing with later calls", owner.nodeId(), term,
                    kind, listener, what, t);
        } finally {
            delivering = null;
            deliveringThread = null;
            Threads.restoreMdc(before);
        }
    }

    private boolean add(Runnable task) {
        queue.add(task);
        if (!scheduled.compareAndSet(false, true)) {
            return true;               // the running (or submitted) drain takes it
        }
        if (executor != null) {
            if (submit(executor)) {
                return true;
            }
            if (warnedRefusal.compareAndSet(false, true)) {
                LOG.warn("node {}: the executor of {} {} refused a call (was it shut down?); its calls run on the"
                        + " node's callback thread instead, so that none is dropped", owner.nodeId(), kind, listener);
            }
        }
        if (submit(owner.callbackThread())) {
            return true;
        }
        // Nothing can run it: the node's callback thread was stopped.
        queue.remove(task);
        scheduled.set(false);
        return false;
    }

    private boolean submit(Executor e) {
        try {
            e.execute(this::drain);
            return true;
        } catch (RejectedExecutionException refused) {
            return false;
        }
    }

    /** Runs queued tasks until the queue is empty; the only place tasks run, one drain at a time. */
    private void drain() {
        Subscriber outer = RUNNING.get();
        RUNNING.set(this);
        try {
            do {
                Runnable task;
                while ((task = queue.poll()) != null) {
                    task.run();
                }
                scheduled.set(false);
            } while (!queue.isEmpty() && scheduled.compareAndSet(false, true));
        } finally {
            if (outer == null) {
                RUNNING.remove();
            } else {
                RUNNING.set(outer);
            }
        }
    }

    /** Whether the current thread is running a call of this subscriber. */
    boolean isRunningHere() {
        return RUNNING.get() == this;
    }

    /** Whether the current thread is running a call of any subscriber. */
    static boolean inAnyCall() {
        return RUNNING.get() != null;
    }

    /** Whether a call runs now or waits. */
    boolean busy() {
        return delivering != null || !queue.isEmpty();
    }

    int queued() {
        return queued.get();
    }

    String delivering() {
        return delivering;
    }

    long deliveringSince() {
        return deliveringSince;
    }

    /** The thread running a call of this subscriber now (null between calls). */
    Thread thread() {
        return deliveringThread;
    }

    @Override
    public void cancel() {
        if (!cancelled) {
            cancelled = true;
            owner.remove(this);
        }
    }

    @Override
    public String toString() {
        return kind + " " + listener + (executor == null ? "" : " on " + executor);
    }
}
