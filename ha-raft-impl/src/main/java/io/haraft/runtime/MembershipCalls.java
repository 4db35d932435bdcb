package io.haraft.runtime;

import io.haraft.ClusterConfiguration;
import io.haraft.MembershipChangeException;
import io.haraft.RaftConfig;
import io.haraft.core.quorum.Membership;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * The membership operations of the {@link io.haraft.RaftNode} API on one node: checks their
 * arguments, names each change (the name its log messages and errors carry) and hands its steps to
 * the node's loop, which runs them ({@link MembershipChanges}). A node that does not run answers
 * with a {@link io.haraft.NotLeaderException} naming the leader it knows.
 */
final class MembershipCalls {
    private final RaftNodeImpl node;

    MembershipCalls(RaftNodeImpl node) {
        this.node = node;
    }

    /** Adds {@code id} at {@code address} in {@code role}; {@code what} names the API call. */
    CompletableFuture<ClusterConfiguration> add(String what, String id, String address, Membership.Role role) {
        RaftConfig.Member m = RaftConfig.Member.parse(Objects.requireNonNull(id, "id"),
                Objects.requireNonNull(address, "address"));
        return change(what + "(" + m + ")", io.haraft.RaftNode.DEFAULT_CATCH_UP_TIMEOUT,
                MembershipChanges.add(m.id(), m.address(), role));
    }

    /** See {@link io.haraft.RaftNode#promote(String, Duration)}. */
    CompletableFuture<ClusterConfiguration> promote(String id, Duration catchUpTimeout) {
        Objects.requireNonNull(id, "id");
        return change("promote(" + id + ")", catchUpTimeout, MembershipChanges.promote(id));
    }

    /** See {@link io.haraft.RaftNode#removeMember(String)}. */
    CompletableFuture<ClusterConfiguration> remove(String id) {
        Objects.requireNonNull(id, "id");
        return change("removeMember(" + id + ")", io.haraft.RaftNode.DEFAULT_CATCH_UP_TIMEOUT,
                MembershipChanges.remove(id));
    }

    /** See {@link io.haraft.RaftNode#replaceMember(String, String, String, Duration)}. */
    CompletableFuture<ClusterConfiguration> replace(String oldId, String newId, String newAddress,
                                                    Duration catchUpTimeout) {
        Objects.requireNonNull(oldId, "oldId");
        RaftConfig.Member m = RaftConfig.Member.parse(Objects.requireNonNull(newId, "newId"),
                Objects.requireNonNull(newAddress, "newAddress"));
        if (oldId.equals(newId)) {
            return CompletableFuture.failedFuture(new MembershipChangeException(MembershipChangeException.Reason.INVALID,
                    "replaceMember(" + oldId + ", " + newId + "): the new member needs a new id. A node whose data"
                            + " was lost must not rejoin under its old id: the votes and entries it acknowledged were"
                            + " lost with its disk"));
        }
        return change("replaceMember(" + oldId + " -> " + m + ")", catchUpTimeout,
                MembershipChanges.addLike(m.id(), m.address(), oldId), MembershipChanges.promote(m.id()),
                MembershipChanges.remove(oldId));
    }

    private CompletableFuture<ClusterConfiguration> change(String name, Duration catchUpTimeout,
                                                           MembershipChanges.Step... steps) {
        Objects.requireNonNull(catchUpTimeout, "catchUpTimeout");
        if (catchUpTimeout.isNegative()) {
            throw new IllegalArgumentException("catchUpTimeout must not be negative, got " + catchUpTimeout);
        }
        if (!node.running()) {
            return CompletableFuture.failedFuture(node.notLeaderHint());
        }
        CompletableFuture<ClusterConfiguration> f = new CompletableFuture<>();
        node.loop().changeMembership(name, List.of(steps), catchUpTimeout.toNanos(), f);
        return f;
    }
}
