package io.haraft.runtime;

import io.haraft.core.HardState;
import io.haraft.core.log.Entry;
import io.haraft.storage.IoConsumer;
import io.haraft.storage.RaftStorage;
import io.haraft.storage.Snapshot;
import io.haraft.storage.SnapshotMeta;
import io.haraft.storage.SnapshotWriter;

import java.io.IOException;
import java.io.OutputStream;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * A {@link LogStore} over the durable {@link RaftStorage} (segmented write-ahead log with group
 * commit) and its snapshots. Thread-safety and durability are the store's: {@link #persist}
 * completes when the batch is on disk, and a snapshot is durable and checksummed when
 * {@link #writeSnapshot} or {@link SnapshotWriter#commit()} returns.
 */
class StorageLogStore implements LogStore {
    private final RaftStorage storage;

    StorageLogStore(RaftStorage storage) {
        this.storage = storage;
    }

    @Override
    public HardState hardState() {
        return storage.hardState();
    }

    @Override
    public List<Entry> entries() {
        if (storage.lastIndex() < storage.firstIndex()) {
            return List.of();
        }
        return storage.entries(storage.firstIndex(), storage.lastIndex() + 1, Long.MAX_VALUE);
    }

    @Override
    public long snapshotIndex() {
        return storage.firstIndex() - 1;
    }

    @Override
    public long snapshotTerm() {
        long i = storage.firstIndex() - 1;
        return i == 0 ? 0 : storage.term(i);
    }

    @Override
    public CompletableFuture<Void> persist(HardState hardState, List<Entry> entries) {
        try {
            return storage.persist(hardState, entries);
        } catch (IllegalArgumentException e) {
            // a batch that does not fit the log is a bug upstream: fail the write, do not throw on the loop
            return CompletableFuture.failedFuture(new IllegalStateException(e.getMessage(), e));
        }
    }

    @Override
    public Optional<Snapshot> latestSnapshot() {
        return storage.latestSnapshot();
    }

    @Override
    public Snapshot writeSnapshot(SnapshotMeta meta, IoConsumer<OutputStream> writer) throws IOException {
        return storage.writeSnapshot(meta, writer);
    }

    @Override
    public SnapshotWriter beginSnapshot(SnapshotMeta meta) throws IOException {
        return storage.beginSnapshot(meta);
    }

    @Override
    public Optional<java.util.UUID> clusterUuid() {
        return storage.clusterUuid();
    }

    @Override
    public void recordClusterUuid(java.util.UUID uuid) {
        storage.recordClusterUuid(uuid);
    }

    @Override
    public void observeSyncs(io.haraft.storage.SyncObserver observer) {
        storage.observeSyncs(observer);
    }

    @Override
    public void close() {
        storage.close();
    }
}
