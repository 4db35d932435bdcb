package io.haraft.runtime;

import io.haraft.core.CoreConfig;
import io.haraft.core.HardState;
import io.haraft.core.RaftCore;
import io.haraft.core.log.RaftLog;
import org.slf4j.Logger;

import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * Where a node's runtime takes its time, its threads, its randomness and its Raft core from: the
 * runtime reads no other clock, starts no other thread and draws no other random number.
 *
 * <p>The running library uses {@link #system(MonotonicClock)}: the given clock, daemon threads named
 * {@code haraft-<role>-<nodeId>} with the MDC keys {@code cluster} and {@code node}, and fresh
 * random seeds. A simulator supplies a virtual clock per node, runs every task of every node from
 * one deterministic event queue on one thread, and seeds the randomness from its own seed, so that
 * one seed replays the whole history of every node (loop, apply, callbacks, lease watchdog,
 * snapshot transfer) bit for bit. The runtime's code is the same in both.
 *
 * <p><b>Guarantees expected of an implementation.</b> Executors from {@link #serialExecutor} run
 * their tasks one at a time in submission order; {@link #timer} runs a task no earlier than its
 * delay on {@link #clock()}; {@link #await} returns once the future is done or the timeout on
 * {@link #clock()} has passed. Implementations must be thread-safe.
 */
interface NodeEnvironment {

    /** The node's monotonic clock (every timeout and lease is measured on it). */
    MonotonicClock clock();

    /**
     * A new executor that runs tasks one at a time, in order (the apply, callback and snapshot
     * threads).
     *
     * @param onThread told of each thread the executor starts (for "am I on this thread" checks); a
     *                 simulator may start none; an executor over a shared pool (a node hosting
     *                 groups) tells the pool thread while one of its tasks runs and {@code null}
     *                 between tasks
     */
    ExecutorService serialExecutor(String role, String clusterId, String nodeId, Consumer<Thread> onThread);

    /** A new single-threaded timer (the lease watchdog); only {@code schedule(Runnable, ...)} is used. */
    ScheduledExecutorService timer(String role, String clusterId, String nodeId);

    /** Runs {@code task} once, apart from the caller (a node stopping itself after a fatal error). */
    void runApart(String role, String clusterId, String nodeId, Runnable task);

    /** Drives the node's Raft loop. */
    LoopDriver loopDriver(String clusterId, String nodeId);

    /**
     * The node's Raft core, its randomness (election timeouts) drawn from this environment.
     */
    RaftCore newCore(CoreConfig config, HardState hardState, RaftLog log, long now, Logger logger);

    /** A fresh identifier (the cluster identity a first leader proposes). */
    UUID newUuid();

    /** Whether the node warms the JIT up at start with elections of its own (a simulator has no use for it). */
    boolean warmsUp();

    /**
     * Waits for {@code future} for at most {@code nanos} on {@link #clock()}.
     *
     * @return whether it completed (normally or not) in time
     */
    boolean await(CompletableFuture<?> future, long nanos) throws InterruptedException;

    /** Planted runtime bugs: {@link RuntimeBugs#NONE} except in the simulator's own self-tests. */
    default RuntimeBugs plantedBugs() {
        return RuntimeBugs.NONE;
    }

    /** Real clock, real daemon threads. */
    static NodeEnvironment system(MonotonicClock clock) {
        return new SystemEnvironment(clock);
    }

    /** {@link NodeEnvironment#system}. */
    final class SystemEnvironment implements NodeEnvironment {
        private final MonotonicClock clock;

        SystemEnvironment(MonotonicClock clock) {
            this.clock = clock;
        }

        @Override
        public MonotonicClock clock() {
            return clock;
        }

        @Override
        public ExecutorService serialExecutor(String role, String clusterId, String nodeId, Consumer<Thread> onThread) {
            return Executors.newSingleThreadExecutor(r -> {
                Thread t = Threads.factory("haraft-" + role + "-" + nodeId, clusterId, nodeId).newThread(r);
                onThread.accept(t);
                return t;
            });
        }

        @Override
        public ScheduledExecutorService timer(String role, String clusterId, String nodeId) {
            return Executors.newSingleThreadScheduledExecutor(
                    Threads.factory("haraft-" + role + "-" + nodeId, clusterId, nodeId));
        }

        @Override
        public void runApart(String role, String clusterId, String nodeId, Runnable task) {
            Threads.factory("haraft-" + role + "-" + nodeId, clusterId, nodeId).newThread(task).start();
        }

        @Override
        public LoopDriver loopDriver(String clusterId, String nodeId) {
            return new LoopDriver.OwnThread(clusterId, nodeId);
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
            return true;
        }

        @Override
        public boolean await(CompletableFuture<?> future, long nanos) throws InterruptedException {
            try {
                future.get(nanos, TimeUnit.NANOSECONDS);
            } catch (ExecutionException | java.util.concurrent.CancellationException e) {
                // completed, not normally: the caller looks at the future itself
            } catch (TimeoutException e) {
                return false;
            }
            return true;
        }
    }
}
