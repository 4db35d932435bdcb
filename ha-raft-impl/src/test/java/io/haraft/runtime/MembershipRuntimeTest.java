package io.haraft.runtime;

import io.haraft.ClusterConfiguration;
import io.haraft.Committed;
import io.haraft.IndeterminateOutcomeException;
import io.haraft.MemberRole;
import io.haraft.NodeStatus;
import io.haraft.NotLeaderException;
import io.haraft.core.log.Entry;
import io.haraft.core.quorum.Membership;
import io.haraft.storage.Snapshot;
import io.haraft.transport.TransportTesting.LogCapture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The runtime's side of membership, with real files and snapshots every 20 entries: a witness
 * stores no payload, takes empty snapshots and applies nothing, and the configuration recorded in
 * snapshots is the one a restarted node uses.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class MembershipRuntimeTest {
    private static final int THRESHOLD = 20;
    private static final String PADDING = "x".repeat(500);
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dataRoot;

    private LocalCluster cluster;

    @AfterEach
    void tearDown() {
        if (cluster != null) {
            cluster.close();
            cluster.assertListenerContracts();
        }
    }

    /** Commits {@code text} through whichever node leads (once or, after a lost leadership, maybe twice). */
    private void commit(String text) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            String leader = cluster.awaitLeader(cluster.ids, WAIT);
            try {
                cluster.node(leader).submit(text.getBytes(StandardCharsets.UTF_8)).get(30, TimeUnit.SECONDS);
                return;
            } catch (ExecutionException e) {
                boolean again = e.getCause() instanceof NotLeaderException
                        || e.getCause() instanceof IndeterminateOutcomeException;
                if (!again || System.nanoTime() - deadline > 0) {
                    throw e;
                }
            }
        }
    }

    @Test
    void aWitnessStoresNoPayloadTakesEmptySnapshotsAndAppliesNothing() throws Exception {
        cluster = LocalCluster.onDisk(dataRoot, THRESHOLD, 64 * 1024, false);
        cluster.roles.put("n3", MemberRole.WITNESS);
        cluster.ids.forEach(cluster::create);
        cluster.start();
        for (int i = 0; i < 3 * THRESHOLD; i++) {
            commit("c" + i + "-" + PADDING);
        }
        String leader = cluster.awaitLeader();
        assertThat(leader).isNotEqualTo("n3");
        RaftNodeImpl witness = cluster.node("n3");
        Await.until(WAIT, () -> NodeTestHooks.snapshotsTaken(witness) >= 1 && witness.status().commitIndex()
                >= 3 * THRESHOLD, "the witness commits everything and takes a snapshot");

        Snapshot own = cluster.openStores.get("n3").latestSnapshot().orElseThrow();
        assertThat(own.size()).as("the witness's snapshot holds no state-machine data").isZero();
        Membership recorded = own.meta().membership().orElseThrow();
        assertThat(recorded.member("n3").orElseThrow().role()).isEqualTo(Membership.Role.WITNESS);
        assertThat(recorded.voters()).containsExactly("n1", "n2", "n3");
        for (Entry e : cluster.openStores.get("n3").entries()) {
            assertThat(e.size()).as("payload of %s stored by the witness", e).isZero();
        }
        assertThat(cluster.stateMachines.get("n3").events).as("the witness's state machine is never called").isEmpty();
        Snapshot data = cluster.openStores.get(leader).latestSnapshot().orElseThrow();
        assertThat(data.size()).as("a data node's snapshot").isPositive();
        assertThat(data.meta().membership().orElseThrow()).isEqualTo(recorded);

        // Restarted, the witness restores nothing into its state machine and keeps up.
        witness.close();
        cluster.create("n3").start();
        commit("after-restart-" + PADDING);
        long target = cluster.node(cluster.awaitLeader()).status().commitIndex();
        Await.until(WAIT, () -> cluster.node("n3").status().appliedIndex() >= target,
                "the restarted witness follows the commits");
        assertThat(cluster.stateMachines.get("n3").events).isEmpty();
        assertThat(cluster.node("n3").status().member("n3").orElseThrow().role()).isEqualTo(MemberRole.WITNESS);
    }

    @Test
    void aRestartedNodeUsesTheConfigurationRecordedInItsSnapshot() throws Exception {
        cluster = LocalCluster.onDisk(dataRoot, THRESHOLD, 64 * 1024, false).start();
        String leader = cluster.awaitLeader();
        // n4 never runs: a learner counts for nothing, so the cluster goes on without it.
        ClusterConfiguration added = cluster.node(leader).addLearner("n4", "127.0.0.1:1").get(30, TimeUnit.SECONDS);
        long configIndex = added.index();
        String follower = cluster.others(cluster.awaitLeader()).get(0);
        for (int i = 0; Math.min(NodeTestHooks.coreSnapshotIndex(cluster.node(follower)),
                cluster.openStores.get(follower).snapshotIndex()) <= configIndex; i++) {
            assertThat(i).as("commands until %s's snapshot covers the configuration entry", follower)
                    .isLessThan(10 * THRESHOLD);
            commit("c" + i);
        }
        cluster.node(follower).close();
        try (LogCapture logs = new LogCapture()) {
            cluster.create(follower).start();
            assertThat(cluster.openedWith.get(follower)[0]).as("the restarted node's snapshot index")
                    .isGreaterThan(configIndex);
            NodeStatus s = cluster.node(follower).status();
            assertThat(s.member("n4").map(NodeStatus.MemberStatus::role)).contains(MemberRole.LEARNER);
            assertThat(s.members()).hasSize(4);
            Await.until(WAIT, () -> logs.contains("WARN", "node " + follower + " uses the cluster configuration"),
                    "a warning that the stored configuration differs from the start-up members");
        }
        commit("after-restart");
        Await.until(WAIT, () -> cluster.stateMachines.get(follower).commands().contains("after-restart"),
                follower + " follows on after its restart");
    }

    /**
     * A leader reads chunk 0 of its snapshot S1 for a lagging follower, but the answer reaches its
     * loop only after it took a newer snapshot S2 and compacted its log to it (a slow snapshot
     * thread). The follower installs S1 all the same, and must store with it the configuration in
     * force at S1's index (here with the witness n4 it never saw in its log), so that after a
     * restart it uses that configuration and not its start-up members.
     */
    @Test
    void aSnapshotServedAfterTheLeaderTookANewerOneRecordsTheConfigurationAtItsIndex() throws Exception {
        HeldSnapshotReads held = new HeldSnapshotReads();
        // a 3 s election timeout: the transfer, held on purpose, is not restarted as stalled meanwhile
        cluster = LocalCluster.onDisk(dataRoot, THRESHOLD, 64 * 1024, false, Duration.ofSeconds(3));
        cluster.fileStoreWrap = (id, store) -> held.wrap(store);
        cluster.start();
        try {
            String leader = cluster.awaitLeader(cluster.ids, WAIT);
            RaftNodeImpl l = cluster.node(leader);
            String follower = cluster.others(leader).get(0);
            // The follower falls behind while it runs. n4 never runs; as a witness it gets snapshots
            // without the leader reading one, so every chunk read is for the follower.
            cluster.network.isolate(follower, cluster.others(follower));
            long configIndex = l.addWitness("n4", "127.0.0.1:1").get(30, TimeUnit.SECONDS).index();
            int next = 0;
            while (NodeTestHooks.coreSnapshotIndex(l) <= configIndex) {
                assertThat(next).as("commands until the leader's snapshot covers the configuration entry")
                        .isLessThan(10 * THRESHOLD);
                l.submit(("c" + next++).getBytes(StandardCharsets.UTF_8)).get(30, TimeUnit.SECONDS);
            }
            long first = NodeTestHooks.coreSnapshotIndex(l);

            cluster.network.heal();
            Await.until(WAIT, () -> held.waiting() >= 1, "the leader reads its snapshot " + first + " for " + follower);
            // The follower's answers no longer reach the leader: the transfer waits for chunk 0 of
            // the first snapshot and is never restarted as stalled, and the follower keeps whatever
            // snapshot it installs.
            long droppedBefore = cluster.network.dropped.get();
            cluster.network.dropOneWay(follower, leader);
            Await.until(WAIT, () -> cluster.network.dropped.get() > droppedBefore, "the follower's answers are dropped");
            List<CompletableFuture<Committed>> more = new ArrayList<>();
            for (int i = 0; i < 2 * THRESHOLD; i++) {
                more.add(l.submit(("c" + next++).getBytes(StandardCharsets.UTF_8)));
            }
            CompletableFuture.allOf(more.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
            Await.until(WAIT, () -> NodeTestHooks.coreSnapshotIndex(l) > first, "the leader compacts to a newer snapshot");
            held.release(1);
            Await.until(WAIT, () -> NodeTestHooks.snapshotsInstalled(cluster.node(follower)) >= 1,
                    follower + " installs the snapshot it was sent");

            Snapshot stored = cluster.openStores.get(follower).latestSnapshot().orElseThrow();
            assertThat(stored.meta().lastIndex()).as("the snapshot the follower installed is the leader's previous one")
                    .isEqualTo(first).isLessThan(NodeTestHooks.coreSnapshotIndex(l));
            assertThat(stored.meta().membership()).as("the configuration stored with snapshot %s", first)
                    .hasValueSatisfying(m -> assertThat(m.member("n4").map(Membership.Member::role))
                            .contains(Membership.Role.WITNESS_LEARNER));
            assertThat(cluster.node(follower).status().members()).as("members known to %s", follower).hasSize(4);

            cluster.node(follower).close();
            cluster.create(follower).start();
            assertThat(cluster.openedWith.get(follower)[0]).as("the restarted follower's snapshot").isEqualTo(first);
            NodeStatus s = cluster.node(follower).status();
            assertThat(s.member("n4").map(NodeStatus.MemberStatus::role)).as("n4 on the restarted %s", follower)
                    .contains(MemberRole.WITNESS_LEARNER);
            assertThat(s.members()).hasSize(4);
        } finally {
            held.open();
            cluster.network.heal();
        }
        commit("after-restart");
        for (String id : cluster.ids) {
            Await.until(WAIT, () -> cluster.stateMachines.get(id).commands().contains("after-restart"),
                    id + " follows on once the network heals");
        }
    }
}
