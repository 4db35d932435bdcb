package io.haraft.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.haraft.IndeterminateOutcomeException;
import io.haraft.NotLeaderException;
import io.haraft.RaftConfig;
import io.haraft.RaftNode;
import io.haraft.storage.StorageFilesMissingException;
import io.haraft.storage.StorageIdentityException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Nodes whose data directories lost files, or belong to another cluster, refuse to start rather
 * than rejoin with a shorter log (which, on two of three nodes, would lose acknowledged writes).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class LostDataFilesTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dataRoot;

    private LocalCluster cluster;

    @AfterEach
    void tearDown() {
        if (cluster != null) {
            cluster.close();
        }
    }

    /** Commits {@code n} commands, each acknowledged by the leader of the moment. */
    private void commit(int n) throws Exception {
        for (int i = 0; i < n; i++) {
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (true) {
                String leader = cluster.awaitLeader(cluster.ids, WAIT);
                try {
                    cluster.node(leader).submit(("c" + i).getBytes(StandardCharsets.UTF_8)).get(30, TimeUnit.SECONDS);
                    break;
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof NotLeaderException || e.getCause() instanceof IndeterminateOutcomeException)
                            || System.nanoTime() > deadline) {
                        throw e;
                    }
                }
            }
        }
    }

    private List<Path> segments(String id) throws Exception {
        try (Stream<Path> s = Files.list(dataRoot.resolve(id))) {
            return s.filter(p -> p.toString().endsWith(".seg")).toList();
        }
    }

    @Test
    void twoOfThreeNodesWhoseLastSegmentWasDeletedRefuseToStart() throws Exception {
        cluster = LocalCluster.onDisk(dataRoot, RaftConfig.DEFAULT_SNAPSHOT_THRESHOLD,
                RaftConfig.DEFAULT_MAX_MESSAGE_BYTES, false).start();
        commit(20);
        cluster.close();
        for (String id : List.of("n2", "n3")) {
            List<Path> segs = segments(id);
            assertThat(segs).as("segments of %s", id).isNotEmpty();
            for (Path p : segs) {
                Files.delete(p); // 64 MiB segments: each node's one segment is its last
            }
        }
        for (String id : List.of("n2", "n3")) {
            Throwable t = catchThrowable(() -> cluster.create(id).start());
            assertThat(t).as("the start of %s, whose log segment is gone", id)
                    .isInstanceOf(StorageFilesMissingException.class)
                    .hasMessageContaining("log-00000000000000000001.seg")
                    .hasMessageContaining("replaceMember(");
        }
    }

    @Test
    void aNodeStartedOnTheDataDirectoryOfAnotherClusterRefusesToStart() throws Exception {
        cluster = LocalCluster.onDisk(dataRoot, RaftConfig.DEFAULT_SNAPSHOT_THRESHOLD,
                RaftConfig.DEFAULT_MAX_MESSAGE_BYTES, false).start();
        commit(3);
        cluster.close();
        // Node n1 of cluster "billing" is pointed at the directory of n1 of cluster "test", through the public API.
        RaftConfig test = cluster.config("n1");
        RaftNode.Builder b = RaftNode.builder().clusterId("billing").nodeId("n1").dataDir(test.dataDir());
        test.members().forEach(m -> b.member(m.id(), m.address()));
        RaftNode foreign = b.build();
        try {
            Throwable t = catchThrowable(foreign::start);
            assertThat(t).isInstanceOf(StorageIdentityException.class)
                    .hasMessageContaining("belongs to node \"n1\" of cluster \"test\"")
                    .hasMessageContaining("configured as node \"n1\" of cluster \"billing\"");
        } finally {
            foreign.close();
        }
    }
}
