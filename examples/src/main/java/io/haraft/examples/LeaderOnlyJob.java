package io.haraft.examples;

import io.haraft.Leadership;
import io.haraft.LeadershipListener;
import io.haraft.RevokeReason;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A periodic job (say a billing run) that runs only on the leader: it starts on {@code elected},
 * stops the instant leadership is revoked, and every run re-checks the lease and hands the job the
 * fencing token to put in its writes. Register it with {@code RaftNode.builder().listener(job)}.
 */
public final class LeaderOnlyJob implements LeadershipListener, AutoCloseable {
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private final Consumer<Leadership> job;
    private final long periodMillis;
    private ScheduledFuture<?> running;

    public LeaderOnlyJob(long periodMillis, Consumer<Leadership> job) {
        this.periodMillis = periodMillis;
        this.job = job;
    }

    @Override
    public synchronized void elected(Leadership leadership) {
        running = timer.scheduleAtFixedRate(() -> {
            if (leadership.isValid()) {          // the lease, re-checked before every run
                job.accept(leadership);          // use leadership.checkValid() as the token of each write
            }
        }, 0, periodMillis, TimeUnit.MILLISECONDS);
    }

    @Override
    public synchronized void revoked(Leadership leadership, RevokeReason why) {
        running.cancel(true);                    // stop at once; the new leader starts its own
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
