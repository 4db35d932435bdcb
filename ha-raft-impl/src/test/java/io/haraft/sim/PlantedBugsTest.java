package io.haraft.sim;

import io.haraft.core.PlantedBugs;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Proves the simulator's checkers can fail: each planted bug must be caught within a fixed budget
 * of seeds, by the invariant that the bug breaks.
 */
class PlantedBugsTest {
    private static final int SEED_BUDGET = 400;

    @ParameterizedTest
    @EnumSource(value = PlantedBugs.class, names = {"VOTE_TWICE", "NO_STICKINESS", "COMMIT_OLD_TERM"})
    void theSimulatorCatchesThePlantedBug(PlantedBugs bug) throws Exception {
        List<Long> seeds = new ArrayList<>();
        for (long s = 1; s <= SEED_BUDGET; s++) {
            seeds.add(s);
        }
        List<SimResult> results = SimRunner.runAll(seeds, 2000, bug);
        List<String> violations = results.stream().filter(SimResult::failed).map(SimResult::violation).toList();
        System.out.printf("planted bug %s: caught in %d of %d seeds; first: %s%n", bug, violations.size(),
                SEED_BUDGET, violations.isEmpty() ? "-" : violations.get(0));
        assertThat(violations).as("violations found for planted bug %s", bug).isNotEmpty();
    }
}
