package io.haraft.storage;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * A store worker whose steps run as tasks on a shared executor ({@link StoreDriver#onExecutor}).
 * At most one task of a worker is queued or running; it steps the worker until it finds nothing to
 * do, and looks again if it was woken meanwhile, so no wake is lost. If the executor refuses the
 * task (it is shut down), the waking thread does the work itself, so that nothing waits forever.
 */
final class ExecutorBackground implements StoreDriver.Background {
    private static final Logger LOG = LoggerFactory.getLogger(FileRaftStorage.class);

    private final Executor workers;
    private final String role;
    private final Path dir;
    private final Map<String, String> mdc;
    private final StoreDriver.Worker worker;
    private final Object lock = new Object();
    private boolean scheduled;   // guarded by lock: a task is queued or running
    private boolean again;       // guarded by lock: woken while the task ran
    private boolean joined;      // guarded by lock: the store closes; its caller does what is left
    private volatile boolean refusedWarned;

    ExecutorBackground(Executor workers, String role, Path dir, Map<String, String> mdc, StoreDriver.Worker worker) {
        this.workers = workers;
        this.role = role;
        this.dir = dir;
        this.mdc = mdc;
        this.worker = worker;
    }

    @Override
    public void start() {
        wake(); // work submitted before the start
    }

    @Override
    public void wake() {
        synchronized (lock) {
            if (joined) {
                return;
            }
            if (scheduled) {
                again = true;
                return;
            }
            scheduled = true;
        }
        try {
            workers.execute(() -> DataDir.withMdc(mdc, this::drain));
        } catch (RejectedExecutionException e) {
            if (!refusedWarned) {
                refusedWarned = true;
                LOG.warn("{} of {}: the shared storage workers are shut down; doing the store's work on the"
                        + " calling thread instead (close the groups before the node's shared threads)", role, dir);
            }
            drain(); // still marked scheduled: a wake meanwhile is picked up by this drain, never run twice
        }
    }

    private void drain() {
        boolean ended = false;
        try {
            while (true) {
                while (worker.step()) {
                    // until it finds nothing to do
                }
                synchronized (lock) {
                    if (!again) {
                        scheduled = false;   // in the same block as the check: a later wake queues a new task
                        lock.notifyAll();
                        ended = true;
                        return;
                    }
                    again = false;
                }
            }
        } catch (RuntimeException | Error e) {
            LOG.error("{} of {} failed", role, dir, e);
            throw e;
        } finally {
            if (!ended) {
                synchronized (lock) {
                    scheduled = false;
                    again = false;
                    lock.notifyAll();
                }
            }
        }
    }

    @Override
    public boolean join() {
        boolean interrupted = false;
        synchronized (lock) {
            joined = true;
            while (scheduled) {
                try {
                    lock.wait();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        while (worker.step()) {
            // what is left after a stop (or what a refused task did not do), on the caller's thread
        }
        return interrupted;
    }
}
