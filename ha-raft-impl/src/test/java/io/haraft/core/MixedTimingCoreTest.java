package io.haraft.core;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

import static io.haraft.core.CoreCluster.MS;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Nodes configured with different election timeouts, as during a rolling change of the timeout:
 * the lease must hold whatever each node's own setting says.
 */
class MixedTimingCoreTest {

    private static UnaryOperator<CoreConfig> timing(long heartbeatMs, long electionMs) {
        return c -> c.withTimes(heartbeatMs * MS, electionMs * MS);
    }

    /** Runs {@code nanos} in 5 ms steps; returns every instant at which two nodes held a valid lease. */
    private static List<String> runCheckingLeases(CoreCluster c, long nanos) {
        List<String> overlaps = new ArrayList<>();
        long end = c.now + nanos;
        while (c.now < end) {
            c.elapse(5 * MS);
            c.tickAll();
            c.deliverAll();
            List<String> holders = c.cores.values().stream().filter(core -> core.holdsLease(c.now))
                    .map(core -> core.id() + "@term" + core.term()).toList();
            if (holders.size() > 1) {
                overlaps.add(holders + " at " + c.now / MS + " ms");
            }
        }
        return overlaps;
    }

    /** Lets {@code id}, whose election timeout is {@code electionMs}, time out alone and win. */
    private static void elect(CoreCluster c, String id, long electionMs) {
        c.elapse(2 * electionMs * MS + 1);
        c.tick(id);
        c.deliverAll();
        assertThat(c.core(id).role()).as("%s won", id).isEqualTo(Role.LEADER);
    }

    /** n1 (1000 ms timeout) has led n2 and n3 (100 ms) for 500 ms. */
    private static CoreCluster longTimeoutLeader() {
        CoreCluster c = new CoreCluster(3, PlantedBugs.NONE,
                Map.of("n1", timing(100, 1000), "n2", timing(20, 100), "n3", timing(20, 100)));
        elect(c, "n1", 1000);
        c.run(500 * MS);
        return c;
    }

    @Test
    void aLeaderWithALongerTimeoutThanItsFollowersKeepsTheOnlyValidLeaseAfterItIsCutOff() {
        CoreCluster c = longTimeoutLeader();
        assertThat(c.core("n1").holdsLease(c.now)).isTrue();
        long leaseEnd = c.core("n1").leaseUntil();
        assertThat(leaseEnd - c.now).as("the leader's lease relies on its own 1000 ms timeout").isGreaterThan(800 * MS);

        c.drop = CoreCluster.isolate("n1");
        List<String> overlaps = runCheckingLeases(c, 3_000 * MS);

        assertThat(overlaps).as("instants at which two nodes held a valid lease").isEmpty();
        assertThat(c.leaders()).as("the followers elect a new leader once the old lease is over").containsAnyOf("n2", "n3");
    }

    @Test
    void followersHonourTheLeadersStickinessButCampaignOnceItIsOver() {
        CoreCluster c = longTimeoutLeader();
        long cut = c.now;
        c.drop = CoreCluster.isolate("n1");
        c.run(900 * MS);
        assertThat(c.leaders()).as("no follower wins while the leader's stickiness holds").containsExactly("n1");
        c.run(1_500 * MS);
        assertThat(c.core("n2").role() == Role.LEADER || c.core("n3").role() == Role.LEADER)
                .as("a follower was elected within %d ms of the cut", (c.now - cut) / MS).isTrue();
    }

    @Test
    void anAnswerThatPromisesMoreThanTheDiskRecordsLeavesOnlyOnceThePromiseIsDurable() {
        List<String> voters = List.of("n1", "n2", "n3");
        long now = 1_000 * MS;
        RaftCore f = new RaftCore(CoreConfig.defaults("n2", voters).withTimes(20 * MS, 100 * MS),
                new HardState(1, null, 100 * MS), io.haraft.core.log.RaftLog.empty(), now,
                new java.util.SplittableRandom(1), null);
        f.step(new Message.Heartbeat("n1", "n2", 1, 0, 7, 1000 * MS), now);
        assertThat(f.takeUrgentMessages()).as("the answer promises 1000 ms, the disk only 100 ms").isEmpty();
        Ready r = f.ready();
        assertThat(r.hardState()).isEqualTo(new HardState(1, null, 1000 * MS));
        assertThat(r.messages()).containsExactly(new Message.HeartbeatResponse("n2", "n1", 1, 7, 1000 * MS));
        f.advance(r, now);

        f.step(new Message.Heartbeat("n1", "n2", 1, 0, 8, 1000 * MS), now + 20 * MS);
        assertThat(f.takeUrgentMessages()).as("once durable, answers leave at once again")
                .containsExactly(new Message.HeartbeatResponse("n2", "n1", 1, 8, 1000 * MS));
        assertThat(f.hasReady()).isFalse();
    }

