package io.haraft.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.haraft.core.HardState;
import io.haraft.core.log.Entry;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What an operator sees when recovery finds a problem, on real files. */
class RecoveryMessagesTest {
    @TempDir
    Path dir;

    private List<Entry> write(int n) throws Exception {
        List<Entry> entries = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
            entries.add(Entry.command(i, 1, ("payload-" + i).getBytes()));
        }
        try (FileRaftStorage s = FileRaftStorage.open(dir)) {
            s.persist(new HardState(1, "n1"), entries).get(10, TimeUnit.SECONDS);
        }
        return entries;
    }

    private Path segment() throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.toString().endsWith(".seg")).findFirst().orElseThrow();
        }
    }

    private static long offsetOf(List<Entry> entries, int index) {
        long off = Formats.SEGMENT_HEADER_SIZE;
        for (int i = 1; i < index; i++) {
            off += Formats.frameSize(entries.get(i - 1));
        }
        return off;
    }

    private static void poke(Path file, long offset, byte value) throws Exception {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(offset);
            f.write(value);
        }
    }

    private static void pokeInt(Path file, long offset, int value) throws Exception {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(offset);
            f.writeInt(value);
        }
    }

    @Test
    void badChecksumBeforeTheTailNamesFileOffsetAndRemedy() throws Exception {
        List<Entry> entries = write(10);
        Path seg = segment();
        long off = offsetOf(entries, 5);
        poke(seg, off + Formats.FRAME_HEADER_SIZE + 20, (byte) 0x7f);
        StorageCorruptedException e = catchThrowableOfType(() -> FileRaftStorage.open(dir), StorageCorruptedException.class);
        assertThat(e).isNotNull();
        assertThat(e.file()).isEqualTo(seg.toAbsolutePath());
        assertThat(e.offset()).isEqualTo(off);
        assertThat(e.getMessage())
                .contains(seg.toAbsolutePath().toString())
                .contains("at offset " + off)
                .contains("record checksum mismatch")
                .contains("after 4 valid records")
                .contains("wipe its data directory")
                .contains("rejoins the cluster");
        // The refusal does not leave the directory locked.
        assertThatThrownBy(() -> FileRaftStorage.open(dir)).isInstanceOf(StorageCorruptedException.class);
    }

    @Test
    void damagedLengthIsCorruptionNotATornTail() throws Exception {
        List<Entry> entries = write(10);
        Path seg = segment();
        long off = offsetOf(entries, 10); // the last record
        pokeInt(seg, off, 1_000_000);
        assertThatThrownBy(() -> FileRaftStorage.open(dir)).isInstanceOf(StorageCorruptedException.class)
                .hasMessageContaining("at offset " + off).hasMessageContaining("record length field damaged");
    }

    @Test
    void tornTailIsTruncated() throws Exception {
        List<Entry> entries = write(10);
        Path seg = segment();
        long end = offsetOf(entries, 11);
        try (RandomAccessFile f = new RandomAccessFile(seg.toFile(), "rw")) {
            f.seek(end - 3);
            f.write(new byte[3]); // the last 3 bytes of the last record never reached the disk
        }
        try (FileRaftStorage s = FileRaftStorage.open(dir)) {
            assertThat(s.lastIndex()).isEqualTo(9);
            assertThat(s.entries(1, 10, Long.MAX_VALUE)).isEqualTo(entries.subList(0, 9));
        }
        byte[] after = Files.readAllBytes(seg);
        for (long i = offsetOf(entries, 10); i < end; i++) {
            assertThat(after[(int) i]).as("cut byte %d", i).isZero();
        }
    }

    @Test
    void unknownFormatVersionIsRefused() throws Exception {
        write(3);
        Path seg = segment();
        pokeInt(seg, 4, 2);
        assertThatThrownBy(() -> FileRaftStorage.open(dir)).isInstanceOf(StorageCorruptedException.class)
                .hasMessageContaining(seg.toAbsolutePath().toString())
                .hasMessageContaining("unknown format version 2 (this build of HA-Raft reads version 1)");
    }

    @Test
    void badMagicIsRefused() throws Exception {
        write(3);
        Path seg = segment();
        pokeInt(seg, 0, 0x12345678);
        assertThatThrownBy(() -> FileRaftStorage.open(dir)).isInstanceOf(StorageCorruptedException.class)
                .hasMessageContaining("not an HA-Raft log segment (bad magic number 0x12345678)")
                .hasMessageContaining("at offset 0");
    }

    @Test
    void corruptHardStateIsRefused() throws Exception {
        write(3);
        Path hs = dir.resolve("hardstate");
        poke(hs, 12, (byte) 9);
        assertThatThrownBy(() -> FileRaftStorage.open(dir)).isInstanceOf(StorageCorruptedException.class)
                .hasMessageContaining(hs.toAbsolutePath().toString())
                .hasMessageContaining("hard state checksum mismatch");
    }

    @Test
    void corruptSnapshotIsRefused() throws Exception {
        write(10);
        try (FileRaftStorage s = FileRaftStorage.open(dir)) {
            s.writeSnapshot(new SnapshotMeta(5, 1, List.of("n1")), out -> out.write(new byte[1000]));
        }
        Path snap;
        try (Stream<Path> s = Files.list(dir)) {
            snap = s.filter(p -> p.toString().endsWith(".snap")).findFirst().orElseThrow();
        }
        long size = Files.size(snap);
        poke(snap, size - 100, (byte) 1);
        assertThatThrownBy(() -> FileRaftStorage.open(dir)).isInstanceOf(StorageCorruptedException.class)
                .hasMessageContaining(snap.toAbsolutePath().toString())
                .hasMessageContaining("snapshot data checksum mismatch");
    }

    @Test
    void hardStateTermIsRaisedToTheLogsLastTerm() throws Exception {
        // A batch's entries reached the disk but its hard state did not.
        try (FileRaftStorage s = FileRaftStorage.open(dir)) {
            s.persist(new HardState(1, "n1"), List.of(Entry.noop(1, 1))).get(10, TimeUnit.SECONDS);
            s.persist(new HardState(3, "n2"), List.of(Entry.noop(2, 3))).get(10, TimeUnit.SECONDS);
        }
        Files.write(dir.resolve("hardstate"), Formats.encodeHardState(new HardState(1, "n1")));
        try (FileRaftStorage s = FileRaftStorage.open(dir)) {
            assertThat(s.hardState()).isEqualTo(new HardState(3, null));
        }
    }
}
