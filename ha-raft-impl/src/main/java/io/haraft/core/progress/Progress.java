package io.haraft.core.progress;

/**
 * What the leader knows about one follower's log: the highest index known to match
 * ({@code match}), the next index to send ({@code next}), and the replication mode.
 *
 * <p>In {@link Mode#PROBE} the leader sends one append at a time until it finds where the logs
 * agree. In {@link Mode#REPLICATE} it streams appends optimistically, at most {@code maxInflight}
 * unacknowledged messages at once (pipelining). In {@link Mode#SNAPSHOT} the follower needs entries
 * the leader has compacted: appends are paused while the leader streams its snapshot, one chunk
 * at a time ({@link SnapshotState}), until the follower reports it installed. Not thread-safe:
 * owned by the core.
 */
public final class Progress {
    /**
     * How the leader feeds one follower. A follower starts in {@link #PROBE} and moves between the
     * modes only through this class's methods, on the core's thread.
     */
    public enum Mode {
        /**
         * The leader does not know where the follower's log matches its own: it sends at most one
         * append per heartbeat round, from {@link #next()}, and backs off on each rejection.
         */
        PROBE,
        /**
         * The follower's log matches up to {@link #match()}: appends are pipelined, at most the
         * in-flight window of them unacknowledged at a time.
         */
        REPLICATE,
        /**
         * The follower needs entries the leader has compacted: appends are paused while the leader
         * streams its snapshot ({@link SnapshotState}); the follower returns to {@link #PROBE}
         * once it reports the snapshot installed.
         */
        SNAPSHOT
    }

    /**
     * Where a snapshot transfer stands, in {@link Mode#SNAPSHOT} only (meaningless in the other
     * modes). At most one chunk is requested or in flight at a time.
     */
    public enum SnapshotState {
        /** Nothing in flight: the runtime could not serve the snapshot; retried on a heartbeat answer. */
        IDLE,
        /** The runtime was asked for the chunk at {@link #snapshotOffset()}. */
        REQUESTED,
        /** The chunk at {@link #snapshotOffset()} was sent; waiting for the follower's answer. */
        SENT
    }

    private long match;
    private long next;
    private Mode mode = Mode.PROBE;
    private boolean probeSent;
    private final Inflights inflights;
    private long lastResponseAt;
    private boolean everResponded;
    private long matchAdvancedAt;
    private long snapIndex;
    private long snapTerm;
    private long snapOffset;
    private SnapshotState snapState = SnapshotState.IDLE;
    private long snapProgressAt;

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
        return switch (mode) {
            case PROBE -> probeSent;
            case REPLICATE -> inflights.isFull();
            case SNAPSHOT -> true;
        };
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

    /**
     * The follower's process is gone (its connection was refused): whatever was in flight to it is
     * lost. Probes from just after {@code match}, but only once it answers again (a heartbeat), so
     * that nothing is sent to a node known to be down: a transport that holds messages for an
     * unreachable peer would otherwise pile up a probe, with a batch of entries, per refused attempt
     * and hand them to the restarted node.
     */
    public void becomeProbeWhenBack() {
        becomeProbe(match + 1);
        probeSent = true;
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

    /**
     * Starts streaming the snapshot at ({@code index}, {@code term}) from byte 0; the caller asks the
     * runtime for that first chunk. {@code now} starts the stall clock.
     */
    public void becomeSnapshot(long index, long term, long now) {
        mode = Mode.SNAPSHOT;
        probeSent = false;
        inflights.reset();
        snapIndex = index;
        snapTerm = term;
        snapOffset = 0;
        snapState = SnapshotState.REQUESTED;
        snapProgressAt = now;
    }

    /** The snapshot being sent, in {@link Mode#SNAPSHOT}. */
    public long snapshotIndex() {
        return snapIndex;
    }

    public long snapshotTerm() {
        return snapTerm;
    }

    /** Byte offset of the chunk requested or in flight. */
    public long snapshotOffset() {
        return snapOffset;
    }

    public SnapshotState snapshotState() {
        return snapState;
    }

    /** The runtime was asked for the chunk at {@code offset}. */
    public void snapshotRequested(long offset) {
        snapOffset = offset;
        snapState = SnapshotState.REQUESTED;
    }

    /** The requested chunk was sent to the follower. */
    public void snapshotSent() {
        snapState = SnapshotState.SENT;
    }

    /** The runtime cannot serve the snapshot now; nothing is in flight. */
    public void snapshotIdle() {
        snapState = SnapshotState.IDLE;
    }

    /** The follower answered the transfer at {@code now}: it is not stalled. */
    public void snapshotProgress(long now) {
        snapProgressAt = now;
    }

    /** Whether the transfer has had no answer for {@code timeout} at {@code now}. */
    public boolean snapshotStalled(long now, long timeout) {
        return mode == Mode.SNAPSHOT && now - snapProgressAt >= timeout;
    }

    /**
     * The follower holds the log up to the snapshot's index: leave {@link Mode#SNAPSHOT} and
     * replicate from just after it.
     */
    public void snapshotDone() {
        match = Math.max(match, snapIndex);
        snapState = SnapshotState.IDLE;
        becomeReplicate();
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
                + (mode == Mode.SNAPSHOT ? " " + snapIndex + "@" + snapTerm + " offset " + snapOffset + " " + snapState : "")
                + (isPaused() ? ", paused" : "") + "}";
    }
}
