package io.haraft.runtime;

import io.haraft.LeaderChange;
import io.haraft.Leadership;
import io.haraft.LeadershipListener;
import io.haraft.RevokeReason;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The dispatcher alone on a simulated node ({@link SimWorld}, {@link SimNodeEnvironment}): its
 * callback thread and lease watchdog run as events of the world, on virtual time, so each test
 * states exactly when a lease ends and what each listener saw by then. The loop's part (calling
 * {@code elected}, {@code revoked}) is played by the test.
 */
class LeadershipDispatcherTest {
    private static final long MS = 1_000_000L;

    private final SimWorld world = new SimWorld(1);
    private final SimWorld.Host host = world.new Host("n1", 0, 0);
    private final SimNodeEnvironment env = new SimNodeEnvironment(world, host, 1, 10_000, null);
    private final AtomicInteger wakes = new AtomicInteger();
    private final LeadershipDispatcher dispatcher = new LeadershipDispatcher(env, "c", "n1", wakes::incrementAndGet,
            Runnable::run);

    /** One delivered call: what, for which term, why (null for elected), when, and whether it was still valid. */
    private record Call(String what, long term, RevokeReason reason, long at, boolean validThen) {
    }

    private final class Recorder implements LeadershipListener {
        final List<Call> calls = new ArrayList<>();

        @Override
        public void elected(Leadership l) {
            calls.add(new Call("elected", l.term(), null, host.clock(), l.isValid()));
        }

        @Override
        public void revoked(Leadership l, RevokeReason reason) {
            calls.add(new Call("revoked", l.term(), reason, host.clock(), l.isValid()));
        }

        List<String> summary() {
            return calls.stream().map(c -> c.what() + " " + c.term() + (c.reason() == null ? "" : " " + c.reason()))
                    .toList();
        }
    }

    /** A new recording listener, added to the dispatcher. */
    private Recorder listening() {
        Recorder r = new Recorder();
        dispatcher.addListener(r, null);
        return r;
    }

    @Test
    void theWatchdogRevokesTheLeaseTheMomentItEndsOnceAndWakesTheLoop() {
        Recorder r = listening();
        long end = host.clock() + 100 * MS;
        LeadershipImpl l = dispatcher.elected(5, end, 3);
        world.runUntil(end - 1);
        assertThat(r.summary()).containsExactly("elected 5");
        assertThat(r.calls.get(0).validThen()).isTrue();
        assertThat(l.isValid()).isTrue();
        assertThat(wakes).hasValue(0);

        world.runUntil(end + 1 * MS);
        assertThat(r.summary()).containsExactly("elected 5", "revoked 5 LEASE_EXPIRED");
        assertThat(r.calls.get(1).at()).as("revoked within a few µs of the lease end").isBetween(end, end + MS / 10);
        assertThat(l.isRevoked()).isTrue();
        assertThat(l.revokeReason()).isEqualTo(RevokeReason.LEASE_EXPIRED);
        assertThat(wakes).as("the loop is woken to step down").hasValue(1);
        assertThat(dispatcher.open()).as("the loop has not closed it yet").isSameAs(l);

        // the loop's own revocation comes second: the compare-and-set keeps it silent
        dispatcher.revoked(5, RevokeReason.HIGHER_TERM);
        world.runUntil(end + 10 * MS);
        assertThat(r.summary()).containsExactly("elected 5", "revoked 5 LEASE_EXPIRED");
        assertThat(dispatcher.open()).isNull();
        assertThat(l.revokeReason()).isEqualTo(RevokeReason.LEASE_EXPIRED);
    }

