package io.haraft.core.progress;

/**
 * What the leader knows about one follower's log: the highest index known to match
 * ({@code match}), the next index to send ({@code next}), and the replication mode.
 *
 * <p>In {@link Mode#PROBE} the leader sends one append at a time until it finds where the logs
 * agree. In {@link Mode#REPLICATE} it streams appends optimistically, at most {@code maxInflight}
 * unacknowledged messages at once (pipelining). Not thread-safe: owned by the core.
 */
public final class Progress {
    /** Replication mode. */
    public enum Mode { PROBE, REPLICATE }

    private long match;
    private long next;
    private Mode mode = Mode.PROBE;
    private boolean probeSent;
    private final Inflights inflights;
    private long lastResponseAt;
    private boolean everResponded;
    private long matchAdvancedAt;

    public Progress(long next, int maxInflight, long now) {
        this.next = next;
        this.matchAdvancedAt = now;
        this.inflights = new Inflights(maxInflight);
    }

    public long match() {
        return match;
    }

    public long next() {
        return next;
    }

    public Mode mode() {
        return mode;
    }

    /** Whether the leader must wait for a response (or the next heartbeat) before sending more. */
    public boolean isPaused() {
        return mode == Mode.PROBE ? probeSent : inflights.isFull();
    }

    /** Records a successful append up to {@code index} at local time {@code now}; returns whether match advanced. */
    public boolean maybeUpdate(long index, long now) {
        boolean updated = false;
        if (index > match) {
            match = index;
            matchAdvancedAt = now;
            updated = true;
            probeSent = false;
        }
        if (next < index + 1) {
            next = index + 1;
        }
        inflights.freeTo(index);
        return updated;
    }

    /** Switches to probing from {@code newNext} (after a rejection or a stall). */
    public void becomeProbe(long newNext) {
        mode = Mode.PROBE;
        next = Math.max(match + 1, newNext);
        probeSent = false;
        inflights.reset();
    }

    /** Switches to pipelined replication right after {@code match}. */
    public void becomeReplicate() {
        mode = Mode.REPLICATE;
        next = match + 1;
        probeSent = false;
        inflights.reset();
    }

    /** Records that an append ending at {@code lastIndex} was sent (empty appends pass {@code -1}). */
    public void sent(long lastIndex) {
        if (mode == Mode.REPLICATE) {
            if (lastIndex >= 0) {
                next = lastIndex + 1;
                inflights.add(lastIndex);
            }
        } else {
            probeSent = true;
        }
    }

    /** A heartbeat answer: lets a stalled follower get one more message. */
    public void onHeartbeatResponse() {
        probeSent = false;
        if (mode == Mode.REPLICATE && inflights.isFull()) {
            inflights.freeFirst();
        }
    }

    /** Local time at which {@code match} last advanced (or the progress was created). */
    public long matchAdvancedAt() {
        return matchAdvancedAt;
    }

    public void responded(long now) {
        lastResponseAt = now;
        everResponded = true;
    }

    /** Whether this follower answered anything at or after {@code since}. */
    public boolean respondedSince(long since) {
        return everResponded && lastResponseAt >= since;
    }

    @Override
    public String toString() {
        return "Progress{match=" + match + ", next=" + next + ", " + mode
                + (isPaused() ? ", paused" : "") + "}";
    }
}
