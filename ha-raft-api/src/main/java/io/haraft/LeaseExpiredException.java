package io.haraft;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * A leadership's lease has ended: this node must no longer act as leader for that token.
 * Thrown by {@link Leadership#checkValid()} and by {@link RaftNode#leaseRead}.
 *
 * <p><b>Guarantees.</b> Retry-safe in the sense that the guarded action was not taken; but a
 * retry with the same {@link Leadership} will fail again: wait for the next
 * {@link LeadershipListener#elected} (which carries a new, larger token) or use the leader that
 * the cluster elects. Immutable.
 *
 * <pre>{@code
 * try {
 *     FencingToken token = leadership.checkValid();
 *     writeWith(token);
 * } catch (LeaseExpiredException e) {
 *     log.warn("not writing: {}", e.getMessage());
 * }
 * }</pre>
 *
 * <p><b>Limits.</b> {@link #endedAgo()} is measured on this node's monotonic clock when the
 * exception is created; after a long pause it is exactly what tells you the pause happened.
 */
public final class LeaseExpiredException extends RaftException {

    private final FencingToken token;
    private final String nodeId;
    private final Duration endedAgo;
    private final RevokeReason reason;

    /**
     * Creates the exception.
     *
     * @param token    the token of the leadership that ended
     * @param nodeId   the node that held it
     * @param endedAgo how long ago the lease ended (zero or positive)
     * @param reason   why it ended, or {@code null} if the lease simply ran out and the revocation
     *                 has not been processed yet
     */
    public LeaseExpiredException(FencingToken token, String nodeId, Duration endedAgo, RevokeReason reason) {
        super(message(token, nodeId, endedAgo, reason));
        this.token = Objects.requireNonNull(token, "token");
        this.nodeId = Objects.requireNonNull(nodeId, "nodeId");
        this.endedAgo = endedAgo.isNegative() ? Duration.ZERO : endedAgo;
        this.reason = reason;
    }

    private static String message(FencingToken token, String nodeId, Duration endedAgo, RevokeReason reason) {
        Duration ago = endedAgo.isNegative() ? Duration.ZERO : endedAgo;
        return "the leadership of node " + nodeId + " with " + token + " ended " + ago.toMillis() + " ms ago"
                + (reason == null ? "" : " (" + reason + ")")
                + ": do not act as leader with this token any more; wait for the next elected() callback,"
                + " which carries a larger token";
    }

    /** The token of the leadership that ended. */
    public FencingToken token() {
        return token;
    }

    /** The node that held the leadership. */
    public String nodeId() {
        return nodeId;
    }

    /** How long before this exception was created the lease ended; never negative. */
    public Duration endedAgo() {
        return endedAgo;
    }

    /** Why the leadership ended, if known yet. */
    public Optional<RevokeReason> reason() {
        return Optional.ofNullable(reason);
    }

    /** Always {@code true}: the guarded action was not taken. */
    @Override
    public boolean isRetrySafe() {
        return true;
    }
}
