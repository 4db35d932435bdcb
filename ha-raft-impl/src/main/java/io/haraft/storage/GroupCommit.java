package io.haraft.storage;

import io.haraft.core.HardState;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The group commit of a {@link FileRaftStorage}: one writer thread that makes durable everything
 * written so far and completes the futures of the writes it covered.
 *
 * <p><b>Guarantees.</b> A round writes out the records buffered in the newest segment, then forces
 * every segment written to since the last round (one {@code fsync} each), the directory when a
 * segment was started, and the hard state file (one {@code fdatasync}, written in place) when it
 * changed; then it records a started segment in the manifest and completes, in submission order,
 * every future submitted before the round began. Writes that arrive while a round runs share the
 * next one. Once a round fails, the store has failed: that round's futures and every later one
 * complete exceptionally with the same {@link StorageException}, and no file is forced again.
 * Handles given to {@link #closeLater} are closed by the writer after its next round, so that a
 * file is never closed while it is being forced.
 *
 * <p><b>Threads.</b> Thread-safe. {@link #submit} must be called under the store's write lock,
 * after the batch was buffered: the writer takes that lock to start a round, so a round covers
 * exactly the batches submitted before it. Its own lock is taken after the store's lock, never
 * before it, and is never held during I/O. The writer thread is named
 * {@code haraft-storage-writer[<directory name>]} and logs with the MDC of the thread that opened
 * the store; the {@link SyncObserver} is called on it.
 */
final class GroupCommit {
    private static final Logger LOG = LoggerFactory.getLogger(FileRaftStorage.class);

    private final Path dir;
    private final FileIO io;
    private final HardStateFile hardStateFile;
    private final ManifestKeeper manifest;
    /** The store's write lock, which guards {@link #segments}. */
    private final Lock logLock;
    private final List<Segment> segments;

    // Guarded by lock.
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition work = lock.newCondition();
    private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
    private Set<FileIO.Handle> dirty = new LinkedHashSet<>();
    private List<FileIO.Handle> toClose = new ArrayList<>();
    private boolean dirDirty;
    private HardState pendingHardState;
    private int pendingEntries;                 // entries written since the last round
    private long submittedSeq;
    private long durableSeq;
    private boolean stopping;

    private volatile StorageException failure;
    private volatile long rounds;
    private volatile SyncObserver observer;
    private final Thread writer;                       // null when the rounds run on shared workers
    private final Executor workers;                    // null when the writer is a thread of its own
    private final Map<String, String> mdc;
    private boolean scheduled;                         // guarded by lock: a round task is queued or running
    private final CompletableFuture<Void> finished = new CompletableFuture<>();

    private record Waiter(long seq, CompletableFuture<Void> future) {
    }

    /**
     * @param logLock  the store's write lock
     * @param segments the store's segments, read and written out by the writer only under {@code logLock}
     * @param mdc      the MDC the writer thread logs with, or null
     */
    GroupCommit(Path dir, FileIO io, HardStateFile hardStateFile, ManifestKeeper manifest, Lock logLock,
                List<Segment> segments, Map<String, String> mdc) {
        this(dir, io, hardStateFile, manifest, logLock, segments, mdc, null);
    }

    /**
     * @param workers where the rounds run, as tasks that end when nothing is left to do (shared by
     *                the stores of many groups), or null for a writer thread of this store's own
     */
    GroupCommit(Path dir, FileIO io, HardStateFile hardStateFile, ManifestKeeper manifest, Lock logLock,
                List<Segment> segments, Map<String, String> mdc, Executor workers) {
        this.dir = dir;
        this.io = io;
        this.hardStateFile = hardStateFile;
        this.manifest = manifest;
        this.logLock = logLock;
        this.segments = segments;
        this.workers = workers;
        this.mdc = mdc;
        this.writer = workers == null ? DataDir.storeThread("haraft-storage-writer", dir, mdc, this::writerLoop) : null;
    }

    void start() {
        if (writer != null) {
            writer.start();
        }
    }

    /** There is work (or a stop): wakes the writer thread, or queues a round task on the workers. Holds lock. */
    private void signalWork() {
        work.signalAll();
        if (workers != null && !scheduled) {
            scheduled = true;
            try {
                workers.execute(() -> DataDir.withMdc(mdc, this::writerLoop));
            } catch (RejectedExecutionException e) {
                scheduled = false;
                fail(new StorageException("cannot write the log in " + dir + ": the shared storage workers are"
                        + " shut down", e));
                finished.complete(null);
            }
        }
    }

    /**
     * Queues {@code future} to complete once the batch just buffered is durable.
     *
     * @param touched       the segment files the batch wrote to
     * @param hardStateOrNull the hard state to write in place, or null if it did not change
     * @param entries       how many entries the batch holds (for the {@link SyncObserver})
     */
    void submit(CompletableFuture<Void> future, Set<FileIO.Handle> touched, HardState hardStateOrNull, int entries) {
        lock.lock();
        try {
            long seq = ++submittedSeq;
            pendingEntries += entries;
            waiters.add(new Waiter(seq, future));
            dirty.addAll(touched);
            if (hardStateOrNull != null) {
                pendingHardState = hardStateOrNull;
            }
            signalWork();
        } finally {
            lock.unlock();
        }
    }

    /** A segment was started: the next round also forces the directory and records it in the manifest. */
    void segmentStarted() {
        lock.lock();
        try {
            dirDirty = true;
        } finally {
            lock.unlock();
        }
    }

    /** Closes {@code h} (a deleted segment's) after the next round, and forces it no more. */
    void closeLater(FileIO.Handle h) {
        lock.lock();
        try {
            toClose.add(h);
            dirty.remove(h);
        } finally {
            lock.unlock();
        }
    }

    /** The failure that stopped the store, or null while it works. */
    StorageException failure() {
        return failure;
    }

    /** Records the store's first failure (logged at ERROR); later ones are ignored. */
    void fail(StorageException e) {
        if (failure == null) {
            failure = e;
            LOG.error("Storage in {} failed; refusing further writes", dir, e);
        }
    }

    /** Number of successful rounds so far. */
    long rounds() {
        return rounds;
    }

    void observe(SyncObserver o) {
        this.observer = o;
    }

    /** Asks the writer to finish the rounds submitted so far and stop; see {@link #join}. */
    void stop() {
        lock.lock();
        try {
            stopping = true;
            signalWork();
        } finally {
            lock.unlock();
        }
    }

    /** Waits for the writer to stop, uninterruptibly; returns whether the caller was interrupted meanwhile. */
    boolean join() {
        boolean interrupted = false;
        if (writer == null) {
            while (true) {
                try {
                    finished.get();
                    return interrupted;
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (java.util.concurrent.ExecutionException e) {
                    return interrupted;   // never completed exceptionally
                }
            }
        }
        while (writer.isAlive()) {
            try {
                writer.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        return interrupted;
    }

    private void writerLoop() {
        while (true) {
            long target;
            List<FileIO.Handle> handles;
            List<FileIO.Handle> closing;
            boolean syncDir;
            HardState hs;
            int batch;
            long generation;
            long newestSegment;
            long end;
            lock.lock();
            try {
                while (durableSeq == submittedSeq && !stopping && toClose.isEmpty()) {
                    if (workers != null) {
                        scheduled = false;   // the task ends; the next submit queues another
                        return;
                    }
                    work.awaitUninterruptibly();
                }
                if (durableSeq == submittedSeq && stopping && toClose.isEmpty()) {
                    scheduled = false;
                    finished.complete(null);
                    return;
                }
            } finally {
                lock.unlock();
            }
            logLock.lock();
            try {
                lock.lock();
                try {
                    target = submittedSeq;
                    handles = new ArrayList<>(dirty);
                    dirty = new LinkedHashSet<>();
                    closing = toClose;
                    toClose = new ArrayList<>();
                    syncDir = dirDirty;
                    dirDirty = false;
                    hs = pendingHardState;
                    pendingHardState = null;
                    batch = pendingEntries;
                    pendingEntries = 0;
                } finally {
                    lock.unlock();
                }
                generation = manifest.generation();
                newestSegment = segments.isEmpty() ? 0 : segments.get(segments.size() - 1).base;
                end = SegmentLog.sealedEnd(segments);
                // Only the last segment can hold buffered records (a roll writes them out).
                if (!segments.isEmpty() && failure == null) {
                    try {
                        segments.get(segments.size() - 1).flush();
                    } catch (IOException | RuntimeException e) {
                        fail(e instanceof IOException x ? DataDir.ioFailure("cannot write the log in " + dir, dir, x)
                                : new StorageException("cannot write the log in " + dir + ": " + e.getMessage(), e));
                    }
                }
            } finally {
                logLock.unlock();
            }
            StorageException error = failure;
            if (error == null) {
                try {
                    long started = System.nanoTime();
                    for (FileIO.Handle h : handles) {
                        h.force();
                    }
                    if (syncDir) {
                        io.syncDirectory(dir);
                    }
                    if (hs != null) {
                        hardStateFile.write(hs);
                    }
                    if (syncDir) {
                        // A segment was started: record it (and the log end) now that it is durable.
                        manifest.raise(generation, newestSegment, end);
                    }
                    rounds++;
                    observeSync(System.nanoTime() - started, batch);
                } catch (IOException | RuntimeException e) {
                    String what = "fsync failed in " + dir + "; data not known to be durable, the node must restart";
                    error = e instanceof IOException x ? DataDir.ioFailure(what, dir, x)
                            : new StorageException(what + ": " + e.getMessage(), e);
                    fail(error);
                }
            }
            for (FileIO.Handle h : closing) {
                try {
                    h.close();
                } catch (IOException e) {
                    LOG.debug("closing a deleted segment failed", e);
                }
            }
            complete(target, error);
        }
    }

    /** Completes the futures up to {@code target}, or all of them if the round failed. */
    private void complete(long target, StorageException error) {
        List<Waiter> done = new ArrayList<>();
        lock.lock();
        try {
            if (error == null) {
                durableSeq = target;
                while (!waiters.isEmpty() && waiters.peekFirst().seq() <= target) {
                    done.add(waiters.pollFirst());
                }
            } else {
                durableSeq = submittedSeq;
                done.addAll(waiters);
                waiters.clear();
            }
            work.signalAll();
        } finally {
            lock.unlock();
        }
        for (Waiter w : done) {
            if (error == null) {
                w.future().complete(null);
            } else {
                w.future().completeExceptionally(error);
            }
        }
    }

    private void observeSync(long nanos, int entries) {
        SyncObserver o = observer;
        if (o != null) {
            try {
                o.synced(nanos, entries);
            } catch (RuntimeException e) {
                LOG.debug("the sync observer failed", e);
            }
        }
    }
}
