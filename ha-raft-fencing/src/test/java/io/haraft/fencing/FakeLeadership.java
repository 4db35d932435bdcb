package io.haraft.fencing;

import io.haraft.FencingToken;
import io.haraft.Leadership;
import io.haraft.LeaseExpiredException;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

/** A leadership whose lease the test ends by hand ({@link #expire()}). */
public final class FakeLeadership implements Leadership {
    private final FencingToken token;
    private final AtomicBoolean valid = new AtomicBoolean(true);

    public FakeLeadership(long token) {
        this.token = FencingToken.of(token);
    }

    /** Ends the lease: from now on {@link #isValid()} is false and {@link #checkValid()} throws. */
    public FakeLeadership expire() {
        valid.set(false);
        return this;
    }

    @Override
    public FencingToken token() {
        return token;
    }

    @Override
    public long term() {
        return token.value();
    }

    @Override
    public String nodeId() {
        return "fake";
    }

    @Override
    public boolean isValid() {
        return valid.get();
    }

    @Override
    public Duration remainingLease() {
        return isValid() ? Duration.ofSeconds(1) : Duration.ZERO;
    }

    @Override
    public FencingToken checkValid() {
        if (!isValid()) {
            throw new LeaseExpiredException(token, "fake", Duration.ZERO, null);
        }
        return token;
    }

    @Override
    public String toString() {
        return "FakeLeadership[" + token + (isValid() ? "" : ", expired") + "]";
    }
}
