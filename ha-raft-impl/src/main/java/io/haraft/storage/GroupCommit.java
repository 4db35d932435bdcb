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
 * the store; the {@link SyncObserver} is called on it. The thread comes from the store's
 * {@link StoreDriver}; under a simulator's driver the rounds run as its scheduled steps instead.
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
    private final StoreDriver.Background writer;

    private record Waiter(long seq, CompletableFuture<Void> future) {
    }

    /** A round between its two halves: written out, not yet forced. */
    private record Round(long target, List<FileIO.Handle> handles, List<FileIO.Handle> closing, boolean syncDir,
                         HardState hs, int batch, long generation, long newestSegment, long end) {
    }

    /** Under a driver without threads: the round written out whose force is the next step. */
    private Round writtenOut;

    /**
     * @param logLock  the store's write lock
     * @param segments the store's segments, read and written out by the writer only under {@code logLock}
     * @param mdc      the MDC the writer thread logs with, or null
     * @param driver   what runs the writer: its own thread, or a simulator's steps
     */
    GroupCommit(Path dir, FileIO io, HardStateFile hardStateFile, ManifestKeeper manifest, Lock logLock,
                List<Segment> segments, Map<String, String> mdc, StoreDriver driver) {
        this.dir = dir;
        this.io = io;
        this.hardStateFile = hardStateFile;
        this.manifest = manifest;
        this.logLock = logLock;
        this.segments = segments;
        this.writer = driver.background("haraft-storage-writer", dir, mdc, new StoreDriver.Worker() {
            @Override
            public void runLoop() {
                writerLoop();
            }

            @Override
            public boolean step() {
                return roundIfAny();
            }
        });
    }

    void start() {
        writer.start();
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
            work.signal();
        } finally {
            lock.unlock();
        }
        writer.wake();
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
            work.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Waits for the writer to stop, uninterruptibly; returns whether the caller was interrupted meanwhile. */
    boolean join() {
        return writer.join();
    }

    /** Whether no round is due: everything submitted is durable and no handle waits to be closed. Under lock. */
    private boolean idle() {
        return durableSeq == submittedSeq && toClose.isEmpty() && writtenOut == null;
    }

    private void writerLoop() {
        while (true) {
            lock.lock();
            try {
                while (idle() && !stopping) {
                    work.awaitUninterruptibly();
                }
                if (idle() && stopping) {
                    return;
                }
            } finally {
                lock.unlock();
            }
            force(writeOut());
        }
    }

    /**
     * Half a round if one is due, without waiting (a driver without threads, whose steps take
     * time: a crash between the halves finds the round written out but not durable): whether it
     * did one.
     */
    private boolean roundIfAny() {
        Round r;
        lock.lock();
        try {
            if (idle()) {
                return false;
            }
            r = writtenOut;
            writtenOut = null;
        } finally {
            lock.unlock();
        }
        if (r != null) {
            force(r);
        } else {
            Round w = writeOut();
            lock.lock();
            try {
                writtenOut = w;
            } finally {
                lock.unlock();
            }
        }
        return true;
    }

    /** The first half of a round: takes what was submitted so far and writes out the buffered records. */
    private Round writeOut() {
        long target;
        List<FileIO.Handle> handles;
        List<FileIO.Handle> closing;
        boolean syncDir;
        HardState hs;
        int batch;
        long generation;
        long newestSegment;
        long end;
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
        return new Round(target, handles, closing, syncDir, hs, batch, generation, newestSegment, end);
    }

    /** The second half: forces what the round wrote, records a started segment, completes the round's futures. */
    private void force(Round r) {
        List<FileIO.Handle> handles = r.handles();
        boolean syncDir = r.syncDir();
        HardState hs = r.hs();
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
                    manifest.raise(r.generation(), r.newestSegment(), r.end());
                }
                rounds++;
                observeSync(System.nanoTime() - started, r.batch());
            } catch (IOException | RuntimeException e) {
                String what = "fsync failed in " + dir + "; data not known to be durable, the node must restart";
                error = e instanceof IOException x ? DataDir.ioFailure(what, dir, x)
                        : new StorageException(what + ": " + e.getMessage(), e);
                fail(error);
            }
        }
        for (FileIO.Handle h : r.closing()) {
            try {
                h.close();
            } catch (IOException e) {
                LOG.debug("closing a deleted segment failed", e);
            }
        }
        complete(r.target(), error);
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
