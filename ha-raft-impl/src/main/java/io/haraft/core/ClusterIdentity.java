package io.haraft.core;

import io.haraft.core.log.Entry;

import java.util.UUID;

/**
 * The identity of a cluster incarnation: a random UUID chosen once, when the cluster is
 * bootstrapped, so that two clusters with the same cluster id and the same node ids still differ.
 *
 * <p><b>How it is chosen.</b> The runtime gives every core a random candidate at start
 * ({@link RaftCore#bootstrapIdentity}); the core itself draws no randomness for it. A leader whose
 * first entry of its term lands at index 1 (the log is empty: the cluster was never bootstrapped)
 * puts its candidate into the payload of that no-op entry (16 bytes, see {@link #entry}). Every
 * later leader finds index 1 taken and appends an empty no-op, as before.
 *
 * <p><b>When a node learns it.</b> Only once index 1 is <em>committed</em>: from the committed
 * entry at index 1 ({@link #of(Entry)}), or, for a node that receives the leader's snapshot
 * instead of that entry, from the identity the leader sends with the snapshot (the leader learnt
 * it the same way, from its committed index 1 or its own installed snapshot). Safety argument:
 * <ol>
 *   <li>An entry at index 1 that is not committed may still be replaced by another leader's
 *       (with another candidate). A committed entry never is (Raft's leader completeness), and
 *       every node that commits index 1 holds the same entry there (log matching). So every node
 *       of one cluster that learns an identity learns the same one, whichever way it learns it,
 *       and it never changes afterwards.</li>
 *   <li>A snapshot covers only committed entries, so its index is at or past 1 only after index 1
 *       committed: the leader that sends one knows the identity (unless index 1 was committed
 *       without a candidate, by a version that did not choose one: then nobody ever knows it).</li>
 *   <li>The runtime records the identity durably (in the data directory's manifest) in the
 *       {@link Ready} that reports it, before it applies or compacts anything of that Ready, so
 *       an entry at index 1 is never compacted away before the identity it carries is recorded.
 *       A restarted node is given the recorded identity and never learns another: a different
 *       one at index 1 (a log of another cluster) is ignored with an ERROR, and the store
 *       refuses to record it.</li>
 * </ol>
 * The transport then refuses every stream between two nodes that know different identities (a
 * data directory of another cluster with the same name), so such a node can neither vote nor
 * lead, nor replicate its log or snapshot onto this cluster's nodes. A node that knows none yet
 * (a new, empty directory) accepts streams and learns the identity through the log.
 *
 * <p>Stateless; all methods are thread-safe.
 */
public final class ClusterIdentity {
    /** Bytes of an identity in an entry's payload or a message. */
    public static final int BYTES = 16;

    private ClusterIdentity() {
    }

    /** The first entry of the first leader of an empty log, carrying {@code candidate}. */
    static Entry entry(long term, UUID candidate) {
        return Entry.of(1, term, Entry.Kind.NOOP, encode(candidate));
    }

    /**
     * The identity that {@code e} carries if it is the bootstrap entry (a no-op at index 1 with a
     * 16-byte payload); {@code null} otherwise (any other entry, or index 1 written by a version
     * that chose no identity). Meaningful only once {@code e} is committed.
     */
    public static UUID of(Entry e) {
        if (e.index() != 1 || e.kind() != Entry.Kind.NOOP || e.size() != BYTES) {
            return null;
        }
        return decode(e.data());
    }

    /** The 16 bytes of {@code id} (most significant long first). */
    public static byte[] encode(UUID id) {
        byte[] b = new byte[BYTES];
        long hi = id.getMostSignificantBits();
        long lo = id.getLeastSignificantBits();
        for (int i = 0; i < 8; i++) {
            b[i] = (byte) (hi >>> (56 - 8 * i));
            b[8 + i] = (byte) (lo >>> (56 - 8 * i));
        }
        return b;
    }

    /** The identity of 16 bytes made by {@link #encode}. */
    public static UUID decode(byte[] bytes) {
        if (bytes.length != BYTES) {
            throw new IllegalArgumentException("a cluster identity has " + BYTES + " bytes, got " + bytes.length);
        }
        long hi = 0;
        long lo = 0;
        for (int i = 0; i < 8; i++) {
            hi = (hi << 8) | (bytes[i] & 0xFF);
            lo = (lo << 8) | (bytes[8 + i] & 0xFF);
        }
        return new UUID(hi, lo);
    }
}
