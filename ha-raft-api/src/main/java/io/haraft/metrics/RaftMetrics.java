package io.haraft.metrics;

import java.util.function.DoubleSupplier;

/**
 * Where a node reports what it measures: a small registry of counters, timers, distributions and
 * gauges, each identified by a {@link MeterId} (a name such as {@code haraft.commit.latency} and
 * tags such as {@code cluster}, {@code node}, {@code group}, {@code peer}). Set it with
 * {@code RaftNode.builder().metrics(...)}; the default reports nothing ({@link #none()}).
 * {@code io.haraft:ha-raft-micrometer} binds it to a Micrometer {@code MeterRegistry}; any other
 * metrics system takes a few lines.
 *
 * <p><b>Guarantees (what the node does).</b>
 * <ul>
 *   <li><b>Registration.</b> A node registers its meters in {@code start()}, on the caller's
 *       thread; meters of a peer (tag {@code peer}) when the peer joins the configuration, on the
 *       node's Raft loop thread; and removes them ({@link #remove}) when the peer leaves and, all
 *       of them, when the node closes. While it runs, a node registers each id once; ids of
 *       different nodes differ in their {@code cluster} or {@code node} tag, so one
 *       implementation may serve several nodes of one process.</li>
 *   <li><b>Recording.</b> The handles ({@link Counter}, {@link Timer}, {@link Distribution}) are
 *       called from the node's own threads (its Raft loop, apply, storage, callback, lease
 *       watchdog and snapshot threads), several of them at once.</li>
 *   <li><b>Gauges.</b> The suppliers given to {@link #gauge} are the node's: cheap, thread-safe,
 *       non-blocking, never throwing; call them from any thread, as often as you like. After the
 *       node closed they keep answering (a stopped node is no leader) until removed.</li>
 *   <li><b>Exceptions.</b> An exception thrown by this interface or a handle never reaches the
 *       node's logic: it is caught, the first one of a node is logged at WARN with its stack trace
 *       (later ones at DEBUG), a meter whose registration failed is replaced by one that records
 *       nothing, and the node goes on.</li>
 *   <li><b>Growth.</b> New kinds of meter are added as default methods that fall back to the
 *       existing ones; new meters need no change here. The names and tags of existing meters are
 *       part of the compatibility promise.</li>
 * </ul>
 *
 * <p><b>What an implementation must do.</b> Be thread-safe and never block: a handle is often
 * called on the Raft loop, where a slow call delays heartbeats and, past the election timeout,
 * costs the leadership. An atomic update per call is the intended cost; registration may take a
 * short lock. Registering an id that is registered already returns the existing meter (counters,
 * timers, distributions) or replaces the supplier (gauges).
 *
 * <pre>{@code
 * RaftMetrics metrics = new MicrometerRaftMetrics(meterRegistry);   // ha-raft-micrometer
 * RaftNode node = RaftNode.builder()...metrics(metrics).build();
 * }</pre>
 *
 * <p><b>Limits.</b> Values are the node's own view: a gauge shows what this node believes
 * ({@code haraft.leader} is 1 on every node that believes it leads, which during a partition can
 * be two nodes of different terms: alert on it). Timers record nanoseconds; how they are
 * aggregated (percentiles, histograms) is the metrics system's business.
 */
public interface RaftMetrics {

    /** Metrics that record nothing: the default. */
    static RaftMetrics none() {
        return NoMetrics.INSTANCE;
    }

    /**
     * Registers a counter: a count that only goes up (elections, lease expiries).
     *
     * @return the handle the node increments
     */
    Counter counter(MeterId id);

    /**
     * Registers a timer: a distribution of durations (commit latency, fsync latency).
     *
     * @return the handle the node records durations in
     */
    Timer timer(MeterId id);

    /**
     * Registers a distribution of amounts in the id's base unit (entries per fsync, snapshot
     * bytes).
     *
     * @return the handle the node records amounts in
     */
    Distribution distribution(MeterId id);

    /**
     * Registers a gauge: a value sampled when the metrics system reads it (leader, term, apply
     * lag). {@code value} returns {@link Double#NaN} when it has nothing to say.
     */
    void gauge(MeterId id, DoubleSupplier value);

    /**
     * Forgets a meter registered through this interface: its peer left the configuration, or its
     * node closed. The default does nothing.
     */
    default void remove(MeterId id) {
    }

    /** A count that only goes up. Thread-safe, non-blocking. */
    @FunctionalInterface
    interface Counter {
        /** Adds {@code amount} ({@code >= 0}). */
        void increment(long amount);

        /** Adds one. */
        default void increment() {
            increment(1);
        }
    }

    /** Records durations. Thread-safe, non-blocking. */
    @FunctionalInterface
    interface Timer {
        /** Records one duration of {@code nanos} nanoseconds ({@code >= 0}). */
        void record(long nanos);
    }

    /** Records amounts in the meter's base unit. Thread-safe, non-blocking. */
    @FunctionalInterface
    interface Distribution {
        /** Records one amount ({@code >= 0}). */
        void record(double amount);
    }
}
