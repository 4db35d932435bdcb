package io.haraft.runtime;

import io.haraft.Committed;
import io.haraft.RaftConfig;
import io.haraft.RaftNode;
import io.haraft.RevokeReason;
import io.haraft.core.PlantedBugs;
import io.haraft.transport.TransportTesting.LogCapture;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The production balancer of three simulated processes hosting four groups, with one member that
 * lacks most of every group's log: it sends (its pre-votes reach the others, so it counts as live)
 * but nothing reaches it. A balancer that handed it a group would start a handover that cannot
 * finish: the group refuses writes for an election timeout and its leader steps down. The
 * balancer hands it nothing until it has caught up, then gives it its share.
 */
class BalancerCatchUpTest {
    private static final long MS = 1_000_000L;
    private static final List<String> IDS = List.of("n1", "n2", "n3");
    private static final List<String> GROUPS = List.of("g0", "g1", "g2", "g3");
    private static final long MAX_LAG = 10;

    private final SimWorld world = new SimWorld(5);
    private final SimNet net = new SimNet(world, () -> 200_000);
    private final List<SimGroupsNode> nodes = new ArrayList<>();
    /** Every leadership event, recorded by each node's listener of each group. */
    private final Map<String, RecordingListener> listeners = new HashMap<>();

    private void start(boolean plantedIgnoresLag) {
        long seed = 1;
        for (String id : IDS) {
            RaftNode.Builder b = RaftNode.builder().clusterId("balance").nodeId(id).dataDir(Path.of("/nonexistent", id))
                    .heartbeatInterval(Duration.ofMillis(50)).electionTimeout(Duration.ofMillis(300))
                    .clockDriftBound(0.01).snapshotThreshold(10_000).promoteMaxLag(MAX_LAG);
            for (String m : IDS) {
                b.member(m, m + ":7000");
            }
            RaftConfig config = b.config();
            SimWorld.Host host = world.new Host(id, seed * 1_000 * MS, 0);
            SimGroupsNode node = new SimGroupsNode(world, net, host, config, GROUPS, () -> 500_000, 200_000,
                    PlantedBugs.NONE::newCore);
            if (plantedIgnoresLag) {
                node.maxLagEntries = Long.MAX_VALUE;
            }
            node.start(g -> listeners.computeIfAbsent(id + "/" + g, k -> new RecordingListener(id)),
                    g -> new RecordingStateMachine(), seed++);
            nodes.add(node);
        }
    }

    private SimGroupsNode node(String id) {
        return nodes.get(IDS.indexOf(id));
    }

    private Optional<String> leaderOf(String group) {
        return IDS.stream().filter(id -> node(id).group(group).status().isLeader()).findFirst();
    }

    /**
     * Leaderships revoked so far on any node of any group for another reason than a completed
     * handover (a handover between n1 and n2 balances them: it is expected).
     */
    private long revocations() {
        return listeners.values().stream().mapToLong(l -> l.events.stream()
                .filter(e -> !e.elected() && e.reason() != RevokeReason.LEADERSHIP_TRANSFERRED).count()).sum();
    }

    private Map<String, Integer> ledCounts() {
        Map<String, Integer> led = new HashMap<>();
        for (String g : GROUPS) {
            leaderOf(g).ifPresent(l -> led.merge(l, 1, Integer::sum));
        }
        return led;
    }

    /**
     * Nothing reaches n3; its groups move to n1 and n2, which commit far more than
     * {@link #MAX_LAG} entries in each. Returns once that is done and every group has a leader.
     */
    private void leaveN3Behind() {
        world.runWhile(() -> GROUPS.stream().anyMatch(g -> leaderOf(g).isEmpty()), world.now() + 10_000 * MS);
        net.cut("n1", "n3");
        net.cut("n2", "n3");
        world.runWhile(() -> GROUPS.stream().anyMatch(g -> leaderOf(g).isEmpty() || leaderOf(g).get().equals("n3")),
                world.now() + 10_000 * MS);
        for (String g : GROUPS) {
            String leader = leaderOf(g).orElseThrow();
            CompletableFuture<Committed> last = null;
            for (int i = 0; i < 5 * MAX_LAG; i++) {
                last = node(leader).group(g).submit(new byte[] {(byte) i});
            }
            CompletableFuture<Committed> f = last;
            world.runWhile(() -> !f.isDone(), world.now() + 10_000 * MS);
            assertThat(f).as(g).isCompletedWithValueMatching(c -> c.index() > MAX_LAG);
        }
    }

