package io.haraft.vip;

import io.haraft.FencingToken;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * A snapshot of what a {@link VipHolder} is doing, for logs, health checks and tests.
 *
 * <p>Immutable. The times are wall-clock instants for display to operators; the holder's
 * decisions use the lease's monotonic clock, never these.
 *
 * @param vip               the VIP
 * @param started           whether {@link VipHolder#start()} succeeded
 * @param closed            whether {@link VipHolder#close()} was called
 * @param holding           whether the VIP is (or may be, after a failed removal) on this host
 * @param heldFor           the token of the leadership the VIP is held for, while holding
 * @param lastTakeoverAt    when the VIP was last added
 * @param lastReleaseAt     when the VIP was last removed
 * @param lastReleaseReason why it was last removed (revoked, lease watchdog, close, start-up cleanup)
 * @param lastError         the last failure (a failed fence, probe, {@code ip} or {@code arping} run)
 * @param lastErrorAt       when it happened
 */
public record VipStatus(
        VipAddress vip,
        boolean started,
        boolean closed,
        boolean holding,
        Optional<FencingToken> heldFor,
        Optional<Instant> lastTakeoverAt,
        Optional<Instant> lastReleaseAt,
        Optional<String> lastReleaseReason,
        Optional<String> lastError,
        Optional<Instant> lastErrorAt) {

    /** Checks for nulls. */
    public VipStatus {
        Objects.requireNonNull(vip, "vip");
        Objects.requireNonNull(heldFor, "heldFor");
        Objects.requireNonNull(lastTakeoverAt, "lastTakeoverAt");
        Objects.requireNonNull(lastReleaseAt, "lastReleaseAt");
        Objects.requireNonNull(lastReleaseReason, "lastReleaseReason");
        Objects.requireNonNull(lastError, "lastError");
        Objects.requireNonNull(lastErrorAt, "lastErrorAt");
    }
}
