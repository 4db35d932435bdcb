package io.haraft.sim;

import io.haraft.core.PlantedBugs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A subset of simulation seeds run over the real {@link io.haraft.storage.FileRaftStorage}, in
 * temporary directories, with crashes: every durable write is also written (and fsynced) to files,
 * and every restart recovers the node from those files, which must hold exactly what was reported
 * durable. Nodes compact their logs, so nodes that were down catch up through snapshots that the
 * file store received in chunks. {@code -Dsim.fileSeeds=N} sets how many seeds run.
 */
class FileStoreSimulationTest {

    @Test
    void simulatedHistoriesOverRealFilesKeepEveryInvariant(@TempDir Path dir) {
        int count = Integer.getInteger("sim.fileSeeds", 8);
        int steps = Integer.getInteger("sim.steps", 2000);
        List<SimResult> results = new ArrayList<>();
        for (long seed = 1; seed <= count; seed++) {
            // the churn mix crashes leaders often: many restarts, each one a recovery from the files
            SimOptions opt = SimOptions.churn(seed, steps, PlantedBugs.NONE);
            Simulation sim = new Simulation(seed, opt, Simulation.defaultSchedule(seed, opt), dir.resolve("seed-" + seed));
            results.add(sim.run());
        }
        long restarts = results.stream().mapToLong(SimResult::restarts).sum();
        long installs = results.stream().mapToLong(SimResult::snapshotInstalls).sum();
        System.out.printf("file-store simulated runs: seeds=%d steps=%d restarts=%d snapshot_installs=%d violations=%d%n",
                results.size(), results.stream().mapToLong(SimResult::steps).sum(), restarts, installs,
                results.stream().filter(SimResult::failed).count());
        assertThat(results.stream().filter(SimResult::failed).map(SimResult::violation).toList())
                .as("invariant violations over real files").isEmpty();
        assertThat(restarts).as("restarts recovered from the files").isPositive();
        assertThat(installs).as("snapshots received into the file store").isPositive();
    }
}
