package io.haraft.core;

/**
 * The state a node must make durable before it sends any message that depends on it: its
 * current term, the candidate it voted for in that term, and the longest leader stickiness it may
 * have promised.
 *
 * <p>Immutable. {@code votedFor} is {@code null} when the node has not voted in {@code term}.
 * Because the term is durable before any vote or any leadership in it, the term (and so the
 * fencing token) never goes backwards across restarts.
 *
 * <p>{@code stickiness} is the longest time, in nanoseconds of the node's monotonic clock, for
 * which an acknowledgement this node sent to a leader may still bind it to refuse votes (see
 * {@link io.haraft.core.lease.Stickiness}). A restarted node has forgotten when it last
 * acknowledged a leader, so it withholds votes for the larger of its own election timeout and this
 * value after it starts. It is written when it grows, before the acknowledgement that promises it
 * is sent; it shrinks again (lazily) once no acknowledgement promising more can still bind. 0 in
 * stores written before it existed: such a node promised its own election timeout only.
 *
 * @param term       the current term, {@code >= 0}
 * @param votedFor   the node voted for in {@code term}, or {@code null}
 * @param stickiness the longest stickiness promised, in nanoseconds, {@code >= 0}
 */
public record HardState(long term, String votedFor, long stickiness) {
    /** The state of a node that has never run. */
    public static final HardState INITIAL = new HardState(0, null, 0);

    public HardState {
        if (term < 0) {
            throw new IllegalArgumentException("term must be >= 0, got " + term);
        }
        if (stickiness < 0) {
            throw new IllegalArgumentException("stickiness must be >= 0, got " + stickiness);
        }
    }

    /** A state that promises no stickiness beyond the node's own election timeout. */
    public HardState(long term, String votedFor) {
        this(term, votedFor, 0);
    }

    /** This state with {@code newTerm} and no vote, keeping the promised stickiness. */
    public HardState withTerm(long newTerm) {
        return new HardState(newTerm, null, stickiness);
    }
}
