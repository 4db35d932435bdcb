package io.haraft.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What {@code --strict} checks after a run (the CI smoke run, {@code QuickRunIT}): every suite wrote its CSV,
 * Markdown and PNG, and every system has rows in every CSV, none of them {@code unavailable: ...}
 * (the system could not start, or no failover completed) and at least one measured, not
 * {@code not measured: ...}. It looks at which rows exist, never at the numbers in them.
 */
final class Completeness {

    private Completeness() {
    }

    /** The problems found in {@code dir}, one line each; empty when the run is complete. */
    static List<String> problems(Path dir, List<String> suites, List<String> systems) throws IOException {
        List<String> problems = new ArrayList<>();
        for (String suite : suites) {
            for (String ext : List.of("csv", "md", "png")) {
                Path f = dir.resolve(suite + "." + ext);
                if (!Files.isRegularFile(f) || Files.size(f) == 0) {
                    problems.add("missing " + f);
                }
            }
            Path csv = dir.resolve(suite + ".csv");
            if (!Files.isRegularFile(csv)) {
                continue;
            }
            List<String> lines = Files.readAllLines(csv, StandardCharsets.UTF_8);
            for (String system : systems) {
                int rows = 0;
                int unavailable = 0;
                int measured = 0;
                for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
                    List<String> cells = Merge.parseCsvLine(line);
                    if (!cells.get(0).equals(system)) {
                        continue;
                    }
                    rows++;
                    if (cells.stream().anyMatch(c -> c.startsWith("unavailable"))) {
                        unavailable++;
                        problems.add(suite + ".csv: " + system + " is unavailable: " + line);
                    } else if (cells.stream().noneMatch(c -> c.startsWith("not measured"))) {
                        measured++;
                    }
                }
                if (rows == 0) {
                    problems.add(suite + ".csv: no row for " + system);
                } else if (unavailable == 0 && measured == 0) {
                    problems.add(suite + ".csv: no measured row for " + system);
                }
            }
        }
        return problems;
    }
}
