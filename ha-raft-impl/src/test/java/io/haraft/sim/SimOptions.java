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
 * @param palette      the kinds of fault the schedule draws from (see {@link Fault#generate}); each
 *                     seed draws its own mix of them
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
 * @param timing       whether nodes run with different timings: see {@link Timing}
 */
record SimOptions(int nodes, int faultSteps, long heartbeat, long election, double driftBound,
                  boolean fastFailover, int maxBatchEntries, int maxInflight, Fault.Palette palette,
                  PlantedBugs bugs, int snapshotEvery, int chunkBytes, boolean servePrevious, int voters,
                  boolean membership, boolean witness, Timing timing) {
    static final long MS = 1_000_000L;
    /** The election timeouts (ms) a node may run with under {@link Timing#MIXED}. */
    static final long[] ELECTION_TIMEOUTS_MS = {100, 200, 300, 600, 1000};
    /** Heartbeat interval = election timeout divided by one of these, under {@link Timing#MIXED}. */
    static final long[] HEARTBEAT_DIVISORS = {2, 3, 5, 10};

    /** How the nodes' election timeouts and heartbeat intervals are set. */
    enum Timing {
        /** Every node runs with {@link #heartbeat()} and {@link #election()}. */
        UNIFORM,
        /**
         * Nodes run with different timings (in half the seeds drawn per node from the seed at the
         * start), and the schedule changes them ({@link Fault.Kind#RETIME}): rolling changes that
         * restart the nodes one by one with a new timing, the leader last, and single nodes
         * restarted with another.
         */
        MIXED,
        /**
         * Every node starts with {@link #heartbeat()} and {@link #election()} (a long timeout),
         * and {@link Fault#generateRollingChange} lowers the timeout node by node, the leader last,
         * cutting the leader off while it is the only node left with the long timeout.
         */
        ROLLING
    }

    /**
     * The mix the suite uses for a seed: 3 or 5 nodes, fast failover on or off; one seed in three
     * runs its nodes with different timings.
     */
    static SimOptions forSeed(long seed, int faultSteps, PlantedBugs bugs) {
        int nodes = Math.floorMod(seed, 4) == 3 ? 5 : 3;
        boolean fast = Math.floorMod(seed / 4, 2) == 0;
        int shape = (int) Math.floorMod(seed / 8, 3);
        int batch = new int[] {64, 4, 1}[shape];
        int window = new int[] {32, 4, 1}[shape];
        Fault.Palette palette = Math.floorMod(seed, 5) == 2 ? Fault.Palette.CHURN : Fault.Palette.CLASSIC;
        // one seed in three changes the configuration: 3 of 5 nodes vote at first, and in half of
        // those the fifth node is a witness
        int kind = (int) Math.floorMod(seed / 5, 6);
        boolean membership = kind < 2;
        if (membership) {
            nodes = 5;
        }
        return new SimOptions(nodes, faultSteps, 100 * MS, 300 * MS, 0.01, fast, batch, window, palette, bugs,
                snapshotEvery(seed), chunkBytes(seed), Math.floorMod(seed / 3, 2) == 0, membership ? 3 : nodes,
                membership, membership && kind == 1, Math.floorMod(seed / 7, 3) == 0 ? Timing.MIXED : Timing.UNIFORM);
    }

    /**
     * A rolling change of the election timeout from 1000 ms down to 100 or 200 ms, node by node,
     * the leader last, on 3 or 5 nodes ({@link Timing#ROLLING}): while the leader is the only one
     * left with the long timeout it is cut off, and a follower that honoured only its own shorter
     * timeout would vote while the old leader's lease holds.
     */
    static SimOptions rollingChange(long seed, int faultSteps, PlantedBugs bugs) {
        int nodes = Math.floorMod(seed, 4) == 3 ? 5 : 3;
        // enough steps for the whole change (about 10 s of simulated time) before everything heals
        return new SimOptions(nodes, Math.max(faultSteps, 6000), 100 * MS, 1000 * MS, 0.01, Math.floorMod(seed, 2) == 0,
                64, 32,
                Fault.Palette.CLASSIC, bugs, snapshotEvery(seed), chunkBytes(seed), Math.floorMod(seed / 3, 2) == 0, nodes, false,
                false, Timing.ROLLING);
    }

    /**
     * Frequent configuration changes among 5 nodes, 4 voting at first, with leader crashes and
     * partitions: the history in which a change started before the leader's own term commits
     * (the bug in the original single-server algorithm) loses a committed entry.
     */
    static SimOptions membershipChurn(long seed, int faultSteps, PlantedBugs bugs) {
        boolean fast = Math.floorMod(seed, 2) == 0;
        return new SimOptions(5, faultSteps, 100 * MS, 300 * MS, 0.01, fast, 1, 1, Fault.Palette.CHURN, bugs,
                snapshotEvery(seed), chunkBytes(seed), Math.floorMod(seed / 3, 2) == 0, 4, true, false, Timing.UNIFORM);
    }

    /**
     * Every start-up member replaced one at a time, then a whole-cluster restart
     * ({@link Fault#generateReplacements}): 5 nodes, the first 3 voting at the start. Nodes snapshot
     * rarely, so that after the restart the latest configuration is still an entry of the log.
     */
    static SimOptions replacements(long seed, int faultSteps, PlantedBugs bugs) {
        boolean fast = Math.floorMod(seed, 2) == 0;
        // enough steps for both replacements and the outage (about 10 s of simulated time) before everything heals
        return new SimOptions(5, Math.max(faultSteps, 8000), 100 * MS, 300 * MS, 0.01, fast, 64, 32,
                Fault.Palette.REPLACEMENTS, bugs, 1_000_000, chunkBytes(seed), true, 3, true, false, Timing.UNIFORM);
    }

    /** Leader churn on 3 nodes with one-entry appends: where commit-rule bugs show quickly. */
    static SimOptions churn(long seed, int faultSteps, PlantedBugs bugs) {
        boolean fast = Math.floorMod(seed, 2) == 0;
        return new SimOptions(3, faultSteps, 100 * MS, 300 * MS, 0.01, fast, 1, 1, Fault.Palette.CHURN, bugs,
                snapshotEvery(seed), chunkBytes(seed), Math.floorMod(seed / 3, 2) == 0, 3, false, false, Timing.UNIFORM);
    }

    /**
     * Faults targeted at dangerous moments, each seed its own mix of them ({@link Fault.Palette#TARGETED}):
     * 3 or 5 voters, fast failover on or off, batches of every size; a leader keeps serving its
     * previous snapshot after it takes a new one.
     */
    static SimOptions targeted(long seed, int faultSteps, PlantedBugs bugs) {
        int nodes = Math.floorMod(seed, 4) == 3 ? 5 : 3;
        boolean fast = Math.floorMod(seed / 4, 2) == 0;
        int shape = (int) Math.floorMod(seed / 8, 3);
        // twice the usual steps: room for several dangerous moments in one history
        return new SimOptions(nodes, Math.max(faultSteps, 4000), 100 * MS, 300 * MS, 0.01, fast, new int[] {64, 4, 1}[shape],
                new int[] {32, 4, 1}[shape], Fault.Palette.TARGETED, bugs, snapshotEvery(seed), chunkBytes(seed), true,
                nodes, false, false, Timing.UNIFORM);
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
        return 30 * (timing == Timing.MIXED ? ELECTION_TIMEOUTS_MS[ELECTION_TIMEOUTS_MS.length - 1] * MS : election);
    }
}
