package io.haraft.it;

import io.haraft.MemberRole;
import io.haraft.RaftNode;
import io.haraft.storage.FileRaftStorage;
import io.haraft.transport.TransportTesting.LogCapture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static io.haraft.transport.TransportTesting.awaitTrue;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The cluster identity over real gRPC and real files: two clusters with the same cluster id and
 * node ids differ, a node started on the other cluster's data directory is refused by its peers,
 * and the identity survives restarts and compaction and reaches a node added later.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ClusterIdentityGrpcTest {
    private static final Duration PATIENCE = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private final List<GrpcCluster> clusters = new ArrayList<>();

    @AfterEach
    void tearDown() {
        for (GrpcCluster c : clusters) {
            c.close();
            c.assertListenerContracts();
        }
    }

    private GrpcCluster cluster(String name) {
        // Election timeout 1 s: leases survive the pauses of a loaded machine; nothing here is about timing.
        GrpcCluster c = new GrpcCluster("orders", 3, dir.resolve(name), Duration.ofMillis(100),
                Duration.ofSeconds(1), 0.01);
        clusters.add(c);
        return c;
    }

    private static UUID identity(GrpcCluster c, String id) {
        return c.transports.get(id).clusterUuid().orElseThrow();
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> walk = Files.walk(from)) {
            for (Path p : walk.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
    }

    @Test
    void aNodeOnTheDataDirectoryOfAnotherClusterWithTheSameNameIsRefusedAndLosesNothing() throws Exception {
        // Cluster B ("orders", n1-n3): a longer log and a higher term than A will have, so that
        // without the identity check B's n1 would win A's next election and overwrite A's log.
        GrpcCluster b = cluster("b").start();
        for (int i = 0; i < 10; i++) {
            b.commitSomewhere("b-" + i);
        }
        for (int i = 0; i < 4; i++) {
            String leader = b.awaitLeader();
            String next = b.others(leader).get(0);
            b.node(leader).transferLeadership(next).get(30, TimeUnit.SECONDS);
            b.awaitLeader(List.of(next), PATIENCE);
        }
        b.commitSomewhere("b-last");
        b.awaitApplied("n1", List.of("b-last"), PATIENCE);
        UUID incarnationB = identity(b, "n1");
        long termB = b.node("n1").status().term();
        b.close();

        // Cluster A ("orders", n1-n3, other ports): acknowledged writes on every node.
        GrpcCluster a = cluster("a").start();
        List<String> acknowledged = new ArrayList<>(List.of("a-1", "a-2"));
        for (String command : acknowledged) {
            a.commitSomewhere(command);
        }
        for (String id : a.ids) {
            a.awaitApplied(id, acknowledged, PATIENCE);
            awaitTrue(id + " knows A's identity", PATIENCE, () -> a.transports.get(id).clusterUuid().isPresent());
        }
        UUID incarnationA = identity(a, "n2");
        assertThat(incarnationA).as("two bootstraps of clusters with one name").isNotEqualTo(incarnationB);
        long termA = a.node("n2").status().term();
        assertThat(termB).as("B's n1 is ahead in term").isGreaterThan(termA);

        // An operator puts B's n1 directory under A's n1 and starts it.
        a.node("n1").close();
        a.wipe("n1");
        copyTree(b.dataDir("n1"), a.dataDir("n1"));
        long rejected2 = a.transports.get("n2").stats().streamsRejected();
        long rejected3 = a.transports.get("n3").stats().streamsRejected();
        try (LogCapture logs = new LogCapture()) {
            a.create("n1").start();
            assertThat(identity(a, "n1")).as("the impostor knows B's identity from its manifest at once")
                    .isEqualTo(incarnationB);
            awaitTrue("n2 and n3 refuse the impostor's streams again and again", PATIENCE, () ->
                    a.transports.get("n2").stats().streamsRejected() >= rejected2 + 3
                            && a.transports.get("n3").stats().streamsRejected() >= rejected3 + 3);
            a.commitSomewhere("a-3");
            acknowledged.add("a-3");
            awaitTrue("the impostor refuses A's streams too", PATIENCE,
                    () -> a.transports.get("n1").stats().streamsRejected() >= 2);
            for (String id : List.of("n2", "n3")) {
                a.awaitApplied(id, acknowledged, PATIENCE);
                assertThat(a.stateMachines.get(id).commands()).as("A's writes on %s, nothing of B", id)
                        .containsExactlyElementsOf(acknowledged);
            }
            assertThat(a.listener("n1").events).as("the impostor never led A").isEmpty();
            assertThat(a.transports.get("n1").stats().messagesReceived()).as("delivered to the impostor").isZero();
            assertThat(a.transports.get("n1").stats().connectedPeers()).isEmpty();
            assertThat(a.node("n1").status().leaderId()).isEmpty();

            String warn = logs.lines().stream().filter(l -> l.contains("Refused a stream to node n2")
                    && l.contains("cluster identity mismatch")).findFirst().orElseThrow();
            assertThat(warn).contains("WARN", "the sender 'n1' belongs to cluster incarnation " + incarnationB,
                    "this node to incarnation " + incarnationA, "move its data directory away", "new node id");
            assertThat(logs.lines().stream().filter(l -> l.contains("Refused a stream to node n2")
                    && l.contains("cluster identity mismatch")).count()).as("one WARN per minute on n2").isEqualTo(1);
        }
    }

    @Test
    void theIdentitySurvivesRestartAndCompactionAndANodeAddedLaterLearnsItFromTheSnapshot() throws Exception {
        GrpcCluster a = cluster("a");
        a.tune = builder -> builder.snapshotThreshold(5);
        a.start();
        List<String> commands = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            commands.add("c" + i);
            a.commitSomewhere("c" + i);
        }
        for (String id : a.ids) {
            a.awaitApplied(id, commands, PATIENCE);
        }
        UUID incarnation = identity(a, "n1");
        for (String id : a.ids) {
            assertThat(identity(a, id)).as("identity of %s", id).isEqualTo(incarnation);
        }
        a.close();
        for (String id : a.ids) {
            try (FileRaftStorage s = FileRaftStorage.open(a.dataDir(id))) {
                assertThat(s.firstIndex()).as("%s compacted index 1 away", id).isGreaterThan(1);
                assertThat(s.clusterUuid()).as("recorded in the manifest of %s", id).contains(incarnation);
            }
        }

        a.nodes.clear();
        a.start();
        for (String id : a.ids) {
            assertThat(identity(a, id)).as("identity of %s right after its restart", id).isEqualTo(incarnation);
        }
        a.commitSomewhere("after-restart");

        a.joining("n4", MemberRole.LEARNER);
        a.create("n4").start();
        assertThat(a.transports.get("n4").clusterUuid()).as("a new, empty directory knows none").isEmpty();
        for (int attempt = 1; ; attempt++) {
            RaftNode leader = a.node(a.awaitLeader());
            try {
                leader.addLearner("n4", a.address("n4")).get(60, TimeUnit.SECONDS);
                break;
            } catch (java.util.concurrent.ExecutionException e) {
                // the leader lost its lease meanwhile: asking the next one again is safe
                if (attempt == 5 || !(e.getCause() instanceof io.haraft.MembershipChangeException)) {
                    throw e;
                }
            }
        }
        awaitTrue("n4 learns the identity", PATIENCE, () -> a.transports.get("n4").clusterUuid().isPresent());
        assertThat(identity(a, "n4")).isEqualTo(incarnation);
        a.awaitApplied("n4", List.of("after-restart"), PATIENCE);
        a.close();
        try (FileRaftStorage s = FileRaftStorage.open(a.dataDir("n4"))) {
            assertThat(s.clusterUuid()).as("recorded by n4").contains(incarnation);
        }
    }
}
