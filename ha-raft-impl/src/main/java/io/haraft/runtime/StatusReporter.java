package io.haraft.runtime;

import io.haraft.NodeStatus;
import io.haraft.RaftConfig;
import io.haraft.core.quorum.Membership;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Reports what one node is, from any thread and without waiting: the {@link NodeStatus} (with its
 * health) that {@link RaftNodeImpl#status()} returns, and the gauges of the node's meters. It only
 * reads what the node's parts publish (the loop's view, the apply thread's progress, the
 * dispatcher's open leadership, the heartbeat statistics) and whether the node runs.
 */
final class StatusReporter {
    private final RaftNodeImpl node;
    private final RaftConfig config;
    private final MonotonicClock clock;
    private final long electionTimeoutNanos;

    StatusReporter(RaftNodeImpl node, RaftConfig config, MonotonicClock clock) {
        this.node = node;
        this.config = config;
        this.clock = clock;
        this.electionTimeoutNanos = config.electionTimeout().toNanos();
    }

    /** The node's status now; see {@link io.haraft.RaftNode#status()}. */
    NodeStatus status() {
        // Read first: a node that failed or stopped must not show the role its loop last published.
        NodeStatus.State st = node.apiState();
        Optional<String> why = st == NodeStatus.State.FAILED ? Optional.of(node.failure()) : Optional.empty();
        NodeLoop l = node.loop();
        HeartbeatStats s = node.stats();
        Applier a = node.applier();
        if (l == null || s == null || a == null) {
            List<NodeStatus.PeerStats> none = config.peers().stream()
                    .map(m -> new NodeStatus.PeerStats(m.id(), java.time.Duration.ZERO, java.time.Duration.ZERO,
                            java.time.Duration.ZERO, 0, 0,
                            Optional.empty()))
                    .toList();
            return new NodeStatus(config.nodeId(), NodeStatus.Role.FOLLOWER, 0, Optional.empty(), 0, 0, none,
                    members(Configurations.bootstrap(config), Map.of()), false, node.removed(), st, why,
                    NodeStatus.Health.down(st, why, node.removed()));
        }
        NodeView v = l.view();
        long applied = Math.min(a.applied(), v.commitIndex());
        boolean running = st == NodeStatus.State.RUNNING;
        return new NodeStatus(config.nodeId(), running ? NodeStatus.Role.valueOf(v.role().name()) : NodeStatus.Role.FOLLOWER,
                v.term(), running ? Optional.ofNullable(v.leader()) : Optional.empty(), v.commitIndex(), applied,
                s.snapshot(clock.nanos()), members(v.membership(), v.lag()), v.pending(), node.removed(), st, why,
                health(st, why, v));
    }

    private static List<NodeStatus.MemberStatus> members(Membership m, Map<String, Long> lag) {
        return m.members().stream().map(x -> new NodeStatus.MemberStatus(x.id(), x.address(),
                Configurations.toApi(x.role()), lag.containsKey(x.id()) ? OptionalLong.of(lag.get(x.id()))
                        : OptionalLong.empty())).toList();
    }

    /**
     * Registers the node's gauges with {@code m} (at start, once the loop, the apply thread and the
     * dispatcher exist). Every gauge reads volatile state published by the loop, the apply thread or
     * the dispatcher: cheap, from any thread.
     */
    void registerGauges(NodeMetrics m) {
        m.gauge("haraft.leader", "1 while this node is a running leader, else 0", "",
                () -> node.apiState() == NodeStatus.State.RUNNING
                        && node.loop().view().role() == io.haraft.core.Role.LEADER ? 1 : 0);
        m.gauge("haraft.term", "This node's current term (the fencing token of a leader of it)", "",
                () -> node.loop().view().term());
        m.gauge("haraft.lease.remaining", "Time left on this node's leadership lease; 0 when it holds no valid"
                + " lease", NodeMetrics.SECONDS, () -> {
                    LeadershipImpl l = node.dispatcher().open();
                    long left = l == null || node.failed() || !l.isValid() ? 0 : l.leaseUntil() - clock.nanos();
                    return Math.max(0, left) / 1e9;
                });
        m.gauge("haraft.apply.lag", "Committed entries not yet applied to the state machine", "entries",
                () -> Math.max(0, node.loop().view().commitIndex() - node.applier().applied()));
        m.gauge("haraft.proposals.pending", "Commands submitted on this node whose future has not completed", "",
                m::pendingProposals);
        m.gauge("haraft.health", "2 UP, 1 DEGRADED (no quorum contact), 0 DOWN (not running)", "",
                () -> switch (currentHealth().status()) {
                    case UP -> 2;
                    case DEGRADED -> 1;
                    case DOWN -> 0;
                });
    }

    /** The health status() would show now, without the rest of the status. */
    private NodeStatus.Health currentHealth() {
        NodeStatus.State st = node.apiState();
        Optional<String> why = st == NodeStatus.State.FAILED ? Optional.of(node.failure()) : Optional.empty();
        NodeLoop l = node.loop();
        return l == null ? NodeStatus.Health.down(st, why, node.removed()) : health(st, why, l.view());
    }

    /**
     * The health of a node in state {@code st}: DOWN unless running; then UP with quorum contact (a
     * leader holding its lease, any other node having heard from a leader within the election
     * timeout), DEGRADED without.
     */
    private NodeStatus.Health health(NodeStatus.State st, Optional<String> why, NodeView v) {
        if (st != NodeStatus.State.RUNNING) {
            return NodeStatus.Health.down(st, why, node.removed());
        }
        long now = clock.nanos();
        long timeoutMs = electionTimeoutNanos / 1_000_000;
        if (v.role() == io.haraft.core.Role.LEADER) {
            long lease = node.loop().leaseUntil();
            return lease != Long.MIN_VALUE && now < lease
                    ? new NodeStatus.Health(NodeStatus.Health.Status.UP, "leader of term " + v.term() + " with a valid"
                            + " lease (" + (lease - now) / 1_000_000 + " ms left)")
                    : new NodeStatus.Health(NodeStatus.Health.Status.DEGRADED, "leader of term " + v.term()
                            + " without a valid lease: no majority acknowledged its heartbeats within the election"
                            + " timeout (" + timeoutMs + " ms)");
        }
        long contact = node.loop().leaderContact();
        if (contact == Long.MIN_VALUE) {
            return new NodeStatus.Health(NodeStatus.Health.Status.DEGRADED, "no leader heard since the node started"
                    + " (role " + v.role() + ", term " + v.term() + ")");
        }
        long silentMs = (now - contact) / 1_000_000;
        return now - contact <= electionTimeoutNanos
                ? new NodeStatus.Health(NodeStatus.Health.Status.UP, "leader " + (v.leader() == null ? "(unknown)"
                        : v.leader()) + " heard " + silentMs + " ms ago")
                : new NodeStatus.Health(NodeStatus.Health.Status.DEGRADED, "no leader heard for " + silentMs
                        + " ms (election timeout " + timeoutMs + " ms; role " + v.role() + ", term " + v.term() + ")");
    }
}
