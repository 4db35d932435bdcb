package io.haraft.core;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static io.haraft.core.CoreCluster.MS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@link RaftCore#setCandidacyDelay}: a node that defers its candidacy (the runtime defers a
 * drained node by one election timeout) lets a member that does not defer and can win campaign
 * first, both when the leader goes silent and when its connection is refused (the turns by id), and
 * still campaigns after the bounded extra wait when no other member can win. Deterministic: one
 * manual clock, messages delivered by the harness. In a three-node cluster led by n1, n2 is the first
 * in id order after n1: without the deferral it would win every election below.
 */
class DeferredCandidacyTest {
    private static final long E = 300 * MS;

    private static CoreCluster ledByN1(int n) {
        CoreCluster c = new CoreCluster(n);
        c.elect("n1");
        c.run(200 * MS);
        return c;
    }

    /** Runs in 1 ms steps until a member other than n1 leads, or {@code limit} has passed. */
    private static void runUntilNewLeader(CoreCluster c, long limit) {
        long start = c.now;
        while (c.leaders().stream().allMatch("n1"::equals) && c.now < start + limit) {
            c.run(MS);
        }
    }

    /** {@code deferring} defer by E; then n1's process is gone and every other node's connection to it is refused. */
    private static void refusedWhileDeferring(CoreCluster c, List<String> deferring) {
        deferring.forEach(id -> c.core(id).setCandidacyDelay(E));
        c.drop = CoreCluster.isolate("n1");
        c.ids.stream().filter(id -> !id.equals("n1")).forEach(id -> c.core(id).peerUnreachable("n1", c.now));
    }

    private static List<String> newLeaders(CoreCluster c) {
        return c.leaders().stream().filter(id -> !id.equals("n1")).toList();
    }

    private static boolean campaigned(CoreCluster c, int since, String node) {
        return c.sent.subList(since, c.sent.size()).stream()
                .anyMatch(m -> m.from().equals(node) && (m instanceof Message.PreVote || m instanceof Message.Vote));
    }

    @Test
    void whenTheLeaderGoesSilentADeferringNodeLetsTheNextMemberWin() {
        CoreCluster c = ledByN1(3);
        long term = c.core("n1").term();
        long before = c.core("n2").nextDeadline();
        c.core("n2").setCandidacyDelay(E);
        assertThat(c.core("n2").nextDeadline() - before).as("the running timer moves at once").isEqualTo(E);
        c.drop = CoreCluster.isolate("n1");   // silence, no refusal
        int sent = c.sent.size();
        runUntilNewLeader(c, 3 * E);
        assertThat(newLeaders(c)).as("the member that does not defer wins").containsExactly("n3");
        assertThat(c.core("n3").term()).as("one election").isEqualTo(term + 1);
        assertThat(campaigned(c, sent, "n2")).as("n2 asked for (pre-)votes").isFalse();
        assertThat(c.core("n2").leader()).isEqualTo("n3");
    }

    @Test
    void afterARefusedConnectionADeferringNodeTakesTheLastTurnAndWaitsTheExtraTimeout() {
        CoreCluster c = ledByN1(3);
        c.core("n2").setCandidacyDelay(E);
        c.drop = CoreCluster.isolate("n1");
        long t = c.now;
        c.core("n2").peerUnreachable("n1", t);
        c.core("n3").peerUnreachable("n1", t);
        long n2Turn = c.core("n2").nextDeadline() - t;
        long n3Turn = c.core("n3").nextDeadline() - t;
        assertThat(n3Turn).as("n3 now asks in the first slots").isLessThanOrEqualTo(E / 5 + E / 20);
        assertThat(n2Turn).as("n2 waits for the turns of the others and the extra timeout")
                .isGreaterThanOrEqualTo(2 * E / 5 + E).isLessThanOrEqualTo(2 * E / 5 + E / 20 + E);
        int sent = c.sent.size();
        runUntilNewLeader(c, E);
        assertThat(newLeaders(c)).containsExactly("n3");
        assertThat(c.now - t).as("elected in n3's turn").isLessThanOrEqualTo(n3Turn + 5 * MS);
        assertThat(campaigned(c, sent, "n2")).as("n2 asked for (pre-)votes").isFalse();
    }

    @Test
    void severalDeferringNodesTakeTheirLastTurnsByIdAfterTheOthers() {
        CoreCluster c = ledByN1(5);
        refusedWhileDeferring(c, List.of("n2", "n3"));
        long n5 = c.core("n5").nextDeadline();
        long n2 = c.core("n2").nextDeadline();
        long n3 = c.core("n3").nextDeadline();
        assertThat(n2).as("the first deferring node after the last other").isGreaterThan(n5);
        assertThat(n3 - n2).as("the deferring nodes take turns too").isGreaterThanOrEqualTo(E / 5 - E / 20);
        runUntilNewLeader(c, E);
        assertThat(newLeaders(c)).containsExactly("n4");
    }

    @Test
    void whenNoOtherMemberCanWinADeferringNodeStillWinsAfterTheBoundedExtraWait() {
        CoreCluster c = ledByN1(3);
        // n3 misses the last entries: it cannot win n2's vote (n2's log is more up to date)
        c.drop = m -> m.to().equals("n3") && m instanceof Message.Append;
        c.core("n1").propose("x".getBytes(StandardCharsets.UTF_8), c.now);
        c.run(50 * MS);
        assertThat(c.core("n2").lastIndex()).isGreaterThan(c.core("n3").lastIndex());
        c.core("n2").setCandidacyDelay(E);
        c.drop = CoreCluster.isolate("n1");
        long silent = c.now;
        long term = c.core("n1").term();
        runUntilNewLeader(c, 5 * E);
        assertThat(newLeaders(c)).as("the deferring node is the only one that can win").containsExactly("n2");
        assertThat(c.core("n2").term()).isGreaterThan(term);
        assertThat(c.now - silent).as("bounded: stickiness, turns, the extra timeout and one more round")
                .isLessThanOrEqualTo(4 * E);
    }

    @Test
    void whenEveryOtherMemberDefersTooOneOfThemStillWins() {
        CoreCluster c = ledByN1(3);
        long t = c.now;
        refusedWhileDeferring(c, List.of("n2", "n3"));
        runUntilNewLeader(c, 3 * E);
        assertThat(newLeaders(c)).as("still available").hasSize(1);
        assertThat(c.now - t).as("the last turns and the extra timeout").isLessThanOrEqualTo(2 * E);
    }

    @Test
    void clearingTheDelayRestoresTheUsualTiming() {
        CoreCluster c = ledByN1(3);
        long usual = c.core("n2").nextDeadline();
        c.core("n2").setCandidacyDelay(E);
        c.core("n2").setCandidacyDelay(0);
        assertThat(c.core("n2").nextDeadline()).isEqualTo(usual);
        assertThat(c.core("n2").candidacyDelay()).isZero();
        c.drop = CoreCluster.isolate("n1");
        runUntilNewLeader(c, 3 * E);
        assertThat(newLeaders(c)).as("n2, first in id order, wins as before").containsExactly("n2");
    }

    @Test
    void aLeaderIsNotAffectedAndTheDelayIsBounded() {
        CoreCluster c = ledByN1(3);
        long deadline = c.core("n1").nextDeadline();
        c.core("n1").setCandidacyDelay(E);
        assertThat(c.core("n1").nextDeadline()).isEqualTo(deadline);
        c.run(2 * E);
        assertThat(c.leaders()).containsExactly("n1");
        assertThatThrownBy(() -> c.core("n2").setCandidacyDelay(-1)).isInstanceOf(IllegalArgumentException.class);
    }
}
