package io.haraft.core;

import io.haraft.core.log.Entry;
import io.haraft.core.log.RaftLog;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;

import static io.haraft.core.CoreCluster.MS;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The voting rules of one core, message by message: one vote per term, only for a log at least as
 * up to date, never within the stickiness window (except a leadership transfer), pre-votes that
 * change nothing, and the answers to stale or foreign messages.
 */
class VotingRulesTest {
    private static final long E = 300 * MS;
    private static final long START = 1_000 * MS;
    private static final List<String> IDS = List.of("n1", "n2", "n3");

    /** n1 with a log of entries at terms 1, 1, 2 and hard state term 2, started at START. */
    private static RaftCore core() {
        RaftLog log = new RaftLog(0, 0, List.of(Entry.noop(1, 1), Entry.noop(2, 1), Entry.noop(3, 2)));
        return new RaftCore(CoreConfig.defaults("n1", IDS), new HardState(2, null), log, START,
                new SplittableRandom(7), null);
    }

    /** What the core answered, after processing everything it has to hand out. */
    private static List<Message> answers(RaftCore c, long now) {
        List<Message> out = new java.util.ArrayList<>(c.takeUrgentMessages());
        if (c.hasReady()) {
            Ready r = c.ready();
            out.addAll(r.messages());
            c.advance(r, now);
        }
        return out;
    }

    private static Message.VoteResponse voteAnswer(RaftCore c, Message.Vote v, long now) {
        c.step(v, now);
        return answers(c, now).stream().filter(m -> m instanceof Message.VoteResponse)
                .map(m -> (Message.VoteResponse) m).findFirst().orElse(null);
    }

    @Test
    void oneVotePerTermAndTheSameCandidateMayAskAgain() {
        RaftCore c = core();
        long now = START + E;
        Message.VoteResponse first = voteAnswer(c, new Message.Vote("n2", "n1", 3, 3, 2, false), now);
        assertThat(first).isEqualTo(new Message.VoteResponse("n1", "n2", 3, true));
        assertThat(c.votedFor()).isEqualTo("n2");
        assertThat(c.term()).isEqualTo(3);
        assertThat(voteAnswer(c, new Message.Vote("n3", "n1", 3, 9, 3, false), now).granted())
                .as("another candidate of the same term").isFalse();
        assertThat(voteAnswer(c, new Message.Vote("n2", "n1", 3, 3, 2, false), now).granted())
                .as("the same candidate again").isTrue();
        assertThat(c.votedFor()).isEqualTo("n2");
    }

    @Test
    void theVoteIsDurableBeforeItsAnswerLeaves() {
        RaftCore c = core();
        long now = START + E;
        c.step(new Message.Vote("n2", "n1", 3, 3, 2, false), now);
        assertThat(c.takeUrgentMessages()).as("a vote answer is never urgent").isEmpty();
        Ready r = c.ready();
        assertThat(r.hardState()).isEqualTo(new HardState(3, "n2"));
        assertThat(r.messages()).containsExactly(new Message.VoteResponse("n1", "n2", 3, true));
        c.advance(r, now);
    }

    @Test
    void noVoteForALogLessUpToDate() {
        RaftCore c = core();
        long now = START + E;
        assertThat(voteAnswer(c, new Message.Vote("n2", "n1", 3, 2, 2, false), now).granted())
                .as("shorter log, same last term").isFalse();
        assertThat(voteAnswer(c, new Message.Vote("n3", "n1", 3, 9, 1, false), now).granted())
                .as("longer log, earlier last term").isFalse();
        assertThat(c.votedFor()).isNull();
        assertThat(c.term()).as("the higher term is adopted all the same").isEqualTo(3);
        assertThat(voteAnswer(c, new Message.Vote("n3", "n1", 3, 1, 3, false), now).granted())
                .as("shorter log, later last term").isTrue();
    }

    @Test
    void aRestartedNodeIgnoresVoteRequestsForExactlyOneElectionTimeout() {
        RaftCore c = core();
        c.step(new Message.Vote("n2", "n1", 3, 3, 2, false), START + E - 1);
        assertThat(answers(c, START + E - 1)).as("within the window: ignored, not even refused").isEmpty();
        assertThat(c.term()).isEqualTo(2);
        assertThat(voteAnswer(c, new Message.Vote("n2", "n1", 3, 3, 2, false), START + E).granted()).isTrue();
    }

