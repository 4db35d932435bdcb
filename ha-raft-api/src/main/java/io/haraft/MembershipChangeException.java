package io.haraft;

import java.util.Objects;

/**
 * A membership change ({@link RaftNode#addLearner}, {@link RaftNode#addWitness},
 * {@link RaftNode#promote}, {@link RaftNode#removeMember}, {@link RaftNode#replaceMember}) did not
 * complete, for the {@link #reason()} given. A node that is not the leader refuses with
 * {@link NotLeaderException} instead.
 *
 * <p><b>Guarantees.</b> Retry-safe: every membership operation is idempotent (it skips what the
 * configuration already shows), so asking the same change again cannot apply it twice, even after
 * {@link Reason#OUTCOME_UNKNOWN}. {@link #isTransient()} says whether asking again later can
 * succeed. Immutable.
 *
 * <pre>{@code
 * leader.addLearner("n4", "10.0.0.4:7001").exceptionally(e -> {
 *     if (e.getCause() instanceof MembershipChangeException mce && mce.isTransient()) {
 *         retryLater();                       // e.g. CHANGE_IN_PROGRESS
 *     }
 *     return null;
 * });
 * }</pre>
 *
 * <p><b>Limits.</b> Only one change runs at a time in the whole cluster: a second one is refused
 * with {@link Reason#CHANGE_IN_PROGRESS} rather than queued.
 */
public final class MembershipChangeException extends RaftException {

    /**
     * Why a membership change did not complete, and therefore whether asking again is safe and
     * useful: every reason but {@link #INVALID} may succeed later, and asking again is always safe
     * (each operation skips the steps already done). Except {@link #OUTCOME_UNKNOWN}, every reason
     * means the configuration was not changed by this call.
     */
    public enum Reason {
        /**
         * Another change is in progress (not yet committed, or a multi-step operation such as
         * {@code replaceMember} is running): retry once it is done.
         */
        CHANGE_IN_PROGRESS,
        /** The leader was just elected and has not yet committed an entry of its term: retry in a moment. */
        LEADER_NOT_READY,
        /** The learner to promote did not catch up with the leader's log in time: retry once it has. */
        LAGGING,
        /**
         * The change itself is not allowed: it would leave 2 voting members, change more than one
         * voter at once, add a member under an id that exists with another address, and so on.
         * Retrying the same change cannot succeed.
         */
        INVALID,
        /**
         * The change was started, but this node lost its leadership (or shut down) before it knew
         * whether the change committed. Ask again on the new leader: it skips what is done.
         */
        OUTCOME_UNKNOWN
    }

    private final Reason reason;

    /**
     * Creates the exception.
     *
     * @param reason  why the change did not complete
     * @param message what happened and what to do, for an operator
     */
    public MembershipChangeException(Reason reason, String message) {
        super(Objects.requireNonNull(message, "message") + (Objects.requireNonNull(reason, "reason") == Reason.INVALID
                ? "" : ". Asking for the same change again later is safe and may succeed"));
        this.reason = reason;
    }

    /** Why the change did not complete. */
    public Reason reason() {
        return reason;
    }

    /** Whether asking for the same change again later can succeed (every reason but {@link Reason#INVALID}). */
    public boolean isTransient() {
        return reason != Reason.INVALID;
    }

    /** Always {@code true}: membership operations are idempotent, so a retry never applies a change twice. */
    @Override
    public boolean isRetrySafe() {
        return true;
    }
}
