package io.haraft.sim;

import io.haraft.core.PlantedBugs;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/** Runs seeds in parallel, and shrinks the fault schedule of a failing one. */
final class SimRunner {
    private SimRunner() {
    }

    /** How the options of a seed are chosen. */
    interface OptionsForSeed {
        SimOptions of(long seed, int steps, PlantedBugs bugs);
    }

    static SimResult runOne(long seed, int steps, PlantedBugs bugs, OptionsForSeed options) {
        SimOptions opt = options.of(seed, steps, bugs);
        return new Simulation(seed, opt, Simulation.defaultSchedule(seed, opt)).run();
    }

    static List<SimResult> runAll(List<Long> seeds, int steps, PlantedBugs bugs) throws InterruptedException {
        return runAll(seeds, steps, bugs, SimOptions::forSeed);
    }

    static List<SimResult> runAll(List<Long> seeds, int steps, PlantedBugs bugs, OptionsForSeed options)
            throws InterruptedException {
        int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<SimResult>> futures = new ArrayList<>();
            for (long s : seeds) {
                futures.add(pool.submit(() -> runOne(s, steps, bugs, options)));
            }
            List<SimResult> out = new ArrayList<>();
            for (Future<SimResult> f : futures) {
                try {
                    out.add(f.get());
                } catch (ExecutionException e) {
                    throw new IllegalStateException("simulation crashed", e.getCause());
                }
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * Removes faults from a failing schedule while the run still fails (delta debugging by chunks,
     * then one by one), within a budget of runs.
     */
    static SimResult shrink(SimResult failing, int steps, PlantedBugs bugs) {
        return shrink(failing, steps, bugs, SimOptions::forSeed);
    }

    static SimResult shrink(SimResult failing, int steps, PlantedBugs bugs, OptionsForSeed options) {
        SimOptions opt = options.of(failing.seed(), steps, bugs);
        SimResult best = failing;
        int budget = 300;
        int chunk = Math.max(1, best.schedule().size() / 2);
        while (chunk >= 1 && budget > 0) {
            boolean progress = false;
            for (int start = 0; start < best.schedule().size() && budget > 0; start += chunk) {
                List<Fault> candidate = new ArrayList<>(best.schedule());
                candidate.subList(start, Math.min(candidate.size(), start + chunk)).clear();
                budget--;
                SimResult r = new Simulation(failing.seed(), opt, candidate).run();
                if (r.failed()) {
                    best = r;
                    progress = true;
                    start -= chunk;
                }
            }
            if (!progress) {
                chunk /= 2;
            }
        }
        return best;
    }

    static String describe(SimResult r) {
        StringBuilder sb = new StringBuilder();
        sb.append("VIOLATION ").append(r.violation()).append('\n');
        sb.append("  replay: mvn -B -pl ha-raft-api,ha-raft-impl test -Dtest=SimulationTest -Dsim.seed=").append(r.seed()).append('\n');
        sb.append("  shrunk fault schedule (").append(r.schedule().size()).append(" faults):\n");
        for (Fault f : r.schedule()) {
            sb.append("    ").append(f).append('\n');
        }
        return sb.toString();
    }
}
