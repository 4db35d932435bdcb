package io.haraft.runtime;

import io.haraft.core.CoreConfig;
import io.haraft.core.HardState;
import io.haraft.core.RaftCore;
import io.haraft.core.log.RaftLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Delayed;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The {@link NodeEnvironment} of one simulated node: its {@link SimWorld.Host}'s clock, and
 * executors, timer and loop driver that run as events of the world (each task a few simulated
 * microseconds after it is queued, drawn from the seed), so that a node's whole runtime runs
 * deterministically. Faults: {@link #stallLoop} (the loop thread busy or descheduled while the
 * node's other threads run). Planted runtime bugs: {@link #watchdogLateNanos} (through the timer)
 * and {@link #revokedTwice} (through {@link RuntimeBugs}).
 */
public final class SimNodeEnvironment implements NodeEnvironment {
    private static final Logger LOG = LoggerFactory.getLogger(SimNodeEnvironment.class);

    /** Core factory: the production core, or one with planted bugs. */
    public interface CoreFactory {
        RaftCore newCore(CoreConfig config, HardState hardState, RaftLog log, long now, SplittableRandom random,
                         Logger logger);
    }

    private final SimWorld world;
    private final SimWorld.Host host;
    private final SplittableRandom random;
    private final long maxTaskDelayNanos;
    private final CoreFactory cores;
    private final int incarnation;
    /** Planted bug: the lease watchdog runs this much (real time) late. */
    long watchdogLateNanos;
    /** Planted bug: {@link RuntimeBugs#revokedTwice}. */
    boolean revokedTwice;
    private Driver driver;

    public SimNodeEnvironment(SimWorld world, SimWorld.Host host, long seed, long maxTaskDelayNanos,
                              CoreFactory cores) {
        this.world = world;
        this.host = host;
        this.random = new SplittableRandom(seed);
        this.maxTaskDelayNanos = maxTaskDelayNanos;
        this.cores = cores;
        this.incarnation = host.incarnation();
    }

    /** Runs {@code task} as this process's work {@code delay} real nanoseconds from now. */
    private void after(long delay, Runnable task) {
        world.at(world.now() + delay, host, incarnation, task);
    }

    private long taskDelay() {
        return 1_000 + random.nextLong(Math.max(1, maxTaskDelayNanos));
    }

    @Override
    public MonotonicClock clock() {
        return host::clock;
    }

    @Override
    public ExecutorService serialExecutor(String role, String clusterId, String nodeId, Consumer<Thread> onThread) {
        return new SerialExecutor();
    }

    @Override
    public ScheduledExecutorService timer(String role, String clusterId, String nodeId) {
        return new Timer(role.equals("lease-watchdog") ? watchdogLateNanos : 0);
    }

    @Override
    public void runApart(String role, String clusterId, String nodeId, Runnable task) {
        after(taskDelay(), task);
    }

    @Override
    public LoopDriver loopDriver(String clusterId, String nodeId) {
        driver = new Driver();
        return driver;
    }

    @Override
    public RuntimeBugs plantedBugs() {
        return new RuntimeBugs(revokedTwice);
    }

    /** The loop runs no step until real time {@code until} (its other threads go on). */
    public void stallLoop(long until) {
        if (driver != null) {
            driver.stallUntil = Math.max(driver.stallUntil, until);
        }
    }

    @Override
    public RaftCore newCore(CoreConfig config, HardState hardState, RaftLog log, long now, Logger logger) {
        return cores.newCore(config, hardState, log, now, random.split(), logger);
    }

    @Override
    public UUID newUuid() {
        return new UUID(random.nextLong(), random.nextLong());
    }

    @Override
    public boolean warmsUp() {
        return false;
    }

    @Override
    public boolean await(CompletableFuture<?> future, long nanos) {
        // the world goes on around the waiting task, until it is done, the wait is over, or the
        // process waiting has crashed (then it never returns: nothing after it matters)
        long real = host.toReal(nanos);
        int incarnation = host.incarnation();
        world.runWhile(() -> !future.isDone() && host.incarnation() == incarnation,
                real > Long.MAX_VALUE - world.now() ? Long.MAX_VALUE : world.now() + real);
        return future.isDone();
    }

    /** What the simulated executors share: a shutdown flag. */
    private abstract static class Stoppable extends AbstractExecutorService {
        boolean shutdown;

        @Override
        public void shutdown() {
            shutdown = true;
        }

        @Override
        public boolean isShutdown() {
            return shutdown;
        }
    }

    /** Runs its tasks one at a time, in order, each as an event of the host. */
    private final class SerialExecutor extends Stoppable {
        private final ArrayDeque<Runnable> tasks = new ArrayDeque<>();
        private boolean scheduled;

        @Override
        public void execute(Runnable task) {
            if (shutdown) {
                throw new RejectedExecutionException("shut down");
            }
            tasks.add(task);
            scheduleNext();
        }

        private void scheduleNext() {
            if (!scheduled && !tasks.isEmpty()) {
                scheduled = true;
                after(taskDelay(), this::runOne);
            }
        }

        private void runOne() {
            scheduled = false;
            Runnable task = tasks.poll();
            if (task == null) {
                return;
            }
            try {
                task.run();
            } catch (RuntimeException | Error e) {
                LOG.warn("a simulated executor's task failed", e);
            }
            scheduleNext();
        }

        @Override
        public List<Runnable> shutdownNow() {
            shutdown = true;
            List<Runnable> left = new ArrayList<>(tasks);
            tasks.clear();
            return left;
        }

        @Override
        public boolean isTerminated() {
            return shutdown && tasks.isEmpty();
        }

        @Override
        public boolean awaitTermination(long timeout, TimeUnit unit) {
            world.runWhile(() -> !tasks.isEmpty(), world.now() + host.toReal(unit.toNanos(timeout)));
            return tasks.isEmpty();
        }
    }

    /** A timer whose tasks run as events of the host, on its clock (plus a planted lateness). */
    private final class Timer extends Stoppable implements ScheduledExecutorService {
        private final long lateNanos;

        Timer(long lateNanos) {
            this.lateNanos = lateNanos;
        }

        @Override
        public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
            if (shutdown) {
                throw new RejectedExecutionException("shut down");
            }
            Scheduled f = new Scheduled(command);
            after(host.toReal(unit.toNanos(delay)) + lateNanos, f::fire);
            return f;
        }

        @Override
        public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
            throw new UnsupportedOperationException();
        }

        @Override
        public ScheduledFuture<?> scheduleAtFixedRate(Runnable command, long initialDelay, long period, TimeUnit unit) {
            throw new UnsupportedOperationException();
        }

        @Override
        public ScheduledFuture<?> scheduleWithFixedDelay(Runnable command, long initialDelay, long delay,
                                                         TimeUnit unit) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void execute(Runnable command) {
            schedule(command, 0, TimeUnit.NANOSECONDS);
        }

        @Override
        public List<Runnable> shutdownNow() {
            shutdown = true;
            return List.of();
        }

        @Override
        public boolean isTerminated() {
            return shutdown;
        }

        @Override
        public boolean awaitTermination(long timeout, TimeUnit unit) {
            return shutdown;
        }

        private final class Scheduled extends CompletableFuture<Object> implements ScheduledFuture<Object> {
            private final Runnable command;

            Scheduled(Runnable command) {
                this.command = command;
            }

            void fire() {
                if (shutdown || isDone()) {
                    return;
                }
                try {
                    command.run();
                    complete(null);
                } catch (RuntimeException e) {
                    completeExceptionally(e);
                }
            }

            @Override
            public long getDelay(TimeUnit unit) {
                return 0;
            }

            @Override
            public int compareTo(Delayed o) {
                return 0;
            }
        }
    }

    /** Runs the loop's steps as events: soon after a task is posted, else at the core's next deadline. */
    private final class Driver implements LoopDriver {
        private NodeLoop loop;
        private long pendingAt = Long.MAX_VALUE;
        private long token;
        private boolean stepping;
        private long stallUntil;

        @Override
        public void start(NodeLoop l) {
            this.loop = l;
            scheduleAt(world.now() + taskDelay());
        }

        private void scheduleAt(long at) {
            if (pendingAt <= at) {
                return;
            }
            pendingAt = at;
            long mine = ++token;
            world.at(at, host, incarnation, () -> {
                if (mine == token) {
                    step();
                }
            });
        }

        private void step() {
            pendingAt = Long.MAX_VALUE;
            if (world.now() < stallUntil) {
                scheduleAt(stallUntil);
                return;
            }
            stepping = true;
            long next;
            try {
                next = loop.step();
            } finally {
                stepping = false;
            }
            if (next == 0) {
                scheduleAt(world.now() + taskDelay());
            } else if (next > 0) {
                scheduleAt(world.now() + host.toReal(next));
            }
        }

        @Override
        public void wake() {
            if (loop != null && !stepping) {
                scheduleAt(world.now() + taskDelay());
            }
        }

        @Override
        public void interrupt() {
        }

        @Override
        public boolean inLoop() {
            return stepping;
        }

        @Override
        public boolean isAlive() {
            return stepping;
        }
    }
}
