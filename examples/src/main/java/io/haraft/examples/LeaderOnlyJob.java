package io.haraft.examples;

import io.haraft.Leadership;
import io.haraft.LeadershipListener;
import io.haraft.RevokeReason;

import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/** A periodic job on the leader only: it starts on elected, skips runs without a lease, stops on revoked. */
public final class LeaderOnlyJob implements LeadershipListener {
    private final ScheduledExecutorService timer;   // yours: shut it down when you are done
    private final long periodMillis;
    private final Consumer<Leadership> job;         // takes each write's token from leadership.checkValid()
    private ScheduledFuture<?> running;

    public LeaderOnlyJob(ScheduledExecutorService timer, long periodMillis, Consumer<Leadership> job) {
        this.timer = timer;
        this.periodMillis = periodMillis;
        this.job = job;
    }

    @Override
    public synchronized void elected(Leadership l) {
        running = timer.scheduleAtFixedRate(() -> {
            if (l.isValid()) {
                job.accept(l);
            }
        }, 0, periodMillis, TimeUnit.MILLISECONDS);
    }

    @Override
    public synchronized void revoked(Leadership l, RevokeReason why) {
        running.cancel(true);   // no next run; a run in progress is interrupted
    }
}
