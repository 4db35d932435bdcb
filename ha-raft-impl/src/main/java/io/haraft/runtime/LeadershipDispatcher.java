package io.haraft.runtime;

import io.haraft.LeaderChange;
import io.haraft.LeaderChangeListener;
import io.haraft.Leadership;
import io.haraft.LeadershipListener;
import io.haraft.RevokeReason;
import io.haraft.Subscription;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Delivers leadership transitions and leader changes to the application's listeners, completes
 * the futures of {@code awaitLeadership}, and revokes leases on time.
 *
 * <p>Two threads of its own: the serial callback thread, which runs the listeners that have no
 * executor of their own (so a blocking listener never stalls the loop), and the lease watchdog,
 * which revokes the open leadership with {@link RevokeReason#LEASE_EXPIRED} the moment its lease
 * runs out, whatever the loop is doing. Revocation is a compare-and-set on the
 * {@link LeadershipImpl}, so whichever of the loop and the watchdog comes first delivers the one
 * {@code revoked}; the other is silent. Enqueueing a callback, revoking and adding a listener
 * happen under one small lock (never held while a listener runs), so each listener's queue
 * ({@link Subscriber}) always alternates {@code elected}, {@code revoked}, {@code elected}, ...:
 * a listener added while a leadership is open starts with that {@code elected}.
 *
 * <p>Created with the node, before any thread runs: listeners and waiters may be added before
 * {@code start()}; the threads start with the first callback and the first lease.
 *
 * <p><b>Nothing queued is dropped</b>, except by a crash-like {@link #stopNow()}. Stopping
 * ({@link #stopCallbacks}) lets the callback thread deliver everything queued before it ends;
 * if the listener is blocked, the caller waits a bounded time, then {@link #reportBlocked} logs an
 * ERROR naming the blocked callback, its thread and stack, and how many transitions wait behind it,
 * and the caller goes on while those transitions are still delivered, in order, once the listener
 * returns. A transition that could not be queued at all (impossible unless the dispatcher was
 * stopped first) is reported in an ERROR log, never lost silently.
 */
final class LeadershipDispatcher implements Subscriber.Owner {
    private static final Logger LOG = LoggerFactory.getLogger(LeadershipDispatcher.class);

    private final String clusterId;
    private final String nodeId;
    private final MonotonicClock clock;
    private final Runnable wakeLoop;
    private final NodeEnvironment env;
    private final boolean revokedTwice;     // a planted bug (simulator self-test only)
    private final Executor completer;
    private final ExecutorService callbacks;
    private final ScheduledExecutorService watchdog;
    private final Object lock = new Object();
    private volatile LeadershipImpl open;   // written under lock
    private volatile Thread callbackThread;
    private final String group;
    private final List<Subscriber> leadershipListeners = new CopyOnWriteArrayList<>();
    private final List<Subscriber> changeListeners = new CopyOnWriteArrayList<>();
    // under lock
    private LeaderChange lastChange;
    private List<CompletableFuture<Leadership>> waiters = new ArrayList<>();
    private String stoppedWhy;              // why awaitLeadership fails from now on, or null
    private volatile boolean crashed;
    private volatile NodeMetrics metrics = NodeMetrics.NONE;

    /**
     * @param wakeLoop  called by the watchdog after it revoked a lease, so that the loop makes the
     *                  core step down if it still leads that term
     * @param completer where futures of {@link #awaitLeadership()} are completed (the apply thread)
     */
    LeadershipDispatcher(NodeEnvironment env, String clusterId, String nodeId, Runnable wakeLoop,
                         Executor completer) {
        this(env, clusterId, nodeId, io.haraft.GroupNames.DEFAULT, wakeLoop, completer);
    }

    /** @param group the Raft group whose leaderships this dispatches ({@link Leadership#group()}) */
    LeadershipDispatcher(NodeEnvironment env, String clusterId, String nodeId, String group, Runnable wakeLoop,
                         Executor completer) {
        this.group = group;
        this.clusterId = clusterId;
        this.nodeId = nodeId;
        this.env = env;
        this.clock = env.clock();
        this.revokedTwice = env.plantedBugs().revokedTwice();
        this.wakeLoop = wakeLoop;
        this.completer = completer;
        this.callbacks = env.serialExecutor("callback", clusterId, nodeId, t -> callbackThread = t);
        this.watchdog = env.timer("lease-watchdog", clusterId, nodeId);
    }

    /** Before the first leadership: where lease expiries and the callbacks' run times are reported. */
    void metrics(NodeMetrics m) {
        this.metrics = m;
    }

    /** The leadership whose {@code elected} was queued and that the loop has not closed yet, or null. */
    LeadershipImpl open() {
        return open;
    }

    // ------------------------------------------------------------------ listeners and waiters (any thread)

    /** Adds a leadership listener (executor null: the callback thread); see {@code RaftNode.addListener}. */
    Subscription addListener(LeadershipListener listener, Executor executor) {
        Objects.requireNonNull(listener, "listener");
        Subscriber s = new Subscriber(this, listener, executor, "leadership listener");
        synchronized (lock) {
            leadershipListeners.add(s);
            LeadershipImpl l = open;
            if (l != null && !l.isRevoked()) {
                transition(s, l, null);           // its calls start with the leadership in office
            }
        }
        return s;
    }

    /** Adds a leader-change listener (executor null: the callback thread). */
    Subscription addLeaderChangeListener(LeaderChangeListener listener, Executor executor) {
        Objects.requireNonNull(listener, "listener");
        Subscriber s = new Subscriber(this, listener, executor, "leader-change listener");
        synchronized (lock) {
            changeListeners.add(s);
            if (lastChange != null && !callbacks.isShutdown()) {   // a stopped node reports nothing more
                change(s, lastChange);
            }
        }
        return s;
    }

    @Override
    public void remove(Subscriber s) {
        leadershipListeners.remove(s);
        changeListeners.remove(s);
    }

    /** A future completed with the open leadership once it is valid; see {@code RaftNode.awaitLeadership}. */
    CompletableFuture<Leadership> awaitLeadership() {
        CompletableFuture<Leadership> f = new CompletableFuture<>();
        synchronized (lock) {
            LeadershipImpl l = open;
            if (l != null && l.isValid()) {
                f.complete(l);
            } else if (stoppedWhy != null) {
                f.completeExceptionally(new IllegalStateException(stoppedWhy));
            } else {
                waiters.removeIf(CompletableFuture::isDone);
                waiters.add(f);
            }
        }
        return f;
    }

    /**
     * The node stops (closes, failed, was removed): futures of {@code awaitLeadership} still waiting
     * fail, and later ones fail at once, with an {@link IllegalStateException} that says {@code why}.
     */
    void stopWaiters(String why) {
        List<CompletableFuture<Leadership>> failing;
        synchronized (lock) {
            if (stoppedWhy != null) {
                return;
            }
            stoppedWhy = why;
            failing = takeWaiters();
        }
        failing.forEach(f -> f.completeExceptionally(new IllegalStateException(why)));
    }

    private List<CompletableFuture<Leadership>> takeWaiters() {
        List<CompletableFuture<Leadership>> taken = waiters;
        waiters = new ArrayList<>();
        return taken;
    }

    /**
     * Completes {@code taken} with {@code l} on the completer if {@code l} is still valid there;
     * otherwise they wait again (for the leadership open then, or the next one).
     */
    private void completeWaiters(LeadershipImpl l, List<CompletableFuture<Leadership>> taken) {
        if (taken.isEmpty()) {
            return;
        }
        completer.execute(() -> {
            if (l.isValid()) {
                taken.forEach(f -> f.complete(l));
                return;
            }
            for (CompletableFuture<Leadership> f : taken) {
                CompletableFuture<Leadership> again = awaitLeadership();
                again.whenComplete((x, e) -> {
                    if (e != null) {
                        f.completeExceptionally(e);
                    } else {
                        f.complete(x);
                    }
                });
                f.whenComplete((x, e) -> again.cancel(false));
            }
        });
    }

    /** Loop thread: the leader or term this node knows changed (the loop calls only on a change). */
    void leaderChanged(long term, String leader) {
        synchronized (lock) {
            LeaderChange c = new LeaderChange(Optional.ofNullable(leader), term);
            if (c.equals(lastChange)) {
                return;
            }
            lastChange = c;
            for (Subscriber s : changeListeners) {
                change(s, c);
            }
        }
    }

    private void change(Subscriber s, LeaderChange c) {
        if (!s.call("leaderChanged(" + c + ")", c.term(), clock, () -> ((LeaderChangeListener) s.listener())
                .leaderChanged(c)) && !crashed) {
            LOG.error("node {}: the change to {} could not be queued for {} because the callback thread was already"
                    + " stopped; the listener will not see it", nodeId, c, s);
        }
    }

    /** Loop thread: the gate let an {@code Elected} through. */
    LeadershipImpl elected(long term, long leaseUntil, long commitIndex) {
        LeadershipImpl l = new LeadershipImpl(group, nodeId, term, leaseUntil, commitIndex, clock);
        List<CompletableFuture<Leadership>> taken;
        synchronized (lock) {
            if (open != null) {
                // The gate guarantees this cannot happen; close the old one rather than lose alternation.
                LOG.error("term {}: elected while the leadership of term {} is still open; revoking it", term,
                        open.term());
                revokeLocked(open, RevokeReason.HIGHER_TERM);
            }
            open = l;
            queueTransition(l, null);
            taken = takeWaiters();
        }
        completeWaiters(l, taken);
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
        if (l.revoke(reason) || revokedTwice) {
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
     * Runs {@code action} once every leadership listener has returned from every callback queued so
     * far (used to send TimeoutNow only after each {@code revoked} was delivered), on the thread of
     * the listener that finished last. Runs it at once where nothing is queued or can run.
     */
    void afterQueuedCallbacks(Runnable action) {
        barrier(List.copyOf(leadershipListeners), action);
    }

    /**
     * Runs {@code action} once every one of {@code subscribers} has run everything queued so far;
     * a subscriber whose queue cannot run (the callback thread is stopped) does not hold it up.
     */
    private static void barrier(List<Subscriber> subscribers, Runnable action) {
        AtomicInteger left = new AtomicInteger(subscribers.size() + 1);
        Runnable arrive = () -> {
            if (left.decrementAndGet() == 0) {
                action.run();
            }
        };
        for (Subscriber s : subscribers) {
            if (!s.marker(arrive)) {
                arrive.run();
            }
        }
        arrive.run();
    }

    /** Waits until every listener has returned from every callback queued so far, at most {@code timeoutNanos}. */
    boolean awaitQueuedCallbacks(long timeoutNanos) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        List<Subscriber> all = new ArrayList<>(leadershipListeners);
        all.addAll(changeListeners);
        barrier(all, () -> done.complete(null));
        try {
            return env.await(done, timeoutNanos);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Queues one transition for every leadership listener ({@code reason} null for {@code elected}). */
    private void queueTransition(LeadershipImpl l, RevokeReason reason) {
        for (Subscriber s : leadershipListeners) {
            transition(s, l, reason);
        }
    }

    private void transition(Subscriber s, LeadershipImpl l, RevokeReason reason) {
        LeadershipListener listener = (LeadershipListener) s.listener();
        Runnable callback = reason == null ? () -> listener.elected(l) : () -> listener.revoked(l, reason);
        Runnable call = () -> {
            long since = clock.nanos();
            try {
                callback.run();
            } finally {
                NodeMetrics m = metrics;
                (reason == null ? m.electedCallback : m.revokedCallback).record(clock.nanos() - since);
            }
        };
        if (!s.call(describe(l, reason), l.term(), clock, call) && !crashed) {
            LOG.error("node {}: the transition {} could not be queued for {} because the callback thread was"
                    + " already stopped; the listener will not see it", nodeId, describe(l, reason), s);
        }
    }

    private static String describe(LeadershipImpl l, RevokeReason reason) {
        return reason == null ? "elected(term " + l.term() + ")" : "revoked(term " + l.term() + ", " + reason + ")";
    }

    @Override
    public Executor callbackThread() {
        return callbacks;
    }

    @Override
    public String nodeId() {
        return nodeId;
    }

    /**
     * Whether the caller is this node's callback thread, or runs a call of one of its listeners on
     * that listener's executor (a listener calling back into the node).
     */
    boolean isCallbackThread() {
        if (Thread.currentThread() == callbackThread) {
            return true;
        }
        for (Subscriber s : leadershipListeners) {
            if (s.isRunningHere()) {
                return true;
            }
        }
        for (Subscriber s : changeListeners) {
            if (s.isRunningHere()) {
                return true;
            }
        }
        return false;
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
        if (timeoutNanos <= 0) {
            callbacks.shutdown();
            return callbacks.isTerminated();
        }
        long deadline = clock.nanos() + timeoutNanos;
        // Listeners on executors of their own first: one that falls back to the callback thread needs it.
        boolean drained = awaitQueuedCallbacks(timeoutNanos);
        callbacks.shutdown();
        try {
            if (drained && callbacks.awaitTermination(Math.max(0, deadline - clock.nanos()), TimeUnit.NANOSECONDS)) {
                return true;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        reportBlocked(timeoutNanos, caller);
        return false;
    }

    /**
     * Logs an ERROR for each listener that has not returned: which callback it is running and since
     * when, on which thread (with that thread's stack), and how many transitions wait behind it,
     * which are still delivered, in order, once it returns. Listeners that only wait for a busy
     * thread are counted in the same message.
     *
     * @param waitedNanos how long the caller waited
     * @param caller      what goes on without waiting longer, for the message
     */
    void reportBlocked(long waitedNanos, String caller) {
        List<Subscriber> all = new ArrayList<>(leadershipListeners);
        all.addAll(changeListeners);
        int waiting = 0;
        boolean reported = false;
        for (Subscriber s : all) {
            String running = s.delivering();
            if (running == null) {
                waiting += s.busy() ? 1 : 0;
                continue;
            }
            reported = true;
            Thread t = s.thread();
            Throwable stack = null;
            if (t != null) {
                stack = new Throwable("stack of " + t.getName() + " (not an error in itself)");
                stack.setStackTrace(t.getStackTrace());
            }
            LOG.error("node {}: the {} has been running {} for {} ms on thread {} ({}); {} goes on after waiting {} ms."
                            + " The {} transition(s) queued behind it are not dropped: they are delivered, in order,"
                            + " once the listener returns. A listener must not block indefinitely", nodeId,
                    s.kind(), running, (clock.nanos() - s.deliveringSince()) / 1_000_000,
                    t == null ? "(none)" : t.getName(), s.listener(), caller, waitedNanos / 1_000_000, s.queued(),
                    stack);
        }
        if (!reported) {
            LOG.error("node {}: {} listener(s) have not drained their callback queues; {} goes on after waiting {} ms."
                    + " The {} transition(s) queued are not dropped: they are delivered, in order, once their threads"
                    + " are free", nodeId, waiting, caller, waitedNanos / 1_000_000, queuedTransitions());
        }
    }

    /** How many transitions are queued and not yet handed to a leadership listener (for tests and reports). */
    int queuedTransitions() {
        int n = 0;
        for (Subscriber s : leadershipListeners) {
            n += s.queued();
        }
        return n;
    }

    /** Crash-like stop: drops queued callbacks and stops the watchdog at once. */
    void stopNow() {
        crashed = true;
        stopWaiters("node " + nodeId + " crashed before it became leader");
        leadershipListeners.forEach(Subscriber::cancel);
        changeListeners.forEach(Subscriber::cancel);
        watchdog.shutdownNow();
        callbacks.shutdownNow();
    }

    @Override
    public String clusterId() {
        return clusterId;
    }
}
