package io.haraft.examples;

import io.haraft.FencingToken;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** The verdicts of the active-active example can say no, and its ledger refuses a stale token. */
class ActiveActiveVerdictTest {

    @Test
    void balancedOnlyWhenEveryPartitionIsLedByALiveNodeAndTheCountsAreWithinOne() {
        Set<String> all = Set.of("n1", "n2", "n3");
        assertThat(ActiveActiveDemo.withinOne(leaders("n1", 4, "n2", 4, "n3", 4), all, 12)).isTrue();
        assertThat(ActiveActiveDemo.withinOne(leaders("n1", 5, "n2", 4, "n3", 3), all, 12)).as("5/4/3").isFalse();
        assertThat(ActiveActiveDemo.withinOne(leaders("n1", 6, "n2", 6), all, 12)).as("6/6/0").isFalse();
        assertThat(ActiveActiveDemo.withinOne(leaders("n1", 6, "n2", 6), Set.of("n1", "n2"), 12)).as("6/6, n3 down")
                .isTrue();
        assertThat(ActiveActiveDemo.withinOne(leaders("n1", 4, "n2", 4, "n3", 4), Set.of("n1", "n2"), 12))
                .as("n3, down, still counted as leader").isFalse();
        assertThat(ActiveActiveDemo.withinOne(leaders("n1", 4, "n2", 4, "n3", 3), all, 12)).as("one leaderless")
                .isFalse();
    }

    @Test
    void tokensMustStrictlyIncreasePerPartitionInTheOrderTheLeadershipsBegan() {
        List<ProcessCluster.Event> outOfOrder = List.of(elected("n1", "partition-0", 2, 100), elected("n2", "partition-0", 3, 200),
                elected("n2", "partition-1", 2, 150), elected("n3", "partition-1", 5, 100));
        assertThat(ActiveActiveDemo.tokensStrictlyIncrease(outOfOrder, 2)).as("5 began before 2 in partition-1").isFalse();
        List<ProcessCluster.Event> ok = List.of(elected("n1", "partition-0", 2, 100), elected("n2", "partition-0", 3, 200),
                elected("n3", "partition-1", 2, 100), elected("n3", "partition-1", 3, 300));
        assertThat(ActiveActiveDemo.tokensStrictlyIncrease(ok, 2)).isTrue();
        assertThat(ActiveActiveDemo.tokensStrictlyIncrease(ok, 3)).as("a partition never led").isFalse();
        List<ProcessCluster.Event> repeated = List.of(elected("n1", "partition-0", 2, 100),
                elected("n2", "partition-0", 2, 200));
        assertThat(ActiveActiveDemo.tokensStrictlyIncrease(repeated, 1)).as("two leaderships with token 2").isFalse();
    }

    @Test
    void theLedgerRefusesAWriteWithALowerTokenThanItHolds(@TempDir Path dir) throws Exception {
        PartitionLedger ledger = new PartitionLedger(dir);
        assertThat(ledger.append("partition-0", FencingToken.of(3), "n1", 1)).isEqualTo(-1);
        assertThat(ledger.append("partition-0", FencingToken.of(5), "n2", 1)).isEqualTo(-1);
        assertThat(ledger.append("partition-0", FencingToken.of(3), "n1", 2)).as("stale").isEqualTo(5);
        assertThat(ledger.append("partition-0", FencingToken.of(5), "n2", 2)).isEqualTo(-1);
        assertThat(ledger.read("partition-0")).containsExactly(new PartitionLedger.Entry(3, "n1", 1),
                new PartitionLedger.Entry(5, "n2", 1), new PartitionLedger.Entry(5, "n2", 2));
        assertThat(ledger.read("partition-1")).isEmpty();
    }

    /** {@code node, count, node, count...}: partitions numbered in that order. */
    private static Map<String, String> leaders(Object... nodeAndCount) {
        Map<String, String> m = new HashMap<>();
        int p = 0;
        for (int i = 0; i < nodeAndCount.length; i += 2) {
            for (int k = 0; k < (Integer) nodeAndCount[i + 1]; k++) {
                m.put("partition-" + p++, (String) nodeAndCount[i]);
            }
        }
        return m;
    }

    private static ProcessCluster.Event elected(String node, String group, long token, long nanos) {
        String[] f = {"ELECTED", node, group, Long.toString(token), Long.toString(nanos)};
        return new ProcessCluster.Event("ELECTED", node, f);
    }
}
