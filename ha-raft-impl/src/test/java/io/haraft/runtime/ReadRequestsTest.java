package io.haraft.runtime;

import io.haraft.Committed;
import io.haraft.NotLeaderException;
import io.haraft.core.CoreConfig;
import io.haraft.core.HardState;
import io.haraft.core.RaftCore;
import io.haraft.core.Ready;
import io.haraft.core.Role;
import io.haraft.core.log.Entry;
import io.haraft.core.log.RaftLog;
import io.haraft.core.quorum.Membership;
import io.haraft.core.read.ReadState;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The loop's side of reads against a real core (a one-voter cluster, so that the core leads and
 * confirms reads by itself) and a real apply thread on a simulated node: a read completes only at
 * the index the core answered and only once that index is applied; a refused or failed read fails.
 */
class ReadRequestsTest {
    private static final long MS = 1_000_000L;
    private static final long START = 1_000 * MS;

    private final SimWorld world = new SimWorld(3);
    private final SimWorld.Host host = world.new Host("n1", START, 0);
    private final SimNodeEnvironment env = new SimNodeEnvironment(world, host, 3, 10_000, null);
    private final Applier applier = new Applier(env, "c", "n1", new RecordingStateMachine(), t -> { }, new InMemoryLogStore(),
            1_000_000, Long.MAX_VALUE, Membership.ofVoters(List.of("n1")), false, 0, i -> { });
    private final List<Entry> committed = new ArrayList<>();
    private final List<ReadState> answers = new ArrayList<>();
    private long now = START;

    private RaftCore core(List<String> voters) {
        return new RaftCore(CoreConfig.defaults("n1", voters), new HardState(0, null), new RaftLog(0, 0, List.of()),
                START, new SplittableRandom(5), null);
    }

    /** Hands out what the core has ready, as the loop would; committed entries and read answers are kept. */
    private void drain(RaftCore c) {
        for (int i = 0; i < 10 && c.hasReady(); i++) {
            c.takeUrgentMessages();
            Ready r = c.ready();
            committed.addAll(r.committed());
            answers.addAll(r.reads());
            c.advance(r, now);
        }
        answers.addAll(c.takeReadStates());
    }

    /** n1 alone, leader with its first entry of the term committed (not yet handed to the apply thread). */
    private RaftCore leader() {
        RaftCore c = core(List.of("n1"));
        for (int i = 0; i < 20 && c.role() != Role.LEADER; i++) {
            now += 300 * MS;
            c.tick(now);
            drain(c);
        }
        drain(c);
        assertThat(c.role()).isEqualTo(Role.LEADER);
        assertThat(committed).isNotEmpty();
        return c;
    }

    private ReadRequests reads(RaftCore c) {
        return new ReadRequests(c, () -> now, applier, () -> new NotLeaderException("n1", null, null));
    }

    /** Why {@code f} failed; it must have completed already (a test never waits for it). */
    private static Throwable failure(CompletableFuture<Committed> f) {
        assertThat(f).isCompletedExceptionally();
        return f.handle((x, e) -> e).join();
    }

    /** Asks {@code r} for a read index; returns the caller's future. */
    private static CompletableFuture<Committed> readIndex(ReadRequests r) {
        CompletableFuture<Committed> f = new CompletableFuture<>();
        r.readIndex(f);
        return f;
    }

    private void applyCommitted() {
        applier.apply(List.copyOf(committed), false);
        committed.clear();
        world.runUntil(world.now() + 10 * MS);
    }

    @Test
    void aFollowerRefusesBothKindsOfReadWithNotLeader() {
        RaftCore follower = core(List.of("n1", "n2", "n3"));
        ReadRequests r = reads(follower);
        CompletableFuture<Committed> index = new CompletableFuture<>();
        CompletableFuture<Committed> lease = new CompletableFuture<>();
        r.readIndex(index);
        r.leaseRead(lease);
        assertThat(failure(lease)).isInstanceOf(NotLeaderException.class);
        world.runUntil(10 * MS);                  // a read-index future fails on the apply thread
        assertThat(failure(index)).isInstanceOf(NotLeaderException.class);
    }

