package io.haraft.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.haraft.core.HardState;
import io.haraft.core.log.Entry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Files deleted from a data directory by hand (or lost with an incomplete copy or backup) are
 * refused at open, naming what is gone, instead of silently forgetting acknowledged entries or a
 * vote; what the store itself removes (truncation, snapshot compaction) is never mistaken for that.
 */
class MissingFilesTest {
    @TempDir
    Path dir;

    private static FileRaftStorage.Options small() {
        return FileRaftStorage.Options.defaults().withSegmentSize(4096);
    }

    /** Writes entries 1..n (100-byte payloads, so 4 KiB segments hold 31 each) and the vote for n1, durably. */
    private void write(int n) throws Exception {
        try (FileRaftStorage s = FileRaftStorage.open(dir, small())) {
            List<Entry> entries = new ArrayList<>();
            for (int i = 1; i <= n; i++) {
                entries.add(FileRaftStorageTest.Entry100.of(i));
            }
            s.persist(new HardState(1, "n1"), entries).get(10, TimeUnit.SECONDS);
        }
    }

    private List<Path> files(String suffix) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.toString().endsWith(suffix)).sorted().toList();
        }
    }

    private StorageFilesMissingException refusal() {
        StorageFilesMissingException e = catchThrowableOfType(() -> FileRaftStorage.open(dir, small()),
                StorageFilesMissingException.class);
        assertThat(e).as("open refuses with StorageFilesMissingException").isNotNull();
        assertThat(e.getMessage()).contains("replaceMember(").contains("must not come back under its node id");
        return e;
    }

    @Test
    void theOnlySegmentDeletedIsRefused() throws Exception {
        write(10);
        Path seg = files(".seg").get(0);
        Files.delete(seg);
        StorageFilesMissingException e = refusal();
        assertThat(e.missing()).containsExactly(seg.toAbsolutePath());
        assertThat(e.getMessage()).contains(seg.getFileName().toString()).contains("newest log segment");
    }

    @Test
    void theLastOfSeveralSegmentsDeletedIsRefused() throws Exception {
        write(200);
        List<Path> segs = files(".seg");
        assertThat(segs).hasSizeGreaterThan(3);
        Files.delete(segs.get(segs.size() - 1));
        assertThat(refusal().missing()).containsExactly(segs.get(segs.size() - 1).toAbsolutePath());
    }

    @Test
    void theLastTwoSegmentsDeletedAreRefused() throws Exception {
        write(200);
        List<Path> segs = files(".seg");
        Files.delete(segs.get(segs.size() - 1));
        Files.delete(segs.get(segs.size() - 2));
        assertThat(refusal().getMessage()).contains(segs.get(segs.size() - 1).getFileName().toString());
    }

    @Test
    void aSegmentDeletedInTheMiddleIsRefusedByName() throws Exception {
        write(200);
        List<Path> segs = files(".seg");
        Files.delete(segs.get(2));
        StorageFilesMissingException e = refusal();
        assertThat(e.missing()).containsExactly(segs.get(2).toAbsolutePath());
    }

    @Test
    void theHardStateDeletedIsRefused() throws Exception {
        write(10);
        Files.delete(dir.resolve("hardstate"));
        StorageFilesMissingException e = refusal();
        assertThat(e.missing()).containsExactly(dir.resolve("hardstate").toAbsolutePath());
        assertThat(e.getMessage()).contains("term and vote");
    }

    @Test
    void theHardStateOfANodeThatOnlyVotedDeletedIsRefused() throws Exception {
        try (FileRaftStorage s = FileRaftStorage.open(dir, small())) {
            s.persist(new HardState(3, "n2"), List.of()).get(10, TimeUnit.SECONDS);
        }
        Files.delete(dir.resolve("hardstate"));
        assertThat(refusal().missing()).containsExactly(dir.resolve("hardstate").toAbsolutePath());
    }

    @Test
    void theSnapshotDeletedIsRefused() throws Exception {
        write(100);
        try (FileRaftStorage s = FileRaftStorage.open(dir, small())) {
            s.writeSnapshot(new SnapshotMeta(80, 1, List.of("n1")), out -> out.write(1));
        }
        Path snap = files(".snap").get(0);
        Files.delete(snap);
        assertThat(refusal().missing()).contains(snap.toAbsolutePath());
    }

    @Test
    void whatTheStoreRemovesItselfIsNotMissing() throws Exception {
        write(200);
        try (FileRaftStorage s = FileRaftStorage.open(dir, small())) {
            // A conflicting suffix cut from the middle of the log, whole segments included.
            s.persist(new HardState(2, "n2"), List.of(Entry.command(40, 2, new byte[100]))).get(10, TimeUnit.SECONDS);
        }
        try (FileRaftStorage s = FileRaftStorage.open(dir, small())) {
            assertThat(s.lastIndex()).isEqualTo(40);
            // A snapshot from a leader that replaces the whole log.
            s.writeSnapshot(new SnapshotMeta(30, 3, List.of("n1")), out -> out.write(1));
            assertThat(s.lastIndex()).isEqualTo(30);
        }
        try (FileRaftStorage s = FileRaftStorage.open(dir, small())) {
            List<Entry> more = new ArrayList<>();
            for (int i = 31; i <= 150; i++) {
                more.add(Entry.command(i, 3, new byte[100]));
            }
            s.persist(null, more).get(10, TimeUnit.SECONDS);
            // A snapshot that compacts the log: whole segments below it go.
            s.writeSnapshot(new SnapshotMeta(140, 3, List.of("n1")), out -> out.write(1));
        }
        try (FileRaftStorage s = FileRaftStorage.open(dir, small())) {
            assertThat(s.firstIndex()).isEqualTo(141);
            assertThat(s.lastIndex()).isEqualTo(150);
            assertThat(s.recoveryWarnings()).isEmpty();
        }
    }

    @Test
    void aDirectoryWrittenWithoutAManifestIsUpgraded() throws Exception {
        write(100);
        Files.delete(dir.resolve("manifest"));
        try (FileRaftStorage s = FileRaftStorage.open(dir, small())) {
            assertThat(s.lastIndex()).isEqualTo(100);
        }
        assertThat(dir.resolve("manifest")).exists();
        List<Path> segs = files(".seg");
        Files.delete(segs.get(segs.size() - 1));
        refusal(); // from now on, missing files are noticed
    }
}
