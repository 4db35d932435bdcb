package io.haraft.runtime;

/**
 * A monotonic clock in nanoseconds: the only time source of the node runtime.
 *
 * <p><b>Guarantees.</b> Readings never decrease and are meaningful only as differences between
 * readings of the same clock (like {@link System#nanoTime()}); they are not wall time. Leases,
 * heartbeats and timeouts are all measured on this clock. Implementations must be thread-safe and
 * cheap: the Raft loop, the lease watchdog and every {@link io.haraft.Leadership#isValid()} call
 * read it.
 *
 * <pre>{@code
 * MonotonicClock clock = MonotonicClock.system();
 * long start = clock.nanos();
 * ...
 * long elapsed = clock.nanos() - start;
 * }</pre>
 *
 * <p><b>Limits.</b> The lease is only as safe as the assumed drift bound between the clocks of
 * different nodes (the argument is in {@code io.haraft.core.lease.LeaseTracker}).
 */
@FunctionalInterface
public interface MonotonicClock {

    /** The current reading, in nanoseconds. */
    long nanos();

    /** The clock backed by {@link System#nanoTime()}. */
    static MonotonicClock system() {
        return System::nanoTime;
    }
}
