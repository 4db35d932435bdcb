package io.haraft.runtime;

import io.haraft.core.HardState;
import io.haraft.core.log.Entry;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * A {@link LogStore} kept in memory: "durable" for as long as this object lives.
 *
 * <p><b>Guarantees.</b> Thread-safe. {@link #persist} applies the write at once and returns a
 * completed future (or a failed one if the entries would leave a gap). {@link #close()} keeps the
 * contents, so a test can restart a node on the same instance and see its term, vote and log
 * again, as after a restart with an intact disk.
 *
 * <pre>{@code
 * InMemoryLogStore disk = new InMemoryLogStore();
 * RaftNodeImpl node = new RaftNodeImpl(config, listener, stateMachine, transports, c -> disk,
 *         MonotonicClock.system());
 * }</pre>
 *
 * <p><b>Limits.</b> Not durable across process restarts: for tests and development only. Nothing is
 * ever compacted.
 */
public final class InMemoryLogStore implements LogStore {

    private HardState hardState = HardState.INITIAL;   // guarded by this
    private final List<Entry> entries = new ArrayList<>(); // guarded by this; entries.get(i).index() == i + 1

    /** Creates an empty store, as on a node that never ran. */
    public InMemoryLogStore() {
    }

    @Override
    public synchronized HardState hardState() {
        return hardState;
    }

    @Override
    public synchronized List<Entry> entries() {
        return List.copyOf(entries);
    }

    /** The index of the last stored entry, 0 if none. */
    public synchronized long lastIndex() {
        return entries.size();
    }

    @Override
    public synchronized CompletableFuture<Void> persist(HardState newHardState, List<Entry> newEntries) {
        Objects.requireNonNull(newEntries, "entries");
        if (!newEntries.isEmpty()) {
            long first = newEntries.get(0).index();
            if (first > entries.size() + 1) {
                return CompletableFuture.failedFuture(new IllegalStateException("entries from index " + first
                        + " would leave a gap after the last stored index " + entries.size()));
            }
            for (int i = 1; i < newEntries.size(); i++) {
                if (newEntries.get(i).index() != first + i) {
                    return CompletableFuture.failedFuture(new IllegalStateException(
                            "entries to persist are not contiguous: " + newEntries));
                }
            }
        }
        if (newHardState != null) {
            hardState = newHardState;
        }
        if (!newEntries.isEmpty()) {
            int first = (int) newEntries.get(0).index();
            entries.subList(first - 1, entries.size()).clear();
            entries.addAll(newEntries);
        }
        return CompletableFuture.completedFuture(null);
    }

    /** Does nothing: the contents stay available for a restart on the same instance. */
    @Override
    public void close() {
    }
}
