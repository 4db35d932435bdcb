package io.haraft.core;

import io.haraft.RevokeReason;

/**
 * A change of this node's leadership, reported by the core in a {@link Ready}
 * ({@link Ready#events()}). Immutable records.
 *
 * <p><b>Guarantees.</b> For every node, {@code Elected} and {@code Revoked} strictly alternate,
 * starting with {@code Elected}; each {@code Revoked} names the term of the {@code Elected} before
 * it; the terms of successive {@code Elected} strictly increase, so a term is a fencing token. An
 * {@code Elected} comes only after the first entry of its term committed. Events are reported in
 * the Ready in the order they happened. The runtime passes them through a {@link LeadershipGate},
 * which withholds an {@code Elected} whose lease already ran out by the time its Ready is durable,
 * together with its {@code Revoked} (the application never hears of that leadership at all), and
 * makes every delivered {@code Revoked} take effect before the Ready's messages leave.
 */
public sealed interface LeadershipEvent {
    /** The term of the leadership that began or ended: its fencing token. */
    long term();

    /**
     * The node is leader of {@code term} and the first entry of its term has committed.
     * The fencing token is the term. {@code leaseUntil} is the lease end in the node's own
     * monotonic clock (nanoseconds) at the moment of the event; it grows as rounds are acknowledged.
     */
    record Elected(long term, long leaseUntil) implements LeadershipEvent { }

    /** The leadership of {@code term} ended, for {@code reason} (never null). */
    record Revoked(long term, RevokeReason reason) implements LeadershipEvent { }
}
