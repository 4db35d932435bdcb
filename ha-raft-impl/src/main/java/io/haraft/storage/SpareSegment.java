package io.haraft.storage;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps one zero-filled, fsynced segment file ({@value DataDir#SPARE_FILE}) ready in the background,
 * so that starting a log segment is a rename. A segment started while no spare is ready grows with
 * its entries instead (nothing waits for the zeros), until the spare is ready. Never into the last
 * free space: a spare is written only if at least the reserve stays free after it (else a WARN,
 * once until space is back); a spare that fails part-way (a full disk) is deleted at once, and
 * recovery deletes any left by a crash.
 */
final class SpareSegment {
    private static final Logger LOG = LoggerFactory.getLogger(SpareSegment.class);
    /** The background preallocation forces its zeros to disk in chunks of this size. */
    private static final long CHUNK = 1L << 20;

    private final Path dir;
    private final Path file;
    private final FileIO io;
    private final long segmentSize;
    private final long reserve;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private volatile boolean ready;
    private boolean wanted;
    private boolean stop;
    private volatile boolean lowSpaceWarned;
    private final StoreDriver.Background worker;

    SpareSegment(Path dir, FileIO io, long segmentSize, long reserve, Map<String, String> mdc, StoreDriver driver) {
        this.dir = dir;
        this.file = dir.resolve(DataDir.SPARE_FILE);
        this.io = io;
        this.segmentSize = segmentSize;
        this.reserve = reserve;
        this.worker = driver.background("haraft-storage-prealloc", dir, mdc, new StoreDriver.Worker() {
            @Override
            public void runLoop() {
                loop();
            }

            @Override
            public boolean step() {
                return prepareIfWanted();
            }
        });
    }

    void start() {
        worker.start();
        request();
    }

    /** Asks for a spare, unless one is ready. */
    void request() {
        lock.lock();
        try {
            if (!ready) {
                wanted = true;
                changed.signalAll();
            }
        } finally {
            lock.unlock();
        }
        worker.wake();
    }

    /**
     * Takes the spare if one is ready (the caller renames {@link #file()} into place) and returns
     * whether it did. Never waits for one being written: the caller then starts a segment that grows
     * with its entries, and leaves it for the spare once {@link #ready()} says one is there.
     */
    boolean take() {
        lock.lock();
        try {
            boolean took = ready;
            ready = false;
            return took;
        } finally {
            lock.unlock();
        }
    }

    /** Whether a spare is ready to take; a hint read without the lock (only {@link #take} decides). */
    boolean ready() {
        return ready;
    }

    Path file() {
        return file;
    }

    /**
     * Whether writing {@code bytes} more leaves the reserve free; if not, logs a WARN (once until
     * there is room again).
     */
    boolean roomFor(long bytes) {
        long free;
        try {
            free = io.usableSpace(dir);
        } catch (IOException e) {
            LOG.debug("cannot read the free space of {}", dir, e);
            return true;
        }
        if (free - bytes >= reserve) {
            lowSpaceWarned = false;
            return true;
        }
        if (!lowSpaceWarned) {
            lowSpaceWarned = true;
            LOG.warn("Not preallocating log segments in {}: {} bytes are free, and a {}-byte segment would leave less"
                    + " than the {} bytes kept free. Segments now grow as entries are appended (each fsync also"
                    + " commits the file size, which is slower). Free space on this file system; nothing in the data"
                    + " directory needs to be deleted by hand.", dir, free, bytes, reserve);
        }
        return false;
    }

    /** Stops the background thread; the spare file stays for the next open to delete. */
    void stop() {
        lock.lock();
        try {
            stop = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        if (worker.join()) {
            Thread.currentThread().interrupt();
        }
    }

    private void loop() {
        while (true) {
            lock.lock();
            try {
                while (!wanted && !stop) {
                    changed.awaitUninterruptibly();
                }
                if (stop) {
                    return;
                }
            } finally {
                lock.unlock();
            }
            prepare();
        }
    }

    /** Writes the spare if one is wanted and the store runs, without waiting (no thread of its own): whether it did. */
    private boolean prepareIfWanted() {
        lock.lock();
        try {
            if (!wanted || stop) {
                return false;
            }
        } finally {
            lock.unlock();
        }
        prepare();
        return true;
    }

    private void prepare() {
        boolean ok = roomFor(segmentSize) && write();
        lock.lock();
        try {
            ready = ok;
            wanted = false;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private boolean write() {
        try {
            try (FileIO.Handle h = io.open(file, true)) {
                h.truncate(0);
                // Forced chunk by chunk: an fsync of the log issued meanwhile then waits behind at
                // most one chunk of zeros, not behind the whole segment's dirty pages (measured on
                // a 2-core VM: 3 stores preallocating 64 MiB at once held log fsyncs for ~260 ms,
                // longer than a lease, since nothing is sent while a persist is in flight).
                for (long pos = 0; pos < segmentSize; pos += CHUNK) {
                    DataDir.zeroFill(h, pos, Math.min(segmentSize, pos + CHUNK));
                    h.force();
                }
            }
            return true;
        } catch (IOException | RuntimeException e) {
            LOG.warn("Could not preallocate the next log segment in {} ({}); deleted the partial file, the segment"
                    + " will be written when needed", dir, e.toString());
            try {
                io.delete(file);
            } catch (IOException | RuntimeException d) {
                LOG.warn("Could not delete the partial spare segment {}; the next start deletes it", file, d);
            }
            return false;
        }
    }
}
