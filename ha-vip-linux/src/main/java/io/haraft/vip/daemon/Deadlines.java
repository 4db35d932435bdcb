package io.haraft.vip.daemon;

import java.io.IOException;
import java.nio.channels.Channel;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Time limits for blocking reads and writes on channels that have no socket timeout, such as
 * Unix-domain socket channels: {@link #arm} closes the channel if the operation has not ended
 * by its deadline, which makes a blocked read or write fail at once.
 *
 * <pre>{@code
 * try (Deadlines.Armed d = deadlines.arm(channel, Duration.ofSeconds(5))) {
 *     channel.read(buffer);   // throws AsynchronousCloseException if 5 s pass first
 * }
 * }</pre>
 *
 * <p>Thread-safe. One daemon thread serves every deadline; {@link #close()} stops it.
 */
final class Deadlines implements AutoCloseable {

    private final ScheduledExecutorService timer;

    Deadlines(String threadName) {
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, threadName);
            t.setDaemon(true);
            return t;
        });
    }

    /** A deadline in force until {@link #close()}; {@link #expired()} tells whether it closed the channel. */
    static final class Armed implements AutoCloseable {
        private final AtomicBoolean expired = new AtomicBoolean();
        private ScheduledFuture<?> task;

        boolean expired() {
            return expired.get();
        }

        @Override
        public void close() {
            if (task != null) {
                task.cancel(false);
            }
        }
    }

    /** Closes {@code channel} when {@code limit} has passed, unless the returned deadline is closed first. */
    Armed arm(Channel channel, Duration limit) {
        Armed a = new Armed();
        try {
            a.task = timer.schedule(() -> {
                a.expired.set(true);
                try {
                    channel.close();
                } catch (IOException e) {
                    // closing is all that is wanted
                }
            }, limit.toNanos(), TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            a.expired.set(true);   // shutting down: give the operation no time
            try {
                channel.close();
            } catch (IOException ignored) {
                // closing is all that is wanted
            }
        }
        return a;
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
