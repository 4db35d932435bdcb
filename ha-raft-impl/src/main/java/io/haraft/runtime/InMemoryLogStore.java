package io.haraft.runtime;

import io.haraft.storage.MemoryRaftStorage;


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
public final class InMemoryLogStore extends StorageLogStore {
    private final MemoryRaftStorage storage;

    /** Creates an empty store, as on a node that never ran. */
    public InMemoryLogStore() {
        this(MemoryRaftStorage.create());
    }

    private InMemoryLogStore(MemoryRaftStorage storage) {
        super(storage);
        this.storage = storage;
    }

    /** The index of the last stored entry (or of the snapshot if the log after it is empty), 0 if none. */
    public long lastIndex() {
        return storage.lastIndex();
    }

    /** Does nothing: the contents stay available for a restart on the same instance. */
    @Override
    public void close() {
    }
}
