package io.haraft.sim;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The whole-node simulator ({@link NodeSimulation}): the production runtime of every node on
 * virtual time, with faults, its invariants checked through the public API after every event.
 *
 * <p>{@code -Dsim.nodeSeeds=N} sets how many seeds run (default 2000), {@code -Dsim.nodeSeed=S}
 * replays one seed alone, {@code -Dsim.nodeBugSeeds=N} the seeds per planted bug (default 200),
 * {@code -Dsim.nodeReplaySeeds=N} the seeds run twice to compare their histories (default 8, plus
 * two seeds on the file store), {@code -Dsim.nodeFileStorePercent=P} the share of seeds on the
 * production file store (default 25).
 */
class NodeSimulationTest {
    private static final long SECOND = 1_000_000_000L;
    private static final long FAULTS = 5 * SECOND;
    private static final long QUIET = 3 * SECOND;

    @Test
    void theProductionRuntimeKeepsEveryInvariantUnderFaults() {
        String one = System.getProperty("sim.nodeSeed");
        List<Long> seeds = one != null && !one.isBlank() ? List.of(Long.parseLong(one.trim()))
                : LongStream.rangeClosed(1, Integer.getInteger("sim.nodeSeeds", 2000)).boxed().toList();
        List<NodeSimulation.Result> results = run(seeds, NodeSimulation.Bug.NONE);
        List<String> violations = results.stream().filter(NodeSimulation.Result::failed)
                .map(NodeSimulation.Result::violation).toList();
        System.out.printf("node simulation: seeds=%d events=%d elections=%d acknowledged=%d reads=%d crashes=%d"
                        + " pauses=%d isolations=%d loop_stalls=%d closes=%d snapshots_restored=%d membership_changes=%d"
                        + " file_store_seeds=%d power_outages=%d power_losses_losing_unsynced=%d torn_writes=%d recovery_repairs=%d"
                        + " violations=%d%n",
                results.size(), sum(results, NodeSimulation.Result::events), sum(results, NodeSimulation.Result::elections),
                sum(results, NodeSimulation.Result::acknowledged), sum(results, NodeSimulation.Result::reads),
                sum(results, NodeSimulation.Result::crashes), sum(results, NodeSimulation.Result::pauses),
                sum(results, NodeSimulation.Result::isolations), sum(results, NodeSimulation.Result::loopStalls),
                sum(results, NodeSimulation.Result::closes),
                sum(results, NodeSimulation.Result::snapshotsRestored),
                sum(results, NodeSimulation.Result::membershipChanges),
                results.stream().filter(NodeSimulation.Result::fileStore).count(),
                sum(results, NodeSimulation.Result::powerOutages),
                sum(results, NodeSimulation.Result::powerLossesLosingData), sum(results, NodeSimulation.Result::tornWrites),
                sum(results, NodeSimulation.Result::recoveryRepairs),
                violations.size());
        violations.stream().limit(10).forEach(v -> System.out.println("node simulation violation: " + v));
        assertThat(violations).as("invariant violations").isEmpty();
        // Invariants hold vacuously for a runtime that does nothing (one that never applies, answers
        // no read): at any seed count, some writes must be acknowledged and some reads served.
        assertThat(sum(results, NodeSimulation.Result::acknowledged)).as("acknowledged writes").isPositive();
        assertThat(sum(results, NodeSimulation.Result::reads)).as("reads served").isPositive();
        if (results.size() >= 200) {
            assertThat(sum(results, NodeSimulation.Result::snapshotsRestored)).as("snapshots restored").isPositive();
            assertThat(sum(results, NodeSimulation.Result::closes)).as("graceful restarts").isPositive();
            // a third of the 3-node seeds add a learner, promote it and remove a voter through the API
            assertThat(sum(results, NodeSimulation.Result::membershipChanges)).as("membership changes")
                    .isGreaterThan(results.size() / 10);
            if (NodeSimulation.fileStorePercent() > 0) {
                // a share of the seeds on the production file store, where crashes are power losses
                assertThat(results.stream().filter(NodeSimulation.Result::fileStore).count()).as("file-store seeds")
                        .isGreaterThan(results.size() * NodeSimulation.fileStorePercent() / 200);
                assertThat(sum(results, NodeSimulation.Result::powerLossesLosingData))
                        .as("crashes that lost changes no fsync had made durable").isPositive();
                assertThat(sum(results, NodeSimulation.Result::tornWrites)).as("crashes that tore a write").isPositive();
                assertThat(sum(results, NodeSimulation.Result::powerOutages)).as("whole-cluster power outages")
                        .isPositive();
                assertThat(sum(results, NodeSimulation.Result::recoveryRepairs))
                        .as("restarts whose recovery repaired what a crash left").isPositive();
            }
        }
    }

