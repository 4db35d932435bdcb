package io.haraft.core.lease;

import io.haraft.core.quorum.Quorum;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * The leader's lease, computed from heartbeat rounds acknowledged by a majority.
 *
 * <p>The leader numbers its rounds and records the local monotonic time {@code s_r} at which round
 * {@code r} started; every append or heartbeat it sends carries the current round, and followers
 * echo it. Once a majority (counting the leader) has acknowledged round {@code r}, the lease
 * extends to {@code s_r + electionTimeoutMin * (1 - 2ρ)}. A follower that acknowledged round
 * {@code r} refuses votes for {@code electionTimeoutMin} of its own clock after it received it,
 * so with clock rates within {@code [1-ρ, 1+ρ]} no new leader can exist before the lease ends.
 *
 * <p>Safety depends on the drift bound ρ holding for the monotonic clocks of all nodes, and on
 * followers' leader stickiness. Not thread-safe: owned by the core. Times are in nanoseconds of
 * the leader's own clock.
 */
public final class LeaseTracker {
    /** Value of {@link #leaseUntil()} before any round was acknowledged by a majority. */
    public static final long NO_LEASE = Long.MIN_VALUE;

    private Quorum quorum;
    private final String self;
    private final long duration;
    private final ArrayDeque<long[]> rounds = new ArrayDeque<>();
    private final Map<String, Long> acked = new HashMap<>();
    private long currentRound;
    private long leaseUntil = NO_LEASE;
    private long quorumRound;

    /**
     * @param electionTimeoutMinNanos the minimum election timeout
     * @param driftBound              ρ, the bound on clock-rate drift, in [0, 0.5)
     */
    public LeaseTracker(Quorum quorum, String self, long electionTimeoutMinNanos, double driftBound) {
        if (driftBound < 0 || driftBound >= 0.5) {
            throw new IllegalArgumentException("drift bound must be in [0, 0.5), got " + driftBound);
        }
        this.quorum = quorum;
        this.self = self;
        this.duration = (long) (electionTimeoutMinNanos * (1 - 2 * driftBound));
    }

    /** Starts a new heartbeat round at local time {@code now}; returns its number. */
    public long startRound(long now) {
        currentRound++;
        rounds.addLast(new long[] {currentRound, now});
        if (quorum.isMajority(java.util.Set.of(self))) {
            extendTo(currentRound);
        }
        return currentRound;
    }

    /**
     * The voters changed (a configuration entry was appended or truncated): from now on rounds
     * count only when {@code q} acknowledges them. A lease already granted stays: it was granted by
     * a majority of a configuration adjacent to every one a future leader can be elected under
     * (see {@link Quorum}).
     */
    public void setQuorum(Quorum q) {
        this.quorum = q;
        recompute();
    }

    /** The round that messages sent now belong to. */
    public long currentRound() {
        return currentRound;
    }

    /** Records that {@code peer} acknowledged a message of {@code round}. */
    public void onAck(String peer, long round) {
        if (round <= 0 || round > currentRound) {
            return;
        }
        acked.merge(peer, round, Math::max);
        recompute();
    }

    private void recompute() {
        long q = quorum.committedIndex(id -> id.equals(self) ? currentRound : acked.getOrDefault(id, 0L));
        if (q > 0) {
            extendTo(q);
        }
    }

    private void extendTo(long round) {
        quorumRound = Math.max(quorumRound, round);
        long start = Long.MIN_VALUE;
        while (!rounds.isEmpty() && rounds.peekFirst()[0] <= round) {
            long[] r = rounds.pollFirst();
            if (r[0] == round) {
                start = r[1];
            }
        }
        if (start != Long.MIN_VALUE) {
            leaseUntil = Math.max(leaseUntil, start + duration);
        }
    }

    /**
     * The latest round acknowledged by a majority: every node that acknowledged it had not yet
     * seen a higher term when it did, so this node was still leader when that round started.
     */
    public long quorumRound() {
        return quorumRound;
    }

    /** Local time at which the lease ends, or {@link #NO_LEASE}. */
    public long leaseUntil() {
        return leaseUntil;
    }

    /** Whether a lease was ever granted in this term. */
    public boolean acquired() {
        return leaseUntil != NO_LEASE;
    }

    /** Whether the lease is valid at local time {@code now}. */
    public boolean isValid(long now) {
        return leaseUntil != NO_LEASE && now < leaseUntil;
    }
}
