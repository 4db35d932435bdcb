package io.haraft.it;

import io.haraft.Committed;
import io.haraft.Leadership;
import io.haraft.LeadershipListener;
import io.haraft.NodeStatus;
import io.haraft.RaftNode;
import io.haraft.RevokeReason;

import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

/**
 * One HA-Raft node in its own JVM for {@link WitnessFootprintTest}, which measures what a witness
 * costs compared with a data node. Arguments:
 * {@code <clusterId> <nodeId> <dataDir> <entries> <entryBytes> <snapshotThreshold> <id>=<host:port>[=witness]...}.
 *
 * <p>A data node that is elected submits {@code entries} commands of {@code entryBytes} bytes (at
 * most 256 in flight) and prints {@code LOADED <commitIndex>}, or {@code LOADFAILED <reason>}.
 * Standard input takes {@code MEASURE <index>}: the node waits until it has committed and applied
 * {@code index}, runs full garbage collections, and prints
 * {@code FOOTPRINT <id> <heapUsedBytes> <dataDirBytes>} (the heap in use after the collections, and
 * the sizes of the files in its data directory). Also prints {@code STARTED <id>} and
 * {@code ELECTED <id> <token>}. Runs until killed.
 */
public final class FootprintNode {
    private static final PrintStream OUT = new PrintStream(new FileOutputStream(FileDescriptor.out), true,
            StandardCharsets.UTF_8);

    private FootprintNode() {
    }

    public static void main(String[] args) throws Exception {
        String nodeId = args[1];
        Path dataDir = Path.of(args[2]);
        int entries = Integer.parseInt(args[3]);
        int entryBytes = Integer.parseInt(args[4]);
        RaftNode.Builder b = RaftNode.builder().clusterId(args[0]).nodeId(nodeId).dataDir(dataDir)
                .heartbeatInterval(Duration.ofMillis(500)).electionTimeout(Duration.ofSeconds(5)) // footprint, not failover: a loaded host must not depose the leader
                .snapshotThreshold(Long.parseLong(args[5]));
        for (int i = 6; i < args.length; i++) {
            String[] m = args[i].split("=");
            if (m.length > 2 && m[2].equals("witness")) {
                b.witness(m[0], m[1]);
            } else {
                b.member(m[0], m[1]);
            }
        }
        RaftNode[] self = new RaftNode[1];
        b.listener(new LeadershipListener() {
            private boolean loaded;

            @Override
            public void elected(Leadership l) {
                OUT.println("ELECTED " + nodeId + " " + l.term());
                if (!loaded) {
                    loaded = true;
                    Thread t = new Thread(() -> load(self[0], entries, entryBytes), "load");
                    t.setDaemon(true);
                    t.start();
                }
            }

            @Override
            public void revoked(Leadership l, RevokeReason reason) {
            }
        });
        RaftNode node = b.build();
        self[0] = node;
        node.start();
        OUT.println("STARTED " + nodeId);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line = in.readLine(); line != null; line = in.readLine()) {
            if (line.startsWith("MEASURE ")) {
                long index = Long.parseLong(line.substring(8).trim());
                measure(node, nodeId, dataDir, index);
            }
        }
        LockSupport.park();
    }

    private static void load(RaftNode node, int entries, int entryBytes) {
        byte[] payload = new byte[entryBytes];
        java.util.Arrays.fill(payload, (byte) 'x');
        List<CompletableFuture<Committed>> window = new ArrayList<>();
        long last = 0;
        try {
            for (int i = 0; i < entries; i++) {
                window.add(node.submit(payload));
                if (window.size() >= 256) {
                    last = Math.max(last, window.remove(0).get(30, TimeUnit.SECONDS).index());
                }
            }
            for (CompletableFuture<Committed> f : window) {
                last = Math.max(last, f.get(30, TimeUnit.SECONDS).index());
            }
            OUT.println("LOADED " + last);
        } catch (Exception e) {
            OUT.println("LOADFAILED " + e.toString().replace('\n', ' '));
        }
    }

    private static void measure(RaftNode node, String nodeId, Path dataDir, long index) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            NodeStatus s = node.status();
            if (s.commitIndex() >= index && s.appliedIndex() >= index) {
                break;
            }
            if (System.nanoTime() > deadline) {
                OUT.println("MEASUREFAILED " + nodeId + " at " + s.commitIndex() + "/" + s.appliedIndex());
                return;
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        long disk;
        try (Stream<Path> files = Files.walk(dataDir)) {
            disk = files.filter(Files::isRegularFile).mapToLong(p -> {
                try {
                    return Files.size(p);
                } catch (IOException e) {
                    return 0;
                }
            }).sum();
        }
        OUT.println("FOOTPRINT " + nodeId + " " + heap + " " + disk);
    }
}
