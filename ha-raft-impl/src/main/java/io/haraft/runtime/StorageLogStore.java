package io.haraft.runtime;

import io.haraft.core.HardState;
import io.haraft.core.log.Entry;
import io.haraft.storage.RaftStorage;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A {@link LogStore} over the durable {@link RaftStorage} (segmented write-ahead log with group
 * commit). Thread-safety and durability are the store's: {@link #persist} completes when the
 * batch is on disk.
 */
final class StorageLogStore implements LogStore {
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
        return storage.persist(hardState, entries);
    }

    @Override
    public void close() {
        storage.close();
    }
}
