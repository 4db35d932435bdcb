package io.haraft.runtime;

import io.haraft.ClusterConfiguration;
import io.haraft.Committed;
import io.haraft.LeaderChangeListener;
import io.haraft.Leadership;
import io.haraft.LeadershipListener;
import io.haraft.NodeStatus;
import io.haraft.RaftConfig;
import io.haraft.RaftNode;
import io.haraft.Subscription;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Function;

/**
 * The handle of one group of a {@link RaftGroupsImpl}: the group's {@link RaftNodeImpl} with the
 * differences {@link io.haraft.RaftGroups#newGroup} documents ({@code start()} refused,
 * {@code close()} removes the group, membership changes refused). Thread-safe, as the node.
 */
final class GroupNode implements RaftNode {
    private final String name;
    private final RaftNodeImpl node;
    private final RaftGroupsImpl owner;
    private final String preferredLeader;

    GroupNode(String name, RaftNodeImpl node, RaftGroupsImpl owner) {
        this(name, node, owner, null);
    }

    GroupNode(String name, RaftNodeImpl node, RaftGroupsImpl owner, String preferredLeader) {
        this.name = name;
        this.node = node;
        this.owner = owner;
        this.preferredLeader = preferredLeader;
    }

    /** The member that should lead this group, or null (see {@code GroupOptions.withPreferredLeader}). */
    String preferredLeader() {
        return preferredLeader;
    }

    String name() {
        return name;
    }

    RaftNodeImpl node() {
        return node;
    }

    private UnsupportedOperationException noMembershipChange(String what) {
        return new UnsupportedOperationException(what + " is not supported on group '" + name + "' yet: every group"
                + " of a node has the node's members. Change the members of a cluster hosting groups by starting"
                + " its nodes with the new member list.");
    }

    @Override
    public void start() {
        throw new IllegalStateException("group '" + name + "' is started by its RaftGroups (start() there, or"
                + " newGroup on a running node)");
    }

    @Override
    public void close() {
        owner.remove(name);
    }

    @Override
    public CompletableFuture<Committed> submit(byte[] command) {
        return node.submit(command);
    }

    @Override
    public CompletableFuture<Committed> readIndex() {
        return node.readIndex();
    }

    @Override
    public <T> T leaseRead(Function<? super Leadership, ? extends T> read) {
        return node.leaseRead(read);
    }

    @Override
    public CompletableFuture<Void> transferLeadership(String targetNodeId) {
        return node.transferLeadership(targetNodeId);
    }

    @Override
    public CompletableFuture<ClusterConfiguration> addLearner(String id, String address) {
        throw noMembershipChange("addLearner");
    }

    @Override
    public CompletableFuture<ClusterConfiguration> addWitness(String id, String address) {
        throw noMembershipChange("addWitness");
    }

    @Override
    public CompletableFuture<ClusterConfiguration> promote(String id) {
        throw noMembershipChange("promote");
    }

    @Override
    public CompletableFuture<ClusterConfiguration> promote(String id, Duration catchUpTimeout) {
        throw noMembershipChange("promote");
    }

    @Override
    public CompletableFuture<ClusterConfiguration> removeMember(String id) {
        throw noMembershipChange("removeMember");
    }

    @Override
    public CompletableFuture<ClusterConfiguration> replaceMember(String oldId, String newId, String newAddress) {
        throw noMembershipChange("replaceMember");
    }

    @Override
    public CompletableFuture<ClusterConfiguration> replaceMember(String oldId, String newId, String newAddress,
                                                                 Duration catchUpTimeout) {
        throw noMembershipChange("replaceMember");
    }

    @Override
    public NodeStatus status() {
        return node.status();
    }

    @Override
    public Optional<Leadership> leadership() {
        return node.leadership();
    }

    @Override
    public CompletableFuture<Leadership> awaitLeadership() {
        return node.awaitLeadership();
    }

    @Override
    public Subscription addListener(LeadershipListener listener) {
        return node.addListener(listener);
    }

    @Override
    public Subscription addListener(LeadershipListener listener, Executor executor) {
        return node.addListener(listener, executor);
    }

    @Override
    public Subscription addLeaderChangeListener(LeaderChangeListener listener) {
        return node.addLeaderChangeListener(listener);
    }

    @Override
    public Subscription addLeaderChangeListener(LeaderChangeListener listener, Executor executor) {
        return node.addLeaderChangeListener(listener, executor);
    }

    @Override
    public RaftConfig config() {
        return node.config();
    }

    @Override
    public String toString() {
        return "group " + name + " of node " + node.config().nodeId();
    }
}
