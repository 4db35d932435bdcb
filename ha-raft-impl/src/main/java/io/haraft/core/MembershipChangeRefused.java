package io.haraft.core;

/**
 * A configuration change the core did not start, with the reason and a message for an operator.
 * Thrown by {@link RaftCore#changeMembership} on the core's thread, before anything changed:
 * nothing was appended, so the change may be asked again once the reason is gone (each reason
 * says when), and asking again is always safe. The runtime turns it into the public
 * {@code io.haraft.MembershipChangeException}. Immutable.
 */
public final class MembershipChangeRefused extends RuntimeException {
    /**
     * Why a change was refused. Every reason but {@link #INVALID} is transient: the same change
     * may succeed later ({@link MembershipChangeRefused#retryable()}).
     */
    public enum Reason {
        /** This node is not the leader (or is handing over): ask the leader. */
        NOT_LEADER,
        /** The leader has not yet committed an entry of its own term: retry in a moment. */
        TERM_NOT_COMMITTED,
        /** An earlier change is not yet committed: retry once it is. */
        IN_PROGRESS,
        /** The learner to promote is too far behind the leader: retry once it caught up. */
        LAGGING,
        /** The change itself is not allowed (more than one voter at once, two voters, ...). */
        INVALID
    }

    private final Reason reason;

    /**
     * @param reason  why; never null
     * @param message what was refused and what to do, for an operator
     */
    public MembershipChangeRefused(Reason reason, String message) {
        super(message);
        this.reason = java.util.Objects.requireNonNull(reason, "reason");
    }

    /** Why the change was refused; never null. */
    public Reason reason() {
        return reason;
    }

    /** Whether asking the same change again later can succeed. */
    public boolean retryable() {
        return reason != Reason.INVALID;
    }
}
