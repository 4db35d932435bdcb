package io.haraft;

/**
 * A command was appended to the log, but this node lost leadership (or shut down) before it
 * learned whether the command committed. It may commit later under another leader, or be
 * discarded.
 *
 * <p><b>Guarantees.</b> <em>Not</em> retry-safe: sending the command again may apply it twice. If
 * the command is idempotent (for example it carries a unique request id that your
 * {@link StateMachine} remembers and skips), retrying is fine; otherwise find out first, for
 * example by reading the state through the new leader. Immutable.
 *
 * <pre>{@code
 * catch (CompletionException e) {
 *     if (e.getCause() instanceof IndeterminateOutcomeException) {
 *         retryWithSameRequestId(cmd);   // apply() drops request ids it has already seen
 *     }
 * }
 * }</pre>
 *
 * <p><b>Limits.</b> {@link #term()} and {@link #index()} say where the command was appended; if
 * the entry at that index later commits with the same term, it is this command.
 */
public final class IndeterminateOutcomeException extends RaftException {

    private final long term;
    private final long index;

    /**
     * Creates the exception.
     *
     * @param term  the term in which the command was appended
     * @param index the index at which it was appended
     * @param why   what happened, for example "leadership lost (HIGHER_TERM)"
     */
    public IndeterminateOutcomeException(long term, long index, String why) {
        super("the command was appended at index " + index + " in term " + term + ", but " + why
                + " before it was known to commit: it may or may not commit. Do not blindly retry a"
                + " command that is not idempotent; give commands a unique id that the state machine"
                + " deduplicates, or check the outcome through the new leader first.");
        this.term = term;
        this.index = index;
    }

    /** The term in which the command was appended. */
    public long term() {
        return term;
    }

    /** The log index at which the command was appended. */
    public long index() {
        return index;
    }

    /** Always {@code false}: the command may already be committed. */
    @Override
    public boolean isRetrySafe() {
        return false;
    }
}
