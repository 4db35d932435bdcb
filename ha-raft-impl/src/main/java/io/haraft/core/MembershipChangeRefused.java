package io.haraft.core;

/**
 * A configuration change the core did not start, with the reason and a message for an operator.
 * Nothing was appended: the change may be asked again once the reason is gone (each reason says
 * when).
 */
public final class MembershipChangeRefused extends RuntimeException {
    /** Why a change was refused. */
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

    public MembershipChangeRefused(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }

    /** Whether asking the same change again later can succeed. */
    public boolean retryable() {
        return reason != Reason.INVALID;
    }
}
