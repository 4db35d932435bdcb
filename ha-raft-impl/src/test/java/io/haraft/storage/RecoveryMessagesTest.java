package io.haraft.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.haraft.core.HardState;
import io.haraft.core.log.Entry;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
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

    private interface Action {
        void run() throws Exception;
    }

    /** What {@code action} printed to System.err, where slf4j-simple (the tests' logging backend) writes. */
    private static String stderrOf(Action action) throws Exception {
        PrintStream original = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            action.run();
        } finally {
            System.setErr(original);
        }
        String out = captured.toString(StandardCharsets.UTF_8);
        original.print(out); // still in the test's output
        return out;
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
                .contains("must not come back under its node id with an emptied")
                .contains("replaceMember(<this node's id>, <new id>, <new address>)");
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
    void tornTailIsTruncatedWithAWarningThatSaysWhatWasCut() throws Exception {
        List<Entry> entries = write(10);
        Path seg = segment();
        long start = offsetOf(entries, 10);
        long end = offsetOf(entries, 11);
        try (RandomAccessFile f = new RandomAccessFile(seg.toFile(), "rw")) {
            f.seek(end - 3);
            f.write(new byte[3]); // the last 3 bytes of the last record never reached the disk
        }
        List<List<String>> reported = new ArrayList<>();
        String logged = stderrOf(() -> {
            try (FileRaftStorage s = FileRaftStorage.open(dir)) {
                assertThat(s.lastIndex()).isEqualTo(9);
                assertThat(s.entries(1, 10, Long.MAX_VALUE)).isEqualTo(entries.subList(0, 9));
                reported.add(s.recoveryWarnings());
            }
        });
        List<String> warnings = reported.get(0);
        assertThat(warnings).hasSize(1);
        String warning = warnings.get(0);
        assertThat(warning)
                .contains("Log segment " + seg.toAbsolutePath())
                .contains("truncating a torn tail at offset " + start)
                .contains("cutting " + (end - 3 - start) + " bytes (a record written only in part)")
                .contains("never reported durable")
                .contains("the log now ends at entry 9");
        // the WARN the test logging backend (slf4j-simple) printed is that same message
        assertThat(logged).contains("WARN " + FileRaftStorage.class.getName() + " - " + warning);
        byte[] after = Files.readAllBytes(seg);
        for (long i = start; i < end; i++) {
            assertThat(after[(int) i]).as("cut byte %d", i).isZero();
        }
        // the cut is durable: the next start has nothing to repair
        try (FileRaftStorage s = FileRaftStorage.open(dir)) {
            assertThat(s.recoveryWarnings()).isEmpty();
            assertThat(s.lastIndex()).isEqualTo(9);
        }
    }

    /** Asserts the refusal of a file from a newer HA-Raft: its own exception, and advice to upgrade, not to wipe. */
    private void assertNewerFormatRefused(Path file, String kind, int version, String reads) {
        StorageFormatException e = catchThrowableOfType(() -> FileRaftStorage.open(dir), StorageFormatException.class);
        assertThat(e).as("refused as an unknown format").isNotNull().isNotInstanceOf(StorageCorruptedException.class);
        assertThat(e.file()).isEqualTo(file.toAbsolutePath());
        assertThat(e.version()).isEqualTo(version);
        assertThat(e.getMessage())
                .contains(file.toAbsolutePath().toString())
                .contains(kind + " format version " + version + " (this build of HA-Raft reads " + reads + ")")
                .contains("written by a newer HA-Raft")
                .contains("Upgrade HA-Raft on this node")
                .contains("Do not delete or wipe the data directory (" + dir.toAbsolutePath() + ")")
                .doesNotContain("Corrupted");
    }

    /** Rewrites the int at {@code at} in {@code file}, then the CRC32C of {@code [0, crcAt)} at {@code crcAt}. */
    private static void rewriteWithValidChecksum(Path file, int at, int value, int crcAt) throws Exception {
        pokeInt(file, at, value);
        byte[] b = Files.readAllBytes(file);
        pokeInt(file, crcAt, Formats.crc(b, 0, crcAt));
    }

    @Test
    void segmentOfANewerFormatIsRefusedWithAdviceToUpgrade() throws Exception {
        write(3);
        Path seg = segment();
        rewriteWithValidChecksum(seg, 4, 2, 16);
        assertNewerFormatRefused(seg, "log segment", 2, "version 1");
    }

    @Test
    void hardStateOfANewerFormatIsRefusedWithAdviceToUpgrade() throws Exception {
        write(3);
        Path hs = dir.resolve("hardstate");
        rewriteWithValidChecksum(hs, 4, 7, Formats.HARD_STATE_SLOT_SIZE - 4);
        assertNewerFormatRefused(hs, "hard state", 7, "versions 1 to 3");
    }

    @Test
    void snapshotOfANewerFormatIsRefusedWithAdviceToUpgrade() throws Exception {
        write(10);
        SnapshotMeta meta = new SnapshotMeta(5, 1, List.of("n1"));
        try (FileRaftStorage s = FileRaftStorage.open(dir)) {
            s.writeSnapshot(meta, out -> out.write(new byte[100]));
        }
        Path snap;
        try (Stream<Path> s = Files.list(dir)) {
            snap = s.filter(p -> p.toString().endsWith(".snap")).findFirst().orElseThrow();
        }
        int headerCrcAt = Formats.encodeSnapshotHeader(meta).length - 4;
        rewriteWithValidChecksum(snap, 4, 3, headerCrcAt);
        assertNewerFormatRefused(snap, "snapshot", 3, "versions 1 to 2");
    }

    /** A version field that a flipped bit changed is damage, not a newer format: the checksum says which version it was. */
    @Test
    void damagedVersionFieldIsCorruptionNotANewerFormat() throws Exception {
        write(3);
        Path seg = segment();
        pokeInt(seg, 4, 3); // version 1 with one bit flipped; the header checksum still matches version 1
        assertThatThrownBy(() -> FileRaftStorage.open(dir)).isInstanceOf(StorageCorruptedException.class)
                .hasMessageContaining(seg.toAbsolutePath().toString())
                .hasMessageContaining("at offset 4")
                .hasMessageContaining("log segment format version field damaged: it reads 3, but the checksum matches version 1");
        pokeInt(seg, 4, 1);
        Path hs = dir.resolve("hardstate");
        pokeInt(hs, 4, 0x40000007); // two bits: not corrected
        pokeInt(hs, Formats.HARD_STATE_SLOT_SIZE + 4, 0x40000007);
        assertThatThrownBy(() -> FileRaftStorage.open(dir)).isInstanceOf(StorageCorruptedException.class)
                .hasMessageContaining("both copies of the hard state")
                .hasMessageContaining("slot 0: format version field damaged: it reads 1073741831, but the checksum"
                        + " matches version 3");
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
    void hardStateWithBothSlotsDamagedIsRefusedWithTheRepairRule() throws Exception {
        write(3);
        Path hs = dir.resolve("hardstate");
        poke(hs, 20, (byte) 0x5a); // several bits: not corrected
        poke(hs, Formats.HARD_STATE_SLOT_SIZE + 20, (byte) 0x5a);
        StorageCorruptedException e = catchThrowableOfType(() -> FileRaftStorage.open(dir), StorageCorruptedException.class);
        assertThat(e).isNotNull();
        assertThat(e.file()).isEqualTo(hs.toAbsolutePath());
        assertThat(e.getMessage())
                .contains(hs.toAbsolutePath().toString())
                .contains("both copies of the hard state (slots 0 and 1, at offsets 0 and 4096) are invalid")
                .contains("slot 0: checksum mismatch; slot 1: checksum mismatch")
                .contains(StorageCorruptedException.repairRule(dir.toAbsolutePath()));
    }

    @Test
    void hardStateWithOneSlotDamagedStartsFromTheOtherAndSaysSo() throws Exception {
        write(3);
        Path hs = dir.resolve("hardstate");
        byte[] b = Files.readAllBytes(hs);
        int newest = ByteBuffer.wrap(b).getLong(8) > ByteBuffer.wrap(b).getLong(Formats.HARD_STATE_SLOT_SIZE + 8) ? 0 : 1;
        poke(hs, (1 - newest) * Formats.HARD_STATE_SLOT_SIZE + 20, (byte) 0x5a);
        try (FileRaftStorage s = FileRaftStorage.open(dir)) {
            assertThat(s.hardState()).isEqualTo(new HardState(1, "n1"));
            assertThat(s.recoveryWarnings()).singleElement().asString()
                    .contains(hs.toAbsolutePath().toString())
                    .contains("slot " + (1 - newest) + " is invalid (checksum mismatch)")
                    .contains("using slot " + newest + ": term 1, vote n1");
        }
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
        byte[] slot = Formats.encodeHardStateSlot(1, new HardState(1, "n1"));
        byte[] file = new byte[Formats.HARD_STATE_FILE_SIZE];
        System.arraycopy(slot, 0, file, 0, slot.length);
        Files.write(dir.resolve("hardstate"), file); // slot 1 all zeros: invalid
        try (FileRaftStorage s = FileRaftStorage.open(dir)) {
            assertThat(s.hardState()).isEqualTo(new HardState(3, null));
        }
    }
}
