package io.haraft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ValueTypesTest {

    @Test
    void fencingTokensOrderByValue() {
        FencingToken t3 = FencingToken.of(3);
        FencingToken t7 = FencingToken.of(7);
        assertThat(t7.isNewerThan(t3)).isTrue();
        assertThat(t3.isNewerThan(t7)).isFalse();
        assertThat(t7.isNewerThan(FencingToken.of(7))).isFalse();
        assertThat(t3).isLessThan(t7);
        assertThat(t7.compareTo(FencingToken.of(7))).isZero();
        List<FencingToken> tokens = new ArrayList<>(List.of(t7, FencingToken.of(Long.MAX_VALUE), t3, FencingToken.of(1)));
        Collections.sort(tokens);
        assertThat(tokens).extracting(FencingToken::value).containsExactly(1L, 3L, 7L, Long.MAX_VALUE);
        assertThat(t7).hasToString("token 7").isEqualTo(new FencingToken(7));
    }

    @Test
    void fencingTokensArePositive() {
        assertThatThrownBy(() -> FencingToken.of(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("must be > 0");
        assertThatThrownBy(() -> FencingToken.of(-5)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void committedCopiesTheArrayOnTheWayIn() {
        byte[] data = {1, 2, 3};
        Committed c = new Committed(2, 5, data);
        data[0] = 9;
        assertThat(c.data()).containsExactly(1, 2, 3);
    }

    @Test
    void committedCopiesTheArrayOnTheWayOut() {
        Committed c = new Committed(2, 5, new byte[] {1, 2, 3});
        c.data()[0] = 9;
        assertThat(c.data()).containsExactly(1, 2, 3);
        assertThat(c.data()).isNotSameAs(c.data());
        assertThat(c.size()).isEqualTo(3);
        assertThat(c.dataBuffer().isReadOnly()).isTrue();
        assertThat(c.dataBuffer().remaining()).isEqualTo(3);
    }

    @Test
    void committedEqualityUsesContents() {
        assertThat(new Committed(2, 5, new byte[] {1, 2})).isEqualTo(new Committed(2, 5, new byte[] {1, 2}))
                .hasSameHashCodeAs(new Committed(2, 5, new byte[] {1, 2}))
                .isNotEqualTo(new Committed(2, 5, new byte[] {1, 3}))
                .isNotEqualTo(new Committed(3, 5, new byte[] {1, 2}))
                .hasToString("Committed{index 5, term 2, 2 B}");
        assertThat(Committed.position(4, 9)).isEqualTo(new Committed(4, 9, new byte[0]));
    }

    @Test
    void committedRejectsInvalidPositionsAndNullData() {
        assertThatThrownBy(() -> new Committed(0, 1, new byte[0])).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("term");
        assertThatThrownBy(() -> new Committed(1, 0, new byte[0])).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("index");
        assertThatThrownBy(() -> new Committed(1, 1, null)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void peerReliabilityIsTheAnsweredShare() {
        NodeStatus.PeerStats p = new NodeStatus.PeerStats("n2", Duration.ofMillis(1), Duration.ofMillis(4),
                Duration.ofMillis(9), 200, 150, Optional.of(Duration.ofMillis(30)));
        assertThat(p.reliability()).isEqualTo(0.75);
        NodeStatus.PeerStats none = new NodeStatus.PeerStats("n3", Duration.ZERO, Duration.ZERO, Duration.ZERO, 0, 0,
                Optional.empty());
        assertThat(none.reliability()).isEqualTo(1.0);
    }

    @Test
    void peerStatsRejectImpossibleCounts() {
        assertThatThrownBy(() -> new NodeStatus.PeerStats("n2", Duration.ZERO, Duration.ZERO, Duration.ZERO, 3, 4, Optional.empty()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("4 answered of 3");
        assertThatThrownBy(() -> new NodeStatus.PeerStats("n2", Duration.ofMillis(-1), Duration.ZERO, Duration.ZERO, 0, 0,
                Optional.empty())).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void peerStatsCarryTotalsBeyondTheWindow() {
        NodeStatus.PeerStats p = new NodeStatus.PeerStats("n2", Duration.ofMillis(1), Duration.ofMillis(4),
                Duration.ofMillis(9), 128, 127, Optional.empty(), 5_000, 4_998);
        assertThat(p.totalHeartbeatsSent()).isEqualTo(5_000);
        assertThat(p.totalHeartbeatsAnswered()).isEqualTo(4_998);
        assertThat(p.reliability()).as("still the window's share").isEqualTo(127 / 128.0);
        // the constructor without totals (source compatible with earlier releases) takes the window's counts
        NodeStatus.PeerStats old = new NodeStatus.PeerStats("n2", Duration.ZERO, Duration.ZERO, Duration.ZERO, 10, 9,
                Optional.empty());
        assertThat(old.totalHeartbeatsSent()).isEqualTo(10);
        assertThat(old.totalHeartbeatsAnswered()).isEqualTo(9);
        assertThatThrownBy(() -> new NodeStatus.PeerStats("n2", Duration.ZERO, Duration.ZERO, Duration.ZERO, 0, 0,
                Optional.empty(), 3, 4)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("4 answered of 3").hasMessageContaining("total");
        assertThatThrownBy(() -> new NodeStatus.PeerStats("n2", Duration.ZERO, Duration.ZERO, Duration.ZERO, 0, 0,
                Optional.empty(), -1, 0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void nodeStatusValidatesAndCopies() {
        List<NodeStatus.PeerStats> peers = new ArrayList<>();
        NodeStatus s = new NodeStatus("n1", NodeStatus.Role.LEADER, 3, Optional.of("n1"), 10, 9, peers);
        peers.add(new NodeStatus.PeerStats("n2", Duration.ZERO, Duration.ZERO, Duration.ZERO, 0, 0, Optional.empty()));
        assertThat(s.peers()).isEmpty();
        assertThat(s.isLeader()).isTrue();
        assertThatThrownBy(() -> new NodeStatus("n1", NodeStatus.Role.FOLLOWER, 3, Optional.empty(), 5, 6, List.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("appliedIndex 6 > commitIndex 5");
        assertThatThrownBy(() -> new NodeStatus("n1", NodeStatus.Role.FOLLOWER, 3, null, 5, 5, List.of()))
                .isInstanceOf(NullPointerException.class);
    }

    @Test
    void nodeStatusHasAHealthThatIsDownExactlyWhenTheNodeDoesNotRun() {
        // the constructors from before health existed derive it
        assertThat(new NodeStatus("n1", NodeStatus.Role.LEADER, 3, Optional.of("n1"), 10, 9, List.of()).health())
                .isEqualTo(new NodeStatus.Health(NodeStatus.Health.Status.UP, "running"));
        NodeStatus failed = new NodeStatus("n1", NodeStatus.Role.FOLLOWER, 3, Optional.empty(), 10, 9, List.of(),
                List.of(), false, false, NodeStatus.State.FAILED, Optional.of("java.io.IOException: disk full"));
        assertThat(failed.health().status()).isEqualTo(NodeStatus.Health.Status.DOWN);
        assertThat(failed.health().reason()).isEqualTo("failed: java.io.IOException: disk full");
        assertThat(NodeStatus.Health.down(NodeStatus.State.STOPPED, Optional.empty(), true).reason())
                .isEqualTo("stopped: removed from the cluster");
        assertThat(NodeStatus.Health.down(NodeStatus.State.NOT_STARTED, Optional.empty(), false).isUp()).isFalse();

        NodeStatus.Health degraded = new NodeStatus.Health(NodeStatus.Health.Status.DEGRADED, "no leader heard");
        NodeStatus s = new NodeStatus("n1", NodeStatus.Role.CANDIDATE, 4, Optional.empty(), 10, 9, List.of(),
                List.of(), false, false, NodeStatus.State.RUNNING, Optional.empty(), degraded);
        assertThat(s.health()).isEqualTo(degraded);
        assertThatThrownBy(() -> new NodeStatus("n1", NodeStatus.Role.FOLLOWER, 4, Optional.empty(), 10, 9, List.of(),
                List.of(), false, false, NodeStatus.State.RUNNING, Optional.empty(),
                new NodeStatus.Health(NodeStatus.Health.Status.DOWN, "stopped")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("DOWN exactly when");
        assertThatThrownBy(() -> new NodeStatus("n1", NodeStatus.Role.FOLLOWER, 4, Optional.empty(), 10, 9, List.of(),
                List.of(), false, false, NodeStatus.State.STOPPED, Optional.empty(), degraded))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new NodeStatus.Health(NodeStatus.Health.Status.UP, " "))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> NodeStatus.Health.down(NodeStatus.State.RUNNING, Optional.empty(), false))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void meterIdsHaveLowercaseDottedNamesAndSortedUnmodifiableTags() {
        io.haraft.metrics.MeterId id = io.haraft.metrics.MeterId.of("haraft.commit.latency", "d", "seconds",
                java.util.Map.of("node", "n1", "cluster", "orders"));
        assertThat(id.tags().keySet()).containsExactly("cluster", "node");
        assertThat(id.withTag("peer", "n2").tags()).containsEntry("peer", "n2");
        assertThatThrownBy(() -> id.tags().put("x", "y")).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> io.haraft.metrics.MeterId.of("haraft.n1.leader.N1", "d", "", java.util.Map.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("tag values, not into names");
        assertThatThrownBy(() -> io.haraft.metrics.MeterId.of("haraft.leader", "d", "", java.util.Map.of("Peer", "n2")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("tag key");
        io.haraft.metrics.RaftMetrics none = io.haraft.metrics.RaftMetrics.none();
        none.counter(id).increment();
        none.timer(id).record(5);
        none.distribution(id).record(1.5);
        none.gauge(id, () -> 1);
        none.remove(id);
    }

    @Test
    void nodeStatusSaysWhetherTheNodeRunsAndNeverShowsAStoppedNodeAsLeader() {
        NodeStatus running = new NodeStatus("n1", NodeStatus.Role.LEADER, 3, Optional.of("n1"), 10, 9, List.of());
        assertThat(running.state()).isEqualTo(NodeStatus.State.RUNNING);
        assertThat(running.isRunning()).isTrue();
        assertThat(running.failure()).isEmpty();
        NodeStatus failed = new NodeStatus("n1", NodeStatus.Role.FOLLOWER, 3, Optional.empty(), 10, 9, List.of(),
                List.of(), false, false, NodeStatus.State.FAILED, Optional.of("java.io.IOException: disk full"));
        assertThat(failed.isRunning()).isFalse();
        assertThat(failed.isLeader()).isFalse();
        assertThat(failed.failure()).hasValue("java.io.IOException: disk full");
        assertThatThrownBy(() -> new NodeStatus("n1", NodeStatus.Role.LEADER, 3, Optional.of("n1"), 10, 9, List.of(),
                List.of(), false, false, NodeStatus.State.STOPPED, Optional.empty()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("got role LEADER");
        assertThatThrownBy(() -> new NodeStatus("n1", NodeStatus.Role.FOLLOWER, 3, Optional.of("n2"), 10, 9, List.of(),
                List.of(), false, false, NodeStatus.State.NOT_STARTED, Optional.empty()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("leader n2");
        assertThatThrownBy(() -> new NodeStatus("n1", NodeStatus.Role.FOLLOWER, 3, Optional.empty(), 10, 9, List.of(),
                List.of(), false, false, NodeStatus.State.FAILED, Optional.empty()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("exactly when the state is FAILED");
        assertThatThrownBy(() -> new NodeStatus("n1", NodeStatus.Role.FOLLOWER, 3, Optional.empty(), 10, 9, List.of(),
                List.of(), false, false, NodeStatus.State.RUNNING, Optional.of("x")))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new NodeStatus("n1", NodeStatus.Role.FOLLOWER, 3, Optional.empty(), 10, 9, List.of(),
                List.of(), false, false, null, Optional.empty()))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("state");
    }

    @Test
    void nodeStatusCarriesTheConfiguration() {
        List<NodeStatus.MemberStatus> members = new ArrayList<>(List.of(
                new NodeStatus.MemberStatus("n1", "h:1", MemberRole.VOTER, java.util.OptionalLong.of(0)),
                new NodeStatus.MemberStatus("n4", "h:4", MemberRole.LEARNER, java.util.OptionalLong.of(1200))));
        NodeStatus s = new NodeStatus("n1", NodeStatus.Role.LEADER, 3, Optional.of("n1"), 10, 9, List.of(), members,
                true, false);
        members.clear();
        assertThat(s.members()).hasSize(2);
        assertThat(s.member("n4").orElseThrow().lag()).hasValue(1200);
        assertThat(s.configurationPending()).isTrue();
        assertThat(s.removed()).isFalse();
        NodeStatus plain = new NodeStatus("n1", NodeStatus.Role.FOLLOWER, 3, Optional.empty(), 5, 5, List.of());
        assertThat(plain.members()).isEmpty();
        assertThatThrownBy(() -> new NodeStatus.MemberStatus("n4", "h:4", MemberRole.LEARNER, java.util.OptionalLong.of(-1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("lag of n4 must be >= 0");
        assertThatThrownBy(() -> new NodeStatus.MemberStatus("n4", "h:4", null, java.util.OptionalLong.empty()))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("role");
    }

    @Test
    void clusterConfigurationIsImmutableAndRefusesDuplicates() {
        List<ClusterConfiguration.Member> ms = new ArrayList<>(List.of(
                new ClusterConfiguration.Member("n1", "h:1", MemberRole.VOTER),
                new ClusterConfiguration.Member("n2", "h:2", MemberRole.VOTER),
                new ClusterConfiguration.Member("w1", "h:3", MemberRole.WITNESS),
                new ClusterConfiguration.Member("n4", "h:4", MemberRole.LEARNER)));
        ClusterConfiguration c = new ClusterConfiguration(12, ms);
        ms.clear();
        assertThat(c.voters()).containsExactly("n1", "n2", "w1");
        assertThat(c.contains("n4")).isTrue();
        assertThat(c.member("w1").orElseThrow().toString()).isEqualTo("w1@h:3 (witness)");
        assertThatThrownBy(() -> new ClusterConfiguration(1, List.of(new ClusterConfiguration.Member("n1", "h:1",
                MemberRole.VOTER), new ClusterConfiguration.Member("n1", "h:2", MemberRole.LEARNER))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("n1 appears twice");
        assertThat(MemberRole.WITNESS.votes()).isTrue();
        assertThat(MemberRole.WITNESS_LEARNER.votes()).isFalse();
        assertThat(MemberRole.WITNESS_LEARNER.isWitness()).isTrue();
        assertThat(MemberRole.LEARNER.isLearner()).isTrue();
        assertThat(MemberRole.VOTER.isLearner()).isFalse();
    }

    @Test
    void membershipChangeFailuresSayWhetherToRetry() {
        MembershipChangeException busy = new MembershipChangeException(MembershipChangeException.Reason.CHANGE_IN_PROGRESS,
                "change in progress: adding n4");
        assertThat(busy.isTransient()).isTrue();
        assertThat(busy.isRetrySafe()).isTrue();
        assertThat(busy).hasMessageContaining("change in progress: adding n4")
                .hasMessageContaining("again later is safe");
        MembershipChangeException invalid = new MembershipChangeException(MembershipChangeException.Reason.INVALID,
                "would leave 2 voters");
        assertThat(invalid.isTransient()).isFalse();
        assertThat(invalid).hasMessage("would leave 2 voters");
    }

    @Test
    void notLeaderIsRetrySafeAndCarriesTheHint() {
        NotLeaderException e = new NotLeaderException("n2", "n1", "10.0.0.1:7001");
        assertThat(e.isRetrySafe()).isTrue();
        assertThat(e.leaderId()).contains("n1");
        assertThat(e.leaderAddress()).contains("10.0.0.1:7001");
        assertThat(e).hasMessageContaining("node n2 is not the leader")
                .hasMessageContaining("probably n1 at 10.0.0.1:7001")
                .hasMessageContaining("retrying it is safe");
        NotLeaderException none = new NotLeaderException("n2", null, null);
        assertThat(none.leaderId()).isEmpty();
        assertThat(none).hasMessageContaining("no leader is known");
    }

    @Test
    void indeterminateOutcomeIsNotRetrySafe() {
        IndeterminateOutcomeException e = new IndeterminateOutcomeException(7, 42, "leadership was lost (HIGHER_TERM)");
        assertThat(e.isRetrySafe()).isFalse();
        assertThat(e.term()).isEqualTo(7);
        assertThat(e.index()).isEqualTo(42);
        assertThat(e).hasMessageContaining("appended at index 42 in term 7")
                .hasMessageContaining("may or may not commit")
                .hasMessageContaining("idempotent");
    }

    @Test
    void leaseExpiredNamesTheTokenAndHowLongAgo() {
        LeaseExpiredException e = new LeaseExpiredException(FencingToken.of(7), "n1", Duration.ofMillis(120),
                RevokeReason.LEASE_EXPIRED);
        assertThat(e).hasMessageContaining("node n1 with token 7 ended 120 ms ago (LEASE_EXPIRED)")
                .hasMessageContaining("larger token");
        assertThat(e.isRetrySafe()).isTrue();
        assertThat(e.reason()).contains(RevokeReason.LEASE_EXPIRED);
        assertThat(new LeaseExpiredException(FencingToken.of(7), "n1", Duration.ofMillis(-3), null).endedAgo())
                .isEqualTo(Duration.ZERO);
    }

    @Test
    void configExceptionSeparatesProblemAndFix() {
        RaftConfigException e = new RaftConfigException("It is broken.", "Mend it.");
        assertThat(e).isInstanceOf(IllegalArgumentException.class).hasMessage("It is broken. Fix: Mend it.");
        assertThat(e.problem()).isEqualTo("It is broken.");
        assertThat(e.fix()).isEqualTo("Mend it.");
    }

    @Test
    void leaderChangeIsAValidatedValueThatReadsWell() {
        LeaderChange known = new LeaderChange(Optional.of("n2"), 7);
        assertThat(known).hasToString("leader n2 in term 7").isEqualTo(new LeaderChange(Optional.of("n2"), 7));
        assertThat(known.isLeader("n2")).isTrue();
        assertThat(known.isLeader("n1")).isFalse();
        assertThat(new LeaderChange(Optional.empty(), 8)).hasToString("no leader in term 8");
        assertThat(new LeaderChange(Optional.empty(), 8).isLeader("n2")).isFalse();
        assertThatThrownBy(() -> new LeaderChange(null, 1)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> new LeaderChange(Optional.empty(), -1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("-1");
    }

    @Test
    void overloadedIsRetrySafeAndSaysWhatToDo() {
        OverloadedException e = new OverloadedException("n1", 3);
        assertThat(e.isRetrySafe()).isTrue();
        assertThat(e).isInstanceOf(RaftException.class);
        assertThat(e.nodeId()).isEqualTo("n1");
        assertThat(e.maxPendingProposals()).isEqualTo(3);
        assertThat(e.getMessage()).contains("node n1").contains("3 commands are already in progress")
                .contains("not appended").contains("retrying it is safe").contains("back off");
    }
}
