package io.haraft.runtime;

import io.haraft.core.HardState;
import io.haraft.core.log.Entry;
import io.haraft.storage.IoConsumer;
import io.haraft.storage.Snapshot;
import io.haraft.storage.SnapshotMeta;
import io.haraft.storage.SnapshotWriter;

import java.io.IOException;
import java.io.OutputStream;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/** A {@link LogStore} that forwards every call to another one; tests override what they change. */
class ForwardingLogStore implements LogStore {
    final LogStore inner;

    ForwardingLogStore(LogStore inner) {
        this.inner = inner;
    }

    @Override
    public HardState hardState() {
        return inner.hardState();
    }

    @Override
    public List<Entry> entries() {
        return inner.entries();
    }

    @Override
    public CompletableFuture<Void> persist(HardState hardState, List<Entry> entries) {
        return inner.persist(hardState, entries);
    }

    @Override
    public long snapshotIndex() {
        return inner.snapshotIndex();
    }

    @Override
    public long snapshotTerm() {
        return inner.snapshotTerm();
    }

    @Override
    public Optional<Snapshot> latestSnapshot() {
        return inner.latestSnapshot();
    }

    @Override
    public Snapshot writeSnapshot(SnapshotMeta meta, IoConsumer<OutputStream> writer) throws IOException {
        return inner.writeSnapshot(meta, writer);
    }

    @Override
    public SnapshotWriter beginSnapshot(SnapshotMeta meta) throws IOException {
        return inner.beginSnapshot(meta);
    }

    @Override
    public void close() {
        inner.close();
    }

    @Override
    public void observeSyncs(io.haraft.storage.SyncObserver observer) {
        inner.observeSyncs(observer);
    }
}
