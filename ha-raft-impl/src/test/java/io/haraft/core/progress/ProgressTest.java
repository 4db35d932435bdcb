package io.haraft.core.progress;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The leader's view of one follower: match only grows (commit counts it), probing sends one
 * append at a time, replication is bounded by the in-flight window, and a snapshot transfer
 * pauses appends until the follower holds the snapshot.
 */
class ProgressTest {

    @Test
    void matchOnlyGrowsAndRecordsWhenItAdvanced() {
        Progress p = new Progress(5, 4, 100);
        assertThat(p.match()).isZero();
        assertThat(p.next()).isEqualTo(5);
        assertThat(p.matchAdvancedAt()).isEqualTo(100);
        assertThat(p.maybeUpdate(3, 200)).isTrue();
        assertThat(p.match()).isEqualTo(3);
        assertThat(p.next()).as("next is not lowered by a lower match").isEqualTo(5);
        assertThat(p.matchAdvancedAt()).isEqualTo(200);
        assertThat(p.maybeUpdate(3, 300)).as("same index: no advance").isFalse();
        assertThat(p.maybeUpdate(2, 300)).isFalse();
        assertThat(p.match()).isEqualTo(3);
        assertThat(p.matchAdvancedAt()).isEqualTo(200);
        assertThat(p.maybeUpdate(7, 400)).isTrue();
        assertThat(p.next()).isEqualTo(8);
    }

    @Test
    void aProbeSendsOneAppendUntilAnAnswerComes() {
        Progress p = new Progress(5, 4, 0);
        assertThat(p.mode()).isEqualTo(Progress.Mode.PROBE);
        assertThat(p.isPaused()).isFalse();
        p.sent(6);
        assertThat(p.isPaused()).isTrue();
        assertThat(p.next()).as("probing does not move next").isEqualTo(5);
        p.onHeartbeatResponse();
        assertThat(p.isPaused()).as("a heartbeat answer allows one more probe").isFalse();
        p.sent(-1);
        assertThat(p.isPaused()).isTrue();
        p.maybeUpdate(4, 1);
        assertThat(p.isPaused()).as("an advancing answer ends the wait").isFalse();
    }

    @Test
    void becomeProbeNeverGoesAtOrBelowMatch() {
        Progress p = new Progress(1, 4, 0);
        p.maybeUpdate(6, 0);
        p.becomeProbe(3);
        assertThat(p.next()).isEqualTo(7);
        p.becomeProbe(9);
        assertThat(p.next()).isEqualTo(9);
        assertThat(p.mode()).isEqualTo(Progress.Mode.PROBE);
    }

    @Test
    void replicationPipelinesUpToTheWindowAndAcknowledgementsFreeIt() {
        Progress p = new Progress(1, 2, 0);
        p.maybeUpdate(3, 0);
        p.becomeReplicate();
        assertThat(p.next()).isEqualTo(4);
        p.sent(5);
        assertThat(p.next()).isEqualTo(6);
        assertThat(p.isPaused()).isFalse();
        p.sent(-1);
        assertThat(p.next()).as("an empty append moves nothing").isEqualTo(6);
        assertThat(p.isPaused()).isFalse();
        p.sent(7);
        assertThat(p.isPaused()).as("two in flight with a window of two").isTrue();
        p.maybeUpdate(5, 1);
        assertThat(p.isPaused()).isFalse();
        p.sent(8);
        assertThat(p.isPaused()).isTrue();
        p.onHeartbeatResponse();
        assertThat(p.isPaused()).as("a heartbeat answer frees the oldest of a full window").isFalse();
        p.becomeReplicate();
        assertThat(p.next()).isEqualTo(6);
        p.sent(6);
        p.sent(7);
        assertThat(p.isPaused()).as("becomeReplicate emptied the window").isTrue();
    }

