package io.haraft.sim;

import java.util.List;

/**
 * Outcome of one simulated history.
 *
 * @param seed      the seed
 * @param steps     steps executed
 * @param violation the first invariant violated, or {@code null}
 * @param schedule  the fault schedule that ran
 * @param elections leaderships delivered to the application
 * @param committed entries committed cluster-wide
 * @param restarts  node restarts after crashes
 * @param simulatedNanos simulated time the run covered
 * @param snapshotInstalls snapshots that followers received completely and installed
 * @param restartInstalls  of those, installs by a node that had been down since it was last in step
 *                         (it crashed and restarted behind a compacted leader)
 * @param membershipChanges configuration changes the leader started
 * @param membershipRefusals changes it refused (in progress, lagging learner, two voters, ...)
 * @param finalVoters the voters of the last leader's configuration at the end
 * @param witnessElections elections won with the vote of a witness
 * @param counters  named counts of rarer events (for the suite's summary)
 */
record SimResult(long seed, long steps, String violation, List<Fault> schedule, int elections, int committed,
                 long simulatedNanos, int snapshotInstalls, int restartInstalls, int restarts, int membershipChanges,
                 int membershipRefusals, String finalVoters, int witnessElections,
                 java.util.Map<String, Integer> counters) {
    @Override
    public String toString() {
        return "seed " + seed + ": " + steps + " steps, " + (violation == null ? "ok" : violation);
    }

    boolean failed() {
        return violation != null;
    }
}
