package io.haraft.runtime;

import io.haraft.core.HardState;
import io.haraft.core.log.Entry;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * What the node runtime needs from durable storage: the recovered state, and asynchronous,
 * durable appends. A thin adapter maps the storage module's {@code RaftStorage} onto it.
 *
 * <p><b>Contract.</b>
 * <ul>
 *   <li>{@link #hardState()} and {@link #entries()} are called once, by the runtime's
 *       {@code start()}, before any {@link #persist}.</li>
 *   <li>{@link #persist} is called from the Raft loop thread and must not block it: it returns a
 *       future that completes (on any thread) once the hard state and the entries are durable, or
 *       fails if they could not be made durable (the node then stops). Calls are made in order;
 *       their futures must complete in the same order. A store may merge concurrent calls into
 *       one fsync (group commit).</li>
 *   <li>If the first entry's index is at or below the store's last index, the store first drops
 *       its entries from that index on (a leader overwrote a conflicting tail), then appends.
 *       A first index above {@code lastIndex + 1} is a bug of the caller: fail the future.</li>
 *   <li>{@link #close} releases resources; it is called once, after the last persist completed
 *       or was abandoned, and must not throw.</li>
 * </ul>
 *
 * <p><b>Limits.</b> The runtime does not take snapshots yet; a store that has compacted its log
 * reports where with {@link #snapshotIndex()} and {@link #snapshotTerm()}.
 */
public interface LogStore extends AutoCloseable {

    /** The durable term and vote; {@link HardState#INITIAL} for a node that never ran. */
    HardState hardState();

    /** Every durable entry, contiguous from {@code snapshotIndex() + 1}, for recovery. */
    List<Entry> entries();

    /** The index of the last entry compacted into a snapshot; 0 (the default) if none. */
    default long snapshotIndex() {
        return 0;
    }

    /** The term of the entry at {@link #snapshotIndex()}; 0 (the default) if none. */
    default long snapshotTerm() {
        return 0;
    }

    /**
     * Makes {@code hardState} (unless {@code null}) and {@code entries} durable.
     *
     * @param hardState the new term and vote, or {@code null} if unchanged
     * @param entries   entries to write, contiguous; possibly overwriting a suffix (see above)
     * @return completes when everything is durable
     */
    CompletableFuture<Void> persist(HardState hardState, List<Entry> entries);

    /** Releases the store; never throws. */
    @Override
    void close();
}