    @Test
    void aLeaseExtendedInTimeIsWatchedUntilItsNewEnd() {
        Recorder r = listening();
        long end = host.clock() + 100 * MS;
        LeadershipImpl l = dispatcher.elected(2, end, 1);
        world.runUntil(end - 10 * MS);
        l.extendTo(end + 200 * MS);
        world.runUntil(end + 199 * MS);
        assertThat(r.summary()).containsExactly("elected 2");
        assertThat(l.isValid()).isTrue();
        world.runUntil(end + 201 * MS);
        assertThat(r.summary()).containsExactly("elected 2", "revoked 2 LEASE_EXPIRED");
        assertThat(r.calls.get(1).at()).isBetween(end + 200 * MS, end + 200 * MS + MS / 10);
        assertThat(wakes).hasValue(1);
    }

    @Test
    void theLoopsRevocationComesFirstAndTheWatchdogStaysSilent() {
        Recorder r = listening();
        long end = host.clock() + 100 * MS;
        LeadershipImpl l = dispatcher.elected(3, end, 1);
        world.runUntil(50 * MS);
        dispatcher.revoked(3, RevokeReason.STEPPED_DOWN);
        assertThat(l.isValid()).as("invalid as soon as it is revoked").isFalse();
        assertThat(dispatcher.open()).isNull();
        world.runUntil(end + 100 * MS);
        assertThat(r.summary()).containsExactly("elected 3", "revoked 3 STEPPED_DOWN");
        assertThat(r.calls.get(1).validThen()).isFalse();
        assertThat(wakes).as("nothing for the watchdog to do").hasValue(0);
    }

    @Test
    void aRevocationForAnotherTermIsIgnoredAndTheOpenLeadershipStaysValid() {
        Recorder r = listening();
        LeadershipImpl l = dispatcher.elected(4, host.clock() + 100 * MS, 1);
        dispatcher.revoked(3, RevokeReason.HIGHER_TERM);
        world.runUntil(10 * MS);
        assertThat(r.summary()).containsExactly("elected 4");
        assertThat(l.isValid()).isTrue();
        assertThat(dispatcher.open()).isSameAs(l);
        dispatcher.revoked(4, RevokeReason.HIGHER_TERM);
        dispatcher.revoked(4, RevokeReason.HIGHER_TERM);
        world.runUntil(20 * MS);
        assertThat(r.summary()).containsExactly("elected 4", "revoked 4 HIGHER_TERM");
    }

    @Test
    void electedWhileALeadershipIsOpenRevokesTheOldOneFirst() {
        Recorder r = listening();
        LeadershipImpl first = dispatcher.elected(6, host.clock() + 100 * MS, 1);
        LeadershipImpl second = dispatcher.elected(7, host.clock() + 100 * MS, 2);
        world.runUntil(10 * MS);
        assertThat(r.summary()).containsExactly("elected 6", "revoked 6 HIGHER_TERM", "elected 7");
        assertThat(first.isValid()).isFalse();
        assertThat(second.isValid()).isTrue();
        assertThat(dispatcher.open()).isSameAs(second);
    }

    @Test
    void aListenerAddedDuringALeadershipStartsWithItsElectedAndOneAddedAfterTheRevocationSeesNothing() {
        LeadershipImpl l = dispatcher.elected(8, host.clock() + 100 * MS, 1);
        Recorder during = new Recorder();
        dispatcher.addListener(during, null);
        world.runUntil(10 * MS);
        assertThat(during.summary()).containsExactly("elected 8");
        assertThat(during.calls.get(0).validThen()).isTrue();

        l.revoke(RevokeReason.STEPPED_DOWN);       // revoked, not yet closed by the loop
        Recorder late = new Recorder();
        dispatcher.addListener(late, null);
        dispatcher.revokeOpen(RevokeReason.SHUT_DOWN);
        world.runUntil(20 * MS);
        assertThat(late.calls).isEmpty();
        assertThat(dispatcher.open()).isNull();
    }

    @Test
    void revokeOpenEndsTheOpenLeadershipOnce() {
        Recorder r = listening();
        LeadershipImpl l = dispatcher.elected(9, host.clock() + 100 * MS, 1);
        dispatcher.revokeOpen(RevokeReason.SHUT_DOWN);
        dispatcher.revokeOpen(RevokeReason.SHUT_DOWN);
        world.runUntil(200 * MS);
        assertThat(r.summary()).containsExactly("elected 9", "revoked 9 SHUT_DOWN");
        assertThat(l.revokeReason()).isEqualTo(RevokeReason.SHUT_DOWN);
        assertThat(dispatcher.open()).isNull();
    }

