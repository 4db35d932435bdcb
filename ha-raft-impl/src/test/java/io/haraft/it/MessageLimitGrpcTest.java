package io.haraft.it;

import io.haraft.RaftNode;
import io.haraft.transport.TransportTesting.LogCapture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.haraft.transport.TransportTesting.awaitTrue;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Nodes configured with different {@code maxMessageBytes}: n1 accepts 1 MiB, n2 and n3 256 KiB.
 * A command between the limits is refused at {@code submit} with a message naming the node and
 * its limit; commands that fit every node are replicated even when the leader batches more than a
 * follower accepts; nothing hangs and nothing is logged as a stack trace.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class MessageLimitGrpcTest {
    private static final int LARGE = 1024 * 1024;
    private static final int SMALL = 256 * 1024;
    private static final Duration PATIENCE = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    private GrpcCluster cluster;

    @AfterEach
    void tearDown() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void aCommandBetweenTheLimitsIsRefusedAtSubmitAndLaterCommandsAreReplicated() throws Exception {
        cluster = new GrpcCluster("orders", 3, dir, Duration.ofMillis(100), Duration.ofMillis(600), 0.01);
        cluster.maxMessageBytes = id -> id.equals("n1") ? LARGE : SMALL;
        try (LogCapture logs = new LogCapture()) {
            cluster.start();
            String leader = cluster.awaitLeader();
            if (!leader.equals("n1")) {
                cluster.node(leader).transferLeadership("n1").get(30, TimeUnit.SECONDS);
                leader = cluster.awaitLeader();
            }
            assertThat(leader).isEqualTo("n1");
            RaftNode n1 = cluster.node("n1");
            awaitTrue("n1 learned both followers' limits", () -> cluster.transports.get("n1").maxMessageBytesOf("n2")
                    .isPresent() && cluster.transports.get("n1").maxMessageBytesOf("n3").isPresent());

            long failedBefore = cluster.transports.get("n1").stats().failedAttempts();
            Throwable refused = GrpcCluster.failure(n1.submit(new byte[400 * 1024]), PATIENCE);
            assertThat(refused).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("the command has " + 400 * 1024 + " bytes")
                    .hasMessageContaining("whose maxMessageBytes is " + SMALL)
                    .hasMessageContaining("Nothing was appended");

            // 24 commands of 100 KiB in flight: the leader batches up to half its own limit (512 KiB)
            // per append, more than n2 and n3 accept; the appends are split on the way.
            List<CompletableFuture<io.haraft.Committed>> pending = new ArrayList<>();
            for (int i = 0; i < 24; i++) {
                pending.add(n1.submit(command(i, 100 * 1024)));
            }
            for (CompletableFuture<io.haraft.Committed> f : pending) {
                f.get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
            }
            for (String id : List.of("n2", "n3")) {
                awaitTrue(id + " applies the 24 commands", PATIENCE,
                        () -> cluster.stateMachines.get(id).applied.size() >= 24);
            }
            assertThat(cluster.transports.get("n1").stats().failedAttempts()).as("no stream was reset")
                    .isEqualTo(failedBefore);
            assertThat(logs.lines()).noneMatch(l -> l.startsWith("\tat ") || l.contains("RESOURCE_EXHAUSTED"));
        }
    }

    private static byte[] command(int i, int size) {
        byte[] bytes = new byte[size];
        Arrays.fill(bytes, (byte) 'x');
        byte[] tag = ("c" + i + ":").getBytes(StandardCharsets.UTF_8);
        System.arraycopy(tag, 0, bytes, 0, tag.length);
        return bytes;
    }
}
