package io.haraft.sim;

import io.haraft.core.PlantedBugs;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Proves the simulator's checkers can fail: each planted bug must be caught, by the invariant it
 * breaks, in at least a fifth of the seeds it runs with, so that a fault schedule that stops
 * reaching the dangerous moment fails the build. The runs are deterministic, so a pass here is
 * repeatable; each prints its catch rate.
 *
 * <p>Every profile draws each seed's own mix of faults (swarm testing, see {@link Fault.Mix}).
 * {@code targeted} is {@link SimOptions#targeted}: faults aimed at dangerous moments (the leader's
 * link to one follower cut while the cluster is idle; the leader crashed while messages are slow,
 * so that two followers campaign in one term; a leader that snapshots again as soon as it starts
 * sending a snapshot; crashes between a durable write and its sends) on 3 or 5 voters.
 * {@code churn} is {@link SimOptions#churn} over 8,000 steps: leaders isolated or crashed right after
 * a commit, one-entry appends, the history of Figure 8 of the Raft paper; a read served before the
 * new leader's first commit misses writes its predecessor acknowledged when that leader is cut off
 * right after its commit, before the followers learned of it. {@code membership} is
 * {@link SimOptions#membershipChurn}: frequent configuration changes among 5 nodes with the same
 * leader churn, where the original single-server change algorithm loses committed entries.
 * {@code rolling} is {@link SimOptions#rollingChange}: the election timeout lowered node by node,
 * the leader last, and the leader cut off while it alone still has the long timeout.
 * {@code replacements} is {@link SimOptions#replacements}: every start-up member replaced and
 * retired, then a whole-cluster restart with the start-up configuration.
 */
class PlantedBugsTest {
    private static final int SEED_BUDGET = Integer.getInteger("sim.bugSeeds", 500);
    /** Each bug must be caught by its invariant in at least this share of the seeds. */
    private static final double MIN_CATCH_RATE = 0.2;

    @ParameterizedTest(name = "{0} is caught by invariant {2} ({1} mix)")
    @CsvSource({
        "VOTE_TWICE,      targeted, (a)",
        "NO_STICKINESS,   targeted, (c)",
        "COMMIT_OLD_TERM, churn,   (d)",
        "UNSAFE_MEMBERSHIP, membership, (d)",
        "SNAPSHOT_WITHOUT_CONFIGURATION, targeted, (h)",
        "READ_BEFORE_FIRST_COMMIT, churn, (r)",
        "IGNORE_LEADER_STICKINESS, rolling, (c)",
        "IDENTITY_BEFORE_COMMIT, default, (u)",
        "RESTART_WITH_STARTUP_CONFIGURATION, replacements, (f)",
    })
    void theSimulatorCatchesThePlantedBug(PlantedBugs bug, String profile, String invariant) throws Exception {
        List<Long> seeds = new ArrayList<>();
        for (long s = 1; s <= SEED_BUDGET; s++) {
            seeds.add(s);
        }
        SimRunner.OptionsForSeed options = switch (profile) {
            case "targeted" -> SimOptions::targeted;
            case "churn" -> (seed, steps, b) -> SimOptions.churn(seed, Math.max(steps, 8000), b);
            case "membership" -> SimOptions::membershipChurn;
            case "rolling" -> SimOptions::rollingChange;
            case "replacements" -> SimOptions::replacements;
            default -> SimOptions::forSeed;
        };
        List<SimResult> results = SimRunner.runAll(seeds, 2000, bug, options);
        List<String> violations = results.stream().filter(SimResult::failed).map(SimResult::violation).toList();
        List<String> byInvariant = violations.stream().filter(v -> v.startsWith(invariant)).toList();
        System.out.printf("planted bug %s: caught in %d of %d seeds, %d by invariant %s; first: %s%n", bug,
                violations.size(), SEED_BUDGET, byInvariant.size(), invariant,
                byInvariant.isEmpty() ? violations.stream().findFirst().orElse("-") : byInvariant.get(0));
        assertThat(violations).as("violations found for planted bug %s", bug).isNotEmpty();
        assertThat(violations).as("the invariant that bug %s breaks", bug).anyMatch(v -> v.startsWith(invariant));
        assertThat(byInvariant.size()).as("seeds of %d in which invariant %s caught planted bug %s", SEED_BUDGET,
                invariant, bug).isGreaterThanOrEqualTo((int) Math.ceil(SEED_BUDGET * MIN_CATCH_RATE));
    }
}
