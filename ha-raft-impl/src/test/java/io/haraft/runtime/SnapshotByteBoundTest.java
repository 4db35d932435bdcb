package io.haraft.runtime;

import io.haraft.Committed;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code snapshotThresholdBytes}: a snapshot is taken once that many bytes of log were applied,
 * long before {@code snapshotThreshold} entries (10,000 by default) are, on every node, and the
 * core then forgets the entries it covers.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SnapshotByteBoundTest {
    private static final long BOUND = 64 * 1024;
    private static final int COMMAND_BYTES = 1024;
    private static final int COMMANDS = 100;   // 100 x (1024 + 64) bytes: past the bound once, not twice

    private LocalCluster cluster;

    @AfterEach
    void tearDown() {
        LocalCluster.closeAndCheck(cluster);
    }

    @Test
    void everyNodeSnapshotsAndCompactsOnceTheAppliedLogPassesTheByteBound() throws Exception {
        cluster = LocalCluster.ofThree();
        cluster.snapshotThresholdBytes = BOUND;
        cluster.ids.forEach(cluster::create);
        cluster.start();
        String leaderId = cluster.awaitLeader();
        byte[] payload = new byte[COMMAND_BYTES];
        Arrays.fill(payload, (byte) 'b');
        List<CompletableFuture<Committed>> futures = new ArrayList<>();
        for (int i = 0; i < COMMANDS; i++) {
            futures.add(cluster.node(leaderId).submit(payload));
        }
        CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        long crossing = BOUND / (COMMAND_BYTES + io.haraft.RaftConfig.SNAPSHOT_ENTRY_OVERHEAD_BYTES);
        for (String id : cluster.ids) {
            RaftNodeImpl n = cluster.node(id);
            Await.until(Duration.ofSeconds(20), () -> NodeTestHooks.snapshotsTaken(n) >= 1, id + " takes a snapshot");
            Await.until(Duration.ofSeconds(20), () -> NodeTestHooks.coreSnapshotIndex(n) >= crossing,
                    id + " compacts its log past index " + crossing);
            assertThat(NodeTestHooks.snapshotsTaken(n)).as(id + ": one snapshot per 64 KiB of log").isEqualTo(1);
        }
    }
}
