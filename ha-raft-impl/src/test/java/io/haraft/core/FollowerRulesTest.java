package io.haraft.core;

import io.haraft.core.log.Entry;
import io.haraft.core.log.RaftLog;
import io.haraft.core.quorum.Membership;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static io.haraft.core.CoreCluster.MS;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The rules of one follower, message by message: entries after its commit index are appended
 * (an empty log matches at index 0), committed ones are never overwritten, a refused connection
 * ends leader stickiness only when it is the leader's, for the pre-votes held less than an
 * election timeout, and a Ready reports the latest configuration only when it changes.
 */
class FollowerRulesTest {
    private static final long E = 300 * MS;
    private static final long START = 1_000 * MS;
    private static final long T = START + 2 * E;
    private static final List<String> IDS = List.of("n1", "n2", "n3");

    /** n1, follower of n2 in term 3 since T, with entries at terms 1, 1, 2 of which 3 are committed. */
    private static RaftCore follower() {
        RaftLog log = new RaftLog(0, 0, List.of(Entry.noop(1, 1), Entry.noop(2, 1), Entry.noop(3, 2)));
        RaftCore c = new RaftCore(CoreConfig.defaults("n1", IDS), new HardState(2, null), log, START,
                new SplittableRandom(7), null);
        c.step(new Message.Heartbeat("n2", "n1", 3, 3, 1, E), T);
        answers(c, T);
        assertThat(c.leader()).isEqualTo("n2");
        assertThat(c.commitIndex()).isEqualTo(3);
        return c;
    }

    private static List<Message> answers(RaftCore c, long now) {
        List<Message> out = new ArrayList<>(c.takeUrgentMessages());
        if (c.hasReady()) {
            Ready r = c.ready();
            out.addAll(r.messages());
            c.advance(r, now);
        }
        return out;
    }

    @Test
    void anAppendRightAfterTheCommitIndexIsAppended() {
        RaftCore c = follower();
        c.step(new Message.Append("n2", "n1", 3, 3, 2, List.of(Entry.noop(4, 3)), 3, 2, E), T + MS);
        assertThat(answers(c, T + MS)).containsExactly(
                new Message.AppendResponse("n1", "n2", 3, true, 4, 0, 0, 2, E));
        assertThat(c.lastIndex()).isEqualTo(4);
        assertThat(c.log().term(4)).isEqualTo(3);
    }

    @Test
    void aStaleAppendNeverOverwritesACommittedEntry() {
        RaftCore c = follower();
        c.step(new Message.Append("n2", "n1", 3, 2, 1, List.of(Entry.noop(3, 3)), 3, 2, E), T + MS);
        assertThat(answers(c, T + MS)).as("it holds everything up to its commit index")
                .containsExactly(new Message.AppendResponse("n1", "n2", 3, true, 3, 0, 0, 2, E));
        assertThat(c.log().term(3)).as("committed entry 3 of term 2 stays").isEqualTo(2);
        assertThat(c.lastIndex()).isEqualTo(3);
    }

    @Test
    void aRefusedConnectionToAnotherPeerKeepsTheLeaderSticky() {
        RaftCore c = follower();
        c.step(new Message.PreVote("n3", "n1", 4, 9, 3), T + MS);
        assertThat(answers(c, T + MS)).as("held: a leader is alive").isEmpty();
        c.peerUnreachable("n3", T + 2 * MS);
        assertThat(answers(c, T + 2 * MS)).isEmpty();
        assertThat(c.leader()).isEqualTo("n2");
        c.peerUnreachable("n2", T + 3 * MS);
        assertThat(answers(c, T + 3 * MS)).as("the leader's process is gone: the held pre-vote is answered")
                .containsExactly(new Message.PreVoteResponse("n1", "n3", 4, true));
        assertThat(c.leader()).isNull();
        assertThat(c.nextDeadline()).as("n1 is first in turn: it campaigns within a twentieth of E")
                .isLessThanOrEqualTo(T + 3 * MS + E / 20);
    }