    @Test
    void aSnapshotTransferPausesAppendsUntilTheFollowerHoldsIt() {
        Progress p = new Progress(1, 4, 0);
        p.becomeSnapshot(10, 2, 500);
        assertThat(p.mode()).isEqualTo(Progress.Mode.SNAPSHOT);
        assertThat(p.isPaused()).isTrue();
        assertThat(p.snapshotIndex()).isEqualTo(10);
        assertThat(p.snapshotTerm()).isEqualTo(2);
        assertThat(p.snapshotOffset()).isZero();
        assertThat(p.snapshotState()).isEqualTo(Progress.SnapshotState.REQUESTED);
        p.snapshotSent();
        assertThat(p.snapshotState()).isEqualTo(Progress.SnapshotState.SENT);
        p.snapshotRequested(64);
        assertThat(p.snapshotOffset()).isEqualTo(64);
        assertThat(p.snapshotState()).isEqualTo(Progress.SnapshotState.REQUESTED);
        assertThat(p.snapshotStalled(999, 500)).isFalse();
        assertThat(p.snapshotStalled(1000, 500)).isTrue();
        p.snapshotProgress(800);
        assertThat(p.snapshotStalled(1000, 500)).isFalse();
        assertThat(p.snapshotStalled(1300, 500)).isTrue();
        p.snapshotIdle();
        assertThat(p.snapshotState()).isEqualTo(Progress.SnapshotState.IDLE);
        p.snapshotDone();
        assertThat(p.match()).isEqualTo(10);
        assertThat(p.next()).isEqualTo(11);
        assertThat(p.mode()).isEqualTo(Progress.Mode.REPLICATE);
        assertThat(p.isPaused()).isFalse();
        assertThat(p.snapshotStalled(1_000_000, 1)).as("only in snapshot mode").isFalse();
    }

    @Test
    void snapshotDoneKeepsAHigherMatch() {
        Progress p = new Progress(1, 4, 0);
        p.becomeSnapshot(10, 2, 0);
        p.maybeUpdate(12, 0);
        p.snapshotDone();
        assertThat(p.match()).isEqualTo(12);
        assertThat(p.next()).isEqualTo(13);
    }

    @Test
    void respondedSinceNeedsAnAnswerAtOrAfterTheTime() {
        Progress p = new Progress(1, 4, 0);
        assertThat(p.respondedSince(Long.MIN_VALUE)).as("never answered").isFalse();
        p.responded(100);
        assertThat(p.respondedSince(100)).isTrue();
        assertThat(p.respondedSince(101)).isFalse();
        assertThat(p.respondedSince(0)).isTrue();
    }

    @Test
    void theInFlightWindowIsAFifoOfLastIndexes() {
        assertThatThrownBy(() -> new Inflights(0)).isInstanceOf(IllegalArgumentException.class);
        Inflights w = new Inflights(3);
        w.add(2);
        w.add(4);
        w.add(6);
        assertThat(w.isFull()).isTrue();
        assertThatThrownBy(() -> w.add(8)).isInstanceOf(IllegalStateException.class);
        w.freeTo(4);
        assertThat(w.count()).isEqualTo(1);
        w.add(8);
        w.add(10); // wraps around the buffer
        assertThat(w.count()).isEqualTo(3);
        w.freeTo(7);
        assertThat(w.count()).isEqualTo(2);
        w.freeTo(7);
        assertThat(w.count()).isEqualTo(2);
        w.freeFirst();
        assertThat(w.count()).isEqualTo(1);
        w.freeTo(10);
        assertThat(w.count()).isZero();
        w.freeFirst();
        assertThat(w.count()).isZero();
        w.add(1);
        w.reset();
        assertThat(w.count()).isZero();
        assertThat(w.isFull()).isFalse();
    }

    @Test
    void toStringNamesTheModeAndTheSnapshot() {
        Progress p = new Progress(1, 1, 0);
        assertThat(p.toString()).contains("PROBE").doesNotContain("paused");
        p.becomeSnapshot(10, 2, 0);
        assertThat(p.toString()).contains("SNAPSHOT 10@2 offset 0 REQUESTED").contains("paused");
    }
}
