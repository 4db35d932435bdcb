package io.haraft.it;

import io.haraft.ClusterConfiguration;
import io.haraft.Committed;
import io.haraft.MemberRole;
import io.haraft.MembershipChangeException;
import io.haraft.NodeStatus;
import io.haraft.NotLeaderException;
import io.haraft.RaftNode;
import io.haraft.RevokeReason;
import io.haraft.runtime.RecordingListener;
import io.haraft.runtime.RuntimeTestHooks;
import io.haraft.transport.TransportTesting.LogCapture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import static io.haraft.transport.TransportTesting.awaitTrue;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Membership changes on real nodes in this JVM: gRPC on loopback, the file store, the public
 * {@link RaftNode} API. Growing and shrinking the voters, replacing a node whose disk was wiped,
 * removing the leader, two data nodes plus a witness losing either data node, refusals (not
 * leader, change in progress, invalid changes), and a restarted node that uses the configuration
 * in its log rather than its start-up members. Every wait has a deadline; nothing asserts timing.
 *
 * <p>A node whose disk was wiped is replaced under a new id ({@code replaceMember(old, new, ...)}),
 * never re-added under its old id: its old votes and acknowledged entries were lost with the disk.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class MembershipGrpcTest {

    private static final Duration PATIENCE = Duration.ofSeconds(30);
    private static final Duration HEARTBEAT = Duration.ofMillis(100);
    private static final Duration ELECTION = Duration.ofMillis(600);

    @TempDir
    Path dir;

    private GrpcCluster cluster;

    @AfterEach
    void tearDown() {
        if (cluster != null) {
            cluster.close();
            cluster.assertListenerContracts();
        }
    }

    private GrpcCluster cluster(int size) {
        return new GrpcCluster("orders", size, dir, HEARTBEAT, ELECTION, 0.01);
    }

    private static Throwable failure(CompletableFuture<?> f) {
        return GrpcCluster.failure(f, Duration.ofSeconds(60));
    }

    /**
     * Runs a membership operation on whichever node leads, as an operator would: a refusal by a
     * node that is not (or no longer) leader, or a change whose outcome the old leader did not
     * learn, is asked again on the leader; the operations are idempotent.
     */
    private ClusterConfiguration changeOnLeader(Function<RaftNode, CompletableFuture<ClusterConfiguration>> op)
            throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (true) {
            String leaderId = cluster.awaitLeader(cluster.ids.stream().filter(cluster.nodes::containsKey).toList(),
                    PATIENCE);
            try {
                return op.apply(cluster.node(leaderId)).get(90, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                boolean again = e.getCause() instanceof NotLeaderException
                        || (e.getCause() instanceof MembershipChangeException m
                        && (m.reason() == MembershipChangeException.Reason.OUTCOME_UNKNOWN
                        || m.reason() == MembershipChangeException.Reason.LEADER_NOT_READY));
                if (!again || System.nanoTime() - deadline > 0) {
                    throw e;
                }
            }
        }
    }

    private void awaitApplied(String id, List<String> commands) {
        cluster.awaitApplied(id, commands, PATIENCE);
    }

    private List<String> commitAll(String prefix, int n) throws Exception {
        List<String> done = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            cluster.commitSomewhere(prefix + i);
            done.add(prefix + i);
        }
        return done;
    }

    /** Waits until {@code id} uses a committed configuration with exactly these members and roles. */
    private void awaitConfiguration(String id, List<String> members, MemberRole... roles) {
        awaitTrue(id + " uses " + members + " " + List.of(roles), PATIENCE, () -> {
            NodeStatus s = cluster.node(id).status();
            if (s.configurationPending() || !s.members().stream().map(NodeStatus.MemberStatus::id).toList()
                    .equals(members)) {
                return false;
            }
            for (int i = 0; i < roles.length; i++) {
                if (s.members().get(i).role() != roles[i]) {
                    return false;
                }
            }
            return true;
        });
    }

    private static MemberRole[] voters(int n) {
        MemberRole[] r = new MemberRole[n];
        java.util.Arrays.fill(r, MemberRole.VOTER);
        return r;
    }

    @Test
    void growsFromThreeToFiveVotersTheNewVotersCountAndARestartedNodeUsesTheConfigurationInItsLog()
            throws Exception {
        cluster = cluster(3).start();
        List<String> before = commitAll("before-", 10);

        for (String id : List.of("n4", "n5")) {
            cluster.joining(id, MemberRole.LEARNER);
            cluster.create(id).start();
            ClusterConfiguration added = changeOnLeader(l -> l.addLearner(id, cluster.address(id)));
            assertThat(added.member(id).orElseThrow().role()).isEqualTo(MemberRole.LEARNER);
            awaitApplied(id, before);                                   // the learner caught up
            ClusterConfiguration promoted = changeOnLeader(l -> l.promote(id));
            assertThat(promoted.member(id).orElseThrow().role()).isEqualTo(MemberRole.VOTER);
        }
        List<String> five = List.of("n1", "n2", "n3", "n4", "n5");
        for (String id : five) {
            awaitConfiguration(id, five, voters(5));
        }
        String leaderId = cluster.awaitLeader();
        NodeStatus onLeader = cluster.node(leaderId).status();
        assertThat(onLeader.members()).allSatisfy(m -> assertThat(m.lag()).as("lag of %s on the leader", m.id())
                .isPresent());
        assertThat(cluster.node(cluster.others(leaderId).get(0)).status().members())
                .allSatisfy(m -> assertThat(m.lag()).as("followers do not know lags").isEmpty());

        // n4 restarts with its start-up arguments, which still list it as a learner: it uses the
        // configuration in its log (a voter among five), and says so.
        try (LogCapture logs = new LogCapture()) {
            cluster.node("n4").close();
            cluster.create("n4").start();
            awaitTrue("the restart warns that the stored configuration differs", PATIENCE,
                    () -> logs.contains("WARN", "node n4 uses the cluster configuration")
                            && logs.contains("WARN", "not the members of its start-up configuration"));
        }
        awaitConfiguration("n4", five, voters(5));
        awaitApplied("n4", before);

        // Two of the founding three crash: n1, n4 and n5 are a majority of five only because the
        // new voters vote and count for commit.
        for (String id : List.of("n2", "n3")) {
            RuntimeTestHooks.crash(cluster.node(id));
        }
        List<String> after = commitAll("after-", 5);
        // The restarted n4 campaigns as the voter its log says it is: a transfer to it succeeds (a
        // node that took its start-up arguments for its role would refuse to campaign as a learner).
        String current = cluster.awaitLeader(List.of("n1", "n4", "n5"), PATIENCE);
        if (!current.equals("n4")) {
            cluster.node(current).transferLeadership("n4").get(30, TimeUnit.SECONDS);
        }
        cluster.awaitLeader(List.of("n4"), PATIENCE);
        List<String> viaN4 = commitAll("via-n4-", 3);
        for (String id : List.of("n1", "n4", "n5")) {
            awaitApplied(id, before);
            awaitApplied(id, after);
            awaitApplied(id, viaN4);
        }
    }

    @Test
    void aNodeThatWasDownWhileANewMemberBecameLeaderCatchesUpFromIt() throws Exception {
        cluster = cluster(3).start();
        List<String> before = commitAll("before-", 5);
        String a = cluster.awaitLeader();
        String away = cluster.others(a).get(0);
        String c = cluster.others(a).get(1);
        RuntimeTestHooks.crash(cluster.node(away));   // its disk keeps everything up to here

        cluster.joining("n4", MemberRole.LEARNER);
        cluster.create("n4").start();
        changeOnLeader(l -> l.addLearner("n4", cluster.address("n4")));
        changeOnLeader(l -> l.promote("n4"));
        List<String> live = List.of(a, c, "n4");
        awaitTrue("n4 leads", PATIENCE, () -> {
            String leader = cluster.awaitLeader(live, PATIENCE);
            if (!leader.equals("n4")) {
                cluster.node(leader).transferLeadership("n4");
            }
            return cluster.node("n4").status().role() == NodeStatus.Role.LEADER;
        });
        ClusterConfiguration without = changeOnLeader(l -> l.removeMember(a));
        assertThat(without.voters()).containsExactlyInAnyOrder(away, c, "n4");
        List<String> after = commitAll("after-", 5);

        // It comes back with its old start-up members and its old log: neither lists the leader n4,
        // which reaches it anyway and is answered at the address its connection header gives.
        cluster.create(away).start();
        List<String> all = new ArrayList<>(before);
        all.addAll(after);
        awaitApplied(away, all);
        awaitConfiguration(away, without.members().stream().map(ClusterConfiguration.Member::id).toList(),
                voters(3));
    }

    @Test
    void shrinksFromFiveToThreeAndRemovedNodesStop() throws Exception {
        cluster = cluster(5).start();
        List<String> before = commitAll("before-", 5);
        String leaderId = cluster.awaitLeader();
        List<String> victims = cluster.others(leaderId).subList(2, 4);
        for (String v : victims) {
            ClusterConfiguration c = changeOnLeader(l -> l.removeMember(v));
            assertThat(c.contains(v)).isFalse();
        }
        List<String> three = cluster.ids.stream().filter(id -> !victims.contains(id)).toList();
        for (String id : three) {
            awaitConfiguration(id, three, voters(3));
        }
        for (String v : victims) {
            awaitTrue(v + " learns that it was removed and stops", PATIENCE, () -> cluster.node(v).status().removed());
            assertThat(cluster.node(v).submit("x".getBytes(StandardCharsets.UTF_8)))
                    .failsWithin(Duration.ofSeconds(10));
        }
        List<String> after = commitAll("after-", 5);
        // One of the three crashes: two of three is still a majority (it would not be of five).
        String leaderNow = cluster.awaitLeader(three, PATIENCE);
        String crashed = three.stream().filter(id -> !id.equals(leaderNow)).findFirst().orElseThrow();
        RuntimeTestHooks.crash(cluster.node(crashed));
        List<String> last = commitAll("last-", 3);
        for (String id : three) {
            if (!id.equals(crashed)) {
                awaitApplied(id, before);
                awaitApplied(id, after);
                awaitApplied(id, last);
            }
        }
        for (String v : victims) {
            assertThat(cluster.stateMachines.get(v).commands()).as("removed %s applies nothing after", v)
                    .doesNotContainAnyElementsOf(last);
            assertThat(cluster.listener(v).current()).as("removed %s holds no leadership", v).isNull();
        }
    }

    @Test
    void replacesANodeWhoseDiskWasWipedUnderANewIdSafeToRetry() throws Exception {
        cluster = cluster(3).start();
        List<String> before = commitAll("before-", 10);
        String leaderId = cluster.awaitLeader();
        String lost = cluster.others(leaderId).get(0);
        RuntimeTestHooks.crash(cluster.node(lost));
        cluster.wipe(lost);

        cluster.joining("n4", MemberRole.LEARNER);
        cluster.create("n4").start();
        ClusterConfiguration replaced = changeOnLeader(l -> l.replaceMember(lost, "n4", cluster.address("n4")));
        assertThat(replaced.contains(lost)).isFalse();
        assertThat(replaced.member("n4").orElseThrow().role()).isEqualTo(MemberRole.VOTER);
        assertThat(replaced.voters()).hasSize(3);
        awaitApplied("n4", before);

        // Asking again (as an operator whose first call timed out would) skips every step.
        ClusterConfiguration again = changeOnLeader(l -> l.replaceMember(lost, "n4", cluster.address("n4")));
        assertThat(again.members()).isEqualTo(replaced.members());

        List<String> three = cluster.ids.stream().filter(id -> !id.equals(lost)).toList();
        for (String id : three) {
            awaitConfiguration(id, three, voters(3));
        }
        // The replacement counts: with another original node gone, the leader and n4 commit.
        String leaderNow = cluster.awaitLeader(three, PATIENCE);
        String other = three.stream().filter(id -> !id.equals(leaderNow) && !id.equals("n4")).findFirst()
                .orElse(null);
        if (other != null) {
            RuntimeTestHooks.crash(cluster.node(other));
        }
        List<String> after = commitAll("after-", 5);
        awaitApplied("n4", after);
        assertThat(cluster.stateMachines.get("n4").commands()).containsSubsequence(before).containsSubsequence(after);
    }

    @Test
    void removingTheLeaderHandsOverFirstThenItLeaves() throws Exception {
        cluster = cluster(4).start();
        List<String> before = commitAll("before-", 5);
        String oldId = cluster.awaitLeader();
        long oldToken = cluster.listener(oldId).current().term();

        CompletableFuture<ClusterConfiguration> leaving = cluster.node(oldId).removeMember(oldId);
        ClusterConfiguration c;
        try {
            c = leaving.get(60, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            // The old leader learns that its removal committed from the new leader's last heartbeat,
            // whose commit index the core caps at what the old leader had acknowledged then: when its
            // acknowledgement came after the commit, it never learns it, stops on its own after a few
            // election timeouts, and reports the outcome as unknown. Asking the new leader settles it.
            assertThat(e.getCause()).isInstanceOf(MembershipChangeException.class);
            assertThat(((MembershipChangeException) e.getCause()).reason())
                    .isEqualTo(MembershipChangeException.Reason.OUTCOME_UNKNOWN);
            c = changeOnLeader(l -> l.removeMember(oldId));
        }
        assertThat(c.contains(oldId)).isFalse();
        assertThat(c.voters()).hasSize(3);

        RecordingListener old = cluster.listener(oldId);
        assertThat(old.last().elected()).as("the old leader revoked its leadership: %s", old).isFalse();
        assertThat(old.last().reason()).isEqualTo(RevokeReason.LEADERSHIP_TRANSFERRED);
        List<String> rest = cluster.others(oldId);
        String newId = cluster.awaitLeader(rest, PATIENCE);
        assertThat(cluster.listener(newId).current().term()).as("the new leader's token").isGreaterThan(oldToken);
        awaitTrue(oldId + " stops after its removal", PATIENCE, () -> cluster.node(oldId).status().removed());
        for (String id : rest) {
            awaitConfiguration(id, rest, voters(3));
        }
        List<String> after = commitAll("after-", 5);
        for (String id : rest) {
            awaitApplied(id, before);
            awaitApplied(id, after);
        }
        assertThat(old.events.stream().filter(RecordingListener.Event::elected).filter(e -> e.term() > oldToken))
                .as("the removed leader is never elected again").isEmpty();
    }

    /**
     * Two data nodes (n1, n2) and a witness (n3). The data node that leads is crashed; the other
     * one becomes leader with a larger token, with the witness's vote, and has every write that was
     * acknowledged. The witness applies no command and never leads.
     */
    @ParameterizedTest(name = "the lost data node is {0}")
    @ValueSource(strings = {"n1", "n2"})
    void twoDataNodesAndAWitnessSurviveTheLossOfEitherDataNode(String victim) throws Exception {
        cluster = cluster(3);
        cluster.roles.put("n3", MemberRole.WITNESS);
        cluster.start();
        String survivor = victim.equals("n1") ? "n2" : "n1";
        String payload = "x".repeat(1024);
        List<String> acknowledged = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            Committed done = cluster.commitSomewhere("w-" + i + "-" + payload);
            assertThat(done.index()).isPositive();
            acknowledged.add("w-" + i + "-" + payload);
        }
        String leaderId = cluster.awaitLeader();
        assertThat(leaderId).as("a witness never leads").isNotEqualTo("n3");
        if (!leaderId.equals(victim)) {
            cluster.node(leaderId).transferLeadership(victim).get(30, TimeUnit.SECONDS);
        }
        cluster.awaitLeader(List.of(victim), PATIENCE);
        acknowledged.add("last-" + payload);
        cluster.node(victim).submit(("last-" + payload).getBytes(StandardCharsets.UTF_8)).get(30, TimeUnit.SECONDS);
        long token = cluster.listener(victim).current().term();

        RuntimeTestHooks.crash(cluster.node(victim));
        cluster.awaitLeader(List.of(survivor), PATIENCE);
        assertThat(cluster.listener(survivor).current().term()).as("the survivor's token").isGreaterThan(token);
        List<String> after = commitAll("after-", 5);
        awaitApplied(survivor, acknowledged);
        awaitApplied(survivor, after);
        assertThat(cluster.stateMachines.get(survivor).commands()).containsSubsequence(acknowledged);

        assertThat(cluster.stateMachines.get("n3").applied).as("the witness applies no command").isEmpty();
        assertThat(cluster.listener("n3").events).as("the witness is never elected").isEmpty();
        NodeStatus w = cluster.node("n3").status();
        assertThat(w.member("n3").orElseThrow().role()).isEqualTo(MemberRole.WITNESS);
        awaitTrue("the witness follows the commits", PATIENCE, () -> cluster.node("n3").status().commitIndex()
                >= cluster.node(survivor).status().commitIndex());
    }

    @Test
    void refusalsNotLeaderChangeInProgressInvalidAndAPromotionThatWaitsForTheLearner() throws Exception {
        cluster = cluster(3).start();
        String leaderId = cluster.awaitLeader();
        RaftNode leader = cluster.node(leaderId);
        String followerId = cluster.others(leaderId).get(0);

        cluster.joining("n4", MemberRole.LEARNER);
        cluster.joining("n5", MemberRole.LEARNER);
        Throwable notLeader = failure(cluster.node(followerId).addLearner("n4", cluster.address("n4")));
        assertThat(notLeader).isInstanceOf(NotLeaderException.class);
        assertThat(((NotLeaderException) notLeader).leaderId()).contains(leaderId);

        Throwable twoVoters = failure(leader.removeMember(followerId));
        assertThat(twoVoters).isInstanceOf(MembershipChangeException.class).hasMessageContaining("2 voters")
                .hasMessageContaining("addWitness");
        assertThat(((MembershipChangeException) twoVoters).reason()).isEqualTo(MembershipChangeException.Reason.INVALID);
        assertThat(failure(leader.replaceMember(followerId, followerId, cluster.address(followerId))))
                .isInstanceOf(MembershipChangeException.class).hasMessageContaining("needs a new id");
        assertThat(failure(leader.promote("n9"))).isInstanceOf(MembershipChangeException.class)
                .hasMessageContaining("n9 is not a member");

        // n4 is added but not started; more entries than promoteMaxLag (1000) are written meanwhile.
        changeOnLeader(l -> l.addLearner("n4", cluster.address("n4")));
        String leaderNow = cluster.awaitLeader();
        List<CompletableFuture<Committed>> writes = new ArrayList<>();
        for (int i = 0; i < 1100; i++) {
            writes.add(cluster.node(leaderNow).submit(("bulk-" + i).getBytes(StandardCharsets.UTF_8)));
        }
        CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
        NodeStatus.MemberStatus n4 = cluster.node(leaderNow).status().member("n4").orElseThrow();
        assertThat(n4.role()).isEqualTo(MemberRole.LEARNER);
        assertThat(n4.lag().orElseThrow()).as("the learner's lag on the leader").isGreaterThan(1000);

        // The promotion waits for the learner to catch up; meanwhile a second change is refused.
        CompletableFuture<ClusterConfiguration> promotion = cluster.node(leaderNow).promote("n4", Duration.ofSeconds(60));
        Throwable busy = failure(cluster.node(leaderNow).addLearner("n5", cluster.address("n5")));
        assertThat(busy).isInstanceOf(MembershipChangeException.class).hasMessageContaining("change in progress")
                .hasMessageContaining("promote(n4)");
        assertThat(((MembershipChangeException) busy).reason())
                .isEqualTo(MembershipChangeException.Reason.CHANGE_IN_PROGRESS);
        assertThat(((MembershipChangeException) busy).isTransient()).isTrue();
        assertThat(promotion).isNotDone();

        cluster.create("n4").start();
        ClusterConfiguration promoted = promotion.get(60, TimeUnit.SECONDS);
        assertThat(promoted.member("n4").orElseThrow().role()).isEqualTo(MemberRole.VOTER);
        awaitTrue("n4 applies the bulk writes", PATIENCE, () -> cluster.stateMachines.get("n4").commands().size() >= 1100);
    }
}
