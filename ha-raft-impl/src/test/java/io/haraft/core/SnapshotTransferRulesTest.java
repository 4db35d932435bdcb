package io.haraft.core;

import io.haraft.core.progress.Progress;
import io.haraft.core.quorum.Membership;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static io.haraft.core.CoreCluster.MS;
import static io.haraft.core.LeaderRulesTest.E;
import static io.haraft.core.LeaderRulesTest.T0;
import static io.haraft.core.LeaderRulesTest.appendTo;
import static io.haraft.core.LeaderRulesTest.appendsTo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The leader's side of a snapshot transfer, message by message, on the leader of
 * {@link LeaderRulesTest}: it asks the runtime for one chunk at a time, the next only once the
 * follower acknowledged the last; a transfer that keeps moving is never restarted, one that an
 * unavailable snapshot stopped resumes on the follower's next heartbeat answer; and whatever shows
 * that the follower holds the snapshot's entries ends the transfer (the last chunk's answer, or a
 * late append acknowledgement), completing a leadership transfer to it.
 */
class SnapshotTransferRulesTest {
    private static final Membership THREE = Membership.ofVoters(List.of("n1", "n2", "n3"));
    private static final long T = T0 + 2 * MS;

    private final List<Ready.SnapshotRequest> requests = new ArrayList<>();

    /** What the core sent; the snapshot chunks it asked for go to {@link #requests}. */
    private List<Message> drain(RaftCore c, long now) {
        return LeaderRulesTest.answers(c, now, r -> requests.addAll(r.snapshotRequests()));
    }

    private static List<Message.InstallSnapshot> chunksIn(List<Message> sent) {
        return sent.stream().filter(m -> m instanceof Message.InstallSnapshot).map(m -> (Message.InstallSnapshot) m)
                .toList();
    }

    /**
     * {@code leader} compacted up to 4 at T; n3, which never answered it, refuses its first append
     * for lack of everything: the leader asks the runtime for chunk 0 of snapshot 4@3 for it.
     */
    private RaftCore transferringToN3(RaftCore leader) {
        leader.compact(4, T);
        leader.step(new Message.AppendResponse("n3", "n1", 3, false, 3, 0, 0, 1, E), T);
        drain(leader, T);
        assertThat(requests).containsExactly(new Ready.SnapshotRequest("n3", 4, 3, 0));
        assertThat(leader.progress("n3").mode()).isEqualTo(Progress.Mode.SNAPSHOT);
        requests.clear();
        return leader;
    }

    private RaftCore transferringToN3() {
        return transferringToN3(LeaderRulesTest.electedLeader(new ArrayList<>()));
    }

    @Test
    void aSnapshotGoesOutChunkByChunkEachAskedForOnceTheLastIsAcknowledgedThenAppendsFollowAtOnce() {
        RaftCore c = transferringToN3();
        assertThatThrownBy(() -> c.snapshotChunk("n3", 4, 3, 0, new byte[0], false, THREE, T))
                .as("an empty chunk that is not the last would never advance")
                .isInstanceOf(IllegalArgumentException.class);
        c.snapshotChunk("n3", 4, 3, 0, new byte[8], false, null, T);
        assertThat(chunksIn(drain(c, T))).singleElement().satisfies(m -> {
            assertThat(m.offset()).isZero();
            assertThat(m.membership()).as("the log knows the configuration at its own snapshot").isEqualTo(THREE);
        });
        c.step(new Message.InstallSnapshotResponse("n3", "n1", 3, 3, 8, false, 1), T);
        drain(c, T);
        assertThat(requests).as("an answer about another snapshot").isEmpty();
        c.step(new Message.InstallSnapshotResponse("n3", "n1", 3, 4, 8, false, 1), T);
        drain(c, T);
        assertThat(requests).containsExactly(new Ready.SnapshotRequest("n3", 4, 3, 8));
        requests.clear();

        c.snapshotChunk("n3", 4, 3, 8, new byte[2], true, THREE, T);
        assertThat(chunksIn(drain(c, T))).extracting(Message.InstallSnapshot::offset).containsExactly(8L);
        c.step(new Message.InstallSnapshotResponse("n3", "n1", 3, 4, 10, true, 1), T + MS);
        assertThat(appendsTo(drain(c, T + MS), "n3")).as("replicating from entry 5 at once").singleElement()
                .satisfies(a -> assertThat(a.prevIndex()).isEqualTo(4));
        assertThat(c.progress("n3").mode()).isEqualTo(Progress.Mode.REPLICATE);
        assertThat(c.progress("n3").match()).isEqualTo(4);
        assertThat(requests).isEmpty();
    }

