package io.haraft;

import java.util.Objects;
import java.util.Optional;

/**
 * What one node knows about the cluster's leader: the current term and the leader of that term,
 * if it knows one. Delivered to a {@link LeaderChangeListener} on every node, leader and
 * followers alike.
 *
 * <p><b>Guarantees.</b> Immutable; no component is {@code null}. A node sees at most one leader per
 * term, so two changes with the same term and two different leaders never occur.
 *
 * <pre>{@code
 * node.addLeaderChangeListener(change ->
 *     router.pointAt(change.leaderId().orElse(null)));    // route clients to the leader
 * }</pre>
 *
 * <p><b>Limits.</b> A hint, not a lease: by the time it is delivered, the leader may have changed
 * again, and the named node may have lost its lease. Only {@link Leadership#isValid()} on the leader
 * itself says that it may act as leader; writes outside the process must carry its
 * {@link FencingToken}.
 *
 * @param leaderId the leader of {@code term} this node knows of; empty while an election runs or
 *                 before this node has heard from a leader of the term
 * @param term     the node's current term, {@code >= 0}
 */
public record LeaderChange(Optional<String> leaderId, long term) {

    /**
     * Validates.
     *
     * @throws NullPointerException     if {@code leaderId} is null
     * @throws IllegalArgumentException if {@code term} is negative
     */
    public LeaderChange {
        Objects.requireNonNull(leaderId, "leaderId");
        if (term < 0) {
            throw new IllegalArgumentException("term must not be negative, got " + term);
        }
    }

    /** Whether {@code nodeId} is the leader named here. */
    public boolean isLeader(String nodeId) {
        return leaderId.isPresent() && leaderId.get().equals(nodeId);
    }

    /** Returns {@code "leader n2 in term 7"} or {@code "no leader in term 8"}. */
    @Override
    public String toString() {
        return leaderId.map(id -> "leader " + id).orElse("no leader") + " in term " + term;
    }
}
