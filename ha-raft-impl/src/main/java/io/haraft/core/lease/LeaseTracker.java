package io.haraft.core.lease;

import io.haraft.core.quorum.Quorum;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * The leader's lease, computed from heartbeat rounds acknowledged by a majority.
 *
 * <p><b>The argument.</b> The leader numbers its rounds and records the local monotonic time
 * {@code s_r} at which round {@code r} started. Every append, heartbeat or snapshot chunk it sends
 * carries the current round and the stickiness {@code S} its lease relies on (its own minimum
 * election timeout). A follower that acknowledges it promises to refuse votes and pre-votes, and
 * not to campaign, for {@code W = max(E_f, S)} of its own clock after it received it ({@code E_f}
 * its own minimum election timeout), and echoes the round and {@code W}. Once a majority (counting
 * the leader, which never votes for another while it leads) has acknowledged round {@code r} with
 * {@code W >= S}, the lease extends to {@code s_r + S * (1 - 2ρ)}. Any majority that could elect
 * another leader includes one of those followers, which received round {@code r} after real time
 * {@code s_r} (by the leader's clock) and refuses until {@code S / (1 + ρ)} of real time later at
 * the earliest; with clock rates within {@code [1-ρ, 1+ρ]} the lease ({@code S (1 - 2ρ) / (1 - ρ)}
 * of real time at most) ends before that. So no new leader can exist while the lease is valid,
 * <em>whatever timeout each node is configured with</em>: the lease relies only on what the
 * acknowledging followers promised, and an answer that promises less than {@code S} (a peer that
 * does not know the field echoes 0) does not count toward it.
 *
 * <p>A follower's promise must survive a crash: a restarted node has forgotten when it last
 * acknowledged, so it withholds votes for the longest window it may still be bound by, which it
 * made durable (in its hard state) before the acknowledgement that promised it left; see
 * {@link Stickiness}. A leader whose own timeout is shorter than its followers' simply gets a
 * shorter lease than they honour. A follower with a shorter timeout than its leader's does not
 * campaign before the leader's stickiness is over (its election timer starts at the end of the
 * window), so a rolling change of the election timeout, node by node, keeps at most one valid
 * lease at every instant. Check-quorum (a leader without majority contact for its own election
 * timeout steps down) is not part of the argument: the lease ends by itself.
 *
 * <p>Safety depends on the drift bound ρ holding for the monotonic clocks of all nodes. Not
 * thread-safe: owned by the core. Times are in nanoseconds of the leader's own clock.
 */
public final class LeaseTracker {
    /** Value of {@link #leaseUntil()} before any round was acknowledged by a majority. */
    public static final long NO_LEASE = Long.MIN_VALUE;

    private Quorum quorum;
    private final String self;
    private final long duration;
    private final long reliesOn;
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
        this.reliesOn = electionTimeoutMinNanos;
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

    /** The stickiness this lease relies on: what the leader sends with every message. */
    public long reliesOn() {
        return reliesOn;
    }

    /**
     * Records that {@code peer} acknowledged a message of {@code round}, promising to refuse votes
     * for {@code promised} nanoseconds of its clock; it counts only if that covers {@link #reliesOn()}.
     */
    public void onAck(String peer, long round, long promised) {
        if (round <= 0 || round > currentRound || promised < reliesOn) {
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
