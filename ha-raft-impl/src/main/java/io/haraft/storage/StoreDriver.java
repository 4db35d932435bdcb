package io.haraft.storage;

import java.nio.file.Path;
import java.util.Map;

/**
 * Runs the background work of a {@link FileRaftStorage} (the group-commit writer and the spare
 * segment's preallocation). {@link #THREADS}, what every store opened through the public API uses,
 * gives each worker its own daemon thread, which waits for work and runs it. A deterministic
 * simulator gives none: it runs a worker's {@link Worker#step} as one of its own scheduled events
 * after each {@link Background#wake}, so that a store's whole life replays from a seed.
 *
 * <p>The store's code is the same either way: a worker's thread loop and its step share the body
 * of one unit of work.
 */
interface StoreDriver {
    /** One daemon thread per worker, named {@code <role>[<directory name>]}, with the opener's MDC. */
    StoreDriver THREADS = (role, dir, mdc, worker) -> new Background() {
        private final Thread thread = DataDir.storeThread(role, dir, mdc, worker::runLoop);

        @Override
        public void start() {
            thread.start();
        }

        @Override
        public void wake() {
            // the thread waits on the worker's own condition, which the worker signals
        }

        @Override
        public boolean join() {
            boolean interrupted = false;
            while (thread.isAlive()) {
                try {
                    thread.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            return interrupted;
        }
    };

    /**
     * Runs each worker's steps as short tasks on {@code workers}, an executor shared by many stores
     * (the groups of one node), so that stores add no threads of their own. A worker's steps never
     * run at once: a wake while its task runs makes the task look for work again before it ends.
     * Callers may wait for a worker's work (a write waits for its group-commit round): the executor
     * must not be one whose threads wait for stores.
     */
    static StoreDriver onExecutor(java.util.concurrent.Executor workers) {
        java.util.Objects.requireNonNull(workers, "workers");
        return (role, dir, mdc, worker) -> new ExecutorBackground(workers, role, dir, mdc, worker);
    }

    /** What a store gives its driver: the body of a worker, as a thread loop and as single steps. */
    interface Worker {
        /** The whole life of the worker on its own thread: waits for work, does it, until stopped. */
        void runLoop();

        /** One unit of work if there is any, without waiting: whether it did one. */
        boolean step();
    }

    /** A worker as its driver runs it. */
    interface Background {
        /** Starts the worker. */
        void start();

        /** There is new work (a thread was signalled by the worker already; a scheduler schedules a step). */
        void wake();

        /**
         * Waits until the worker, asked to stop, has done its remaining work and ended (a driver
         * without threads does that work on the caller's thread); returns whether the caller was
         * interrupted meanwhile.
         */
        boolean join();
    }

    /** Creates (does not start) the background runner of {@code worker}. */
    Background background(String role, Path dir, Map<String, String> mdc, Worker worker);
}
