package io.haraft.sim;

import io.haraft.core.PlantedBugs;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The deterministic simulation suite: many seeds, each a random history with faults, every
 * invariant checked after every step.
 *
 * <p>{@code -Dsim.seeds=N} sets how many seeds run (default 2000), {@code -Dsim.steps=S} the fault
 * steps per seed (default 2000), and {@code -Dsim.seed=S} replays one seed alone. A failure
 * prints the seed and a shrunk fault schedule.
 */
class SimulationTest {

    @Test
    void randomHistoriesKeepEveryInvariant() throws Exception {
        int steps = Integer.getInteger("sim.steps", 2000);
        String one = System.getProperty("sim.seed");
        List<Long> seeds = new ArrayList<>();
        if (one != null && !one.isBlank()) {
            seeds.add(Long.parseLong(one.trim()));
        } else {
            int count = Integer.getInteger("sim.seeds", 2000);
            long base = Long.getLong("sim.baseSeed", 1L);
            for (int i = 0; i < count; i++) {
                seeds.add(base + i);
            }
        }
        List<SimResult> results = SimRunner.runAll(seeds, steps, PlantedBugs.NONE);
        long total = results.stream().mapToLong(SimResult::steps).sum();
        List<SimResult> failed = results.stream().filter(SimResult::failed).toList();
        for (SimResult f : failed) {
            System.out.println(SimRunner.describe(SimRunner.shrink(f, steps, PlantedBugs.NONE)));
        }
        long installs = results.stream().mapToLong(SimResult::snapshotInstalls).sum();
        long restartInstalls = results.stream().mapToLong(SimResult::restartInstalls).sum();
        System.out.printf("simulation detail: elections=%d committed_entries=%d faults=%d snapshot_installs=%d"
                        + " (after restart %d, in %d seeds)%n",
                results.stream().mapToLong(SimResult::elections).sum(),
                results.stream().mapToLong(SimResult::committed).sum(),
                results.stream().mapToLong(r -> r.schedule().stream().filter(f -> f.at() <= r.simulatedNanos()).count()).sum(),
                installs, restartInstalls, results.stream().filter(r -> r.snapshotInstalls() > 0).count());
        System.out.printf("simulation membership: seeds_with_changes=%d changes=%d refused=%d final_configurations=%d"
                        + " elections_won_with_a_witness=%d%n",
                results.stream().filter(r -> r.membershipChanges() > 0).count(),
                results.stream().mapToLong(SimResult::membershipChanges).sum(),
                results.stream().mapToLong(SimResult::membershipRefusals).sum(),
                results.stream().map(SimResult::finalVoters).distinct().count(),
                results.stream().mapToLong(SimResult::witnessElections).sum());
        java.util.Map<String, Integer> counters = new java.util.TreeMap<>();
        results.forEach(r -> r.counters().forEach((k, v) -> counters.merge(k, v, Integer::sum)));
        System.out.println("simulation counters: " + counters);
        System.out.println("simulation: seeds=" + results.size() + " steps=" + total + " violations=" + failed.size());
        long shortRuns = results.stream().filter(r -> !r.failed() && r.steps() < steps).count();
        assertThat(shortRuns).as("seeds that ran fewer than %d steps", steps).isZero();
        assertThat(failed.stream().map(SimResult::violation).toList()).as("invariant violations").isEmpty();
        if (results.size() >= 200) {
            // Nodes compact their logs, so one that was down (or cut off) long enough can only catch up
            // through a snapshot: over many seeds that must happen, also right after restarts.
            assertThat(installs).as("snapshots installed over %d seeds", results.size()).isPositive();
            assertThat(restartInstalls).as("restarted nodes that caught up through a snapshot").isPositive();
            // A third of the seeds change the configuration, and half of those have a witness.
            assertThat(results.stream().mapToLong(SimResult::membershipChanges).sum()).as("membership changes")
                    .isGreaterThan(results.size() / 2);
            assertThat(results.stream().map(SimResult::finalVoters).distinct().count())
                    .as("distinct final configurations").isGreaterThan(5);
            assertThat(results.stream().mapToLong(SimResult::witnessElections).sum())
                    .as("elections won with a witness's vote").isPositive();
            assertThat(counters).as("membership events over %d seeds", results.size())
                    .containsKeys("learners_added", "promotions", "removals", "leader_removals_by_handover",
                            "witness_snapshot_installs");
            // Clients read through both paths, and writes are acknowledged, so (r) has a history to judge.
            assertThat(counters).as("reads and acknowledged writes over %d seeds", results.size())
                    .containsKeys("index_reads_served", "lease_reads_served", "reads_failed", "writes_acknowledged");
            // Every node learns the cluster identity, some through a snapshot (a node that fell behind).
            assertThat(counters).as("cluster identities learnt over %d seeds", results.size())
                    .containsKeys("identity_learnt_at_commit", "identity_learnt_with_a_snapshot");
            // A third of the seeds run nodes with different timings and restart them with new ones.
            assertThat(counters.getOrDefault("retimed_nodes", 0)).as("nodes restarted with a new timing")
                    .isGreaterThan(results.size() / 10);
        }
    }

