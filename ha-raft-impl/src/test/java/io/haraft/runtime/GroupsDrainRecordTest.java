package io.haraft.runtime;

import io.haraft.RaftGroups;
import io.haraft.RaftNode;
import io.haraft.storage.DrainedMarker;
import io.haraft.transport.TransportTesting;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The record of a drain in a {@code RaftGroups} node's data directory, over real gRPC and real
 * files, one node of three started (its peers need not run for these): undrain removes it so that a
 * restart starts undrained, a record that cannot be parsed starts the node drained with a WARN that
 * says what to do, and a record that cannot be written or removed fails drain() or undrain() with
 * what to fix and the state the node is left in. Leaderships after a restart are in
 * {@code GroupsGrpcTest}.
 */
class GroupsDrainRecordTest {
    private static final Duration HEARTBEAT = Duration.ofMillis(100);
    private static final Duration ELECTION = Duration.ofMillis(500);

    @TempDir
    Path root;

    private final List<Integer> ports = List.of(TransportTesting.freePort(), TransportTesting.freePort(),
            TransportTesting.freePort());
    private final List<RaftGroups> opened = new ArrayList<>();

    @AfterEach
    void closeAll() {
        opened.forEach(RaftGroups::close);
    }

    private Path dataDir() {
        return root.resolve("n1");
    }

    private Path marker() {
        return dataDir().resolve(DrainedMarker.FILE_NAME);
    }

    /** Node n1 of n1..n3 on its data directory, hosting group "g", started. */
    private RaftGroupsImpl startN1() {
        RaftNode.Builder b = RaftNode.builder().clusterId("drains").nodeId("n1").dataDir(dataDir())
                .heartbeatInterval(HEARTBEAT).electionTimeout(ELECTION);
        for (int i = 0; i < 3; i++) {
            b.member("n" + (i + 1), "127.0.0.1:" + ports.get(i));
        }
        RaftGroupsImpl n = (RaftGroupsImpl) b.buildGroups();
        opened.add(n);
        n.newGroup("g");
        n.start();
        return n;
    }

    @Test
    void anUndrainedNodeIsNotDrainedAfterARestart() {
        RaftGroupsImpl n = startN1();
        n.drain();
        assertThat(marker()).isRegularFile();
        n.close();

        n = startN1();
        assertThat(n.isDrained()).as("restarted after drain").isTrue();
        n.undrain();
        assertThat(marker()).doesNotExist();
        n.close();

        n = startN1();
        assertThat(n.isDrained()).as("restarted after undrain").isFalse();
        assertThat(n.transport().drained()).as("what its messages say").isFalse();
    }

    @Test
    void aRecordThatCannotBeParsedStartsTheNodeDrainedWithAWarningThatSaysWhatToDo() throws Exception {
        Files.createDirectories(dataDir());
        Files.writeString(marker(), "maintenance until friday\n");
        RaftGroupsImpl n;
        try (TransportTesting.LogCapture log = new TransportTesting.LogCapture()) {
            n = startN1();
            assertThat(log.lines()).as("the WARN")
                    .anySatisfy(l -> assertThat(l).contains("WARN", "node n1 starts drained because "
                            + marker().toAbsolutePath() + " exists, but it is not a valid drain record (its first line"
                            + " is 'maintenance until friday', not 'ha-raft-drained 1')", "call undrain()", "call drain()"));
        }
        assertThat(n.isDrained()).isTrue();
        assertThat(n.transport().drained()).as("what its messages say").isTrue();

        n.undrain();
        assertThat(marker()).doesNotExist();
        assertThat(n.isDrained()).isFalse();
    }

    @Test
    void aDrainThatCannotBeRecordedOrRemovedFailsWithWhatToFixAndTheNodeIsLeftDrained() throws Exception {
        RaftGroupsImpl n = startN1();
        Path tmp = dataDir().resolve(DrainedMarker.FILE_NAME + ".tmp");
        Files.createDirectories(tmp.resolve("in-the-way"));   // the temporary file cannot be written

        assertThatThrownBy(n::drain).isInstanceOf(UncheckedIOException.class)
                .hasMessageContaining("node n1 is drained now, but recording the drain in " + marker().toAbsolutePath()
                        + " failed")
                .hasMessageContaining("so a restart would start it not drained")
                .hasMessageContaining("with nothing in the way of drained and drained.tmp inside it")
                .hasMessageEndingWith("then call drain() again to record it");
        assertThat(n.isDrained()).as("drained in memory all the same").isTrue();
        assertThat(n.transport().drained()).isTrue();
        assertThat(marker()).doesNotExist();

        Files.delete(tmp.resolve("in-the-way"));
        Files.delete(tmp);
        n.drain();
        assertThat(marker()).isRegularFile();

        Files.delete(marker());
        Files.createDirectories(marker().resolve("in-the-way"));   // the record cannot be removed
        assertThatThrownBy(n::undrain).isInstanceOf(UncheckedIOException.class)
                .hasMessageContaining("node n1 is still drained: removing " + marker().toAbsolutePath() + " failed")
                .hasMessageEndingWith("then call undrain() again");
        assertThat(n.isDrained()).as("still drained").isTrue();
        assertThat(n.transport().drained()).isTrue();

        Files.delete(marker().resolve("in-the-way"));
        n.undrain();
        assertThat(n.isDrained()).isFalse();
        assertThat(marker()).doesNotExist();
    }
}