    /** One seed replays every node's whole history: two runs of a seed see the same events at the same times. */
    @Test
    void aSeedReplaysTheSameHistory() {
        int replaySeeds = Integer.getInteger("sim.nodeReplaySeeds", 8);
        List<Long> seeds = new java.util.ArrayList<>(LongStream.rangeClosed(1, replaySeeds).boxed().toList());
        // and two seeds on the production file store (its writer and preallocation are simulated steps too)
        LongStream.range(replaySeeds + 1L, 1_000).filter(s -> NodeSimulation.onFiles(s, NodeSimulation.Bug.NONE))
                .limit(2).forEach(seeds::add);
        List<NodeSimulation.Result> first = run(seeds, NodeSimulation.Bug.NONE);
        List<NodeSimulation.Result> second = run(seeds, NodeSimulation.Bug.NONE);
        assertThat(first.stream().filter(NodeSimulation.Result::fileStore).count()).as("file-store seeds replayed")
                .isGreaterThanOrEqualTo(2);
        for (int i = 0; i < seeds.size(); i++) {
            assertThat(second.get(i).events()).as("events of seed %d", seeds.get(i)).isEqualTo(first.get(i).events());
            assertThat(second.get(i).fingerprint()).as("history of seed %d", seeds.get(i))
                    .isEqualTo(first.get(i).fingerprint());
        }
        assertThat(first.stream().map(NodeSimulation.Result::fingerprint).distinct().count())
                .as("different seeds, different histories").isEqualTo(seeds.size());
    }

    /**
     * Proves the checks can fail: each planted bug (two in the core; in the runtime, a lease
     * watchdog that fires late and a {@code revoked} delivered again after {@code revoked}; in
     * storage, every seed on the file store, an fsync of the log or hard state that makes nothing
     * durable, so that the store acknowledges writes a power loss then undoes) is caught by the
     * invariant it breaks in at least a fifth of the seeds (the storage bug: by one of the
     * invariants that what was acknowledged durable stays).
     */
    @ParameterizedTest(name = "{0} is caught")
    @EnumSource(value = NodeSimulation.Bug.class, names = "NONE", mode = EnumSource.Mode.EXCLUDE)
    void eachPlantedBugIsCaughtByItsInvariant(NodeSimulation.Bug bug) {
        int count = Integer.getInteger("sim.nodeBugSeeds", 200);
        if (bug == NodeSimulation.Bug.UNSYNCED_ACK) {
            count = Math.max(1, count / 4);     // every seed on files, each slower; caught in most of them
        }
        List<String> invariants = switch (bug) {
            case READ_BEFORE_FIRST_COMMIT -> List.of("(R)");
            case NO_STICKINESS -> List.of("(L)");
            case LATE_WATCHDOG -> List.of("(w)");
            case REVOKED_TWICE -> List.of("(A)");
            // what the store acknowledged is gone after a power loss: writes (another command at an
            // acknowledged index, a read that misses one) or the term (a leader's token goes back)
            case UNSYNCED_ACK -> List.of("(W)", "(S)", "(R)", "(T)");
            case NONE -> throw new IllegalArgumentException();
        };
        String invariant = String.join("", invariants);
        List<NodeSimulation.Result> results = run(LongStream.rangeClosed(1, count).boxed().toList(), bug);
        List<String> caught = results.stream().filter(NodeSimulation.Result::failed)
                .map(NodeSimulation.Result::violation).toList();
        List<String> byInvariant = caught.stream().filter(v -> invariants.stream().anyMatch(v::startsWith)).toList();
        System.out.printf("node simulation planted bug %s: caught in %d of %d seeds (%s), %d by invariant %s; first: %s%n",
                bug, caught.size(), count, caught.stream().collect(java.util.stream.Collectors.groupingBy(
                        v -> v.substring(0, v.indexOf(')') + 1), java.util.TreeMap::new,
                        java.util.stream.Collectors.counting())), byInvariant.size(), invariant,
                byInvariant.isEmpty() ? caught.stream().findFirst().orElse("-") : byInvariant.get(0));
        assertThat(byInvariant.size()).as("seeds of %d in which invariant %s caught %s", count, invariant, bug)
                .isGreaterThanOrEqualTo((int) Math.ceil(count * 0.2));
    }

    private static List<NodeSimulation.Result> run(List<Long> seeds, NodeSimulation.Bug bug) {
        return seeds.parallelStream().map(s -> new NodeSimulation(s, bug).run(FAULTS, QUIET)).toList();
    }

    private static long sum(List<NodeSimulation.Result> results, java.util.function.ToLongFunction<NodeSimulation.Result> f) {
        return results.stream().mapToLong(f).sum();
    }
}