    /**
     * The history in which the original single-server change algorithm loses a committed entry
     * ({@link Fault#generateMembershipChurn}; PlantedBugsTest shows it does): with the rules, it
     * keeps every invariant.
     */
    @Test
    void theMembershipBugHistoryKeepsEveryInvariant() throws Exception {
        List<SimResult> results = history("sim.membershipSeeds", SimOptions::membershipChurn);
        List<String> violations = results.stream().filter(SimResult::failed).map(SimResult::violation).toList();
        long refused = results.stream().filter(r -> r.counters().containsKey("refused_term_not_committed")).count();
        System.out.printf("simulation membership history: seeds=%d violations=%d changes_refused_before_own_term_commit=%d%n",
                results.size(), violations.size(), refused);
        assertThat(violations).as("invariant violations").isEmpty();
        assertThat(refused).as("seeds in which the new leader's early change was refused").isGreaterThan(results.size() / 2);
    }

    /**
     * A rolling change of the election timeout, 1000 ms down to 100 or 200 ms node by node, the
     * leader last and cut off while it alone has the long timeout ({@link Fault#generateRollingChange};
     * PlantedBugsTest shows a follower honouring only its own timeout breaks invariant (c) there):
     * every invariant holds, and each change completes.
     */
    @Test
    void aRollingChangeOfTheElectionTimeoutKeepsEveryInvariant() throws Exception {
        List<SimResult> results = history("sim.rollingSeeds", SimOptions::rollingChange);
        List<String> violations = results.stream().filter(SimResult::failed).map(SimResult::violation).toList();
        long complete = results.stream().filter(r -> r.counters().getOrDefault("retimed_nodes", 0)
                == SimOptions.rollingChange(r.seed(), 2000, PlantedBugs.NONE).nodes()).count();
        System.out.printf("simulation rolling change: seeds=%d violations=%d changes_completed=%d%n", results.size(),
                violations.size(), complete);
        assertThat(violations).as("invariant violations").isEmpty();
        assertThat(complete).as("seeds in which every node was restarted with the new timeout")
                .isGreaterThan(results.size() * 9 / 10);
    }

    /**
     * Every member the cluster started with is replaced and retired, then the whole cluster restarts
     * with its start-up configuration ({@link Fault#generateReplacements}; PlantedBugsTest shows a
     * node that trusts its start-up configuration after a restart never commits again there): every
     * invariant holds, liveness included. In most seeds both replacements complete (a step the
     * leader of the moment refuses, for example a removal that would leave two voters after a
     * promotion that found no leader, is not asked again).
     */
    @Test
    void replacingEveryStartUpMemberThenRestartingTheWholeClusterKeepsEveryInvariant() throws Exception {
        List<SimResult> results = history("sim.replacementSeeds", SimOptions::replacements);
        List<String> violations = results.stream().filter(SimResult::failed).map(SimResult::violation).toList();
        long complete = results.stream().filter(r -> r.counters().getOrDefault("retired_nodes", 0) == 2).count();
        java.util.Map<String, Integer> counters = new java.util.TreeMap<>();
        results.forEach(r -> r.counters().forEach((k, v) -> counters.merge(k, v, Integer::sum)));
        System.out.println("simulation replacements counters: " + counters);
        System.out.printf("simulation replacements: seeds=%d violations=%d both_start_up_members_retired=%d%n",
                results.size(), violations.size(), complete);
        assertThat(violations).as("invariant violations").isEmpty();
        assertThat(complete).as("seeds in which both replaced members were removed and retired")
                .isGreaterThan(results.size() / 2);
    }

    /** Runs seeds 1 to N (N from {@code property}, default 300) of a history without planted bugs. */
    private static List<SimResult> history(String property, SimRunner.OptionsForSeed options) throws Exception {
        List<Long> seeds = new ArrayList<>();
        for (long s = 1; s <= Integer.getInteger(property, 300); s++) {
            seeds.add(s);
        }
        return SimRunner.runAll(seeds, 2000, PlantedBugs.NONE, options);
    }
}
