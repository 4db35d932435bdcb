package io.haraft.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What {@code --strict} rejects, on synthetic throughput rows (the check reads rows, never numbers). */
class CompletenessTest {

    static final List<String> SUITE = List.of("throughput");
    static final List<String> SYSTEMS = List.of("haraft", "ratis", "atomix");

    @TempDir
    Path dir;

    @Test
    void aRunWithAMeasuredRowPerSystemIsComplete() throws Exception {
        write(new Object[] {"haraft", 1, "not measured: leadership moved during the row", "", "", ""},
                new Object[] {"haraft", 16, "2384", "5.7", "24.5", "40.5"},
                new Object[] {"ratis", 1, "30", "30.7", "583.7", "583.7"},
                new Object[] {"atomix", 1, "32", "31.5", "61.8", "61.8"});
        assertThat(Completeness.problems(dir, SUITE, SYSTEMS)).isEmpty();
    }

    @Test
    void anUnavailableSystemAMissingSystemOrNoMeasuredRowIsAProblem() throws Exception {
        write(new Object[] {"haraft", 1, "not measured: no stable leader", "", "", ""},
                new Object[] {"ratis", 1, "unavailable: ClassNotFoundException, metrics", "", "", ""});
        assertThat(Completeness.problems(dir, SUITE, SYSTEMS)).containsExactly(
                "throughput.csv: no measured row for haraft",
                "throughput.csv: ratis is unavailable: ratis,1,\"unavailable: ClassNotFoundException, metrics\",,,",
                "throughput.csv: no row for atomix");
    }

    @Test
    void missingFilesAreProblems() throws Exception {
        write(new Object[] {"haraft", 1, "114", "8.0", "20.3", "22.0"});
        Files.delete(dir.resolve("throughput.png"));
        assertThat(Completeness.problems(dir, List.of("throughput", "footprint"), List.of("haraft")))
                .containsExactly("missing " + dir.resolve("throughput.png"), "missing " + dir.resolve("footprint.csv"),
                        "missing " + dir.resolve("footprint.md"), "missing " + dir.resolve("footprint.png"));
    }

    private void write(Object[]... rows) throws Exception {
        Table t = new Table(ThroughputSuite.COLUMNS.toArray(String[]::new));
        for (Object[] row : rows) {
            t.add(row);
        }
        t.write(dir, "throughput", "throughput");
        Main.chart(dir, "throughput", t);
    }
}
