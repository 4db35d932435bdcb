package io.haraft;

/**
 * A command was refused because this node already has as many commands in progress as
 * {@link RaftConfig#maxPendingProposals()} allows: submitted, and not yet committed and applied
 * (or failed).
 *
 * <p><b>Guarantees.</b> Retry-safe: the refused command was <em>not</em> appended to the log, so
 * sending it again cannot apply it twice. Immutable.
 *
 * <pre>{@code
 * node.submit(cmd).exceptionally(e -> {
 *     if (e.getCause() instanceof OverloadedException) {
 *         retryLater(cmd);          // back off: the node drains as its commands commit
 *     }
 *     return null;
 * });
 * }</pre>
 *
 * <p><b>Limits.</b> The bound counts the commands of this node only; it says nothing about other
 * nodes. Backing off (with some randomness) works better than retrying at once.
 */
public final class OverloadedException extends RaftException {

    private final String nodeId;
    private final int maxPendingProposals;

    /**
     * Creates the exception.
     *
     * @param nodeId              the node that refused
     * @param maxPendingProposals its bound on commands in progress
     */
    public OverloadedException(String nodeId, int maxPendingProposals) {
        super("node " + nodeId + " refused the command: " + maxPendingProposals + " commands are already in progress"
                + " (maxPendingProposals). The command was not appended, so retrying it is safe: back off until"
                + " earlier commands complete, or raise maxPendingProposals if the cluster keeps up with more.");
        this.nodeId = nodeId;
        this.maxPendingProposals = maxPendingProposals;
    }

    /** The node that refused the command. */
    public String nodeId() {
        return nodeId;
    }

    /** The bound that was reached. */
    public int maxPendingProposals() {
        return maxPendingProposals;
    }

    /** Always {@code true}: nothing was appended. */
    @Override
    public boolean isRetrySafe() {
        return true;
    }
}
