package io.haraft;

/**
 * Base class of the failures that a running {@link RaftNode} reports, each of which says whether
 * the failed operation may simply be retried.
 *
 * <p><b>Guarantees.</b> Unchecked, so it can travel inside a {@code CompletableFuture} (where it
 * arrives wrapped in a {@code CompletionException} when you {@code join()}). Instances are
 * immutable once thrown.
 *
 * <pre>{@code
 * try {
 *     node.submit(cmd).join();
 * } catch (CompletionException e) {
 *     if (e.getCause() instanceof RaftException re && re.isRetrySafe()) {
 *         retry(cmd);   // the command certainly had no effect
 *     }
 * }
 * }</pre>
 *
 * <p><b>Limits.</b> Only five subclasses exist: {@link NotLeaderException},
 * {@link OverloadedException}, {@link IndeterminateOutcomeException}, {@link LeaseExpiredException}
 * and {@link MembershipChangeException}. Configuration mistakes
 * are reported by {@link RaftConfigException}, which is an {@link IllegalArgumentException} instead.
 */
public abstract class RaftException extends RuntimeException {

    /** Creates an exception with a complete, human-readable message. */
    protected RaftException(String message) {
        super(message);
    }

    /**
     * Returns whether the failed operation certainly had no effect, so that retrying it (on this
     * node later, or on the leader) cannot apply it twice.
     */
    public abstract boolean isRetrySafe();
}
