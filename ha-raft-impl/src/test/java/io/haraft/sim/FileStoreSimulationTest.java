package io.haraft.sim;

import io.haraft.core.PlantedBugs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A subset of simulation seeds run with every node on a real {@link io.haraft.storage.FileRaftStorage}
 * in a temporary directory, with crashes ({@link Simulation#Simulation(long, SimOptions, List, Path)}):
 * a crash loses all, part or none of the writes not yet reported durable (through
 * {@link CrashableFileIO}, possibly tearing one), and the node restarts from its files, through the
 * store's recovery. Every invariant holds; recovery finds everything reported durable; and each node
 * that restarted behind every other node's snapshot caught up through a snapshot, received chunk by
 * chunk into its file store (or crashed again first). {@code -Dsim.fileSeeds=N} sets how many seeds run.
 */
class FileStoreSimulationTest {

    @Test
    void simulatedHistoriesOverRealFilesKeepEveryInvariant(@TempDir Path dir) {
        int count = Integer.getInteger("sim.fileSeeds", 16);
        int steps = Integer.getInteger("sim.steps", 2000);
        List<SimResult> results = new ArrayList<>();
        for (long seed = 1; seed <= count; seed++) {
            // the churn mix crashes leaders often: many restarts, each one a recovery from the files
            SimOptions opt = SimOptions.churn(seed, steps, PlantedBugs.NONE);
            Simulation sim = new Simulation(seed, opt, Simulation.defaultSchedule(seed, opt), dir.resolve("seed-" + seed));
            results.add(sim.run());
        }
        Map<String, Integer> total = new TreeMap<>();
        results.forEach(r -> r.counters().forEach((k, v) -> total.merge(k, v, Integer::sum)));
        long restarts = results.stream().mapToLong(SimResult::restarts).sum();
        System.out.printf("file-store simulated runs: seeds=%d steps=%d restarts=%d violations=%d; %s%n",
                results.size(), results.stream().mapToLong(SimResult::steps).sum(), restarts,
                results.stream().filter(SimResult::failed).count(), total);
        assertThat(results.stream().filter(SimResult::failed).map(SimResult::violation).toList())
                .as("invariant violations over real files").isEmpty();
        assertThat(restarts).as("restarts recovered from the files").isPositive();
        assertThat(total.getOrDefault("file_crashes_losing_unsynced_writes", 0))
                .as("crashes that lost writes not yet reported durable").isPositive();
        assertThat(total.getOrDefault("file_crashes_tearing_a_write", 0)).as("crashes that tore a write").isPositive();
        assertThat(total.getOrDefault("restarts_behind_every_snapshot_caught_up_through_one", 0))
                .as("nodes that restarted behind every other node's snapshot and caught up through one").isPositive();
        for (SimResult r : results) {
            Map<String, Integer> c = r.counters();
            assertThat(c.getOrDefault("restarts_behind_every_snapshot_caught_up_through_one", 0)
                    + c.getOrDefault("restarts_behind_every_snapshot_crashed_again_first", 0))
                    .as("seed %d: restarts behind every snapshot that ended in a snapshot install (or another crash)",
                            r.seed())
                    .isEqualTo(c.getOrDefault("restarts_behind_every_snapshot", 0));
        }
    }
}