    @Test
    void aTransferThatKeepsMovingIsRestartedOnlyAfterAnElectionTimeoutWithoutProgress() {
        RaftCore c = transferringToN3();
        c.snapshotChunk("n3", 4, 3, 0, new byte[8], false, THREE, T);
        drain(c, T);
        long t1 = T + 2 * E / 3;
        LeaderRulesTest.keepAlive(c, "n2", T, t1);
        c.step(new Message.InstallSnapshotResponse("n3", "n1", 3, 4, 8, false, 1), t1);
        drain(c, t1);
        assertThat(requests).containsExactly(new Ready.SnapshotRequest("n3", 4, 3, 8));
        requests.clear();
        c.snapshotChunk("n3", 4, 3, 8, new byte[8], false, THREE, t1);
        drain(c, t1);

        long t2 = T + E + E / 6;
        LeaderRulesTest.keepAlive(c, "n2", t1, t2);
        c.step(new Message.HeartbeatResponse("n3", "n1", 3, 1, E), t2);
        drain(c, t2);
        assertThat(requests).as("more than an election timeout since it started, less since the last chunk moved")
                .isEmpty();
        long t3 = t1 + E;
        LeaderRulesTest.keepAlive(c, "n2", t2, t3);
        c.step(new Message.HeartbeatResponse("n3", "n1", 3, 1, E), t3);
        drain(c, t3);
        assertThat(requests).as("stalled: from byte 0").containsExactly(new Ready.SnapshotRequest("n3", 4, 3, 0));
    }

    @Test
    void whenTheNewestSnapshotIsUnavailableTheTransferResumesOnTheFollowersNextHeartbeatAnswer() {
        RaftCore c = transferringToN3();
        c.snapshotUnavailable("n3", T);
        drain(c, T);
        assertThat(requests).as("there is no newer snapshot to restart with").isEmpty();
        c.step(new Message.HeartbeatResponse("n3", "n1", 3, 1, E), T + MS);
        drain(c, T + MS);
        assertThat(requests).containsExactly(new Ready.SnapshotRequest("n3", 4, 3, 0));
    }

    @Test
    void aTransferToAFollowerWhoseConnectionIsRefusedWaitsForItsNextHeartbeatAnswerAndStartsOver() {
        RaftCore c = transferringToN3();
        c.snapshotChunk("n3", 4, 3, 0, new byte[8], false, THREE, T);
        drain(c, T);
        c.peerUnreachable("n3", T + MS);
        drain(c, T + MS);
        assertThat(c.progress("n3").mode()).as("the transfer stays, with nothing in flight")
                .isEqualTo(Progress.Mode.SNAPSHOT);
        assertThat(requests).isEmpty();
        c.step(new Message.HeartbeatResponse("n3", "n1", 3, 1, E), T + 2 * MS);
        drain(c, T + 2 * MS);
        assertThat(requests).containsExactly(new Ready.SnapshotRequest("n3", 4, 3, 0));
    }

    @Test
    void aLateAcknowledgementOfTheSnapshotsEntriesEndsTheTransfer() {
        RaftCore c = transferringToN3();
        // the append of entry 4 sent at the election reached n3 after all
        c.step(new Message.AppendResponse("n3", "n1", 3, true, 4, 0, 0, 1, E), T + MS);
        assertThat(c.progress("n3").mode()).isEqualTo(Progress.Mode.REPLICATE);
        assertThat(c.propose(new byte[] {5}, T + MS)).isEqualTo(5);
        assertThat(appendsTo(drain(c, T + MS), "n3")).flatExtracting(Message.Append::entries)
                .extracting(e -> e.index()).containsExactly(5L);
        assertThat(requests).isEmpty();
    }

    @Test
    void aLeadershipTransferToAFollowerCatchingUpBySnapshotEndsWhenTheSnapshotIsInstalled() {
        RaftCore c = transferringToN3();
        assertThat(c.transferLeadership("n3", T)).isTrue();
        drain(c, T);
        assertThat(c.role()).isEqualTo(Role.LEADER);
        c.snapshotChunk("n3", 4, 3, 0, new byte[8], true, THREE, T);
        drain(c, T);
        c.step(new Message.InstallSnapshotResponse("n3", "n1", 3, 4, 8, true, 1), T + MS);
        assertThat(c.role()).isEqualTo(Role.FOLLOWER);
        assertThat(drain(c, T + MS)).contains(new Message.TimeoutNow("n1", "n3", 3, false));
    }

    @Test
    void aWitnessGetsTheSnapshotsPositionAndConfigurationWithoutItsBytes() {
        List<Message> sent = new ArrayList<>();
        RaftCore c = LeaderRulesTest.leader(LeaderRulesTest.WITH_WITNESS, sent);
        Message.Append toN2 = appendTo(sent, "n2");
        c.step(new Message.AppendResponse("n2", "n1", 3, true, 4, 0, 0, toN2.round(), toN2.stickiness()), T);
        drain(c, T);
        c.compact(4, T);
        c.step(new Message.AppendResponse("n3", "n1", 3, false, 3, 0, 0, 1, E), T);
        List<Message.InstallSnapshot> chunks = chunksIn(drain(c, T));
        assertThat(requests).as("nothing to read from the state machine").isEmpty();
        assertThat(chunks).singleElement().satisfies(m -> {
            assertThat(m.to()).isEqualTo("n3");
            assertThat(m.snapIndex()).isEqualTo(4);
            assertThat(m.data()).isEmpty();
            assertThat(m.last()).isTrue();
            assertThat(m.membership()).isEqualTo(c.membershipAt(4));
        });
    }

    @Test
    void aLeaderThatStepsDownAsksForNoMoreChunks() {
        RaftCore c = transferringToN3();
        c.peerUnreachable("n3", T);
        drain(c, T);
        c.step(new Message.HeartbeatResponse("n3", "n1", 3, 1, E), T + MS);
        c.stepDown(io.haraft.RevokeReason.STEPPED_DOWN, T + MS);
        drain(c, T + MS);
        assertThat(requests).as("the transfer belonged to its leadership").isEmpty();
    }
}