    @Test
    void awaitLeadershipCompletesOnlyWithAValidLeadership() {
        CompletableFuture<Leadership> before = dispatcher.awaitLeadership();
        assertThat(before).isNotDone();
        long end = host.clock() + 100 * MS;
        LeadershipImpl l = dispatcher.elected(2, end, 1);
        assertThat(before).isCompletedWithValue(l);
        assertThat(dispatcher.awaitLeadership()).as("while it is valid").isCompletedWithValue(l);

        world.runUntil(end + MS);                 // the lease ran out: a new waiter waits for the next one
        CompletableFuture<Leadership> after = dispatcher.awaitLeadership();
        assertThat(after).isNotDone();
        dispatcher.revoked(2, RevokeReason.LEASE_EXPIRED);
        LeadershipImpl next = dispatcher.elected(3, host.clock() + 100 * MS, 5);
        assertThat(after).isCompletedWithValue(next);
    }

    @Test
    void aWaiterTakenByALeadershipThatIsNoLongerValidWaitsForTheNextOne() {
        CompletableFuture<Leadership> waiting = dispatcher.awaitLeadership();
        LeadershipImpl gone = dispatcher.elected(2, host.clock(), 1);   // a lease that already ended
        assertThat(waiting).isNotDone();
        dispatcher.revoked(2, RevokeReason.LEASE_EXPIRED);
        LeadershipImpl next = dispatcher.elected(3, host.clock() + 100 * MS, 2);
        assertThat(gone.isValid()).isFalse();
        assertThat(waiting).isCompletedWithValue(next);
    }

    @Test
    void stoppedWaitersFailNowAndLaterOnesAtOnce() {
        CompletableFuture<Leadership> waiting = dispatcher.awaitLeadership();
        dispatcher.stopWaiters("closed");
        assertThat(waiting).isCompletedExceptionally();
        assertThat(waiting.handle((x, e) -> e.getMessage()).join()).contains("closed");
        assertThat(dispatcher.awaitLeadership()).isCompletedExceptionally();
        dispatcher.stopWaiters("again");
        assertThat(dispatcher.awaitLeadership().handle((x, e) -> e.getMessage()).join()).isEqualTo("closed");
    }

    @Test
    void aLeaderChangeIsDeliveredOnceAndALateListenerStartsWithTheLatest() {
        List<LeaderChange> seen = new ArrayList<>();
        dispatcher.addLeaderChangeListener(seen::add, null);
        dispatcher.leaderChanged(1, null);
        dispatcher.leaderChanged(2, "n2");
        dispatcher.leaderChanged(2, "n2");
        world.runUntil(10 * MS);
        assertThat(seen).containsExactly(new LeaderChange(Optional.empty(), 1), new LeaderChange(Optional.of("n2"), 2));
        List<LeaderChange> late = new ArrayList<>();
        dispatcher.addLeaderChangeListener(late::add, null);
        world.runUntil(20 * MS);
        assertThat(late).containsExactly(new LeaderChange(Optional.of("n2"), 2));
    }

    @Test
    void afterQueuedCallbacksRunsOnlyOnceTheRevokedWasDelivered() {
        Recorder r = listening();
        dispatcher.elected(3, host.clock() + 100 * MS, 1);
        dispatcher.revoked(3, RevokeReason.LEADERSHIP_TRANSFERRED);
        List<Integer> seenWhenRun = new ArrayList<>();
        dispatcher.afterQueuedCallbacks(() -> seenWhenRun.add(r.calls.size()));
        assertThat(seenWhenRun).as("not before the callbacks ran").isEmpty();
        world.runUntil(10 * MS);
        assertThat(seenWhenRun).containsExactly(2);
    }
}