    @Test
    void aPreVoteHeldForAnElectionTimeoutIsDroppedNotAnswered() {
        RaftCore c = follower();
        c.step(new Message.PreVote("n3", "n1", 4, 9, 3), T + MS);
        answers(c, T + MS);
        c.step(new Message.Heartbeat("n2", "n1", 3, 3, 2, E), T + E);
        answers(c, T + E);
        c.peerUnreachable("n2", T + MS + E);
        assertThat(answers(c, T + MS + E)).as("asked an election timeout ago: the pre-candidate gave up on it")
                .isEmpty();
    }

    @Test
    void aNewFollowerAcknowledgesAnEmptyAppendAtTheStartOfTheLog() {
        RaftCore c = new RaftCore(CoreConfig.defaults("n1", IDS), HardState.INITIAL, RaftLog.empty(), START,
                new SplittableRandom(7), null);
        c.step(new Message.Append("n2", "n1", 1, 0, 0, List.of(), 0, 1, E), START + MS);
        assertThat(answers(c, START + MS)).as("its empty log matches the leader's up to index 0")
                .containsExactly(new Message.AppendResponse("n1", "n2", 1, true, 0, 0, 0, 1, E));
    }

    @Test
    void aReadyReportsTheLatestConfigurationOnlyWhenItChanges() {
        RaftCore c = follower();
        Membership withLearner = c.membership().withMember(new Membership.Member("n4", "", Membership.Role.LEARNER));
        c.step(new Message.Append("n2", "n1", 3, 3, 2, List.of(Entry.config(4, 3, withLearner)), 3, 2, E), T + MS);
        Ready r = c.ready();
        assertThat(r.membership()).isEqualTo(withLearner);
        c.advance(r, T + MS);
        assertThat(c.committedMembership()).as("not committed yet").isEqualTo(Membership.ofVoters(IDS));

        c.step(new Message.Heartbeat("n2", "n1", 3, 4, 3, E), T + 2 * MS);
        r = c.ready();
        assertThat(c.committedMembership()).isEqualTo(withLearner);
        assertThat(r.membership()).as("the latest configuration is the same: only its commit is new").isNull();
        c.advance(r, T + 2 * MS);
        assertThat(c.isRemoved()).isFalse();
    }

    @Test
    void aGrantedVoteRestartsTheElectionTimer() {
        RaftCore c = new RaftCore(CoreConfig.defaults("n1", IDS), new HardState(1, null), RaftLog.empty(), START,
                new SplittableRandom(7), null);
        long t = START + E; // the window after starting is over; the request is of n1's own term
        c.step(new Message.Vote("n2", "n1", 1, 0, 0, false), t);
        assertThat(answers(c, t)).containsExactly(new Message.VoteResponse("n1", "n2", 1, true));
        assertThat(c.nextDeadline()).as("n2 may be about to lead: no campaign for an election timeout")
                .isGreaterThanOrEqualTo(t + E);
    }

    @Test
    void aWitnessWhoseElectionTimerRunsOutStaysAFollowerAndWaitsAnotherTimeout() {
        Membership withWitness = Membership.ofVoters(List.of("n1", "n2"))
                .withMember(new Membership.Member("n3", "", Membership.Role.WITNESS));
        RaftCore c = new RaftCore(CoreConfig.defaults("n3", IDS).withMembership(withWitness), HardState.INITIAL,
                RaftLog.empty(), START, new SplittableRandom(7), null);
        long deadline = c.nextDeadline();
        c.tick(deadline);
        assertThat(c.role()).isEqualTo(Role.FOLLOWER);
        assertThat(answers(c, deadline)).isEmpty();
        assertThat(c.nextDeadline()).isGreaterThanOrEqualTo(deadline + E);
    }

    @Test
    void aVoteRequestForAHigherTermNamesNoLeader() {
        RaftCore c = follower();
        c.step(new Message.Vote("n3", "n1", 4, 9, 3, true), T + MS);
        assertThat(c.term()).isEqualTo(4);
        assertThat(c.leader()).as("n3 only asks to lead").isNull();
    }
}
