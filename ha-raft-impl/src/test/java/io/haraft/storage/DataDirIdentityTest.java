package io.haraft.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.haraft.core.HardState;
import io.haraft.core.log.Entry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A data directory records the cluster and node it belongs to, and refuses to be used by another. */
class DataDirIdentityTest {
    @TempDir
    Path dir;

    private static FileRaftStorage.Options as(String cluster, String node) {
        return FileRaftStorage.Options.defaults().withSegmentSize(4096).withIdentity(cluster, node);
    }

    private void write(FileRaftStorage.Options options) throws Exception {
        try (FileRaftStorage s = FileRaftStorage.open(dir, options)) {
            s.persist(new HardState(4, "n1"), List.of(Entry.command(1, 4, new byte[] {7}))).get(10, TimeUnit.SECONDS);
        }
    }

    private Map<String, byte[]> contents() throws Exception {
        Map<String, byte[]> m = new TreeMap<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) {
                m.put(p.getFileName().toString(), Files.readAllBytes(p));
            }
        }
        return m;
    }

    @Test
    void aDirectoryOfAnotherClusterIsRefusedUntouched() throws Exception {
        write(as("billing", "n1"));
        Map<String, byte[]> before = contents();
        StorageIdentityException e = catchThrowableOfType(() -> FileRaftStorage.open(dir, as("orders", "n1")),
                StorageIdentityException.class);
        assertThat(e).isNotNull();
        assertThat(e.dataDir()).isEqualTo(dir.toAbsolutePath());
        assertThat(e.getMessage())
                .contains("belongs to node \"n1\" of cluster \"billing\"")
                .contains("configured as node \"n1\" of cluster \"orders\"")
                .contains("Point dataDir at this node's own directory")
                .contains("Nothing was changed");
        assertThat(contents()).as("the refused directory").usingRecursiveComparison().isEqualTo(before);
        try (FileRaftStorage s = FileRaftStorage.open(dir, as("billing", "n1"))) {
            assertThat(s.lastIndex()).as("its own node still opens it").isEqualTo(1);
        }
    }

    @Test
    void aDirectoryOfAnotherNodeIsRefused() throws Exception {
        write(as("orders", "n2"));
        assertThatThrownBy(() -> FileRaftStorage.open(dir, as("orders", "n1")))
                .isInstanceOf(StorageIdentityException.class)
                .hasMessageContaining("belongs to node \"n2\" of cluster \"orders\"")
                .hasMessageContaining("configured as node \"n1\"");
    }

    @Test
    void aDirectoryWithoutIdentityAdoptsTheFirstOneConfigured() throws Exception {
        write(FileRaftStorage.Options.defaults().withSegmentSize(4096));
        write(as("orders", "n1"));
        assertThatThrownBy(() -> FileRaftStorage.open(dir, as("orders", "n3")))
                .isInstanceOf(StorageIdentityException.class);
    }

    @Test
    void theStorageIdIsCreatedOnceAndTheClusterUuidRecordedOnce() throws Exception {
        UUID storageId;
        UUID cluster = UUID.randomUUID();
        try (FileRaftStorage s = FileRaftStorage.open(dir, as("orders", "n1"))) {
            storageId = s.storageId();
            assertThat(s.clusterUuid()).isEmpty();
            s.recordClusterUuid(cluster);
            s.recordClusterUuid(cluster); // the same again: nothing to do
        }
        try (FileRaftStorage s = FileRaftStorage.open(dir, as("orders", "n1"))) {
            assertThat(s.storageId()).isEqualTo(storageId);
            assertThat(s.clusterUuid()).contains(cluster);
            UUID other = UUID.randomUUID();
            assertThatThrownBy(() -> s.recordClusterUuid(other)).isInstanceOf(StorageIdentityException.class)
                    .hasMessageContaining(cluster.toString()).hasMessageContaining(other.toString());
            assertThat(s.clusterUuid()).contains(cluster);
        }
        Path other = dir.resolveSibling(dir.getFileName() + "-other");
        try (FileRaftStorage s = FileRaftStorage.open(other, as("orders", "n1"))) {
            assertThat(s.storageId()).as("a new directory's id").isNotEqualTo(storageId);
        }
    }
}
