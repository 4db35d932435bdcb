package io.haraft.core.log;

import java.util.Arrays;
import java.util.Objects;

/**
 * One entry of the replicated log: its position ({@code index}), the term of the leader that
 * created it, its kind and its payload.
 *
 * <p>Immutable. The payload array is copied on the way in and never handed out, so an entry can be
 * shared between the core, the store and the state machine without defensive copies elsewhere.
 * Two entries with the same index and term are the same entry (Raft's log matching property).
 */
public final class Entry {
    /**
     * What an entry carries, which decides who reads its payload: the state machine (only
     * {@link #COMMAND}), the core ({@link #CONFIG}) or nobody ({@link #NOOP}). The storage and
     * wire formats map each constant to a fixed code of their own (never the ordinal), so a new
     * kind needs a new code in both. A witness receives every kind without payload (see
     * {@link Entry#forWitness()}).
     */
    public enum Kind {
        /** An application command, applied to the state machine. */
        COMMAND,
        /**
         * The entry a new leader appends at once; committing it elects the leader. Empty, except
         * the first leader's at index 1, which carries the cluster identity
         * ({@link io.haraft.core.ClusterIdentity}).
         */
        NOOP,
        /**
         * A cluster configuration ({@link io.haraft.core.quorum.Membership#encode()}); it takes
         * effect on a node as soon as the node stores it, committed or not.
         */
        CONFIG
    }

    private final long index;
    private final long term;
    private final Kind kind;
    private final byte[] data;

    private Entry(long index, long term, Kind kind, byte[] data) {
        if (index < 1) {
            throw new IllegalArgumentException("entry index must be >= 1, got " + index);
        }
        if (term < 1) {
            throw new IllegalArgumentException("entry term must be >= 1, got " + term);
        }
        this.index = index;
        this.term = term;
        this.kind = Objects.requireNonNull(kind, "kind");
        this.data = data;
    }

    /** An application command; {@code data} is copied. */
    public static Entry command(long index, long term, byte[] data) {
        return new Entry(index, term, Kind.COMMAND, data.clone());
    }

    /** A leader's no-op entry. */
    public static Entry noop(long index, long term) {
        return new Entry(index, term, Kind.NOOP, new byte[0]);
    }

    /** A configuration entry. */
    public static Entry config(long index, long term, io.haraft.core.quorum.Membership membership) {
        return new Entry(index, term, Kind.CONFIG, membership.encode());
    }

    /** The configuration a CONFIG entry carries. */
    public io.haraft.core.quorum.Membership membership() {
        if (kind != Kind.CONFIG) {
            throw new IllegalStateException(this + " is not a configuration entry");
        }
        return io.haraft.core.quorum.Membership.decode(data);
    }

    /**
     * What a witness stores of this entry: commands lose their payload (a witness keeps only index
     * and term); configuration and no-op entries are kept whole.
     */
    public Entry forWitness() {
        return kind == Kind.COMMAND && data.length > 0 ? new Entry(index, term, kind, new byte[0]) : this;
    }

    /** Rebuilds an entry read back from storage or the network; {@code data} is copied. */
    public static Entry of(long index, long term, Kind kind, byte[] data) {
        return new Entry(index, term, kind, data.clone());
    }

    public long index() {
        return index;
    }

    public long term() {
        return term;
    }

    public Kind kind() {
        return kind;
    }

    /** A copy of the payload. */
    public byte[] data() {
        return data.clone();
    }

    /** Payload length in bytes, without copying. */
    public int size() {
        return data.length;
    }

    /** The same entry moved to another index and term (used when a leader appends a proposal). */
    public Entry withPosition(long newIndex, long newTerm) {
        return new Entry(newIndex, newTerm, kind, data);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Entry e && e.index == index && e.term == term && e.kind == kind
                && Arrays.equals(e.data, data);
    }

    @Override
    public int hashCode() {
        return Objects.hash(index, term, kind) * 31 + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return "Entry{" + index + "@" + term + (kind == Kind.NOOP ? " noop" : kind == Kind.CONFIG ? " config" : " " + data.length + "B") + "}";
    }
}
