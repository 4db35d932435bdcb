package io.haraft.runtime;

import io.haraft.core.HardState;
import io.haraft.core.log.Entry;
import io.haraft.storage.IoConsumer;
import io.haraft.storage.MemoryRaftStorage;
import io.haraft.storage.Snapshot;
import io.haraft.storage.SnapshotMeta;
import io.haraft.storage.SnapshotWriter;

import java.io.IOException;
import java.io.OutputStream;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * A {@link LogStore} kept in memory: "durable" for as long as this object lives.
 *
 * <p><b>Guarantees.</b> Thread-safe. {@link #persist} applies the write at once and returns a
 * completed future (or a failed one if the entries would leave a gap or overwrite the snapshot).
 * Snapshots are kept as byte arrays with their CRC32C and compact the log as the file store does.
 * {@link #close()} keeps the contents, so a test can restart a node on the same instance and see
 * its term, vote, snapshot and log again, as after a restart with an intact disk.
 *
 * <pre>{@code
 * InMemoryLogStore disk = new InMemoryLogStore();
 * RaftNodeImpl node = new RaftNodeImpl(config, listener, stateMachine, transports, c -> disk,
 *         MonotonicClock.system());
 * }</pre>
 *
 * <p><b>Limits.</b> Not durable across process restarts: for tests and development only.
 */
public final class InMemoryLogStore implements LogStore {

    private final MemoryRaftStorage storage = MemoryRaftStorage.create();

    /** Creates an empty store, as on a node that never ran. */
    public InMemoryLogStore() {
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

    /** The index of the last stored entry (or of the snapshot if the log after it is empty), 0 if none. */
    public long lastIndex() {
        return storage.lastIndex();
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
    public CompletableFuture<Void> persist(HardState newHardState, List<Entry> newEntries) {
        Objects.requireNonNull(newEntries, "entries");
        try {
            return storage.persist(newHardState, newEntries);
        } catch (IllegalArgumentException e) {
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
    public SnapshotWriter beginSnapshot(SnapshotMeta meta) {
        return storage.beginSnapshot(meta);
    }

    /** Does nothing: the contents stay available for a restart on the same instance. */
    @Override
    public void close() {
    }
}