    @Test
    void aRestartedFollowerWithholdsVotesForTheLongestStickinessItPromisedEvenWithAShorterTimeoutNow() {
        List<String> voters = List.of("n1", "n2", "n3");
        long start = 1_000 * MS;
        CoreConfig shortTimeout = CoreConfig.defaults("n2", voters).withTimes(20 * MS, 100 * MS);
        RaftCore f = new RaftCore(shortTimeout, HardState.INITIAL, io.haraft.core.log.RaftLog.empty(), start,
                new java.util.SplittableRandom(1), null);
        f.step(new Message.Heartbeat("n1", "n2", 1, 0, 1, 1000 * MS), start);
        Ready r = f.ready();
        HardState persisted = r.hardState();
        f.advance(r, start);

        long restart = start + 10 * MS; // crashed right after answering; restarts at once
        RaftCore again = new RaftCore(shortTimeout, persisted, io.haraft.core.log.RaftLog.empty(), restart,
                new java.util.SplittableRandom(2), null);
        again.step(new Message.PreVote("n3", "n2", 2, 0, 0), restart + 500 * MS);
        assertThat(again.takeUrgentMessages()).as("n1's lease may still be valid: no answer").isEmpty();
        again.tick(restart + 900 * MS);
        assertThat(again.role()).as("nor does it campaign itself").isEqualTo(Role.FOLLOWER);
        again.step(new Message.PreVote("n3", "n2", 2, 0, 0), restart + 1000 * MS);
        assertThat(again.takeUrgentMessages()).containsExactly(new Message.PreVoteResponse("n2", "n3", 2, true));
    }

    @Test
    void aRollingChangeOfTheTimeoutNodeByNodeNeverGivesTwoValidLeases() {
        for (long[] change : new long[][] {{1000, 100}, {100, 1000}}) {
            UnaryOperator<CoreConfig> before = timing(20, change[0]);
            UnaryOperator<CoreConfig> after = timing(20, change[1]);
            CoreCluster c = new CoreCluster(3, PlantedBugs.NONE, Map.of("n1", before, "n2", before, "n3", before));
            elect(c, "n1", change[0]);
            c.run(500 * MS);
            List<String> overlaps = new ArrayList<>();
            for (String node : List.of("n2", "n3", "n1")) {
                c.perNode.put(node, after);
                c.restart(node);
                overlaps.addAll(runCheckingLeases(c, 3_000 * MS));
                String leader = c.leaders().isEmpty() ? null : c.leaders().get(0);
                assertThat(leader).as("a leader after restarting %s (%d -> %d ms)", node, change[0], change[1])
                        .isNotNull();
                // the dangerous state: the leader has the longest timeout, some followers a shorter one
                String longest = change[1] > change[0] ? node : c.perNode.get("n1") == before ? "n1" : node;
                if (!leader.equals(longest)) {
                    c.core(leader).transferLeadership(longest, c.now);
                    overlaps.addAll(runCheckingLeases(c, 3_000 * MS));
                    leader = c.leaders().isEmpty() ? null : c.leaders().get(0);
                    assertThat(leader).as("a leader after the handover to %s", longest).isNotNull();
                }
                c.drop = CoreCluster.isolate(leader);
                overlaps.addAll(runCheckingLeases(c, 2_500 * MS));
                c.drop = m -> false;
                overlaps.addAll(runCheckingLeases(c, 2_500 * MS));
            }
            assertThat(overlaps).as("two valid leases during the change %d -> %d ms", change[0], change[1]).isEmpty();
            assertThat(c.leaders()).hasSize(1);
        }
    }
}
