package io.haraft.fencing.job;

import io.haraft.Leadership;
import io.haraft.RevokeReason;
import io.haraft.fencing.Await;
import io.haraft.fencing.FakeLeadership;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@link LeaderOnlyJob} driven by hand: the test calls {@code elected} and {@code revoked} as a
 * node would, with leaderships whose lease it ends itself. Runs are recorded by the task, where
 * they happen; the executor counts its ticks, so that "no run happened" is checked after the
 * schedule had its chances, not after a sleep.
 */
class LeaderOnlyJobTest {
    private static final Duration TICK = Duration.ofMillis(5);

    private final CountingExecutor executor = new CountingExecutor(4);
    private final List<Leadership> runs = new CopyOnWriteArrayList<>();
    private LeaderOnlyJob job;

    @AfterEach
    void stop() {
        if (job != null) {
            job.close();
        }
        executor.shutdownNow();
    }

    @Test
    void runsWithItsLeadershipWhileLeaderAndStopsOnRevoke() {
        job = LeaderOnlyJob.builder("test", runs::add).fixedDelay(TICK).executor(executor).build();
        FakeLeadership first = new FakeLeadership(2);
        FakeLeadership second = new FakeLeadership(3);

        job.elected(first);
        awaitRuns(first, 3);
        assertThat(job.leadership()).containsSame(first);
        job.revoked(first, RevokeReason.LEADERSHIP_TRANSFERRED);
        Await.until(() -> !job.isRunning(), () -> "the run of the revoked leadership ended");
        long runsOfFirst = count(first);
        assertThat(job.leadership()).isEmpty();

        job.elected(second);
        awaitRuns(second, 3);
        assertThat(count(first)).as("runs of the revoked leadership").isEqualTo(runsOfFirst);
        List<Leadership> seen = List.copyOf(runs);   // the job keeps running: one copy, sized once
        assertThat(seen.subList((int) runsOfFirst, seen.size())).containsOnly(second);
    }

    @Test
    void skipsRunsOnceTheLeaseHasEndedEvenBeforeRevoke() {
        job = LeaderOnlyJob.builder("test", runs::add).fixedDelay(TICK).executor(executor).build();
        FakeLeadership l = new FakeLeadership(2);
        job.elected(l);
        awaitRuns(l, 2);

        l.expire();
        int atExpiry = runs.size();
        awaitTicks(10);

        assertThat(runs.size()).as("runs after the lease ended (one may have been starting)").isLessThanOrEqualTo(atExpiry + 1);
    }

    @Test
    void aLeadershipWhoseLeaseEndedBeforeElectedWasDeliveredIsNotStarted() {
        job = LeaderOnlyJob.builder("test", runs::add).fixedDelay(TICK).executor(executor).build();
        job.elected(new FakeLeadership(2).expire());
        assertThat(executor.getQueue()).as("scheduled runs").isEmpty();
    }

    @Test
    void neverTwoRunsAtOnceEvenWhenARevokedRunDoesNotStop() throws Exception {
        FakeLeadership first = new FakeLeadership(2);
        FakeLeadership second = new FakeLeadership(3);
        CountDownLatch firstRunStuck = new CountDownLatch(1);
        CountDownLatch unstick = new CountDownLatch(1);
        AtomicInteger inFlight = new AtomicInteger();
        AtomicInteger maxInFlight = new AtomicInteger();
        job = LeaderOnlyJob.builder("test", l -> {
            maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
            try {
                runs.add(l);
                if (l == first) {
                    firstRunStuck.countDown();
                    awaitIgnoringInterrupts(unstick);
                }
            } finally {
                inFlight.decrementAndGet();
            }
        }).fixedRate(TICK).executor(executor).build();

        job.elected(first);
        assertThat(firstRunStuck.await(30, TimeUnit.SECONDS)).isTrue();
        job.revoked(first, RevokeReason.LEASE_EXPIRED);
        job.elected(second);
        awaitTicks(20);                      // the second leadership's schedule fires on the other threads
        assertThat(count(second)).as("runs of the next leadership while the revoked one still runs").isZero();

        unstick.countDown();
        awaitRuns(second, 3);
        assertThat(maxInFlight.get()).as("runs at once").isEqualTo(1);
    }

    @Test
    void aTaskThatThrowsIsLoggedAndKeepsItsSchedule() {
        FakeLeadership l = new FakeLeadership(2);
        job = LeaderOnlyJob.builder("test", x -> {
            runs.add(x);
            if (runs.size() % 2 == 0) {
                throw new IllegalStateException("planted failure " + runs.size());
            }
            throw new AssertionError("planted error " + runs.size());
        }).fixedDelay(TICK).executor(executor).build();

        job.elected(l);

        awaitRuns(l, 4);
    }

