package io.haraft.core;

import io.haraft.core.read.ReadState;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static io.haraft.core.CoreCluster.MS;
import static org.assertj.core.api.Assertions.assertThat;

/** Reads are decided in the core: read index and lease reads, before and after a leader's first commit. */
class ReadOnlyTest {

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * n1 commits "x" at index 2 with n2's help and is cut off before n2 learns that commit; n2 wins
     * the next election knowing only commit index 1. Returns the cluster with n2 leader and its
     * first entry (index 3) not committed yet: n3's acknowledgements are held back.
     */
    private static CoreCluster newLeaderWithAStaleCommitIndex(PlantedBugs bugs) {
        CoreCluster c = new CoreCluster(3, bugs, 64);
        c.elect("n1");
        c.core("n1").propose(bytes("x"), c.now);
        c.deliverOnly(m -> (m.from().equals("n1") && m.to().equals("n2") && m instanceof Message.Append)
                || (m.from().equals("n2") && m.to().equals("n1") && m instanceof Message.AppendResponse));
        assertThat(c.core("n1").commitIndex()).as("n1 committed x").isEqualTo(2);
        assertThat(c.core("n2").commitIndex()).as("n2 does not know yet").isEqualTo(1);
        c.inFlight.clear();
        c.drop = CoreCluster.isolate("n1");
        c.elapse(2 * CoreConfig.defaults("n1", c.ids).electionTimeoutNanos() + 1);
        c.tick("n2");
        c.deliverOnly(m -> !(m instanceof Message.AppendResponse) && !c.drop.test(m));
        assertThat(c.core("n2").role()).isEqualTo(Role.LEADER);
        assertThat(c.core("n2").commitIndex()).as("first entry of the term not committed").isEqualTo(1);
        return c;
    }

    @Test
    void aReadAskedBeforeTheLeadersFirstCommitWaitsForItAndCoversWhatTheOldLeaderCommitted() {
        CoreCluster c = newLeaderWithAStaleCommitIndex(PlantedBugs.NONE);
        assertThat(c.core("n2").readIndex(5, c.now)).as("accepted: it waits").isTrue();
        assertThat(c.core("n2").leaseRead(6, c.now)).as("no lease read before the first commit").isFalse();
        c.flush();
        assertThat(c.reads.get("n2")).as("nothing answered before the first commit").isEmpty();

        c.deliverAll();
        assertThat(c.core("n2").commitIndex()).isEqualTo(3);
        assertThat(c.reads.get("n2")).containsExactly(new ReadState(5, 3));
    }

    @Test
    void thePlantedBugServesTheReadAtTheStaleCommitIndex() {
        // proves the test above can fail: without the wait the read misses x, committed at 2
        CoreCluster c = newLeaderWithAStaleCommitIndex(PlantedBugs.READ_BEFORE_FIRST_COMMIT);
        assertThat(c.core("n2").readIndex(5, c.now)).isTrue();
        c.deliverAll();
        assertThat(c.reads.get("n2")).containsExactly(new ReadState(5, 1));
    }

    @Test
    void aLeaseReadIsAnsweredAtOnceOnlyWhileTheLeaseIsValid() {
        CoreCluster c = new CoreCluster(3);
        c.elect("n1");
        c.core("n1").propose(bytes("x"), c.now);
        c.deliverAll();
        assertThat(c.core("n2").leaseRead(1, c.now)).as("a follower serves no lease read").isFalse();
        assertThat(c.core("n1").isElected()).isTrue();

        assertThat(c.core("n1").leaseRead(2, c.now)).isTrue();
        assertThat(c.core("n1").takeReadStates()).as("decided now, at the commit index")
                .containsExactly(new ReadState(2, c.core("n1").commitIndex()));
        assertThat(c.core("n1").takeReadStates()).isEmpty();

        c.drop = CoreCluster.isolate("n1");
        long leaseEnd = c.core("n1").leaseUntil();
        c.elapse(leaseEnd - c.now - 1);
        assertThat(c.core("n1").leaseRead(3, c.now)).as("just before the lease ends").isTrue();
        c.elapse(1);
        assertThat(c.core("n1").leaseRead(4, c.now)).as("at the lease end").isFalse();
        assertThat(c.core("n1").role()).as("a leader whose lease ran out steps down").isNotEqualTo(Role.LEADER);
    }

    @Test
    void readsWaitingForARoundFailWhenLeadershipIsLostAndOneRoundServesMany() {
        CoreCluster c = new CoreCluster(3);
        c.elect("n1");
        c.deliverAll();
        for (long id = 1; id <= 3; id++) {
            assertThat(c.core("n1").readIndex(id, c.now)).isTrue();
        }
        List<Message> round = c.core("n1").takeUrgentMessages();
        assertThat(round).as("one heartbeat per peer for three reads").hasSize(2)
                .allMatch(m -> m instanceof Message.Heartbeat);
        c.inFlight.addAll(round);
        c.deliverAll();
        assertThat(c.reads.get("n1")).extracting(ReadState::requestId).containsExactly(1L, 2L, 3L);

        assertThat(c.core("n1").readIndex(4, c.now)).isTrue();
        c.drop = CoreCluster.isolate("n1");
        c.run(1_000 * MS);
        assertThat(c.reads.get("n1")).last().isEqualTo(new ReadState(4, -1));
    }

    /**
     * A read asked before the term's first commit waits, once that commit is known, for a heartbeat
     * round that starts after it: the rounds acknowledged so far started before the read was asked
     * and prove nothing about leadership after it.
     */
    @Test
    void aReadThatWaitedForTheFirstCommitNeedsARoundStartedAfterIt() {
        CoreCluster c = new CoreCluster(3);
        c.electWithoutCommit("n1");
        RaftCore n1 = c.core("n1");
        assertThat(n1.readIndex(7, c.now)).isTrue();
        c.deliverOnly(m -> m instanceof Message.Append || m instanceof Message.AppendResponse);
        assertThat(n1.isElected()).as("the term's first entry committed").isTrue();
        assertThat(c.reads.get("n1")).as("no round started after the commit was acknowledged yet").isEmpty();
        c.deliverAll();
        assertThat(c.reads.get("n1")).containsExactly(new ReadState(7, n1.commitIndex()));
    }
}
