package io.haraft.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The snapshot files of a {@link FileRaftStorage}: {@code snapshot-<last index>.snap}, written
 * first to a temporary file and renamed into place once complete and forced.
 *
 * <p><b>Guarantees.</b> At most one snapshot file is current; it only ever moves to a snapshot
 * that is not older. A snapshot is visible (and named by its final file name) only once its whole
 * content and trailer are durable and the rename is durable too; a crash before that leaves a
 * temporary file, which recovery deletes. The snapshot it replaces is deleted only after the
 * rename is durable, so that power lost in between leaves two snapshots, of which recovery keeps
 * the newer one and deletes the others ({@link #deleteSuperseded}).
 *
 * <p><b>Threads.</b> Not thread-safe on its own: {@link #current}, {@link #checkNotOlder},
 * {@link #makeCurrent} and {@link #deleteReplaced} are called under the store's lock (the write
 * lock for the last two); {@link #rename} by one install at a time, without it. {@link #begin} may
 * be called from any thread, without that lock: each writer writes its own temporary file.
 */
final class SnapshotStore {
    private static final Logger LOG = LoggerFactory.getLogger(FileRaftStorage.class);

    private final Path dir;
    private final FileIO io;
    private final AtomicLong writers = new AtomicLong();
    private FileSnapshot current;

    SnapshotStore(Path dir, FileIO io, FileSnapshot recovered) {
        this.dir = dir;
        this.io = io;
        this.current = recovered;
    }

    /**
     * Loads and verifies the newest of the snapshot files found at recovery ({@code indexes},
     * sorted); null if there is none.
     *
     * @throws StorageCorruptedException if it is damaged or its header names another index than its file name
     */
    static FileSnapshot loadNewest(FileIO io, Path dir, List<Long> indexes) throws IOException {
        if (indexes.isEmpty()) {
            return null;
        }
        long newest = indexes.get(indexes.size() - 1);
        FileSnapshot snapshot = FileSnapshot.load(io, DataDir.snapshotPath(dir, newest));
        if (snapshot.meta().lastIndex() != newest) {
            throw new StorageCorruptedException(snapshot.path, 8, "snapshot file name says index " + newest
                    + " but its header says " + snapshot.meta().lastIndex());
        }
        return snapshot;
    }

    /**
     * Deletes every snapshot file found at recovery but the newest (leftovers of a crash between
     * a rename and the deletion of the old file); returns whether it deleted any.
     */
    static boolean deleteSuperseded(FileIO io, Path dir, List<Long> indexes) throws IOException {
        if (indexes.size() < 2) {
            return false;
        }
        for (long old : indexes.subList(0, indexes.size() - 1)) {
            LOG.info("Removing superseded snapshot {}", DataDir.snapshotPath(dir, old));
            io.delete(DataDir.snapshotPath(dir, old));
        }
        return true;
    }

    /** The current snapshot, or null if there is none. */
    FileSnapshot current() {
        return current;
    }

    /** @throws IllegalArgumentException if {@code meta} is older than the current snapshot */
    void checkNotOlder(SnapshotMeta meta) {
        if (current != null && meta.lastIndex() < current.meta().lastIndex()) {
            throw new IllegalArgumentException("snapshot at index " + meta.lastIndex() + " is older than the stored one at "
                    + current.meta().lastIndex());
        }
    }

    /**
     * Starts writing the snapshot {@code meta} to a new temporary file, header first; once
     * committed, the writer hands the file to {@code installer}.
     */
    SnapshotWriter begin(SnapshotMeta meta, FileSnapshotWriter.Installer installer) throws IOException {
        Path tmp = dir.resolve(String.format("%s%020d-%d%s", DataDir.SNAPSHOT_PREFIX, meta.lastIndex(),
                writers.incrementAndGet(), DataDir.TMP_SUFFIX));
        byte[] header = Formats.encodeSnapshotHeader(meta);
        FileIO.Handle h = io.open(tmp, true);
        try {
            h.truncate(0);
            h.write(ByteBuffer.wrap(header), 0);
        } catch (IOException | RuntimeException e) {
            h.close();
            io.delete(tmp);
            throw e;
        }
        return new FileSnapshotWriter(io, meta, tmp, DataDir.snapshotPath(dir, meta.lastIndex()), h, header.length,
                installer);
    }

    /**
     * Renames the committed file {@code tmp} to {@code snap}'s path, durably; {@link #makeCurrent}
     * then makes it the current snapshot. Called by one install at a time, without the store's lock:
     * the file is not current yet, and recovery would take it as the newest.
     */
    void rename(FileSnapshot snap, Path tmp) throws IOException {
        io.rename(tmp, snap.path);
        io.syncDirectory(dir);
    }

    /**
     * Makes {@code snap} (renamed into place) the current snapshot; returns the one it replaced
     * (null if none), still on disk: see {@link #deleteReplaced}.
     */
    FileSnapshot makeCurrent(FileSnapshot snap) {
        FileSnapshot old = current;
        current = snap;
        return old;
    }

    /** Deletes {@code old}, the snapshot {@link #makeCurrent} replaced, unless it had the same file. */
    void deleteReplaced(FileSnapshot old) throws IOException {
        if (old != null && !old.path.equals(current.path)) {
            io.delete(old.path);
        }
    }
}
