package io.haraft;

import java.util.Optional;

/**
 * The operation needs the leader and this node is not the leader (or no longer is, or not yet).
 *
 * <p><b>Guarantees.</b> Retry-safe: a command refused with this exception was <em>not</em> appended
 * to the log, so sending it again (to the hinted leader, or here after the next election) cannot
 * apply it twice. The hint is the node this node last heard from as leader; it may be out of date
 * or empty (during an election). Immutable.
 *
 * <pre>{@code
 * node.submit(cmd).exceptionally(e -> {
 *     if (e.getCause() instanceof NotLeaderException nle) {
 *         nle.leaderId().ifPresent(id -> forwardTo(id, cmd));
 *     }
 *     return null;
 * });
 * }</pre>
 *
 * <p><b>Limits.</b> The address in the hint is the leader's Raft address from the configuration,
 * not necessarily where your application serves clients; map {@link #leaderId()} to your own
 * endpoints when they differ.
 */
public final class NotLeaderException extends RaftException {

    private final String nodeId;
    private final String leaderId;
    private final String leaderAddress;

    /**
     * Creates the exception.
     *
     * @param nodeId        the node that refused
     * @param leaderId      the leader this node knows of, or {@code null} if it knows none
     * @param leaderAddress that leader's "host:port", or {@code null} if unknown
     */
    public NotLeaderException(String nodeId, String leaderId, String leaderAddress) {
        super(message(nodeId, leaderId, leaderAddress));
        this.nodeId = nodeId;
        this.leaderId = leaderId;
        this.leaderAddress = leaderAddress;
    }

    private static String message(String nodeId, String leaderId, String leaderAddress) {
        String hint = leaderId == null
                ? "no leader is known right now (an election may be running); retry after a short delay"
                : "the leader is probably " + leaderId + (leaderAddress == null ? "" : " at " + leaderAddress)
                        + "; send it there";
        return "node " + nodeId + " is not the leader: " + hint
                + ". The operation was not started, so retrying it is safe.";
    }

    /** The node that refused the operation. */
    public String nodeId() {
        return nodeId;
    }

    /** The id of the node believed to be leader, if any. */
    public Optional<String> leaderId() {
        return Optional.ofNullable(leaderId);
    }

    /** The "host:port" Raft address of the node believed to be leader, if known. */
    public Optional<String> leaderAddress() {
        return Optional.ofNullable(leaderAddress);
    }

    /** Always {@code true}: nothing was appended. */
    @Override
    public boolean isRetrySafe() {
        return true;
    }
}
