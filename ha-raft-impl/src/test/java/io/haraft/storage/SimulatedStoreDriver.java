package io.haraft.storage;

import java.nio.file.Path;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * A {@link StoreDriver} for a deterministic simulator: no thread; each worker's step runs as an
 * event the simulator schedules, {@code delay} (drawn from its seed) after the worker was woken
 * (the group-commit writer's round: the time it waits and fsyncs; the preallocation: the time it
 * writes). A worker that did a step is stepped again until it finds nothing to do; one whose store
 * closes does its remaining work at once. Not thread-safe: for a simulator that runs every task on
 * one thread.
 */
public final class SimulatedStoreDriver implements StoreDriver {
    /** Schedules a task of the store's process {@code delayNanos} from now (dropped if the process crashes). */
    public interface Scheduler {
        void after(long delayNanos, Runnable task);
    }

    private final Scheduler scheduler;
    private final LongSupplier delay;

    private SimulatedStoreDriver(Scheduler scheduler, LongSupplier delay) {
        this.scheduler = scheduler;
        this.delay = delay;
    }

    /** Opens the production store in {@code dir}, its writer and preallocation run as {@code scheduler}'s events. */
    public static FileRaftStorage open(Path dir, FileRaftStorage.Options options, Scheduler scheduler,
                                       LongSupplier delayNanos) {
        return FileRaftStorage.open(dir, options, new SimulatedStoreDriver(scheduler, delayNanos));
    }

    @Override
    public Background background(String role, Path dir, Map<String, String> mdc, Worker worker) {
        return new Background() {
            private boolean scheduled;

            @Override
            public void start() {
                // nothing runs until there is work
            }

            @Override
            public void wake() {
                if (!scheduled) {
                    scheduled = true;
                    scheduler.after(delay.getAsLong(), this::run);
                }
            }

            private void run() {
                scheduled = false;
                if (worker.step()) {
                    wake();
                }
            }

            @Override
            public boolean join() {
                while (worker.step()) {
                    // the work submitted before the stop, at once
                }
                return false;
            }
        };
    }
}
