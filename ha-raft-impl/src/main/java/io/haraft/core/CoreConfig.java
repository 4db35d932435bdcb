package io.haraft.core;

import java.util.List;

/**
 * Settings of the pure core, all times in nanoseconds of the node's monotonic clock.
 *
 * @param nodeId               this node
 * @param voters               all voters, this node included (static membership)
 * @param heartbeatNanos       the leader's heartbeat interval
 * @param electionTimeoutNanos the minimum election timeout E; timeouts are drawn from [E, 2E)
 * @param driftBound           ρ, the clock-rate drift bound the lease assumes
 * @param maxBatchEntries      most entries in one append message
 * @param maxBatchBytes        most payload bytes in one append message (at least one entry is sent)
 * @param maxInflight          most unacknowledged appends per follower (pipelining window)
 * @param fastFailover         whether a refused connection to the leader ends leader stickiness at
 *                             once (safe only if a node closes its listener only after revoking its
 *                             own leadership: see DESIGN.md section 2)
 */
public record CoreConfig(String nodeId, List<String> voters, long heartbeatNanos, long electionTimeoutNanos,
                         double driftBound, int maxBatchEntries, long maxBatchBytes, int maxInflight,
                         boolean fastFailover) {
    public CoreConfig {
        voters = List.copyOf(voters);
        if (!voters.contains(nodeId)) {
            throw new IllegalArgumentException("node " + nodeId + " is not among the voters " + voters);
        }
        if (heartbeatNanos <= 0 || electionTimeoutNanos < 2 * heartbeatNanos) {
            throw new IllegalArgumentException("election timeout (" + electionTimeoutNanos
                    + " ns) must be at least twice the heartbeat interval (" + heartbeatNanos + " ns)");
        }
        if (driftBound < 0 || driftBound >= 0.1) {
            throw new IllegalArgumentException("drift bound must be in [0, 0.1), got " + driftBound);
        }
        if (maxBatchEntries < 1 || maxBatchBytes < 1 || maxInflight < 1) {
            throw new IllegalArgumentException("batch and window sizes must be positive");
        }
    }

    /** Defaults for the given node and voters: heartbeat 100 ms, election timeout 300 ms, ρ = 0.01. */
    public static CoreConfig defaults(String nodeId, List<String> voters) {
        return new CoreConfig(nodeId, voters, 100_000_000L, 300_000_000L, 0.01, 512, 1 << 20, 256, true);
    }

    public CoreConfig withTimes(long heartbeat, long election) {
        return new CoreConfig(nodeId, voters, heartbeat, election, driftBound, maxBatchEntries, maxBatchBytes,
                maxInflight, fastFailover);
    }

    public CoreConfig withFastFailover(boolean on) {
        return new CoreConfig(nodeId, voters, heartbeatNanos, electionTimeoutNanos, driftBound, maxBatchEntries,
                maxBatchBytes, maxInflight, on);
    }

    public CoreConfig withNodeId(String id) {
        return new CoreConfig(id, voters, heartbeatNanos, electionTimeoutNanos, driftBound, maxBatchEntries,
                maxBatchBytes, maxInflight, fastFailover);
    }

    public CoreConfig withBatching(int entries, long bytes, int inflight) {
        return new CoreConfig(nodeId, voters, heartbeatNanos, electionTimeoutNanos, driftBound, entries, bytes,
                inflight, fastFailover);
    }
}
