package io.haraft.core;

import org.slf4j.Logger;

import java.util.HashMap;
import java.util.Map;

/**
 * What the core says about counters out of {@link Bounds}: a warning per sender of refused
 * messages and an error about its own term at the bound, each at most once a minute of the node's
 * clock (a hostile peer must not flood the log). Not thread-safe: owned by the core.
 */
final class BoundsLog {
    /** Local time between two lines about one sender, or about the term bound. */
    static final long INTERVAL = 60_000_000_000L;
    private static final long NEVER = Long.MIN_VALUE;

    private final Logger log;
    /** Per sender: when its last refused message was logged, and how many were refused since. */
    private final Map<String, long[]> refusedFrom = new HashMap<>();
    private long termBoundLoggedAt = NEVER;

    BoundsLog(Logger log) {
        this.log = log;
    }

    /** A message was refused, adopting nothing from it, because {@code why} ("field value"). */
    void refused(Message m, long term, long now, String why) {
        long[] seen = refusedFrom.get(m.from());
        if (seen == null) {
            if (refusedFrom.size() >= 64) {
                refusedFrom.clear(); // bounded: senders are members or would-be leaders
            }
            seen = new long[] {NEVER, 0};
            refusedFrom.put(m.from(), seen);
        }
        if (seen[0] != NEVER && now - seen[0] < INTERVAL) {
            seen[1]++;
            return;
        }
        log.warn("term {}: refusing {} from {}: {} is out of bounds (terms at most {}, indexes at most {}, stickiness"
                        + " at most {} ms); the sender is broken or forged, nothing of it was adopted{}", term,
                m.getClass().getSimpleName(), m.from(), why, Bounds.MAX_TERM, Bounds.MAX_INDEX,
                Bounds.MAX_STICKINESS_NANOS / 1_000_000,
                seen[1] > 0 ? " (" + seen[1] + " more refused from it since the last warning)" : "");
        seen[0] = now;
        seen[1] = 0;
    }

    /** This node's own term is at the bound: it can never campaign again. */
    void termAtBound(long term, long now) {
        if (termBoundLoggedAt != NEVER && now - termBoundLoggedAt < INTERVAL) {
            return;
        }
        termBoundLoggedAt = now;
        log.error("term {} has reached the largest term a node accepts ({}): this node will never campaign again."
                + " Terms grow by one per election and cannot get there in practice; this one was raised by a forged"
                + " or corrupt message accepted by an older version, or by a damaged hard state file. A term cannot be"
                + " lowered safely while any node remembers it: stop every node and bootstrap the cluster again with"
                + " empty data directories, restoring the application's state from a snapshot or backup.", term,
                Bounds.MAX_TERM);
    }
}
