package io.haraft.core;

/**
 * The state a node must make durable before it sends any message that depends on it: its
 * current term and the candidate it voted for in that term.
 *
 * <p>Immutable. {@code votedFor} is {@code null} when the node has not voted in {@code term}.
 * Because the term is durable before any vote or any leadership in it, the term (and so the
 * fencing token) never goes backwards across restarts.
 *
 * @param term     the current term, {@code >= 0}
 * @param votedFor the node voted for in {@code term}, or {@code null}
 */
public record HardState(long term, String votedFor) {
    /** The state of a node that has never run. */
    public static final HardState INITIAL = new HardState(0, null);

    public HardState {
        if (term < 0) {
            throw new IllegalArgumentException("term must be >= 0, got " + term);
        }
    }
}