    @Test
    void aBlockedTaskIsInterruptedOnRevoke() {
        CountDownLatch never = new CountDownLatch(1);
        AtomicInteger interrupted = new AtomicInteger();
        job = LeaderOnlyJob.builder("test", l -> {
            runs.add(l);
            try {
                never.await();
            } catch (InterruptedException e) {
                interrupted.incrementAndGet();
                throw e;
            }
        }).loop(TICK).build();
        FakeLeadership l = new FakeLeadership(2);
        job.elected(l);
        Await.until(job::isRunning, () -> "the task is running");

        job.revoked(l, RevokeReason.HIGHER_TERM);

        Await.until(() -> interrupted.get() == 1 && !job.isRunning(), () -> "the blocked task was interrupted and returned");
        assertThat(job.isStopOverdue()).isFalse();
    }

    @Test
    void aTaskThatIgnoresInterruptionIsReportedOverdueUntilItReturns() {
        CountDownLatch unstick = new CountDownLatch(1);
        job = LeaderOnlyJob.builder("test", l -> awaitIgnoringInterrupts(unstick)).loop(TICK)
                .stopGracePeriod(Duration.ofMillis(100)).build();
        FakeLeadership l = new FakeLeadership(2);
        job.elected(l);
        Await.until(job::isRunning, () -> "the task is running");

        job.revoked(l, RevokeReason.STEPPED_DOWN);

        Await.until(job::isStopOverdue, () -> "the stuck run is reported overdue");
        unstick.countDown();
        Await.until(() -> !job.isRunning() && !job.isStopOverdue(), () -> "the run returned and is no longer overdue");
    }

    @Test
    void aLoopThatReturnsWhileStillLeaderIsStartedAgain() {
        FakeLeadership l = new FakeLeadership(2);
        job = LeaderOnlyJob.builder("test", runs::add).loop(TICK).build();
        job.elected(l);
        awaitRuns(l, 3);
    }

    @Test
    void closeStopsTheRunAndEndsTheOwnedThreadButNotAnInjectedExecutor() {
        FakeLeadership l = new FakeLeadership(2);
        CountDownLatch never = new CountDownLatch(1);
        job = LeaderOnlyJob.builder("owned-thread-test", x -> never.await()).loop(TICK).build();
        job.elected(l);
        Await.until(job::isRunning, () -> "the task is running");

        job.close();

        Await.until(() -> !job.isRunning(), () -> "the run ended");
        Await.until(() -> Thread.getAllStackTraces().keySet().stream()
                .noneMatch(t -> t.getName().equals("leader-only-job-owned-thread-test")), () -> "the job's thread ended");
        job.elected(new FakeLeadership(3));
        assertThat(job.leadership()).as("a closed job ignores elected").isEmpty();

        LeaderOnlyJob injected = LeaderOnlyJob.builder("test", runs::add).fixedDelay(TICK).executor(executor).build();
        injected.close();
        assertThat(executor.isShutdown()).isFalse();
    }

    @Test
    void theBuilderNamesWhatIsMissingOrWrong() {
        assertThatThrownBy(() -> LeaderOnlyJob.builder("billing", l -> { }).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'billing' has no schedule")
                .hasMessageContaining("fixedDelay(d)");
        assertThatThrownBy(() -> LeaderOnlyJob.builder("billing", l -> { }).fixedRate(Duration.ZERO).build())
                .hasMessageContaining("period is PT0S");
        assertThatThrownBy(() -> LeaderOnlyJob.builder(" ", l -> { }).fixedRate(TICK).build())
                .hasMessageContaining("name is blank");
        assertThatThrownBy(() -> LeaderOnlyJob.builder("billing", l -> { }).fixedRate(TICK)
                .stopGracePeriod(Duration.ofSeconds(-1)).build()).hasMessageContaining("stopGracePeriod is PT-1S");
    }

    // ---------------------------------------------------------------------------------- helpers

    private long count(Leadership l) {
        return runs.stream().filter(r -> r == l).count();
    }

    private void awaitRuns(Leadership l, int n) {
        Await.until(() -> count(l) >= n, () -> n + " runs of " + l + "; runs: " + runs);
    }

    private void awaitTicks(int n) {
        long target = executor.ticks.get() + n;
        Await.until(() -> executor.ticks.get() >= target, () -> n + " more ticks of the executor");
    }

    private static void awaitIgnoringInterrupts(CountDownLatch latch) {
        boolean interrupted = false;
        while (true) {
            try {
                if (latch.await(30, TimeUnit.SECONDS)) {
                    break;
                }
                throw new AssertionError("the test never released the stuck task");
            } catch (InterruptedException e) {
                interrupted = true;   // the stubborn task: swallows the interruption and goes on
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** An executor that counts the tasks (each run of a periodic task, too) it has executed. */
    private static final class CountingExecutor extends ScheduledThreadPoolExecutor {
        final AtomicLong ticks = new AtomicLong();

        CountingExecutor(int threads) {
            super(threads);
        }

        @Override
        protected void afterExecute(Runnable r, Throwable t) {
            ticks.incrementAndGet();
        }
    }
}
