package io.haraft.examples;

import io.haraft.LeadershipListener;
import io.haraft.RaftNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * Several real nodes (gRPC on loopback, files in a temporary directory) in this JVM, for the
 * examples that need a cluster but not separate processes.
 */
public final class InJvmCluster implements AutoCloseable {
    private final Path dir;
    private final Map<String, RaftNode> nodes = new LinkedHashMap<>();

    public InJvmCluster(List<String> ids, Function<String, LeadershipListener> listeners) throws IOException {
        dir = Files.createTempDirectory("ha-raft-example");
        Map<String, String> members = new LinkedHashMap<>();
        for (String id : ids) {
            members.put(id, "127.0.0.1:" + LoopbackPorts.free());
        }
        for (String id : ids) {
            RaftNode.Builder b = RaftNode.builder().clusterId("example").nodeId(id).dataDir(dir.resolve(id))
                    .heartbeatInterval(Duration.ofMillis(100)).electionTimeout(Duration.ofMillis(300))
                    .listener(listeners.apply(id));
            members.forEach(b::member);
            nodes.put(id, b.build());
        }
        nodes.values().forEach(RaftNode::start);
    }

    public Map<String, RaftNode> nodes() {
        return nodes;
    }

    /** The node that currently holds a valid leadership, if any. */
    public Optional<String> leader() {
        return nodes.entrySet().stream().filter(e -> e.getValue().leadership().isPresent()).map(Map.Entry::getKey)
                .findFirst();
    }

    /** Waits up to {@code timeout} for a leader. */
    public String awaitLeader(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            Optional<String> l = leader();
            if (l.isPresent()) {
                return l.get();
            }
            Thread.sleep(10);
        }
        throw new IllegalStateException("no leader within " + timeout);
    }

    @Override
    public void close() throws IOException {
        for (RaftNode n : nodes.values()) {
            n.close();
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
