package io.haraft.sim;

import io.haraft.core.PlantedBugs;

/**
 * Settings of one simulated history.
 *
 * @param nodes        number of nodes (the first {@code voters} of them vote at the start)
 * @param faultSteps   steps with randomised faults before everything heals
 * @param heartbeat    heartbeat interval, ns
 * @param election     minimum election timeout, ns
 * @param driftBound   ρ assumed by the cores; simulated clocks stay within it
 * @param fastFailover whether refused connections end stickiness
 * @param maxBatchEntries most entries per append (small values split batches, exercising back-off)
 * @param maxInflight  pipelining window per follower
 * @param churn        fault mix heavy on leader crashes and partitions (see {@link Fault#generate})
 * @param bugs         planted bugs (NONE in the real suite)
 * @param snapshotEvery each node snapshots its state machine and compacts its log every this many
 *                      applied entries
 * @param chunkBytes   most bytes per snapshot chunk a node serves (small: transfers take many chunks)
 * @param servePrevious whether a node still serves its previous snapshot after taking a new one (if
 *                      not, a transfer in progress when the sender snapshots again is restarted)
 * @param voters       how many of the nodes form the bootstrap configuration; the others start as
 *                     joining learners outside it, and membership faults add, promote and remove them
 * @param membership   whether the schedule changes the configuration ({@link Fault.Kind#RECONFIGURE})
 * @param witness      whether the last node is a witness (it joins as a witness learner and votes,
 *                     but never leads and stores no payloads)
 */
record SimOptions(int nodes, int faultSteps, long heartbeat, long election, double driftBound,
                  boolean fastFailover, int maxBatchEntries, int maxInflight, boolean churn,
                  PlantedBugs bugs, int snapshotEvery, int chunkBytes, boolean servePrevious, int voters,
                  boolean membership, boolean witness) {
    static final long MS = 1_000_000L;

    /** The mix the suite uses for a seed: 3 or 5 nodes, fast failover on or off. */
    static SimOptions forSeed(long seed, int faultSteps, PlantedBugs bugs) {
        int nodes = Math.floorMod(seed, 4) == 3 ? 5 : 3;
        boolean fast = Math.floorMod(seed / 4, 2) == 0;
        int shape = (int) Math.floorMod(seed / 8, 3);
        int batch = new int[] {64, 4, 1}[shape];
        int window = new int[] {32, 4, 1}[shape];
        boolean churn = Math.floorMod(seed, 5) == 2;
        // one seed in three changes the configuration: 3 of 5 nodes vote at first, and in half of
        // those the fifth node is a witness
        int kind = (int) Math.floorMod(seed / 5, 6);
        boolean membership = kind < 2;
        if (membership) {
            nodes = 5;
        }
        return new SimOptions(nodes, faultSteps, 100 * MS, 300 * MS, 0.01, fast, batch, window, churn, bugs,
                snapshotEvery(seed), chunkBytes(seed), Math.floorMod(seed / 3, 2) == 0, membership ? 3 : nodes,
                membership, membership && kind == 1);
    }

    /**
     * Frequent configuration changes among 5 nodes, 4 voting at first, with leader crashes and
     * partitions: the history in which a change started before the leader's own term commits
     * (the bug in the original single-server algorithm) loses a committed entry.
     */
    static SimOptions membershipChurn(long seed, int faultSteps, PlantedBugs bugs) {
        boolean fast = Math.floorMod(seed, 2) == 0;
        return new SimOptions(5, faultSteps, 100 * MS, 300 * MS, 0.01, fast, 1, 1, true, bugs,
                snapshotEvery(seed), chunkBytes(seed), Math.floorMod(seed / 3, 2) == 0, 4, true, false);
    }

    /** Leader churn on 3 nodes with one-entry appends: where commit-rule bugs show quickly. */
    static SimOptions churn(long seed, int faultSteps, PlantedBugs bugs) {
        boolean fast = Math.floorMod(seed, 2) == 0;
        return new SimOptions(3, faultSteps, 100 * MS, 300 * MS, 0.01, fast, 1, 1, true, bugs,
                snapshotEvery(seed), chunkBytes(seed), Math.floorMod(seed / 3, 2) == 0, 3, false, false);
    }

    /** Snapshot interval for a seed: 5 to 50 applied entries. */
    private static int snapshotEvery(long seed) {
        return 5 + (int) Math.floorMod(seed * 0x9E3779B97F4A7C15L >>> 17, 46L);
    }

    /** Snapshot chunk size for a seed: 8 to 64 bytes. */
    private static int chunkBytes(long seed) {
        return 8 + (int) Math.floorMod(seed * 0xC2B2AE3D27D4EB4FL >>> 23, 57L);
    }

    /** Simulated time within which a leader must be elected and serve once faults stop. */
    long livenessBound() {
        return 30 * election;
    }
}
