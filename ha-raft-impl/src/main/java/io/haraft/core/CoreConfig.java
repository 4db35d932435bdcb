package io.haraft.core;

import io.haraft.core.quorum.Membership;

import java.util.List;

/**
 * Settings of the pure core, all times in nanoseconds of the node's monotonic clock.
 *
 * @param nodeId               this node
 * @param membership           the bootstrap configuration, used until the log or a snapshot holds
 *                             one (this node must be a member, in any role)
 * @param heartbeatNanos       the leader's heartbeat interval
 * @param electionTimeoutNanos the minimum election timeout E; timeouts are drawn from [E, 2E)
 * @param driftBound           ρ, the clock-rate drift bound the lease assumes
 * @param maxBatchEntries      most entries in one append message
 * @param maxBatchBytes        most payload bytes in one append message (at least one entry is sent)
 * @param maxInflight          most unacknowledged appends per follower (pipelining window)
 * @param fastFailover         whether a refused connection to the leader ends leader stickiness at
 *                             once (safe only if a node closes its listener only after revoking its
 *                             own leadership, so a refused connection means the leader is gone)
 * @param promoteMaxLag        how many entries a learner may lag behind the leader's last index
 *                             and still be promoted to voter
 */
public record CoreConfig(String nodeId, Membership membership, long heartbeatNanos, long electionTimeoutNanos,
                         double driftBound, int maxBatchEntries, long maxBatchBytes, int maxInflight,
                         boolean fastFailover, long promoteMaxLag) {
    /** The default {@link #promoteMaxLag()}. */
    public static final long DEFAULT_PROMOTE_MAX_LAG = 1000;

    public CoreConfig {
        if (!membership.contains(nodeId)) {
            throw new IllegalArgumentException("node " + nodeId + " is not a member of " + membership);
        }
        if (promoteMaxLag < 0) {
            throw new IllegalArgumentException("promoteMaxLag must be >= 0, got " + promoteMaxLag);
        }
        if (heartbeatNanos <= 0 || electionTimeoutNanos < 2 * heartbeatNanos) {
            throw new IllegalArgumentException("election timeout (" + electionTimeoutNanos
                    + " ns) must be at least twice the heartbeat interval (" + heartbeatNanos + " ns)");
        }
        if (electionTimeoutNanos > Bounds.MAX_STICKINESS_NANOS) {
            throw new IllegalArgumentException("election timeout (" + electionTimeoutNanos + " ns) must be at most "
                    + Bounds.MAX_STICKINESS_NANOS + " ns: followers refuse a longer leader stickiness");
        }
        if (driftBound < 0 || driftBound >= 0.1) {
            throw new IllegalArgumentException("drift bound must be in [0, 0.1), got " + driftBound);
        }
        if (maxBatchEntries < 1 || maxBatchBytes < 1 || maxInflight < 1) {
            throw new IllegalArgumentException("batch and window sizes must be positive");
        }
    }

    /** Static-voter settings (every member a voter, no addresses), as before membership changes. */
    public CoreConfig(String nodeId, List<String> voters, long heartbeatNanos, long electionTimeoutNanos,
                      double driftBound, int maxBatchEntries, long maxBatchBytes, int maxInflight,
                      boolean fastFailover) {
        this(nodeId, Membership.ofVoters(voters), heartbeatNanos, electionTimeoutNanos, driftBound, maxBatchEntries,
                maxBatchBytes, maxInflight, fastFailover, DEFAULT_PROMOTE_MAX_LAG);
    }

    /** Defaults for the given node and voters: heartbeat 100 ms, election timeout 300 ms, ρ = 0.01. */
    public static CoreConfig defaults(String nodeId, List<String> voters) {
        return new CoreConfig(nodeId, voters, 100_000_000L, 300_000_000L, 0.01, 512, 1 << 20, 256, true);
    }

    /** The voting members of the bootstrap configuration. */
    public List<String> voters() {
        return membership.voters();
    }

    public CoreConfig withMembership(Membership m) {
        return new CoreConfig(nodeId, m, heartbeatNanos, electionTimeoutNanos, driftBound, maxBatchEntries,
                maxBatchBytes, maxInflight, fastFailover, promoteMaxLag);
    }

    public CoreConfig withPromoteMaxLag(long lag) {
        return new CoreConfig(nodeId, membership, heartbeatNanos, electionTimeoutNanos, driftBound, maxBatchEntries,
                maxBatchBytes, maxInflight, fastFailover, lag);
    }

    public CoreConfig withTimes(long heartbeat, long election) {
        return new CoreConfig(nodeId, membership, heartbeat, election, driftBound, maxBatchEntries, maxBatchBytes,
                maxInflight, fastFailover, promoteMaxLag);
    }

    public CoreConfig withFastFailover(boolean on) {
        return new CoreConfig(nodeId, membership, heartbeatNanos, electionTimeoutNanos, driftBound, maxBatchEntries,
                maxBatchBytes, maxInflight, on, promoteMaxLag);
    }

    public CoreConfig withNodeId(String id) {
        return new CoreConfig(id, membership, heartbeatNanos, electionTimeoutNanos, driftBound, maxBatchEntries,
                maxBatchBytes, maxInflight, fastFailover, promoteMaxLag);
    }

    public CoreConfig withBatching(int entries, long bytes, int inflight) {
        return new CoreConfig(nodeId, membership, heartbeatNanos, electionTimeoutNanos, driftBound, entries, bytes,
                inflight, fastFailover, promoteMaxLag);
    }
}