    @Test
    void aMemberThatLacksTheLogIsHandedNothingUntilItCatchesUpThenGetsItsShare() {
        start(false);
        leaveN3Behind();
        long revokedBefore = revocations();

        // five seconds: n3 keeps campaigning (it hears no leader), so the others hear it in every
        // group; yet no leader hands it a group, so none steps down (n1 and n2 balance between them)
        world.runUntil(world.now() + 5_000 * MS);
        assertThat(revocations()).as("leaderships revoked while n3 lagged").isEqualTo(revokedBefore);
        assertThat(ledCounts()).isEqualTo(Map.of("n1", 2, "n2", 2));

        // once messages reach it again, it catches up and is handed its share
        net.heal();
        world.runWhile(() -> !balanced(ledCounts()), world.now() + 10_000 * MS);
        Map<String, Integer> led = ledCounts();
        assertThat(balanced(led)).as("balanced: %s", led).isTrue();
        assertThat(led.get("n3")).isPositive();
        assertThat(revocations()).as("leaderships revoked after n3 caught up").isEqualTo(revokedBefore);
    }

    /** Every group has a leader, and the members lead numbers of groups that differ by at most one. */
    private static boolean balanced(Map<String, Integer> led) {
        int sum = led.values().stream().mapToInt(Integer::intValue).sum();
        int max = IDS.stream().mapToInt(id -> led.getOrDefault(id, 0)).max().orElseThrow();
        int min = IDS.stream().mapToInt(id -> led.getOrDefault(id, 0)).min().orElseThrow();
        return sum == GROUPS.size() && max - min <= 1;
    }

    /**
     * Drained while the only other member not drained lacks the log: the node keeps its groups and
     * says why at INFO, once (not every round), naming the lagging member.
     */
    @Test
    void aDrainThatNoMemberCanTakeSaysWhyOnce() {
        start(false);
        leaveN3Behind();
        world.runUntil(world.now() + 1_000 * MS);
        String drained = "n1";
        node("n2").drain();                                      // n2 hands its groups to n1
        world.runWhile(() -> !GROUPS.stream().allMatch(g -> leaderOf(g).equals(Optional.of(drained))),
                world.now() + 10_000 * MS);
        assertThat(ledCounts()).isEqualTo(Map.of(drained, GROUPS.size()));
        try (LogCapture logs = new LogCapture()) {
            node(drained).drain();                               // n2 is drained, n3 lags: no one can take them
            world.runUntil(world.now() + 3_000 * MS);
            List<String> reports = logs.lines().stream().filter(l -> l.contains("drained, but no other member can take"))
                    .toList();
            assertThat(reports).hasSize(1);
            // the reason seen then: n3 is not heard from at every round (its pre-votes come once per
            // election timeout), so either may be said
            assertThat(reports.get(0)).contains("INFO").containsAnyOf("n3 lacks", "n3 does not answer",
                    "no other member that may lead was heard from lately");
        }
        assertThat(ledCounts()).as("the drained node still leads what it cannot hand away")
                .isEqualTo(Map.of(drained, GROUPS.size()));
    }

    /** The planted bug: a balancer without the lag bound hands n3 groups, and their leaders step down. */
    @Test
    void theCheckCatchesABalancerThatIgnoresTheLag() {
        start(true);
        leaveN3Behind();
        long revokedBefore = revocations();
        world.runUntil(world.now() + 5_000 * MS);
        assertThat(revocations()).isGreaterThan(revokedBefore);
    }
}
