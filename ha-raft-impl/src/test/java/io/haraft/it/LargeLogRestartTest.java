package io.haraft.it;

import io.haraft.RaftConfig;
import io.haraft.RaftNode;
import io.haraft.storage.FileRaftStorage;
import io.haraft.transport.TransportTesting;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A node holds its log since the latest snapshot in memory, and reads it back when it restarts.
 * With {@code snapshotThresholdBytes} the log stays small however large the commands, so a node
 * that wrote far more than its heap holds restarts in that heap ({@value #HEAP}); a log written
 * without that bound fails the start with an explanation of what to do, and doing it works.
 * The nodes have no state machine: their snapshots are empty and only compact the log.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class LargeLogRestartTest {
    /**
     * The child's heap. The file store reads each log segment (64 MiB) whole when it opens, so a
     * node needs that much heap at start anyway.
     */
    private static final String HEAP = "-Xmx128m";
    private static final int COMMAND_BYTES = 256 * 1024;
    /** 160 MiB of commands: more than the child's heap. */
    private static final int COMMANDS = 640;
    private static final long BOUND = 4L << 20;

    @TempDir
    Path dir;

    private static String classPath() {
        String cp = System.getProperty("surefire.test.class.path");
        return cp != null && !cp.isBlank() ? cp : System.getProperty("java.class.path");
    }

    /** Restarts the node in a child JVM with a small heap; returns its last line of output. */
    private String restartInSmallHeap(long bound, long index) throws Exception {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                HEAP, "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", classPath(), LargeLogNode.class.getName(),
                dir.resolve("n1").toString(), Integer.toString(TransportTesting.freePort()), Long.toString(bound),
                Long.toString(index)));
        Path log = dir.resolve("child-" + System.nanoTime() + ".log");
        Process p = new ProcessBuilder(command).redirectError(log.toFile()).start();
        try {
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            assertThat(p.waitFor(90, TimeUnit.SECONDS)).as("the child exits").isTrue();
            String[] lines = out.split("\n");
            return lines[lines.length - 1] + (p.exitValue() == 0 ? "" : " (exit " + p.exitValue() + "; stderr in " + log + ")");
        } finally {
            p.destroyForcibly();
        }
    }

    /** Writes the large log in this JVM (whose heap is large) with the given bound; returns the last index. */
    private long writeLargeLog(long bound) throws Exception {
        try (RaftNode node = LargeLogNode.build(dir.resolve("n1"), TransportTesting.freePort(), bound)) {
            node.start();
            return LargeLogNode.write(node, COMMANDS, COMMAND_BYTES);
        }
    }

    /** The (first, last) index of the log on disk, read with the node closed. */
    private long[] logOnDisk() {
        try (FileRaftStorage s = FileRaftStorage.open(dir.resolve("n1"))) {
            return new long[] {s.firstIndex(), s.lastIndex()};
        }
    }

    @Test
    void aNodeWithASmallByteBoundRestartsInAHeapSmallerThanEverythingItWrote() throws Exception {
        long last = writeLargeLog(BOUND);
        long[] log = logOnDisk();
        assertThat(log[1]).isEqualTo(last);
        assertThat((log[1] - log[0] + 1) * COMMAND_BYTES).as("bytes left in the log after compaction, log " + log[0]
                + ".." + log[1]).isLessThanOrEqualTo(2 * BOUND);

        String result = restartInSmallHeap(BOUND, last);
        assertThat(result).startsWith("RESTARTED ");   // printed once it applied index last
    }

    @Test
    void aLogLargerThanTheHeapFailsTheStartWithWhatToDoAndDoingItWorks() throws Exception {
        long last = writeLargeLog(RaftConfig.MAX_SNAPSHOT_THRESHOLD_BYTES);
        assertThat(logOnDisk()[0]).as("nothing compacted").isEqualTo(1);

        String failed = restartInSmallHeap(BOUND, last);
        assertThat(failed).startsWith("FAILED java.lang.IllegalStateException: node n1 cannot read its log since the"
                + " latest snapshot").contains("Start it once with a larger heap (-Xmx)").contains("snapshotThresholdBytes");

        // what the message says: one start with a larger heap (this JVM's) and the small bound compacts the log
        try (RaftNode node = LargeLogNode.build(dir.resolve("n1"), TransportTesting.freePort(), BOUND)) {
            node.start();
            LargeLogNode.awaitLeader(node);
            TransportTesting.awaitTrue("the node applies " + last, Duration.ofSeconds(60),
                    () -> node.status().appliedIndex() >= last);
        }
        assertThat(logOnDisk()[0]).as("compacted at the first start with the small bound").isGreaterThan(last / 2);
        assertThat(restartInSmallHeap(BOUND, last)).startsWith("RESTARTED ");
    }
}
