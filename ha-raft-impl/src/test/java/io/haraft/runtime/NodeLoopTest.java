package io.haraft.runtime;

import io.haraft.ClusterConfiguration;
import io.haraft.Committed;
import io.haraft.MemberRole;
import io.haraft.NodeStatus;
import io.haraft.NotLeaderException;
import io.haraft.RaftConfig;
import io.haraft.RaftNode;
import io.haraft.core.PlantedBugs;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Raft loop of production nodes in a three-node cluster on the whole-node simulator's virtual
 * time (no real clock, no threads): what the loop does with submits, reads, transfers and
 * membership operations on the leader and on a follower.
 */
class NodeLoopTest {
    private static final long MS = 1_000_000L;
    private static final List<String> IDS = List.of("n1", "n2", "n3");

    private final SimWorld world = new SimWorld(11);
    private final SimNet net = new SimNet(world, () -> 200_000);
    private final List<SimNode> nodes = new ArrayList<>();
    private final Map<String, RecordingStateMachine> machines = new java.util.HashMap<>();

    NodeLoopTest() {
        long seed = 1;
        for (String id : IDS) {
            RaftNode.Builder b = RaftNode.builder().clusterId("loop").nodeId(id).dataDir(Path.of("/nonexistent", id))
                    .heartbeatInterval(Duration.ofMillis(50)).electionTimeout(Duration.ofMillis(300))
                    .clockDriftBound(0.01).snapshotThreshold(1_000);
            for (String m : IDS) {
                b.member(m, address(m), MemberRole.VOTER);
            }
            RaftConfig config = b.config();
            SimWorld.Host host = world.new Host(id, seed * 1_000 * MS, 0);
            SimNode node = new SimNode(world, net, host, config, () -> 500_000, 200_000, PlantedBugs.NONE::newCore);
            RecordingStateMachine sm = new RecordingStateMachine();
            machines.put(id, sm);
            node.start(new RecordingListener(id), sm, seed++);
            nodes.add(node);
        }
    }

    private static String address(String id) {
        return id + ":7000";
    }

    private RaftNode node(String id) {
        return nodes.get(IDS.indexOf(id)).node();
    }

    /** Runs the world until one node leads (within 10 s of virtual time); returns its id. */
    private String leader() {
        long until = world.now() + 10_000 * MS;
        world.runWhile(() -> IDS.stream().noneMatch(id -> node(id).status().isLeader()), until);
        return IDS.stream().filter(id -> node(id).status().isLeader()).findFirst().orElseThrow();
    }

    private String follower(String leader) {
        return IDS.stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
    }

    /** Runs the world until {@code f} is done, at most 10 s of virtual time. */
    private <T> CompletableFuture<T> await(CompletableFuture<T> f) {
        world.runWhile(() -> !f.isDone(), world.now() + 10_000 * MS);
        assertThat(f).isDone();
        return f;
    }

    private static Throwable failure(CompletableFuture<?> f) {
        assertThat(f).isCompletedExceptionally();
        return f.handle((x, e) -> e).join();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void aSubmitOnTheLeaderIsAppliedEverywhereInOrderAndAnsweredWithItsResult() {
        String leader = leader();
        CompletableFuture<Committed> a = node(leader).submit(bytes("a"));
        CompletableFuture<Committed> b = node(leader).submit(bytes("b"));
        await(b);
        await(a);
        assertThat(a.join().data()).isEqualTo(bytes("ok:a"));
        assertThat(b.join().data()).isEqualTo(bytes("ok:b"));
        assertThat(b.join().index()).isEqualTo(a.join().index() + 1);
        world.runUntil(world.now() + 500 * MS);
        for (String id : IDS) {
            assertThat(machines.get(id).commands()).as(id).containsExactly("a", "b");
        }
    }

    @Test
    void aFollowerRefusesSubmitsAndReadIndexWithTheLeadersIdAndAddress() {
        String leader = leader();
        world.runUntil(world.now() + 500 * MS);      // the followers heard from the leader
        RaftNode follower = node(follower(leader));
        for (CompletableFuture<Committed> f : List.of(follower.submit(bytes("x")), follower.readIndex())) {
            Throwable t = failure(await(f));
            assertThat(t).isInstanceOf(NotLeaderException.class);
            NotLeaderException e = (NotLeaderException) t;
            assertThat(e.leaderId()).contains(leader);
            assertThat(e.leaderAddress()).contains(address(leader));
        }
        assertThat(machines.get(leader).commands()).doesNotContain("x");
    }

    /**
     * A transport that refuses the cluster identity the node learns from its log (it knows
     * another one) stops that node with the reason, as a store that refuses it does; the others go on.
     */
    @Test
    void aTransportThatRefusesTheLearntIdentityStopsTheNodeWithTheReason() {
        net.refuseIdentityOn("n2");
        String leader = leader();
        await(node(leader).submit(bytes("a")));
        world.runWhile(() -> node("n2").status().state() != NodeStatus.State.FAILED, world.now() + 10_000 * MS);
        NodeStatus s = node("n2").status();
        assertThat(s.state()).isEqualTo(NodeStatus.State.FAILED);
        assertThat(s.failure()).hasValueSatisfying(f -> assertThat(f).contains("cluster identity refused"));
        String next = leader();
        assertThat(next).isNotEqualTo("n2");
        assertThat(await(node(next).submit(bytes("b"))).join().data()).isEqualTo(bytes("ok:b"));
        world.runUntil(world.now() + 500 * MS);
        assertThat(machines.get("n1".equals(next) ? "n3" : "n1").commands()).containsSubsequence("a", "b");
    }

    @Test
    void aReadIndexOnTheLeaderCompletesAfterTheWritesBeforeIt() {
        String leader = leader();
        CompletableFuture<Committed> w = node(leader).submit(bytes("w"));
        await(w);
        CompletableFuture<Committed> r = await(node(leader).readIndex());
        assertThat(r.join().index()).isGreaterThanOrEqualTo(w.join().index());
        assertThat(machines.get(leader).commands()).contains("w");
    }

    @Test
    void leadershipMovesToTheTargetOfATransfer() {
        String leader = leader();
        String target = follower(leader);
        await(node(leader).transferLeadership(target)).join();
        world.runWhile(() -> !node(target).status().isLeader(), world.now() + 5_000 * MS);
        assertThat(node(target).status().isLeader()).isTrue();
        assertThat(node(leader).status().isLeader()).isFalse();
    }

    @Test
    void aMembershipOperationOnTheLeaderCompletesWithTheCommittedConfiguration() {
        String leader = leader();
        ClusterConfiguration c = await(node(leader).addLearner("n4", address("n4"))).join();
        assertThat(c.members()).contains(new ClusterConfiguration.Member("n4", address("n4"), MemberRole.LEARNER));
        assertThat(c.voters()).containsExactlyInAnyOrderElementsOf(IDS);
        Throwable t = failure(await(node(follower(leader)).removeMember("n4")));
        assertThat(t).isInstanceOf(NotLeaderException.class);
    }
}
