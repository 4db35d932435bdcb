package io.haraft.runtime;

import io.haraft.core.CoreConfig;
import io.haraft.core.HardState;
import io.haraft.core.RaftCore;
import io.haraft.core.log.RaftLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * The threads of a node that hosts many Raft groups ({@link RaftGroupsImpl}): a fixed set of pools
 * that every group shares, so that the number of threads does not grow with the number of groups.
 * {@link #forGroup} gives each group a {@link NodeEnvironment} whose serial executors, timers and
 * loop driver are light views over these pools.
 *
 * <p><b>Guarantees.</b>
 * <ul>
 *   <li>Threads: {@link #LOOP_THREADS} loop threads (at least 2), {@link #APPLY_THREADS} apply,
 *       {@link #CALLBACK_THREADS} callback, {@link #SNAPSHOT_THREADS} snapshot and
 *       {@link #STORAGE_THREADS} storage threads, one timer thread, and up to
 *       {@link #APART_THREADS} threads for groups that stop themselves (they end when idle). All are
 *       daemon threads named {@code haraft-<pool>-<nodeId>-<n>}, started lazily and stopped by
 *       {@link #close()}.</li>
 *   <li>A serial executor of {@link #forGroup} runs its tasks one at a time in submission order,
 *       each with the MDC keys {@code cluster}, {@code node} and {@code group}; after a batch it
 *       gives the pool thread back, so that one busy group cannot starve the others of a pool. Its
 *       {@code onThread} consumer is told the pool thread while one of its tasks runs and
 *       {@code null} in between, which keeps the runtime's "am I on this thread" checks exact.</li>
 *   <li>A group's Raft loop runs {@link NodeLoop#step()} on a loop thread when a task is queued for
 *       it or its next deadline passes (the timer thread wakes it); never two steps of one loop at
 *       once.</li>
 * </ul>
 *
 * <p><b>Limits.</b> A state machine or listener that blocks holds one shared apply or callback
 * thread, and so delays the other groups' applies or callbacks on it (give a slow listener an
 * executor of its own with {@code addListener(listener, executor)}). A group's loop cannot be
 * interrupted (a crash-like stop of one group just stops stepping it).
 */
final class SharedEnvironment implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SharedEnvironment.class);
    static final int LOOP_THREADS = Math.max(2, Runtime.getRuntime().availableProcessors());
    static final int APPLY_THREADS = 2;
    static final int CALLBACK_THREADS = 2;
    static final int SNAPSHOT_THREADS = 1;
    static final int STORAGE_THREADS = 4;
    static final int APART_THREADS = 4;
    /** Tasks a serial executor runs before it gives its pool thread back. */
    private static final int BATCH = 64;

    private final MonotonicClock clock;
    private final String clusterId;
    private final String nodeId;
    private final ThreadPoolExecutor loops;
    private final ThreadPoolExecutor apply;
    private final ThreadPoolExecutor callbacks;
    private final ThreadPoolExecutor snapshots;
    private final ThreadPoolExecutor storage;
    private final ThreadPoolExecutor apart;
    private final ScheduledThreadPoolExecutor timer;

    SharedEnvironment(MonotonicClock clock, String clusterId, String nodeId) {
        this.clock = clock;
        this.clusterId = clusterId;
        this.nodeId = nodeId;
        this.loops = fixed("loop", LOOP_THREADS);
        this.apply = fixed("apply", APPLY_THREADS);
        this.callbacks = fixed("callback", CALLBACK_THREADS);
        this.snapshots = fixed("snapshot", SNAPSHOT_THREADS);
        this.storage = fixed("storage", STORAGE_THREADS);
        this.apart = fixed("stop", APART_THREADS);
        this.apart.allowCoreThreadTimeOut(true);
        this.timer = new ScheduledThreadPoolExecutor(1, numbered("timer"));
        this.timer.setRemoveOnCancelPolicy(true);
    }

    private ThreadPoolExecutor fixed(String pool, int threads) {
        return new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                numbered(pool));
    }

    private ThreadFactory numbered(String pool) {
        AtomicInteger n = new AtomicInteger();
        return task -> Threads.factory("haraft-" + pool + "-" + nodeId + "-" + n.incrementAndGet(), clusterId, nodeId)
                .newThread(task);
    }

    /** Where the groups' stores run their background work (group commit, preallocation). */
    Executor storageWorkers() {
        return storage;
    }

    /**
     * Runs {@code task} on the timer thread every {@code periodNanos} (first after one period, then
     * one period after each run ends), with the node's MDC keys, until {@link #close()} or the
     * returned future is cancelled. The task must be quick and never block: it shares the thread
     * that wakes every group's loop. A task that throws is logged and runs again next period.
     */
    ScheduledFuture<?> every(long periodNanos, Runnable task) {
        return timer.scheduleWithFixedDelay(guarded(task), periodNanos, periodNanos, TimeUnit.NANOSECONDS);
    }

    /** Runs {@code task} once on the timer thread soon, as {@link #every} runs it; ignored after close. */
    void soon(Runnable task) {
        try {
            timer.execute(guarded(task));
        } catch (RejectedExecutionException e) {
            LOG.debug("node {}: closed; a task was not run", nodeId);
        }
    }

    private Runnable guarded(Runnable task) {
        Map<String, String> mdc = Map.of("cluster", clusterId, "node", nodeId);
        return () -> withMdc(mdc, () -> {
            try {
                task.run();
            } catch (RuntimeException e) {
                LOG.warn("node {}: a periodic task failed; it runs again next period", nodeId, e);
            }
        });
    }

    /** The environment of group {@code group}: views over the shared pools. */
    NodeEnvironment forGroup(String group) {
        return new GroupEnvironment(group);
    }

    /** Stops every pool; the groups must be closed first. */
    @Override
    public void close() {
        for (ExecutorService e : List.of(loops, apply, callbacks, snapshots, storage, apart, timer)) {
            e.shutdown();
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        for (ExecutorService e : List.of(loops, apply, callbacks, snapshots, storage, apart, timer)) {
            try {
                if (!e.awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                    e.shutdownNow();
                }
            } catch (InterruptedException x) {
                Thread.currentThread().interrupt();
                e.shutdownNow();
            }
        }
    }

    /** Runs {@code task} with the group's MDC keys, then clears the MDC (the thread serves other groups). */
    private static void withMdc(Map<String, String> mdc, Runnable task) {
        MDC.setContextMap(mdc);
        try {
            task.run();
        } finally {
            MDC.clear();
        }
    }

    /** One group's view of the shared pools. */
    private final class GroupEnvironment implements NodeEnvironment {
        private final String group;
        private final Map<String, String> mdc;
        private final NodeEnvironment waits = NodeEnvironment.system(clock);

        GroupEnvironment(String group) {
            this.group = group;
            this.mdc = Map.of("cluster", clusterId, "node", nodeId, "group", group);
        }

        @Override
        public MonotonicClock clock() {
            return clock;
        }

        @Override
        public ExecutorService serialExecutor(String role, String cluster, String node, Consumer<Thread> onThread) {
            Executor pool = switch (role) {
                case "apply" -> apply;
                case "callback" -> callbacks;
                default -> snapshots;
            };
            return new SerialExecutor(pool, mdc, onThread);
        }

        @Override
        public ScheduledExecutorService timer(String role, String cluster, String node) {
            return new TimerView(mdc);
        }

        @Override
        public void runApart(String role, String cluster, String node, Runnable task) {
            apart.execute(() -> withMdc(mdc, task));
        }

        @Override
        public LoopDriver loopDriver(String cluster, String node) {
            return new PooledDriver(mdc);
        }

        @Override
        public RaftCore newCore(CoreConfig config, HardState hardState, RaftLog log, long now, Logger logger) {
            return new RaftCore(config, hardState, log, now, new SplittableRandom(), logger);
        }

        @Override
        public UUID newUuid() {
            return UUID.randomUUID();
        }

        @Override
        public boolean warmsUp() {
            return false;
        }

        @Override
        public boolean await(CompletableFuture<?> future, long nanos) throws InterruptedException {
            return waits.await(future, nanos);
        }

        @Override
        public String toString() {
            return "group " + group + " of node " + nodeId;
        }
    }

    /** Runs its tasks one at a time, in order, on a shared pool. */
    private static final class SerialExecutor extends AbstractExecutorService {
        private final Executor pool;
        private final Map<String, String> mdc;
        private final Consumer<Thread> onThread;
        private final Object lock = new Object();
        private final ArrayDeque<Runnable> tasks = new ArrayDeque<>();   // guarded by lock
        private boolean running;                                         // guarded by lock
        private boolean shutdown;                                        // guarded by lock

        SerialExecutor(Executor pool, Map<String, String> mdc, Consumer<Thread> onThread) {
            this.pool = pool;
            this.mdc = mdc;
            this.onThread = onThread;
        }

        @Override
        public void execute(Runnable task) {
            synchronized (lock) {
                if (shutdown) {
                    throw new RejectedExecutionException("shut down");
                }
                tasks.add(task);
                if (!running) {
                    running = true;
                    hand();
                }
            }
        }

        private void hand() {   // holds lock, running is true
            try {
                pool.execute(() -> withMdc(mdc, this::drain));
            } catch (RejectedExecutionException e) {
                running = false;
                tasks.clear();
                lock.notifyAll();
                throw e;
            }
        }

        private void drain() {
            onThread.accept(Thread.currentThread());
            try {
                for (int n = 0; n < BATCH; n++) {
                    Runnable task;
                    synchronized (lock) {
                        task = tasks.poll();
                        if (task == null) {
                            running = false;
                            lock.notifyAll();
                            return;
                        }
                    }
                    try {
                        task.run();
                    } catch (RuntimeException | Error e) {
                        LOG.warn("a task of a shared serial executor failed", e);
                    }
                }
            } finally {
                onThread.accept(null);
            }
            synchronized (lock) {
                if (tasks.isEmpty()) {
                    running = false;
                    lock.notifyAll();
                } else {
                    try {
                        hand();   // give the pool thread back; the rest runs as a new pool task
                    } catch (RejectedExecutionException e) {
                        LOG.warn("a shared pool was shut down with tasks of a serial executor queued; dropped them");
                    }
                }
            }
        }

        @Override
        public void shutdown() {
            synchronized (lock) {
                shutdown = true;
                lock.notifyAll();
            }
        }

        @Override
        public List<Runnable> shutdownNow() {
            synchronized (lock) {
                shutdown = true;
                List<Runnable> left = new ArrayList<>(tasks);
                tasks.clear();
                lock.notifyAll();
                return left;
            }
        }

        @Override
        public boolean isShutdown() {
            synchronized (lock) {
                return shutdown;
            }
        }

        @Override
        public boolean isTerminated() {
            synchronized (lock) {
                return shutdown && !running && tasks.isEmpty();
            }
        }

        @Override
        public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
            long deadline = System.nanoTime() + unit.toNanos(timeout);
            synchronized (lock) {
                while (!(shutdown && !running && tasks.isEmpty())) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        return false;
                    }
                    TimeUnit.NANOSECONDS.timedWait(lock, left);
                }
                return true;
            }
        }
    }

    /** One group's timer on the shared timer thread: only {@code schedule(Runnable, ...)} and shutdown. */
    private final class TimerView extends AbstractExecutorService implements ScheduledExecutorService {
        private final Map<String, String> mdc;
        private final Set<ScheduledFuture<?>> pending = ConcurrentHashMap.newKeySet();
        private volatile boolean shutdown;

        TimerView(Map<String, String> mdc) {
            this.mdc = mdc;
        }

        @Override
        public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
            if (shutdown) {
                throw new RejectedExecutionException("shut down");
            }
            CompletableFuture<ScheduledFuture<?>> self = new CompletableFuture<>();
            ScheduledFuture<?> f = timer.schedule(() -> {
                try {
                    if (!shutdown) {
                        withMdc(mdc, command);
                    }
                } finally {
                    self.thenAccept(pending::remove);
                }
            }, delay, unit);
            pending.add(f);
            self.complete(f);
            return f;
        }

        @Override
        public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
            throw new UnsupportedOperationException("only schedule(Runnable, ...) is supported");
        }

        @Override
        public ScheduledFuture<?> scheduleAtFixedRate(Runnable command, long initialDelay, long period, TimeUnit unit) {
            throw new UnsupportedOperationException("only schedule(Runnable, ...) is supported");
        }

        @Override
        public ScheduledFuture<?> scheduleWithFixedDelay(Runnable command, long initialDelay, long delay,
                                                         TimeUnit unit) {
            throw new UnsupportedOperationException("only schedule(Runnable, ...) is supported");
        }

        @Override
        public void execute(Runnable command) {
            schedule(command, 0, TimeUnit.NANOSECONDS);
        }

        @Override
        public void shutdown() {
            shutdown = true;
        }

        @Override
        public List<Runnable> shutdownNow() {
            shutdown = true;
            for (ScheduledFuture<?> f : pending) {
                f.cancel(false);
            }
            pending.clear();
            return List.of();
        }

        @Override
        public boolean isShutdown() {
            return shutdown;
        }

        @Override
        public boolean isTerminated() {
            return shutdown;
        }

        @Override
        public boolean awaitTermination(long timeout, TimeUnit unit) {
            return shutdown;
        }
    }

    /**
     * Steps a group's loop on the shared loop threads: when a task is queued ({@link #wake}), or
     * when the deadline the last step returned passes (on the shared timer).
     */
    private final class PooledDriver implements LoopDriver {
        private final Map<String, String> mdc;
        private final AtomicBoolean scheduled = new AtomicBoolean();
        private volatile boolean dirty;
        private volatile NodeLoop loop;
        private volatile Thread runner;
        private volatile boolean alive;
        private ScheduledFuture<?> deadline;   // guarded by this
        private long deadlineAt;               // guarded by this; the loop's wakeAt() the deadline is for

        PooledDriver(Map<String, String> mdc) {
            this.mdc = mdc;
        }

        @Override
        public void start(NodeLoop l) {
            loop = l;
            alive = true;
            wake();
        }

        @Override
        public void wake() {
            dirty = true;
            if (loop != null && alive && scheduled.compareAndSet(false, true)) {
                try {
                    loops.execute(() -> withMdc(mdc, this::step));
                } catch (RejectedExecutionException e) {
                    scheduled.set(false);
                    alive = false;
                }
            }
        }

        /**
         * One step of the loop, then its next wake-up. The deadline is set while this step still
         * counts as scheduled, so no other step of the same loop can run in between: a step begun
         * by a wake-up meanwhile would otherwise set its (earlier) deadline first and have it
         * replaced by this one's older, later one. A wake-up that arrives meanwhile only marks
         * the loop dirty; it is acted on once {@code scheduled} is cleared.
         */
        private void step() {
            dirty = false;
            runner = Thread.currentThread();
            long next;
            try {
                next = loop.step();
            } finally {
                runner = null;
            }
            if (next < 0) {
                alive = false;
                cancelDeadline();
                scheduled.set(false);
                return;
            }
            if (next > 0 && !dirty) {
                setDeadline(next, loop.wakeAt());
            }
            scheduled.set(false);
            if (next == 0 || dirty) {
                wake();
            }
        }

        private synchronized void setDeadline(long next, long at) {
            if (deadline != null && deadlineAt == at && !deadline.isDone()) {
                return;   // already set for that moment (cancelling and setting it again costs the timer's lock twice)
            }
            if (deadline != null) {
                deadline.cancel(false);
            }
            try {
                deadline = timer.schedule(this::wake, next, TimeUnit.NANOSECONDS);
                deadlineAt = at;
            } catch (RejectedExecutionException e) {
                deadline = null;
            }
        }

        private synchronized void cancelDeadline() {
            if (deadline != null) {
                deadline.cancel(false);
                deadline = null;
            }
        }

        @Override
        public void interrupt() {
            // a shared loop thread is never interrupted: the loop stops at its next step
        }

        @Override
        public boolean inLoop() {
            return Thread.currentThread() == runner;
        }

        @Override
        public boolean isAlive() {
            return alive;
        }
    }
}
