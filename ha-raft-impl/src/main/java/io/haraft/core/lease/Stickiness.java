package io.haraft.core.lease;

import java.util.Map;
import java.util.TreeMap;

/**
 * A follower's leader stickiness, and the promise behind it that must survive a crash.
 *
 * <p>When a follower acknowledges a leader's message, it promises to refuse votes and pre-votes
 * (and not to campaign) for a window after it received it: the larger of its own minimum election
 * timeout and the stickiness the leader says its lease relies on ({@link #window(long)}). A
 * restarted follower has forgotten when it last acknowledged, so it withholds votes for the longest
 * window it may still be bound by, which it must therefore have made durable before the
 * acknowledgement left: {@link #acknowledge} says when an acknowledgement has to wait for the disk
 * (only when the promise grows beyond what is durable, so normally never), and {@link #promised()}
 * is the value to persist. The promise shrinks again once no acknowledgement of a longer window
 * can still bind (after a rolling change back to a shorter timeout), so a node does not withhold
 * votes after every restart for a timeout the cluster no longer uses.
 *
 * <p>Not thread-safe: owned by the core. Times are nanoseconds of the node's own monotonic clock.
 */
public final class Stickiness {
    private final long own;
    /** The promise handed out for persistence most recently (durable or being made durable). */
    private long promised;
    /** The promise known to be durable. */
    private long durable;
    /** The promise in a write handed out but not yet known durable, or -1. */
    private long writing = -1;
    /** Window length -> local time until which some acknowledgement promised that window. */
    private final TreeMap<Long, Long> binding = new TreeMap<>();

    /**
     * The stickiness of a node that starts at local time {@code now} with {@code durablePromise}
     * on disk: it is bound by that promise (and its own timeout) for as long after it starts.
     *
     * @param ownNanos       this node's minimum election timeout
     * @param durablePromise the promise read from the node's hard state (0 if none)
     */
    public Stickiness(long ownNanos, long durablePromise, long now) {
        if (ownNanos <= 0 || durablePromise < 0) {
            throw new IllegalArgumentException("own timeout must be positive and promise >= 0: " + ownNanos + ", "
                    + durablePromise);
        }
        this.own = ownNanos;
        this.promised = durablePromise;
        this.durable = durablePromise;
        if (durablePromise > 0) {
            binding.put(durablePromise, now + durablePromise);
        }
    }

    /** How long after it starts a node withholds votes: its own timeout or its durable promise. */
    public long restartWindow() {
        return Math.max(own, durable);
    }

    /** The window this node honours after acknowledging a leader that relies on {@code leaderNanos}. */
    public long window(long leaderNanos) {
        return Math.max(own, leaderNanos);
    }

    /**
     * Records an acknowledgement sent at {@code now} to a leader that relies on {@code leaderNanos}.
     *
     * @return whether the acknowledgement must wait until the hard state handed out next is
     *         durable (the promise grew beyond what is on disk)
     */
    public boolean acknowledge(long now, long leaderNanos) {
        long w = window(leaderNanos);
        binding.merge(w, now + w, Math::max);
        binding.values().removeIf(until -> until <= now);
        long needed = binding.isEmpty() ? 0 : binding.lastKey();
        if (needed != promised) {
            promised = needed; // grows before the answer leaves; shrinks once nothing longer binds
        }
        return w > Math.min(durable, writing < 0 ? Long.MAX_VALUE : writing);
    }

    /** The promise to write with the next hard state. */
    public long promised() {
        return promised;
    }

    /** Whether the promise differs from what is on disk or being written, so the hard state must be written. */
    public boolean dirty() {
        return promised != (writing >= 0 ? writing : durable);
    }

    /** A hard state carrying {@code value} was handed out for persistence. */
    public void writing(long value) {
        writing = value;
    }

    /** The hard state handed out last is durable. */
    public void written() {
        if (writing >= 0) {
            durable = writing;
            writing = -1;
        }
    }

    /** For status and tests: window lengths still binding, with the local time each binds until. */
    public Map<Long, Long> binding() {
        return Map.copyOf(binding);
    }
}