    @Test
    void aReadIndexCompletesAtTheAnsweredIndexOnlyOnceThatIndexIsApplied() {
        RaftCore c = leader();
        ReadRequests r = reads(c);
        CompletableFuture<Committed> f = readIndex(r);
        drain(c);
        assertThat(answers).hasSize(1);
        ReadState answer = answers.get(0);
        assertThat(answer.failed()).isFalse();
        assertThat(answer.index()).isEqualTo(c.commitIndex());
        r.answered(List.copyOf(answers));
        world.runUntil(world.now() + 10 * MS);
        assertThat(f).as("not before the state machine reached the read index").isNotDone();
        applyCommitted();
        assertThat(f).isCompletedWithValue(Committed.position(c.term(), answer.index()));
    }

    @Test
    void aLeaseReadCompletesOnTheLoopAtTheCommitIndex() {
        RaftCore c = leader();
        applyCommitted();
        ReadRequests r = reads(c);
        CompletableFuture<Committed> f = new CompletableFuture<>();
        r.leaseRead(f);
        drain(c);
        r.answered(List.copyOf(answers));
        assertThat(f).isCompletedWithValue(Committed.position(c.term(), Math.max(1, c.commitIndex())));
    }

    @Test
    void aFailedAnswerFailsTheReadAndAnUnknownOneIsIgnored() {
        RaftCore c = leader();
        ReadRequests r = reads(c);
        CompletableFuture<Committed> index = new CompletableFuture<>();
        CompletableFuture<Committed> lease = new CompletableFuture<>();
        r.readIndex(index);                       // request 1
        r.leaseRead(lease);                       // request 2
        r.answered(List.of(new ReadState(1, -1), new ReadState(2, -1), new ReadState(99, 5)));
        assertThat(failure(lease)).isInstanceOf(NotLeaderException.class);
        world.runUntil(world.now() + 10 * MS);
        assertThat(failure(index)).isInstanceOf(NotLeaderException.class);
        r.answered(List.of(new ReadState(1, 3)));  // answered twice: the second is nobody's
        assertThat(index).isCompletedExceptionally();
    }

    @Test
    void aLeaderBeforeItsFirstCommitRefusesALeaseReadAsNoLeaseAndDefersAReadIndex() {
        RaftCore c = core(List.of("n1", "n2", "n3"));
        now += 600 * MS;
        c.tick(now);
        drain(c);
        c.step(new io.haraft.core.Message.PreVoteResponse("n2", "n1", 1, true), now);
        drain(c);
        c.step(new io.haraft.core.Message.VoteResponse("n2", "n1", 1, true), now);
        drain(c);
        assertThat(c.role()).isEqualTo(Role.LEADER);
        assertThat(committed).as("nobody acknowledged its first entry yet").isEmpty();
        ReadRequests r = reads(c);
        CompletableFuture<Committed> lease = new CompletableFuture<>();
        r.leaseRead(lease);
        assertThat(failure(lease)).isInstanceOf(ReadRequests.NoLeaseException.class);
        CompletableFuture<Committed> index = new CompletableFuture<>();
        r.readIndex(index);
        drain(c);
        r.answered(List.copyOf(answers));
        world.runUntil(world.now() + 10 * MS);
        assertThat(answers).as("a read index waits for the leader's first commit").isEmpty();
        assertThat(index).isNotDone();
    }

    @Test
    void requestsStillWaitingFailWhenTheLoopStops() {
        RaftCore c = leader();
        ReadRequests r = reads(c);
        CompletableFuture<Committed> f = readIndex(r);
        r.failAll("n1");
        assertThat(failure(f)).isInstanceOf(NotLeaderException.class);
        drain(c);
        r.answered(List.copyOf(answers));
        world.runUntil(world.now() + 10 * MS);
        assertThat(f).isCompletedExceptionally();
    }
}
