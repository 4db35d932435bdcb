package io.haraft.sim;

import io.haraft.core.PlantedBugs;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Proves the simulator's checkers can fail: each planted bug must be caught, by the invariant it
 * breaks, within a fixed budget of seeds. The runs are deterministic, so a pass here is repeatable.
 *
 * <p>Profiles: {@code default} is the main suite's mix; {@code churn} is its leader-churn mix
 * ({@link SimOptions#churn}: leaders isolated or crashed right after their first commit, one-entry
 * appends), the history of Figure 8 of the Raft paper; {@code membership} is
 * {@link SimOptions#membershipChurn}: frequent configuration changes among 5 nodes with the same
 * leader churn, where the original single-server change algorithm loses committed entries.
 * A read served before the new leader's first commit misses writes its predecessor acknowledged
 * when that leader is cut off right after its commit, before the followers learned of it: churn.
 * {@code rolling} is {@link SimOptions#rollingChange}: the election timeout lowered node by node,
 * the leader last, and the leader cut off while it alone still has the long timeout.
 */
class PlantedBugsTest {
    private static final int SEED_BUDGET = Integer.getInteger("sim.bugSeeds", 500);

    @ParameterizedTest(name = "{0} is caught by invariant {2} ({1} mix)")
    @CsvSource({
        "VOTE_TWICE,      default, (a)",
        "NO_STICKINESS,   default, (c)",
        "COMMIT_OLD_TERM, churn,   (d)",
        "UNSAFE_MEMBERSHIP, membership, (d)",
        "SNAPSHOT_WITHOUT_CONFIGURATION, default, (h)",
        "READ_BEFORE_FIRST_COMMIT, churn, (r)",
        "IGNORE_LEADER_STICKINESS, rolling, (c)",
        "IDENTITY_BEFORE_COMMIT, default, (u)",
    })
    void theSimulatorCatchesThePlantedBug(PlantedBugs bug, String profile, String invariant) throws Exception {
        List<Long> seeds = new ArrayList<>();
        for (long s = 1; s <= SEED_BUDGET; s++) {
            seeds.add(s);
        }
        SimRunner.OptionsForSeed options = switch (profile) {
            case "churn" -> SimOptions::churn;
            case "membership" -> SimOptions::membershipChurn;
            case "rolling" -> SimOptions::rollingChange;
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
    }
}
