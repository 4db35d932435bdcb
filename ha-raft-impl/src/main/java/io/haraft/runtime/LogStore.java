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

/**
 * What the node runtime needs from durable storage: the recovered state, asynchronous durable
 * appends, and snapshots (taken locally, served to lagging followers, received from the leader).
 * A thin adapter maps the storage module's {@code RaftStorage} onto it.
 *
 * <p><b>Contract.</b>
 * <ul>
 *   <li>{@link #hardState()}, {@link #entries()}, {@link #snapshotIndex()},
 *       {@link #snapshotTerm()} and {@link #latestSnapshot()} are called once, by the runtime's
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
 * <p><b>Contract: snapshots.</b> The snapshot methods block (they do file I/O and fsync) and are
 * never called on the Raft loop: {@link #writeSnapshot} runs on the apply thread (the state
 * machine streams its state into it), {@link #beginSnapshot} and the reads of
 * {@link #latestSnapshot()} on the runtime's snapshot thread. They may run concurrently with
 * {@link #persist} and with each other. The store keeps at least its latest snapshot; the log
 * then holds the entries after it, and {@link #snapshotIndex()}/{@link #snapshotTerm()} equal the
 * latest snapshot's {@link SnapshotMeta#lastIndex()}/{@link SnapshotMeta#lastTerm()}. Installing a
 * snapshot (by {@link #writeSnapshot} or {@link SnapshotWriter#commit()}) follows one rule: if the
 * log holds the snapshot's last entry (same index and term), the entries up to it are dropped and
 * the rest kept; otherwise the whole log is dropped and the next entry to persist follows the
 * snapshot. Installing a snapshot older than the latest one fails with
 * {@link IllegalArgumentException} and changes nothing.
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

    /** The latest durable snapshot, if any; its bytes can be read in chunks or as a stream. */
    Optional<Snapshot> latestSnapshot();

    /**
     * Stores the snapshot that {@code writer} streams, durably (with a checksum), and installs it
     * as the store's base (see the class documentation). Blocks until it is durable.
     *
     * @throws IllegalArgumentException if a snapshot beyond {@code meta.lastIndex()} is installed
     * @throws IOException              if {@code writer} or the store fails; the previous snapshot stays
     */
    Snapshot writeSnapshot(SnapshotMeta meta, IoConsumer<OutputStream> writer) throws IOException;

    /**
     * Starts receiving a snapshot piece by piece (a follower receiving the leader's snapshot in
     * chunks). Nothing is visible before {@link SnapshotWriter#commit()}, which makes it durable and
     * installs it as {@link #writeSnapshot} does; closing the writer without a commit discards it.
     *
     * @throws IllegalArgumentException if a snapshot beyond {@code meta.lastIndex()} is installed
     * @throws IOException              if the store cannot start it
     */
    SnapshotWriter beginSnapshot(SnapshotMeta meta) throws IOException;

    /**
     * The identity of the cluster incarnation recorded in this store (see
     * {@link io.haraft.core.ClusterIdentity}); empty until one was recorded, or if the store keeps
     * none (the default).
     */
    default Optional<java.util.UUID> clusterUuid() {
        return Optional.empty();
    }

    /**
     * Records, durably before it returns, the identity of the cluster incarnation; a no-op if it is
     * the recorded one already. Called on the Raft loop, once per node lifetime. The default keeps
     * nothing.
     *
     * @throws RuntimeException if the store recorded another one (its data belong to another cluster)
     *                          or cannot write it
     */
    default void recordClusterUuid(java.util.UUID uuid) {
    }

    /** Releases the store; never throws. */
    @Override
    void close();

    /**
     * Reports the duration and size of every group commit from now on to {@code observer} (see
     * {@link io.haraft.storage.SyncObserver}). Called once, by {@code start()}, after the store was
     * opened. The default does nothing: a store without fsyncs has nothing to report.
     */
    default void observeSyncs(io.haraft.storage.SyncObserver observer) {
    }
}
