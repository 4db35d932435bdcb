package io.haraft.storage;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.UnaryOperator;

/**
 * The manifest of an open store, and the two ways it changes while the store runs: lowered (in
 * the caller's thread, before a truncation or snapshot removes something it names; a compaction
 * lowers it in memory under the store's lock and writes it after, outside) and raised (by the
 * writer thread, once a round of fsyncs made a new segment durable).
 *
 * <p>Thread-safe. Two locks: {@code writing} is held across each write of the file, {@code lock}
 * only while the manifest in memory is read or changed, so that reading it (the writer thread
 * reads the generation at every round) never waits for a write. {@code writing} is taken before
 * {@code lock}, and both after the store's read-write lock, never before it. Every lowering bumps
 * a generation, so that a raise based on what the writer saw before it is dropped.
 */
final class ManifestKeeper {
    private final Path dir;
    private final FileIO io;
    private final ReentrantLock writing = new ReentrantLock();
    private final ReentrantLock lock = new ReentrantLock();
    private Manifest manifest;       // guarded by lock: what the file holds, or will once pending is written
    private long generation;         // guarded by lock
    /** The manifest in memory was changed (by {@link #lowerInMemory} or a {@link #raise}) and not written since. */
    private boolean pending;         // guarded by lock

    ManifestKeeper(Path dir, FileIO io, Manifest recovered) {
        this.dir = dir;
        this.io = io;
        this.manifest = recovered;
    }

    UUID storageId() {
        lock.lock();
        try {
            return manifest.storageId();
        } finally {
            lock.unlock();
        }
    }

    Optional<UUID> clusterUuid() {
        lock.lock();
        try {
            return Optional.ofNullable(manifest.clusterUuid());
        } finally {
            lock.unlock();
        }
    }

    /** See {@link FileRaftStorage#recordClusterUuid}. */
    void recordClusterUuid(UUID uuid) {
        Objects.requireNonNull(uuid, "uuid");
        try {
            underBothLocks(() -> {
                UUID recorded = manifest.clusterUuid();
                if (recorded != null && !uuid.equals(recorded)) {
                    throw new StorageIdentityException(dir, "Data directory " + dir + " belongs to cluster"
                            + " incarnation " + recorded + " (recorded in " + dir.resolve(DataDir.MANIFEST_FILE)
                            + "), not to " + uuid + ": it was created by another cluster, perhaps one with the same"
                            + " name. Give this node its own directory; for a node new to this cluster, an empty"
                            + " one. Nothing was changed in " + dir + ".");
                }
                if (recorded == null) {
                    replace(manifest.withClusterUuid(uuid));
                }
            });
        } catch (IOException e) {
            throw DataDir.ioFailure("cannot record the cluster identity in " + dir, dir, e);
        }
    }

    /** The generation now: pass it to {@link #raise}. */
    long generation() {
        lock.lock();
        try {
            return generation;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Rewrites the manifest before something it names goes away: {@code update} maps the recorded
     * manifest to the new one (written only if it differs, or if a lowering in memory is not
     * written yet). Bumps the generation in any case.
     */
    void lower(UnaryOperator<Manifest> update) throws IOException {
        underBothLocks(() -> {
            generation++;
            replace(update.apply(manifest));
        });
    }

    /**
     * Lowers the manifest as {@link #lower} does, but in memory only: the next write of the
     * manifest ({@link #makeDurable}, or any lowering or raise before it) makes it durable. Nothing
     * that the manifest on disk names may be deleted before then. Bumps the generation in any case.
     */
    void lowerInMemory(UnaryOperator<Manifest> update) {
        lock.lock();
        try {
            generation++;
            Manifest next = update.apply(manifest);
            if (!next.equals(manifest)) {
                manifest = next;
                pending = true;
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Makes the manifest in memory durable: returns once a change {@link #lowerInMemory} made is
     * written (by this thread, or by a lowering that wrote it first). Holds only {@code writing}
     * during a write, so the writer thread's rounds go on meanwhile.
     */
    void makeDurable() throws IOException {
        writePending(true);
    }

    /**
     * Records, after a group-commit round made them durable, the newest segment and the end of the
     * segments before it, as seen when the round started at {@code seenAt}; dropped if the manifest
     * was lowered since. Written at once, or, if another thread is writing the manifest now, by
     * that thread before it lets go: the writer thread never waits for another thread's write.
     */
    void raise(long seenAt, long lastSegmentBase, long sealedEnd) throws IOException {
        lock.lock();
        try {
            if (seenAt != generation) {
                return;
            }
            Manifest next = manifest.withFiles(manifest.snapshotIndex(), lastSegmentBase,
                    Math.max(sealedEnd, manifest.durableIndex()));
            if (next.equals(manifest)) {
                return;
            }
            manifest = next;
            pending = true;
        } finally {
            lock.unlock();
        }
        writePending(false);
    }

    /** A change of the manifest that may write it. */
    private interface Change {
        void run() throws IOException;
    }

    /**
     * Runs {@code change} holding both locks; after it succeeded, lets go of them as
     * {@link #releaseWriting} does.
     */
    private void underBothLocks(Change change) throws IOException {
        writing.lock();
        try {
            lock.lock();
            try {
                change.run();
            } finally {
                lock.unlock();
            }
        } catch (IOException | RuntimeException | Error e) {
            writing.unlock();
            throw e;
        }
        releaseWriting();
    }

    /**
     * Lets go of {@code writing} after a write that succeeded, then writes a change that a
     * {@link #raise} made meanwhile (it found {@code writing} taken and left its change to this
     * thread), unless another thread is writing now. (After a failed write the store fails, and
     * nothing more is written.)
     */
    private void releaseWriting() throws IOException {
        writing.unlock();
        writePending(false);
    }

    /**
     * Writes the manifest while a change in memory is not written. With {@code wait} false it
     * leaves that to the thread writing now, if there is one: that thread looks for changes again
     * after it let go of {@code writing}, so none is left unwritten.
     */
    private void writePending(boolean wait) throws IOException {
        boolean block = wait;
        while (true) {
            if (block) {
                writing.lock();
            } else if (!writing.tryLock()) {
                return;
            }
            try {
                while (true) {
                    Manifest m;
                    lock.lock();
                    try {
                        if (!pending) {
                            break;
                        }
                        m = manifest;
                    } finally {
                        lock.unlock();
                    }
                    m.write(io, dir);
                    lock.lock();
                    try {
                        pending = !manifest.equals(m);
                    } finally {
                        lock.unlock();
                    }
                }
            } finally {
                writing.unlock();
            }
            lock.lock();
            try {
                if (!pending) {
                    return;
                }
            } finally {
                lock.unlock();
            }
            block = false;   // changed after the last check: written here unless another thread writes now
        }
    }

    /** Holds both locks: writes {@code next} if it differs from the manifest, or if a lowering in memory is not written yet. */
    private void replace(Manifest next) throws IOException {
        if (!next.equals(manifest) || pending) {
            next.write(io, dir);
            manifest = next;
            pending = false;
        }
    }
}
