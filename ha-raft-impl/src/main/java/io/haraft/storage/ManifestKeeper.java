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
 * the caller's thread, before a truncation or snapshot removes something it names) and raised (by
 * the writer thread, once a round of fsyncs made a new segment durable).
 *
 * <p>Thread-safe. Its lock is taken after the store's read-write lock, never before it. Every
 * lowering bumps a generation, so that a raise based on what the writer saw before it is dropped.
 */
final class ManifestKeeper {
    private final Path dir;
    private final FileIO io;
    private final ReentrantLock lock = new ReentrantLock();
    private Manifest manifest;
    private long generation;

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
        lock.lock();
        try {
            UUID recorded = manifest.clusterUuid();
            if (uuid.equals(recorded)) {
                return;
            }
            if (recorded != null) {
                throw new StorageIdentityException(dir, "Data directory " + dir + " belongs to cluster incarnation "
                        + recorded + " (recorded in " + dir.resolve(DataDir.MANIFEST_FILE) + "), not to " + uuid
                        + ": it was created by another cluster, perhaps one with the same name. Give this node its"
                        + " own directory; for a node new to this cluster, an empty one. Nothing was changed in "
                        + dir + ".");
            }
            replace(manifest.withClusterUuid(uuid));
        } catch (IOException e) {
            throw DataDir.ioFailure("cannot record the cluster identity in " + dir, dir, e);
        } finally {
            lock.unlock();
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
     * manifest to the new one (written only if it differs). Bumps the generation in any case.
     */
    void lower(UnaryOperator<Manifest> update) throws IOException {
        lock.lock();
        try {
            generation++;
            replace(update.apply(manifest));
        } finally {
            lock.unlock();
        }
    }

    /**
     * Records, after a group-commit round made them durable, the newest segment and the end of the
     * segments before it, as seen when the round started at {@code seenAt}; dropped if the manifest
     * was lowered since.
     */
    void raise(long seenAt, long lastSegmentBase, long sealedEnd) throws IOException {
        lock.lock();
        try {
            if (seenAt == generation) {
                replace(manifest.withFiles(manifest.snapshotIndex(), lastSegmentBase,
                        Math.max(sealedEnd, manifest.durableIndex())));
            }
        } finally {
            lock.unlock();
        }
    }

    private void replace(Manifest next) throws IOException {
        if (!next.equals(manifest)) {
            next.write(io, dir);
            manifest = next;
        }
    }
}
