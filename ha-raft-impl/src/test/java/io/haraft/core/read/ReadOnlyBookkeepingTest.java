package io.haraft.core.read;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The read bookkeeping on its own: a read-index request is answered only once a majority
 * acknowledged the round it waits for (or a later one), never earlier; requests made before the
 * term's first commit wait for it and take the commit index of then; leadership lost fails all.
 */
class ReadOnlyBookkeepingTest {

    @Test
    void aRequestIsConfirmedByItsRoundOrALaterOneNeverAnEarlierOne() {
        ReadOnly r = new ReadOnly();
        assertThat(r.roundNeeded()).isFalse();
        r.awaitRound(1, 10, 5);
        assertThat(r.roundNeeded()).isTrue();
        assertThat(r.waiting()).isEqualTo(1);
        r.roundStarted();
        assertThat(r.roundNeeded()).isFalse();
        r.confirm(4);
        assertThat(r.hasAnswers()).as("round 4 started before the request").isFalse();
        r.confirm(5);
        assertThat(r.hasAnswers()).isTrue();
        assertThat(r.takeAnswers()).containsExactly(new ReadState(1, 10));
        assertThat(r.hasAnswers()).isFalse();
        assertThat(r.takeAnswers()).isEmpty();
        assertThat(r.waiting()).isZero();
    }

    @Test
    void oneRoundConfirmsEveryRequestUpToItInOrder() {
        ReadOnly r = new ReadOnly();
        r.awaitRound(1, 10, 5);
        r.awaitRound(2, 11, 5);
        r.awaitRound(3, 12, 6);
        r.confirm(5);
        assertThat(r.takeAnswers()).containsExactly(new ReadState(1, 10), new ReadState(2, 11));
        assertThat(r.waiting()).isEqualTo(1);
        r.confirm(7);
        assertThat(r.takeAnswers()).containsExactly(new ReadState(3, 12));
    }

    @Test
    void requestsBeforeTheFirstCommitWaitForItThenForARound() {
        ReadOnly r = new ReadOnly();
        r.awaitTermCommit(1);
        r.awaitTermCommit(2);
        assertThat(r.roundNeeded()).as("no round helps before the commit").isFalse();
        r.confirm(100);
        assertThat(r.hasAnswers()).isFalse();
        assertThat(r.waiting()).isEqualTo(2);
        r.termCommitted(7, 3);
        assertThat(r.roundNeeded()).isTrue();
        r.confirm(2);
        assertThat(r.hasAnswers()).isFalse();
        r.confirm(3);
        assertThat(r.takeAnswers()).containsExactly(new ReadState(1, 7), new ReadState(2, 7));
        r.termCommitted(9, 4);
        assertThat(r.waiting()).as("nothing left waiting for the commit").isZero();
    }

    @Test
    void losingLeadershipFailsEveryWaitingRequestAndALeaseReadIsAnsweredAtOnce() {
        ReadOnly r = new ReadOnly();
        r.serve(9, 4);
        r.awaitTermCommit(1);
        r.awaitRound(2, 10, 5);
        r.failAll();
        assertThat(r.roundNeeded()).isFalse();
        assertThat(r.waiting()).isZero();
        assertThat(r.takeAnswers()).containsExactly(new ReadState(9, 4), new ReadState(1, -1), new ReadState(2, -1));
        r.confirm(Long.MAX_VALUE);
        assertThat(r.hasAnswers()).isFalse();
    }
}
