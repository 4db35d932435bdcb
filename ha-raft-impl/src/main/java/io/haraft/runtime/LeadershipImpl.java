package io.haraft.runtime;

import io.haraft.FencingToken;
import io.haraft.Leadership;
import io.haraft.LeaseExpiredException;
import io.haraft.RevokeReason;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The runtime's {@link Leadership}: a term, the lease end published by the Raft loop, and a
 * revocation that only ever happens once.
 *
 * <p>Lock-free: {@link #isValid()} reads the clock and two volatile fields. Validity only goes
 * from true to false: once any reader has seen the lease run out, {@code expired} is set and a
 * late renewal published by the loop no longer counts.
 */
final class LeadershipImpl implements Leadership {

    private final String group;
    private final String nodeId;
    private final long term;
    private final FencingToken token;
    private final long electedCommitIndex;
    private final MonotonicClock clock;
    private final AtomicLong leaseUntil;
    private final AtomicReference<RevokeReason> revoked = new AtomicReference<>();
    private volatile boolean expired;
    private volatile long revokedAt;

    LeadershipImpl(String nodeId, long term, long leaseUntil, long electedCommitIndex, MonotonicClock clock) {
        this(io.haraft.GroupNames.DEFAULT, nodeId, term, leaseUntil, electedCommitIndex, clock);
    }

    LeadershipImpl(String group, String nodeId, long term, long leaseUntil, long electedCommitIndex,
                   MonotonicClock clock) {
        this.group = group;
        this.nodeId = nodeId;
        this.term = term;
        this.token = FencingToken.of(term);
        this.electedCommitIndex = electedCommitIndex;
        this.clock = clock;
        this.leaseUntil = new AtomicLong(leaseUntil);
    }

    @Override
    public FencingToken token() {
        return token;
    }

    @Override
    public long term() {
        return term;
    }

    @Override
    public String nodeId() {
        return nodeId;
    }

    @Override
    public String group() {
        return group;
    }

    @Override
    public boolean isValid() {
        if (expired || revoked.get() != null) {
            return false;
        }
        if (clock.nanos() < leaseUntil.get()) {
            return true;
        }
        expired = true;
        return false;
    }

    @Override
    public Duration remainingLease() {
        long left = leaseUntil.get() - clock.nanos();
        return isValid() && left > 0 ? Duration.ofNanos(left) : Duration.ZERO;
    }

    @Override
    public FencingToken checkValid() {
        if (isValid()) {
            return token;
        }
        throw expiredException();
    }

    /** The exception {@link #checkValid()} throws, for the current moment. */
    LeaseExpiredException expiredException() {
        long now = clock.nanos();
        RevokeReason reason = revoked.get();
        long endedAt = leaseUntil.get();
        if (reason != null) {
            endedAt = Math.min(endedAt, revokedAt);
        }
        return new LeaseExpiredException(token, nodeId, Duration.ofNanos(Math.max(0, now - endedAt)), reason);
    }

    /** The commit index when {@code elected} was decided: at least the first entry of the term. */
    long electedCommitIndex() {
        return electedCommitIndex;
    }

    /** The lease end on the node's monotonic clock. */
    long leaseUntil() {
        return leaseUntil.get();
    }

    /**
     * Extends the lease to {@code until} (called by the loop as the core's lease grows). Has no
     * effect once the lease has run out or the leadership was revoked: a lease is never re-acquired.
     */
    void extendTo(long until) {
        while (true) {
            long current = leaseUntil.get();
            if (until <= current || expired || revoked.get() != null) {
                return;
            }
            if (clock.nanos() >= current) {
                expired = true;
                return;
            }
            if (leaseUntil.compareAndSet(current, until)) {
                return;
            }
        }
    }

    /** Ends this leadership; returns whether this call did it (false if it was already revoked). */
    boolean revoke(RevokeReason reason) {
        if (revoked.get() != null) {
            return false;
        }
        revokedAt = clock.nanos();   // written before the reason becomes visible
        return revoked.compareAndSet(null, reason);
    }

    boolean isRevoked() {
        return revoked.get() != null;
    }

    /** Why it was revoked, or {@code null} if it was not (yet). */
    RevokeReason revokeReason() {
        return revoked.get();
    }

    @Override
    public String toString() {
        RevokeReason reason = revoked.get();
        return "Leadership{" + (group.equals(io.haraft.GroupNames.DEFAULT) ? "" : group + ", ") + nodeId + ", " + token + (reason != null ? ", revoked " + reason
                : isValid() ? ", valid" : ", lease ended") + "}";
    }
}