    @Test
    void aLeadershipTransferVoteIsGrantedWithinTheWindow() {
        RaftCore c = core();
        Message.VoteResponse r = voteAnswer(c, new Message.Vote("n2", "n1", 3, 3, 2, true), START + 1);
        assertThat(r.granted()).isTrue();
        assertThat(c.term()).isEqualTo(3);
    }

    @Test
    void aPreVoteIsGrantedForTheNextTermWithoutChangingAnything() {
        RaftCore c = core();
        long now = START + E;
        c.step(new Message.PreVote("n2", "n1", 3, 3, 2), now);
        List<Message> out = answers(c, now);
        assertThat(out).containsExactly(new Message.PreVoteResponse("n1", "n2", 3, true));
        assertThat(c.term()).isEqualTo(2);
        assertThat(c.votedFor()).isNull();
        c.step(new Message.PreVote("n3", "n1", 3, 2, 2), now);
        assertThat(answers(c, now)).as("a log less up to date; the answer carries our term")
                .containsExactly(new Message.PreVoteResponse("n1", "n3", 2, false));
    }

    @Test
    void aPreVoteWithinTheWindowIsIgnored() {
        RaftCore c = core();
        c.step(new Message.PreVote("n2", "n1", 3, 3, 2), START + E - 1);
        assertThat(answers(c, START + E - 1)).isEmpty();
    }

    @Test
    void staleMessagesAreAnsweredWithTheNewerTerm() {
        RaftCore c = core();
        long now = START + E;
        c.step(new Message.Heartbeat("n2", "n1", 1, 0, 1, E), now);
        assertThat(answers(c, now)).as("a stale leader learns our term")
                .containsExactly(new Message.HeartbeatResponse("n1", "n2", 2, 0));
        c.step(new Message.PreVote("n3", "n1", 2, 9, 2), now);
        assertThat(answers(c, now)).as("a pre-vote for our own term is refused")
                .containsExactly(new Message.PreVoteResponse("n1", "n3", 2, false));
        c.step(new Message.PreVote("n3", "n1", 1, 9, 1), now);
        assertThat(answers(c, now)).containsExactly(new Message.PreVoteResponse("n1", "n3", 2, false));
        c.step(new Message.Vote("n3", "n1", 1, 9, 1, false), now);
        assertThat(answers(c, now)).as("a stale vote request gets no answer").isEmpty();
        assertThat(c.term()).isEqualTo(2);
    }

    @Test
    void messagesForAnotherNodeOrFromAStrangerAreIgnored() {
        RaftCore c = core();
        long now = START + E;
        c.step(new Message.Vote("n2", "n3", 3, 3, 2, false), now);
        c.step(new Message.Vote("n1", "n1", 3, 3, 2, false), now);
        c.step(new Message.Vote("x9", "n1", 3, 3, 2, false), now);
        assertThat(answers(c, now)).isEmpty();
        assertThat(c.term()).isEqualTo(2);
        c.step(new Message.Heartbeat("x9", "n1", 3, 0, 1, E), now);
        assertThat(c.term()).as("a leader newer than our configuration is heard").isEqualTo(3);
        assertThat(c.leader()).isEqualTo("x9");
    }

    @Test
    void aHigherTermFromALeaderMakesThisNodeItsFollower() {
        RaftCore c = core();
        long now = START + E;
        c.step(new Message.Heartbeat("n2", "n1", 5, 2, 1, E), now);
        assertThat(c.term()).isEqualTo(5);
        assertThat(c.leader()).isEqualTo("n2");
        assertThat(c.role()).isEqualTo(Role.FOLLOWER);
        assertThat(c.commitIndex()).isEqualTo(2);
        assertThat(voteAnswer(c, new Message.Vote("n3", "n1", 6, 9, 5, false), now + E - 1))
                .as("stickiness: a live leader was heard less than E ago").isNull();
        assertThat(c.term()).isEqualTo(5);
    }
}
