package io.haraft.core;

/**
 * Known protocol bugs that tests plant on purpose to prove the simulator's checkers can fail.
 * Package-private: production code cannot switch them on; test code in this package exposes them
 * to the simulator. Every field is {@code false} in {@link #NONE}.
 */
record Bugs(boolean voteTwice, boolean noStickiness, boolean commitOldTermEntries, boolean unsafeMembership,
            boolean snapshotWithoutConfiguration, boolean readBeforeFirstCommit, boolean ignoreLeaderStickiness,
            boolean identityBeforeCommit, boolean restartWithStartupConfiguration) {
    static final Bugs NONE = new Bugs(false, false, false, false, false, false, false, false, false);

    /** The first five bugs, without the read and stickiness bugs. */
    Bugs(boolean voteTwice, boolean noStickiness, boolean commitOldTermEntries, boolean unsafeMembership,
         boolean snapshotWithoutConfiguration) {
        this(voteTwice, noStickiness, commitOldTermEntries, unsafeMembership, snapshotWithoutConfiguration, false, false,
                false);
    }

    /** The first seven bugs, without {@code identityBeforeCommit}. */
    Bugs(boolean voteTwice, boolean noStickiness, boolean commitOldTermEntries, boolean unsafeMembership,
         boolean snapshotWithoutConfiguration, boolean readBeforeFirstCommit, boolean ignoreLeaderStickiness) {
        this(voteTwice, noStickiness, commitOldTermEntries, unsafeMembership, snapshotWithoutConfiguration,
                readBeforeFirstCommit, ignoreLeaderStickiness, false, false);
    }

    /** The first eight bugs, without {@code restartWithStartupConfiguration}. */
    Bugs(boolean voteTwice, boolean noStickiness, boolean commitOldTermEntries, boolean unsafeMembership,
         boolean snapshotWithoutConfiguration, boolean readBeforeFirstCommit, boolean ignoreLeaderStickiness,
         boolean identityBeforeCommit) {
        this(voteTwice, noStickiness, commitOldTermEntries, unsafeMembership, snapshotWithoutConfiguration,
                readBeforeFirstCommit, ignoreLeaderStickiness, identityBeforeCommit, false);
    }

    /**
     * {@code unsafeMembership}: the original single-server change algorithm, without the fix. A
     * leader starts a change before an entry of its own term is committed, and commits under the
     * new configuration alone (without the old configuration's majority as well).
     * {@code snapshotWithoutConfiguration}: a leader sends the chunks of a snapshot older than its
     * log's without a configuration (it ignores the one the runtime read from the stored snapshot),
     * so the follower stores none with it.
     * {@code readBeforeFirstCommit}: a new leader serves reads (read index and lease) at its commit
     * index before the first entry of its term has committed, when that index may still be below
     * entries an earlier leader committed and acknowledged.
     * {@code ignoreLeaderStickiness}: a follower honours only its own election timeout, not the
     * longer stickiness its leader relies on, yet acknowledges (and echoes) the leader's: with
     * nodes configured with different timeouts, it votes while the old leader's lease is valid.
     * {@code identityBeforeCommit}: a node learns the cluster identity from the entry at index 1 as
     * soon as it stores it, before it is committed, when another leader may still replace it.
     * {@code restartWithStartupConfiguration}: a node that does not know whether the latest
     * configuration in its log is committed (as after a restart) takes its start-up configuration
     * as the committed one, instead of the configuration the latest was appended over; the leader
     * then also needs a majority of start-up members that may have been removed and stopped.
     */
    Bugs {
        // all combinations are allowed; see PlantedBugs in the tests
    }
}
