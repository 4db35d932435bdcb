package io.haraft.core;

import io.haraft.core.log.Entry;
import io.haraft.core.read.ReadState;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Work the core hands to the runtime, and the ordering contract that keeps it safe.
 *
 * <p>The runtime processes a {@code Ready} in this order:
 * <ol>
 *   <li>if {@code clusterUuid} is not {@code null}, record it durably (it was learnt from
 *       committed state, see {@link ClusterIdentity}), before anything below can compact the entry
 *       that carries it, and check connections against it from now on;</li>
 *   <li>make durable, in this order: {@code hardState} (if not {@code null}); the
 *       {@code snapshotChunks}, in order, into the snapshot being received (a chunk at offset 0
 *       starts a new one, discarding any partial one; the chunks need to be durable only once
 *       the snapshot is installed, see step 3); then, if {@code installSnapshot} is not
 *       {@code null}, make that received snapshot the store's base: if the store's log holds an
 *       entry with the snapshot's index and term, drop the log up to and including it and keep the
 *       rest, otherwise drop the whole log (the same rule {@link io.haraft.core.log.RaftLog#installSnapshot}
 *       applies); then {@code entries}. If the first entry's index is at or below the store's last
 *       index, the store first drops its suffix from that index (the leader overwrote a
 *       conflicting tail);</li>
 *   <li>hand {@code events} (leadership changes) to the application, in order. A
 *       {@code Revoked} must be in effect (the leadership invalid) before the next step: a
 *       leadership transfer's TimeoutNow is among the messages, and the new leader must not be
 *       elected while the old one still believes it leads;</li>
 *   <li>only then send {@code messages}: votes and acknowledgements in them promise that the
 *       state above is on disk, with one exception. The answer to a snapshot chunk that does not
 *       complete the snapshot ({@link Message.InstallSnapshotResponse} with {@code done} false)
 *       promises nothing about that chunk: the runtime may send it once the chunk is handed to
 *       the snapshot being received, buffered and unsynced (the file store syncs a received
 *       snapshot only when the install commits it). This is safe because nothing relies on such
 *       a chunk surviving a crash: the leader learns from the answer only which chunk to send
 *       next (and, as from any answer, that the follower is alive); a snapshot that was not
 *       installed is discarded at recovery (the store never commits a partial one); and a
 *       restarted core knows no transfer in progress, so it answers the leader's next chunk
 *       with offset 0, and the leader starts over from byte 0 (as it does when a transfer gets
 *       no answer for an election timeout). The answer that completes the snapshot
 *       ({@code done} true) is sent only once the install in step 1 is durable: the leader
 *       counts it as the follower holding the log up to the snapshot's index;</li>
 *   <li>if {@code installSnapshot} is not {@code null}, restore the state machine from that
 *       snapshot; then apply {@code committed} to the state machine, in order (they follow the
 *       snapshot's index);</li>
 *   <li>call {@link RaftCore#advance(Ready, long)} with this same object.</li>
 * </ol>
 * {@code snapshotRequests} do not depend on durability: the runtime may serve them at any time
 * after {@link RaftCore#ready()}, before or after {@code advance}, by reading the named chunk of
 * its snapshot and calling {@link RaftCore#snapshotChunk} with it and the configuration recorded
 * with that snapshot, or by calling
 * {@link RaftCore#snapshotUnavailable} if it no longer has that snapshot. A request that is never
 * answered is retried by the core after an election timeout.
 *
 * <p>Answers to read requests ({@code reads}) depend on nothing durable either: take them with
 * {@link RaftCore#takeReadStates()} after any input, or handle them with the {@code Ready}.
 *
 * <p>Messages that depend on nothing durable (heartbeats and their answers, the leader's appends,
 * pre-votes, a candidate's vote requests) can be taken earlier with
 * {@link RaftCore#takeUrgentMessages()} and sent at once. An answer to a heartbeat that promises
 * more leader stickiness than this node's disk records is the exception: it stays among
 * {@code messages}, after the {@code hardState} that records the promise (see {@link HardState}).
 * The core keeps accepting input between {@link RaftCore#ready()} and {@code advance}, but hands
 * out no new {@code Ready} until {@code advance} is called. A crash at any point loses nothing
 * that was promised, because nothing was promised before it was durable (the answer to a partial
 * snapshot chunk promises nothing, see above).
 *
 * @param hardState        the new term/vote/promised stickiness to persist, or {@code null} if unchanged
 * @param entries          entries to persist (may overwrite a suffix, see above); all come after
 *                         {@code installSnapshot}'s index
 * @param messages         messages to send after persisting
 * @param committed        entries now known committed, to apply in order
 * @param events           leadership changes, to deliver in order
 * @param reads            answers to {@link RaftCore#readIndex} and {@link RaftCore#leaseRead}
 *                         requests not taken earlier with {@link RaftCore#takeReadStates()}: a read
 *                         may be served once the state machine has applied {@link ReadState#index()}.
 *                         They depend on nothing durable and may be handled at any step
 * @param snapshotChunks   chunks of a snapshot this follower receives, to persist in order
 * @param installSnapshot  the snapshot just received completely, to make the store's base and to
 *                         restore the state machine from; {@code null} if none
 * @param snapshotRequests chunks of this leader's snapshot the runtime is asked to read
 * @param membership       the latest configuration, if it changed since the last {@code Ready}
 *                         (an entry appended or truncated, a snapshot installed); {@code null} if
 *                         not. It is in effect in the core already; the runtime updates what
 *                         depends on it (peer addresses, status) and stops the node once
 *                         {@link RaftCore#isRemoved()}. CONFIG entries among {@code committed} are not
 *                         applied to the state machine.
 * @param clusterUuid      the cluster identity, if this node learnt it since the last {@code Ready}
 *                         (index 1 committed, or a snapshot installed); {@code null} if not
 */
public record Ready(HardState hardState, List<Entry> entries, List<Message> messages,
                    List<Entry> committed, List<LeadershipEvent> events, List<ReadState> reads,
                    List<SnapshotChunk> snapshotChunks, SnapshotPoint installSnapshot,
                    List<SnapshotRequest> snapshotRequests, io.haraft.core.quorum.Membership membership,
                    java.util.UUID clusterUuid) {
    public Ready {
        entries = List.copyOf(entries);
        messages = List.copyOf(messages);
        committed = List.copyOf(committed);
        events = List.copyOf(events);
        reads = List.copyOf(reads);
        snapshotChunks = List.copyOf(snapshotChunks);
        snapshotRequests = List.copyOf(snapshotRequests);
    }

    /**
     * A snapshot's position: it holds the state after applying every entry up to {@code index},
     * whose term is {@code term}. Immutable ({@link io.haraft.core.quorum.Membership} is too).
     *
     * @param index      the last log index the snapshot covers (at least 1)
     * @param term       the term of the entry at {@code index}
     * @param membership the configuration in force at {@code index}, or {@code null} if the sender
     *                   did not know it (the node then uses the latest configuration in its log)
     */
    public record SnapshotPoint(long index, long term, io.haraft.core.quorum.Membership membership) {
        /** A point without a known configuration. */
        public SnapshotPoint(long index, long term) {
            this(index, term, null);
        }
    }

    /**
     * One chunk of a snapshot received from the leader: bytes {@code [offset, offset + data.length)}
     * of the snapshot at ({@code index}, {@code term}); {@code last} if they end it. Chunks of one
     * snapshot arrive in order and contiguous; offset 0 starts a new transfer. Immutable in effect:
     * {@code data} is copied on the way in and out, so neither side can change the other's bytes.
     * Equality compares the bytes.
     *
     * <p>{@code membership} is the configuration the leader sent with this chunk (in force at
     * {@code index}), {@code null} if it sent none. The store records the one of the chunk at offset
     * 0 with the snapshot it begins: each chunk carries its own, so that a Ready holding the starts
     * of two transfers (a delayed chunk of an older snapshot, then the restarted transfer of a newer
     * one) records each snapshot's own configuration.
     */
    public record SnapshotChunk(long index, long term, long offset, byte[] data, boolean last,
                                io.haraft.core.quorum.Membership membership) {
        public SnapshotChunk {
            data = data.clone();
        }

        /** A chunk sent without a configuration. */
        public SnapshotChunk(long index, long term, long offset, byte[] data, boolean last) {
            this(index, term, offset, data, last, null);
        }

        /** A copy of the chunk's bytes. */
        @Override
        public byte[] data() {
            return data.clone();
        }

        /** The chunk's length in bytes, without copying. */
        public int size() {
            return data.length;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof SnapshotChunk c && c.index == index && c.term == term && c.offset == offset
                    && c.last == last && Arrays.equals(c.data, data) && Objects.equals(c.membership, membership);
        }

        @Override
        public int hashCode() {
            return Objects.hash(index, term, offset, last, membership) * 31 + Arrays.hashCode(data);
        }

        @Override
        public String toString() {
            return "SnapshotChunk[" + index + "@" + term + ", offset=" + offset + ", " + data.length + "B"
                    + (last ? ", last" : "") + (membership == null ? "" : ", " + membership) + "]";
        }
    }

    /**
     * The leader asks the runtime for the chunk of its snapshot at ({@code index}, {@code term})
     * that starts at byte {@code offset}, to send to {@code peer}. The runtime chooses the chunk's
     * length (at least one byte unless the snapshot ends at {@code offset}). Immutable. At most one
     * request per peer is outstanding; an unanswered one is asked again after an election timeout,
     * so answering late or twice is harmless (a stale answer is ignored).
     *
     * @param peer   the follower the chunk is for
     * @param index  the last log index of the snapshot asked for
     * @param term   the term at {@code index}; with {@code index}, identifies the snapshot
     * @param offset the first byte of the chunk within the snapshot
     */
    public record SnapshotRequest(String peer, long index, long term, long offset) { }

    /** Whether there is nothing to persist (apart from {@code clusterUuid}, recorded on its own). */
    public boolean nothingToPersist() {
        return hardState == null && entries.isEmpty() && snapshotChunks.isEmpty() && installSnapshot == null;
    }
}
