package io.haraft.core;

import io.haraft.RevokeReason;

/**
 * A change of this node's leadership, reported by the core in a {@link Ready}. For every node,
 * {@code Elected} and {@code Revoked} strictly alternate, starting with {@code Elected}.
 */
public sealed interface LeadershipEvent {
    long term();

    /**
     * The node is leader of {@code term} and the first entry of its term has committed.
     * The fencing token is the term. {@code leaseUntil} is the lease end in the node's own
     * monotonic clock (nanoseconds) at the moment of the event; it grows as rounds are acknowledged.
     */
    record Elected(long term, long leaseUntil) implements LeadershipEvent { }

    /** The leadership of {@code term} ended. */
    record Revoked(long term, RevokeReason reason) implements LeadershipEvent { }
}
