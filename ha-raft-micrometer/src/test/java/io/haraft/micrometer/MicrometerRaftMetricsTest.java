package io.haraft.micrometer;

import io.haraft.Committed;
import io.haraft.Leadership;
import io.haraft.LeadershipListener;
import io.haraft.RaftNode;
import io.haraft.RevokeReason;
import io.haraft.StateMachine;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Three real nodes (gRPC on loopback, file stores) in this JVM reporting to one
 * {@link SimpleMeterRegistry}: the meters exist with their tags, move where their events
 * happen, match the table in docs/metrics.md, and are removed when the nodes close.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class MicrometerRaftMetricsTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final List<String> IDS = List.of("n1", "n2", "n3");

    @TempDir
    Path root;

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final Map<String, RaftNode> nodes = new LinkedHashMap<>();
    /** The leadership each node's own listener holds now (absent when none). */
    private final Map<String, Leadership> held = new ConcurrentHashMap<>();

    @AfterEach
    void closeAll() {
        nodes.values().forEach(RaftNode::close);
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void await(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("timed out after " + WAIT.toSeconds() + " s waiting for: " + what);
            }
            LockSupport.parkNanos(5_000_000);
        }
    }

    private void startCluster() {
        Map<String, Integer> ports = new LinkedHashMap<>();
        IDS.forEach(id -> ports.put(id, freePort()));
        MicrometerRaftMetrics metrics = new MicrometerRaftMetrics(registry);   // one binding for all three
        for (String id : IDS) {
            RaftNode.Builder b = RaftNode.builder().clusterId("orders").nodeId(id).dataDir(root.resolve(id))
                    .heartbeatInterval(Duration.ofMillis(100)).electionTimeout(Duration.ofMillis(2000))
                    .snapshotThreshold(20)
                    .metrics(metrics)
                    .stateMachine(new Counting())
                    .listener(new LeadershipListener() {
                        @Override
                        public void elected(Leadership leadership) {
                            held.put(id, leadership);
                        }

                        @Override
                        public void revoked(Leadership leadership, RevokeReason reason) {
                            held.remove(id, leadership);
                        }
                    });
            ports.forEach((m, port) -> b.member(m, "127.0.0.1:" + port));
            nodes.put(id, b.build());
        }
        nodes.values().forEach(RaftNode::start);
    }

    /** Counts the commands applied; its snapshot is that count (8 bytes). */
    private static final class Counting implements StateMachine {
        private long applied;

        @Override
        public synchronized byte[] apply(Committed entry) {
            applied++;
            return new byte[0];
        }

        @Override
        public synchronized void snapshot(OutputStream out) throws IOException {
            new DataOutputStream(out).writeLong(applied);
        }

        @Override
        public synchronized void restore(InputStream in) throws IOException {
            applied = new DataInputStream(in).readLong();
        }
    }

    /** Runs {@code change} on the node that leads now, again on the next one if leadership moves. */
    private void onLeader(java.util.function.Function<RaftNode, CompletableFuture<?>> change) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            try {
                change.apply(nodes.get(awaitLeader())).get(30, TimeUnit.SECONDS);
                return;
            } catch (java.util.concurrent.ExecutionException e) {
                if (System.nanoTime() - deadline > 0) {
                    throw e;
                }
            }
        }
    }

    /** The node whose own listener holds a valid leadership. */
    private String awaitLeader() {
        String[] found = new String[1];
        await(() -> {
            held.forEach((id, l) -> {
                if (l.isValid()) {
                    found[0] = id;
                }
            });
            return found[0] != null;
        }, "a node elected, as its own listener says");
        return found[0];
    }

    private double gauge(String name, String node) {
        Gauge g = registry.find(name).tag("node", node).gauge();
        return g == null ? Double.NaN : g.value();
    }

    private Timer timer(String name, String node) {
        return registry.find(name).tag("node", node).timer();
    }

    @Test
    void theMetersOfThreeNodesMoveWhereTheirEventsHappen() throws Exception {
        startCluster();
        String leader = awaitLeader();
        await(() -> IDS.stream().allMatch(id -> gauge("haraft.leader", id) == (id.equals(leader) ? 1 : 0)),
                "haraft.leader is 1 on " + leader + " and 0 on the others");
        double sum = IDS.stream().mapToDouble(id -> gauge("haraft.leader", id)).sum();
        assertThat(sum).as("sum of haraft.leader over the nodes").isEqualTo(1);
        assertThat(gauge("haraft.term", leader)).isEqualTo((double) held.get(leader).term());
        assertThat(registry.find("haraft.elections.won").tag("node", leader).counter().count()).isGreaterThanOrEqualTo(1);

        RaftNode l = nodes.get(leader);
        List<CompletableFuture<?>> submitted = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            submitted.add(l.submit(("c" + i).getBytes(StandardCharsets.UTF_8)));
        }
        CompletableFuture.allOf(submitted.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);

        // the node records the timer just after it completes each future
        await(() -> timer("haraft.commit.latency", leader).count() >= 50, "50 commits timed on " + leader);
        for (String id : IDS) {
            // every node writes the log, so every node fsyncs
            await(() -> timer("haraft.fsync.latency", id).count() > 0, "fsyncs timed on " + id);
            await(() -> registry.find("haraft.fsync.batch.size").tag("node", id).summary().count() > 0,
                    "fsync batches measured on " + id);
            assertThat(registry.find("haraft.fsync.batch.size").tag("node", id).summary().getId().getBaseUnit())
                    .isEqualTo("entries");
        }
        await(() -> registry.find("haraft.snapshot.duration").tag("node", leader).timer().count() > 0,
                "a snapshot taken and timed on the leader (threshold 20 entries)");
        assertThat(registry.find("haraft.snapshot.size").tag("node", leader).summary().totalAmount()).isPositive();
        for (String peer : IDS) {
            if (peer.equals(leader)) {
                continue;
            }
            Timer rtt = registry.find("haraft.heartbeat.rtt").tag("node", leader).tag("peer", peer).timer();
            assertThat(rtt).as("round-trip timer of %s to %s", leader, peer).isNotNull();
            await(() -> rtt.count() > 0, "heartbeats answered by " + peer);
            assertThat(registry.find("haraft.heartbeat.answered.ratio").tag("node", leader).tag("peer", peer)
                    .gauge().value()).isBetween(0.5, 1.0);
        }
        assertThat(registry.find("haraft.heartbeat.rtt").tag("node", leader).tag("peer", leader).timer())
                .as("no meter of a node to itself").isNull();
        assertThat(gauge("haraft.lease.remaining", leader)).isPositive();
        assertThat(registry.find("haraft.callback.duration").tag("node", leader).tag("callback", "elected").timer()
                .count()).isGreaterThanOrEqualTo(1);

        // a membership change: a learner that never runs is added, then removed again, on whichever
        // node leads (asking again after a lost leadership is safe: the change skips what is done)
        String learner = "127.0.0.1:" + freePort();
        onLeader(n -> n.addLearner("n4", learner));
        onLeader(n -> n.removeMember("n4"));
        for (String id : IDS) {
            await(() -> registry.find("haraft.membership.changes").tag("node", id).counter().count() >= 2,
                    "two committed configuration changes counted on " + id);
        }
        await(() -> registry.find("haraft.heartbeat.rtt").tag("peer", "n4").timer() == null,
                "the meters of the removed peer n4 are gone");

        for (Meter m : registry.getMeters()) {
            assertThat(m.getId().getTags()).extracting(t -> t.getKey())
                    .as("tags of %s", m.getId()).contains("cluster", "node", "group");
            assertThat(m.getId().getTag("group")).isEqualTo("default");
            assertThat(m.getId().getTag("cluster")).isEqualTo("orders");
        }

        nodes.values().forEach(RaftNode::close);
        assertThat(registry.getMeters()).as("every node removed its meters when it closed").isEmpty();
    }

    /**
     * docs/metrics.md has one table of every metric: each meter a node registers is in it, and each
     * row is a meter a node registers (or the fence's, registered by JdbcFence).
     */
    @Test
    void theDocumentedTableListsExactlyTheMetersANodeRegisters() throws Exception {
        startCluster();
        awaitLeader();
        Set<String> registered = new TreeSet<>();
        registry.getMeters().forEach(m -> registered.add(m.getId().getName()));
        registered.add("haraft.fence.rejected");   // registered by JdbcFence (ha-raft-fencing)

        Path doc = Path.of("..", "docs", "metrics.md");
        Set<String> documented = new TreeSet<>();
        Matcher row = Pattern.compile("(?m)^\\| `(haraft\\.[a-z0-9_.]+)` \\|").matcher(Files.readString(doc));
        while (row.find()) {
            documented.add(row.group(1));
        }
        assertThat(documented).isEqualTo(registered);
    }
}
