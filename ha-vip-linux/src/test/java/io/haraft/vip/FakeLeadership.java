package io.haraft.vip;

import io.haraft.FencingToken;
import io.haraft.LeaseExpiredException;
import io.haraft.Leadership;

import java.time.Duration;

/** A Leadership whose lease the test controls, measured on System.nanoTime like the real one. */
final class FakeLeadership implements Leadership {
    private final long term;
    private volatile long leaseEndNanos;
    private volatile boolean revoked;

    FakeLeadership(long term, Duration lease) {
        this.term = term;
        renew(lease);
    }

    /** Extends the lease to now + lease (as a majority-acknowledged heartbeat would). */
    void renew(Duration lease) {
        leaseEndNanos = System.nanoTime() + lease.toNanos();
    }

    void revoke() {
        revoked = true;
    }

    @Override
    public FencingToken token() {
        return FencingToken.of(term);
    }

    @Override
    public long term() {
        return term;
    }

    @Override
    public String nodeId() {
        return "n1";
    }

    @Override
    public boolean isValid() {
        return !revoked && System.nanoTime() < leaseEndNanos;
    }

    @Override
    public Duration remainingLease() {
        long left = leaseEndNanos - System.nanoTime();
        return isValid() && left > 0 ? Duration.ofNanos(left) : Duration.ZERO;
    }

    /** Remaining lease in nanoseconds, negative once it has ended (for assertions). */
    long nanosLeft() {
        return leaseEndNanos - System.nanoTime();
    }

    @Override
    public FencingToken checkValid() {
        if (!isValid()) {
            throw new LeaseExpiredException(token(), "n1", Duration.ofNanos(Math.max(0, -nanosLeft())), null);
        }
        return token();
    }
}
