package io.haraft.it;

import io.haraft.Committed;
import io.haraft.IndeterminateOutcomeException;
import io.haraft.NotLeaderException;
import io.haraft.RaftNode;
import io.haraft.transport.TransportTesting;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A single-node cluster without a state machine, built through {@link RaftNode#builder()} with the
 * production parts (file store, gRPC), for {@link LargeLogRestartTest}: the test writes a large log
 * with it in its own JVM, then restarts it in a child JVM with a small heap.
 *
 * <p>As a program: {@code <dataDir> <port> <snapshotThresholdBytes> <index>} starts the node, waits
 * until it has applied {@code index}, prints {@code RESTARTED <applied> <heapUsedMiB>} and exits 0;
 * on any error or after 60 s it prints {@code FAILED <error>} on one line and exits 1.
 */
public final class LargeLogNode {
    /** Commands up to this size fit into one message. */
    static final int MAX_MESSAGE_BYTES = 1 << 20;
    private static final Logger LOG = LoggerFactory.getLogger(LargeLogNode.class);
    private static final PrintStream OUT = new PrintStream(new FileOutputStream(FileDescriptor.out), true,
            StandardCharsets.UTF_8);

    private LargeLogNode() {
    }

    /** The node on {@code dataDir}, listening on loopback {@code port}, with the given byte bound. */
    static RaftNode build(Path dataDir, int port, long snapshotThresholdBytes) {
        return RaftNode.builder().clusterId("large-log").nodeId("n1")
                .member("n1", TransportTesting.address(port)).dataDir(dataDir)
                .heartbeatInterval(Duration.ofMillis(500)).electionTimeout(Duration.ofSeconds(5)) // a pause of the loaded host or GC must not depose it: heap, not failover, is tested
                .maxMessageBytes(MAX_MESSAGE_BYTES).snapshotThresholdBytes(snapshotThresholdBytes)
                .build();
    }

    /**
     * Waits until the node leads, submits {@code commands} commands of {@code bytes} bytes (8 in
     * flight); returns the highest index acknowledged. The test is about heap, not failover: if the
     * node loses its leadership meanwhile (a loaded host can stall its loop past the lease), each
     * command that failed is written again once the node leads again. The commands are all alike,
     * so one that may have committed and is written again only makes the log one entry longer.
     */
    static long write(RaftNode node, int commands, int bytes) throws Exception {
        awaitLeader(node);
        byte[] payload = new byte[bytes];
        Arrays.fill(payload, (byte) 'x');
        ArrayDeque<CompletableFuture<Committed>> window = new ArrayDeque<>();
        long last = 0;
        int submitted = 0;
        int acknowledged = 0;
        while (acknowledged < commands) {
            while (submitted < commands && window.size() < 8) {
                window.add(node.submit(payload));
                submitted++;
            }
            try {
                last = Math.max(last, window.poll().get(60, TimeUnit.SECONDS).index());
                acknowledged++;
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof NotLeaderException || e.getCause() instanceof IndeterminateOutcomeException)) {
                    throw e;
                }
                LOG.warn("a command failed ({}); writing it again once the node leads again", e.getCause().toString());
                submitted--;
                awaitLeader(node);
            }
        }
        return last;
    }

    /** Waits until {@code node} holds a valid leadership (a single node elects itself). */
    static void awaitLeader(RaftNode node) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (node.leadership().isEmpty()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("no leadership within 60 s: " + node.status());
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
    }

    public static void main(String[] args) {
        int code = 1;
        try (RaftNode node = build(Path.of(args[0]), Integer.parseInt(args[1]), Long.parseLong(args[2]))) {
            long index = Long.parseLong(args[3]);
            node.start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (node.status().appliedIndex() < index) {
                if (System.nanoTime() > deadline || !node.status().isRunning()) {
                    throw new IllegalStateException("did not apply index " + index + ": " + node.status());
                }
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
            }
            System.gc();
            OUT.println("RESTARTED " + node.status().appliedIndex() + " "
                    + (ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() >> 20));
            code = 0;
        } catch (Throwable t) {
            OUT.println("FAILED " + t.toString().replace('\n', ' '));
        }
        System.exit(code);
    }
}
