package io.haraft.storage;

import io.haraft.core.HardState;
import io.haraft.core.log.Entry;
import java.io.IOException;
import java.io.OutputStream;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Durable state of one Raft node: its hard state (term and vote), its log, and its latest
 * snapshot.
 *
 * <h2>Log shape</h2>
 * The log holds the entries {@link #firstIndex()} .. {@link #lastIndex()} (empty when
 * {@code lastIndex() == firstIndex() - 1}). Everything up to {@code firstIndex() - 1} is covered by
 * the latest snapshot: {@code firstIndex() == snapshot.lastIndex() + 1}, or 1 without a snapshot,
 * and {@link #term(long) term(firstIndex() - 1)} is the snapshot's last term (0 without one).
 *
 * <h2>Writes and durability</h2>
 * {@link #persist} applies writes in call order. Reads reflect every {@code persist} call that has
 * returned, durable or not; durability is signalled by the returned future only. When the future
 * completes normally, the hard state and entries of that call <em>and of every earlier call</em>
 * are durable (they survive a crash or power loss). Messages that depend on them may be sent only
 * then. Concurrent calls share fsyncs (group commit). Futures complete in call order, on a thread of
 * the store (not the caller's; for the file store, its writer thread, so the next fsync waits for
 * them): dependent stages should be short or use an {@code *Async} variant. If a write or an
 * fsync fails, that future and every later one complete exceptionally with a
 * {@link StorageException}, and the store refuses further writes: the node must restart.
 *
 * <h2>Threads and blocking</h2>
 * Every method is thread-safe. Reads ({@code hardState}, {@code firstIndex}, {@code lastIndex},
 * {@code term}, {@code entries}, {@code latestSnapshot}) do not wait for fsyncs; {@code entries}
 * may read from disk. {@code persist} does not wait for the fsync of its own data, but it may block
 * briefly for the write system call, and for one fsync when it truncates entries or starts a new
 * log segment. {@link #writeSnapshot} blocks until the snapshot is durable. {@link #close} waits
 * for pending writes to become durable.
 *
 * <h2>Example</h2>
 * <pre>{@code
 * RaftStorage store = FileRaftStorage.open(dataDir);
 * store.persist(new HardState(3, "n2"), List.of(Entry.noop(8, 3)))
 *      .thenRun(() -> sendMessages());            // only after the batch is durable
 * }</pre>
 */
public interface RaftStorage extends AutoCloseable {
    /** The latest hard state passed to {@link #persist}, or {@link HardState#INITIAL}. */
    HardState hardState();

    /** Index of the first entry held; {@code latestSnapshot index + 1}, or 1 without a snapshot. */
    long firstIndex();

    /** Index of the last entry, or {@code firstIndex() - 1} if the log is empty. */
    long lastIndex();

    /**
     * Term of the entry at {@code index}, for {@code firstIndex() - 1 <= index <= lastIndex()}; the
     * index just below the log is the snapshot's last index (term 0 for index 0).
     *
     * @throws IndexOutOfBoundsException outside that range (below it: compacted into the snapshot)
     */
    long term(long index);

    /**
     * Entries {@code from} .. {@code toExclusive - 1}, stopping before the entry that would take the
     * total payload size above {@code maxBytes}, but always at least one entry if
     * {@code from < toExclusive}.
     *
     * @throws IndexOutOfBoundsException unless {@code firstIndex() <= from <= toExclusive <= lastIndex() + 1}
     * @throws StorageCorruptedException if the data read back fails its checksum
     */
    List<Entry> entries(long from, long toExclusive, long maxBytes);

    /**
     * Persists a batch: first the hard state (if non-null), then the entries. The entries must
     * have consecutive indexes; if the first one is {@code <= lastIndex()}, the log is first
     * truncated from that index (the suffix is discarded), then the entries are appended. The first
     * index must be {@code >= firstIndex()} and {@code <= lastIndex() + 1}. An empty batch is a
     * barrier: its future completes once everything before it is durable.
     *
     * @return completes when this batch and every earlier one are durable
     * @throws IllegalArgumentException if the entries do not fit the log as described
     * @throws IllegalStateException    if the store is closed or has failed
     */
    CompletableFuture<Void> persist(HardState hardStateOrNull, List<Entry> entries);

    /**
     * Stores a snapshot written by {@code writer} as a stream, durably, then compacts the log: the
     * entries up to {@code meta.lastIndex()} are dropped (whole files are deleted where possible).
     * If the log does not contain {@code meta.lastIndex()} with {@code meta.lastTerm()} (a
     * follower receiving a leader's snapshot), the whole log is discarded and the next entry to
     * persist is {@code meta.lastIndex() + 1}. Blocks until the snapshot is durable; the previous
     * snapshot is deleted. May run concurrently with {@link #persist}.
     *
     * @throws IllegalArgumentException if {@code meta.lastIndex()} is below the latest snapshot's
     * @throws IOException              if {@code writer} fails or the snapshot cannot be written;
     *                                  the store then keeps its previous snapshot
     */
    default Snapshot writeSnapshot(SnapshotMeta meta, IoConsumer<OutputStream> writer) throws IOException {
        try (SnapshotWriter w = beginSnapshot(meta)) {
            writer.accept(new OutputStream() {
                @Override
                public void write(int b) throws IOException {
                    w.write(new byte[] {(byte) b}, 0, 1);
                }

                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    w.write(b, off, len);
                }
            });
            return w.commit();
        }
    }

    /**
     * Starts writing a snapshot piece by piece, e.g. as a follower receives it in chunks from the
     * leader; {@link SnapshotWriter#commit()} then behaves as {@link #writeSnapshot} does.
     * Several snapshots may be in progress at once; committing one older than the installed
     * snapshot fails.
     *
     * @throws IllegalArgumentException if {@code meta.lastIndex()} is below the latest snapshot's
     * @throws IOException              if the temporary file cannot be created
     */
    SnapshotWriter beginSnapshot(SnapshotMeta meta) throws IOException;

    /** The latest durable snapshot, if any. */
    Optional<Snapshot> latestSnapshot();

    /**
     * The identity of the cluster incarnation this store belongs to, once recorded (see
     * {@link #recordClusterUuid}); empty before, or for a store that keeps none (the default).
     */
    default Optional<java.util.UUID> clusterUuid() {
        return Optional.empty();
    }

    /**
     * Records, durably before it returns, the identity of the cluster incarnation this store
     * belongs to; a no-op if it is the recorded one. It never changes once recorded. The default
     * keeps nothing.
     *
     * @throws StorageIdentityException if another one is recorded: the store belongs to another
     *                                  cluster (with the same name, perhaps)
     * @throws StorageException         on an I/O error
     */
    default void recordClusterUuid(java.util.UUID uuid) {
    }

    /**
     * Waits until every pending write is durable, stops the writer thread and releases the data
     * directory. Idempotent. Pending futures complete before this returns.
     */
    @Override
    void close();

    /**
     * Reports every group-commit round from now on to {@code observer} (replacing an earlier
     * one). The default does nothing: a store without fsyncs has nothing to report.
     */
    default void observeSyncs(SyncObserver observer) {
    }
}
