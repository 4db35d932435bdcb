package io.haraft;

/**
 * Why a node's leadership ended. Delivered with {@code LeadershipListener.revoked}.
 *
 * <p>Whatever the reason, once leadership is revoked the node stops acting as leader, and the
 * next leadership anywhere in the cluster carries a strictly larger fencing token.
 */
public enum RevokeReason {
    /** The leader lost contact with a majority (check-quorum) and stepped down. */
    STEPPED_DOWN,
    /** The leader saw a message with a higher term: another node has been or is being elected. */
    HIGHER_TERM,
    /** The lease ran out without being renewed by a majority in time. */
    LEASE_EXPIRED,
    /** The leader handed its leadership over to another node on purpose. */
    LEADERSHIP_TRANSFERRED,
    /** The node is shutting down. */
    SHUT_DOWN
}
