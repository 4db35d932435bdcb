package io.haraft.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The report side of the harness on synthetic rows: the exact CSV columns, one row per
 * system, unavailable systems as rows, Markdown and PNG written. The real peer runs are in
 * {@link QuickRunIT} (integration-test phase: it needs the driver jar and the per-system class paths
 * built by {@code package}) and {@code benchmarks/run-quick.sh}.
 */
class ReportOutputTest {

    @TempDir
    Path dir;

    @Test
    void failoverCsvMarkdownAndChart() throws Exception {
        Table t = new Table(FailoverSuite.COLUMNS.toArray(String[]::new));
        t.add("haraft", "crash", "hb100/el300 fastpath=on", 0, "unavailable: No HA-Raft implementation, found", "", "");
        t.add("ratis", "crash", "equal: rpc timeout 300-600ms", 3, "1155.1", "1234.9", "1234.9");
        t.add("atomix", "crash", "equal: hb100/el300", 3, "435.7", "523.0", "523.0");
        t.write(dir, "failover", "failover");
        Main.chart(dir, "failover", t);

        List<String> csv = Files.readAllLines(dir.resolve("failover.csv"));
        assertThat(csv.get(0)).isEqualTo("system,scenario,settings,reps,p50_ms,p99_ms,max_ms");
        assertThat(csv).hasSize(4);
        assertThat(csv.get(1)).startsWith("haraft,").contains("\"unavailable: No HA-Raft implementation, found\"");
        assertThat(csv.subList(1, 4)).extracting(l -> l.substring(0, l.indexOf(',')))
                .containsExactly("haraft", "ratis", "atomix");
        assertThat(Files.readString(dir.resolve("failover.md")))
                .contains("| system | scenario | settings | reps | p50_ms | p99_ms | max_ms |")
                .contains("| ratis | crash | equal: rpc timeout 300-600ms | 3 | 1155.1 | 1234.9 | 1234.9 |");
        assertPng(dir.resolve("failover.png"));
    }

    @Test
    void throughputAndFootprintHaveTheIssueColumns() throws Exception {
        Table tp = new Table(ThroughputSuite.COLUMNS.toArray(String[]::new));
        for (String system : List.of("ratis", "atomix")) {
            for (int clients : ThroughputSuite.CLIENTS) {
                tp.add(system, clients, 100 * clients, "1.0", "2.0", "3.0");
            }
        }
        tp.add("haraft", 1, "unavailable: no implementation", "", "", "");
        tp.write(dir, "throughput", "throughput");
        Main.chart(dir, "throughput", tp);
        assertThat(Files.readAllLines(dir.resolve("throughput.csv")).get(0))
                .isEqualTo("system,clients,ops_per_s,p50_ms,p99_ms,p999_ms");
        assertPng(dir.resolve("throughput.png"));

        Table fp = new Table(FootprintSuite.COLUMNS.toArray(String[]::new));
        fp.add("ratis", 10, "21.3", "12.0", "4.5", "3000.0");
        fp.add("haraft", 24, "20.0", "unavailable: no implementation", "", "");
        fp.write(dir, "footprint", "footprint");
        Main.chart(dir, "footprint", fp);
        assertThat(Files.readAllLines(dir.resolve("footprint.csv")))
                .first().isEqualTo("system,jars,classpath_mb,heap_mb,idle_cpu_pct,start_to_leader_ms");
        assertPng(dir.resolve("footprint.png"));
    }

    @Test
    void mergeJoinsRunsOfOneSuite() throws Exception {
        for (String system : List.of("haraft", "ratis")) {
            Table t = new Table(FailoverSuite.COLUMNS.toArray(String[]::new));
            t.add(system, "crash", "a, b", 15, "1.0", "2.0", "3.0");
            t.note("common note");
            t.write(dir.resolve(system), "failover", "failover");
        }
        Merge.main(new String[] {"failover", dir.resolve("all").toString(), dir.resolve("haraft").toString(),
                dir.resolve("ratis").toString()});
        List<String> csv = Files.readAllLines(dir.resolve("all/failover.csv"));
        assertThat(csv).containsExactly("system,scenario,settings,reps,p50_ms,p99_ms,max_ms",
                "haraft,crash,\"a, b\",15,1.0,2.0,3.0", "ratis,crash,\"a, b\",15,1.0,2.0,3.0");
        assertThat(Files.readString(dir.resolve("all/failover.md"))).containsOnlyOnce("- common note");
        assertPng(dir.resolve("all/failover.png"));
    }

    @Test
    void optionsParseQuickDefaultsAndRejectUnknownSystems() {
        Options o = Options.parse(new String[] {"all", "--systems", "ratis,atomix", "--quick", "--out", "x"});
        assertThat(o.systems()).containsExactly("ratis", "atomix");
        assertThat(o.reps()).isEqualTo(3);
        assertThat(o.strict()).isFalse();
        assertThat(Options.parse(new String[] {"all", "--quick", "--strict", "--out", "x"}).strict()).isTrue();
        assertThat(o.settings("ratis")).containsExactly(Settings.equal("ratis"));
        Options full = Options.parse(new String[] {"failover", "--out", "x"});
        assertThat(full.reps()).isEqualTo(30);
        assertThat(full.settings("atomix")).hasSize(2);
        assertThatThrownBy(() -> Options.parse(new String[] {"failover", "--systems", "etcd", "--out", "x"}))
                .hasMessageContaining("unknown system etcd");
        assertThatThrownBy(() -> Options.parse(new String[] {"failover"})).hasMessageContaining("--out DIR");
    }

    private static void assertPng(Path png) throws Exception {
        byte[] b = Files.readAllBytes(png);
        assertThat(b.length).isGreaterThan(1000);
        assertThat(new byte[] {b[1], b[2], b[3]}).isEqualTo("PNG".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    }
}
