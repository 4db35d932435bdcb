package io.haraft.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.haraft.bench.node.NodeArgs;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The alternated runner's variant syntax and summary, and node options reaching the node. */
class AlternatedTest {

    @Test
    void aVariantHasANameAKindAndOptions() {
        Alternated.Variant v = Alternated.Variant.parse("tuned=ratis:path=server;tuning=waitmin0+appends128");
        assertThat(v.name()).isEqualTo("tuned");
        assertThat(v.kind()).isEqualTo("ratis");
        assertThat(v.options()).containsExactly(Map.entry("path", "server"),
                Map.entry("tuning", "waitmin0+appends128"));
        assertThat(Alternated.Variant.parse("plain=onejvm").options()).isEmpty();
        assertThatThrownBy(() -> Alternated.Variant.parse("x=etcd")).hasMessageContaining("unknown kind etcd");
    }

    @Test
    void theSummaryGivesMedianRangeAndTheRatioWithinEachRun() {
        List<Alternated.Variant> vs = List.of(Alternated.Variant.parse("a=ratis"), Alternated.Variant.parse("b=onejvm"));
        List<Alternated.Row> rows = List.of(
                row(1, "a", 100), row(1, "b", 300),
                row(2, "a", 50), row(2, "b", 200),
                row(3, "a", 80), row(3, "b", 160));
        Table t = Alternated.summarize(vs, List.of(1), rows);
        assertThat(t.rows()).hasSize(2);
        assertThat(t.rows().get(0)).containsExactly("a", "1", "3", "80", "50-100", "1.000", "2.000", "0.500",
                "1.00 (1.00-1.00)");
        // ratios per run: 3.0, 4.0, 2.0 -> median 3.0, not the ratio of the medians (200/80 = 2.5)
        assertThat(t.rows().get(1)).containsExactly("b", "1", "3", "200", "160-300", "1.000", "2.000", "0.500",
                "3.00 (2.00-4.00)");
    }

    @Test
    void aRunWithoutAMeasurementIsNotMeasuredNotZero() {
        List<Alternated.Variant> vs = List.of(Alternated.Variant.parse("a=ratis"));
        Table t = Alternated.summarize(vs, List.of(1, 128), List.of(row(1, "a", 100),
                new Alternated.Row(1, "a", 128, 0, 0, 0, 0, 0, 0, "1 1 1", "not measured: no stable leader")));
        assertThat(t.rows().get(1)).containsExactly("a", "128", "0", "not measured", "", "", "", "", "");
    }

    @Test
    void nodeOptionsArePassedAsXDotKeys() {
        NodeArgs a = NodeArgs.parse(new String[] {"ratis", "id=n1", "dir=/tmp/x", "members=n1=127.0.0.1:1",
                "x.path=server", "x.tuning=tuned"});
        assertThat(a.options()).containsExactlyInAnyOrderEntriesOf(Map.of("path", "server", "tuning", "tuned"));
        assertThat(NodeArgs.parse(new String[] {"ratis", "id=n1", "dir=/tmp/x", "members=n1=127.0.0.1:1"}).options())
                .isEmpty();
    }

    @Test
    void cpuPerOpCountsTheWarmUpOpsAtTheMeasuredRate() {
        // 2 s of CPU over 1 s warm-up + 3 s measured at 250 ops/s = 1000 ops: 2 ms per op
        assertThat(Alternated.cpuMsPerOp(2_000_000_000L, 250, 1000, 3)).isEqualTo(2.0);
        assertThat(Alternated.cpuMsPerOp(5, 0, 1000, 3)).isZero();
    }

    @Test
    void warmUpSettlesOnlyOnAWindowWithinTenPercentOfTheOneBeforeAfterThree() {
        assertThat(ThroughputSuite.settled(List.of(13.0, 73.0))).isFalse();
        assertThat(ThroughputSuite.settled(List.of(13.0, 73.0, 67.0))).isTrue();
        assertThat(ThroughputSuite.settled(List.of(13.0, 73.0, 90.0))).isFalse();
        assertThat(ThroughputSuite.settled(List.of(0.0, 0.0, 0.0))).isFalse();
    }

    private static Alternated.Row row(int run, String variant, double ops) {
        return new Alternated.Row(run, variant, 1, ops, 1, 2, 3, 0, 0.5, "1 1 1", "");
    }
}
