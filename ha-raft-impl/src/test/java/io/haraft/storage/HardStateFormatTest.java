package io.haraft.storage;

import io.haraft.core.HardState;
import io.haraft.core.log.Entry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The hard state file: format 3 (two slots, updated in place) records term, vote and promised
 * stickiness; single-record files of formats 1 and 2 are still read and converted once at start.
 */
class HardStateFormatTest {
    static final Path DIR = Path.of("/sim/node");
    static final Path HS = DIR.resolve("hardstate");

    @TempDir
    Path dir;

    /** A hard state file as format 1 wrote it: magic, version 1, term, vote, checksum. */
    static byte[] formatOne(long term, String vote) {
        byte[] v = vote.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(4 + 4 + 8 + 4 + v.length + 4);
        b.putInt(Formats.HARD_STATE_MAGIC).putInt(1).putLong(term).putInt(v.length).put(v);
        b.putInt(Formats.crc(b.array(), 0, b.position()));
        return b.array();
    }

    /** A hard state file as format 2 wrote it: magic, version 2, term, vote, stickiness, checksum. */
    static byte[] formatTwo(HardState hs) {
        byte[] v = hs.votedFor() == null ? new byte[0] : hs.votedFor().getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(4 + 4 + 8 + 4 + v.length + 8 + 4);
        b.putInt(Formats.HARD_STATE_MAGIC).putInt(2).putLong(hs.term()).putInt(hs.votedFor() == null ? -1 : v.length)
                .put(v).putLong(hs.stickiness());
        b.putInt(Formats.crc(b.array(), 0, b.position()));
        return b.array();
    }

    private static int version(byte[] file) {
        return ByteBuffer.wrap(file).getInt(Formats.VERSION_OFFSET);
    }

    private static long seq(byte[] file, int slot) {
        return ByteBuffer.wrap(file).getLong(slot * Formats.HARD_STATE_SLOT_SIZE + 8);
    }

    @Test
    void theStickinessSurvivesARoundTripAndARestart() throws Exception {
        HardState hs = new HardState(4, "n2", 1_000_000_000L);
        Formats.HardStateSlot slot = Formats.decodeHardStateSlot(Formats.encodeHardStateSlot(7, hs), 0, dir, new String[1]);
        assertThat(slot).isEqualTo(new Formats.HardStateSlot(7, hs, null));
        try (FileRaftStorage s = FileRaftStorage.open(dir)) {
            s.persist(hs, List.of()).get(10, TimeUnit.SECONDS);
        }
        try (FileRaftStorage s = FileRaftStorage.open(dir)) {
            assertThat(s.hardState()).isEqualTo(hs);
        }
        assertThat(Files.size(dir.resolve("hardstate"))).isEqualTo(Formats.HARD_STATE_FILE_SIZE);
    }

    @Test
    void aFormatOneFileIsReadAsPromisingNoStickinessAndConvertedAtStart() throws Exception {
        try (FileRaftStorage s = FileRaftStorage.open(dir)) {
            s.persist(new HardState(3, "n1"), List.of(Entry.noop(1, 3))).get(10, TimeUnit.SECONDS);
        }
        Files.write(dir.resolve("hardstate"), formatOne(3, "n1"));
        try (FileRaftStorage s = FileRaftStorage.open(dir)) {
            assertThat(s.hardState()).isEqualTo(new HardState(3, "n1", 0));
            byte[] converted = Files.readAllBytes(dir.resolve("hardstate"));
            assertThat(converted).hasSize(Formats.HARD_STATE_FILE_SIZE);
            assertThat(version(converted)).isEqualTo(3);
            s.persist(new HardState(3, "n1", 300_000_000L), List.of()).get(10, TimeUnit.SECONDS);
        }
        try (FileRaftStorage s = FileRaftStorage.open(dir)) {
            assertThat(s.hardState()).isEqualTo(new HardState(3, "n1", 300_000_000L));
        }
    }

    @Test
    void aFormatTwoFileIsConvertedAtStartKeepingTermVoteAndStickiness() throws Exception {
        HardState old = new HardState(9, "n3", 450_000_000L);
        try (FileRaftStorage s = FileRaftStorage.open(dir)) {
            s.persist(old, List.of(Entry.noop(1, 9))).get(10, TimeUnit.SECONDS);
        }
        Files.write(dir.resolve("hardstate"), formatTwo(old));
        try (FileRaftStorage s = FileRaftStorage.open(dir)) {
            assertThat(s.hardState()).isEqualTo(old);
        }
        byte[] converted = Files.readAllBytes(dir.resolve("hardstate"));
        assertThat(converted).hasSize(Formats.HARD_STATE_FILE_SIZE);
        assertThat(version(converted)).isEqualTo(3);
        assertThat(Files.exists(dir.resolve("hardstate.tmp"))).isFalse();
        try (FileRaftStorage s = FileRaftStorage.open(dir)) {
            assertThat(s.hardState()).isEqualTo(old);
            assertThat(s.recoveryWarnings()).isEmpty();
        }
    }

    /** The durable image of a store whose hard state file is the single-record {@code legacy}. */
    private static SimFileIO withLegacyFile(byte[] legacy) throws Exception {
        SimFileIO io = new SimFileIO();
        try (FileRaftStorage s = FileRaftStorage.open(DIR, CrashRecoveryTest.opts(io))) {
            s.persist(new HardState(5, "n2"), List.of(Entry.noop(1, 5))).get(10, TimeUnit.SECONDS);
        }
        io.overwrite(HS, legacy);
        return io.copyAll();
    }

    /**
     * Power lost at every fsync of the start that converts a format-2 file (before it, so whatever
     * it was to make durable may be lost or torn): every image starts with the same hard state, and
     * after the start the converted file is durable.
     */
    @Test
    void theConversionIsAtomicAndDurableWhereverPowerIsLost() throws Exception {
        HardState old = new HardState(5, "n2", 700_000_000L);
        SimFileIO io = withLegacyFile(formatTwo(old));
        Random rnd = new Random(11);
        List<SimFileIO> images = Collections.synchronizedList(new ArrayList<>());
        io.beforeForce = path -> {
            images.add(io.crash());
            for (int i = 0; i < 4; i++) {
                images.add(io.crash(rnd));
            }
        };
        try (FileRaftStorage s = FileRaftStorage.open(DIR, CrashRecoveryTest.opts(io))) {
            io.beforeForce = path -> { };
            assertThat(s.hardState()).isEqualTo(old);
        }
        assertThat(images).hasSizeGreaterThan(5);
        for (SimFileIO image : images) {
            try (FileRaftStorage s = FileRaftStorage.open(DIR, CrashRecoveryTest.opts(image))) {
                assertThat(s.hardState()).isEqualTo(old);
            }
        }
        byte[] after = io.crash().read(HS);
        assertThat(after).hasSize(Formats.HARD_STATE_FILE_SIZE);
        assertThat(version(after)).isEqualTo(3);
    }

    /** A file layer that records which calls touched the hard state file. */
    private static final class Recording extends ForwardingFileIO {
        final List<String> calls = Collections.synchronizedList(new ArrayList<>());

        Recording(FileIO real) {
            super(real);
        }

        @Override
        Handle wrap(Path file, Handle h) {
            if (!file.getFileName().toString().startsWith("hardstate")) {
                return h;
            }
            calls.add("open " + file.getFileName());
            return new ForwardingHandle(h) {
                @Override
                public void write(ByteBuffer src, long position) throws IOException {
                    calls.add("write " + src.remaining() + "@" + position);
                    h.write(src, position);
                }

                @Override
                public void truncate(long size) throws IOException {
                    calls.add("truncate");
                    h.truncate(size);
                }

                @Override
                public void force() throws IOException {
                    calls.add("force");
                    h.force();
                }
            };
        }

        @Override
        public void rename(Path from, Path to) throws IOException {
            calls.add("rename " + from.getFileName() + " " + to.getFileName());
            real.rename(from, to);
        }

        @Override
        public void syncDirectory(Path d) throws IOException {
            calls.add("syncDirectory");
            real.syncDirectory(d);
        }
    }

    @Test
    void anUpdateIsOneWholeSlotWriteAndOneFdatasyncAlternatingSlots() throws Exception {
        Recording io = new Recording(new SimFileIO());
        FileRaftStorage.Options opts = FileRaftStorage.Options.defaults().withSegmentSize(4096).withFileIO(io);
        try (FileRaftStorage s = FileRaftStorage.open(DIR, opts)) {
            assertThat(io.calls).as("the file is created once, atomically")
                    .contains("open hardstate.tmp", "rename hardstate.tmp hardstate");
            for (int i = 1; i <= 4; i++) {
                io.calls.clear();
                s.persist(new HardState(i, "n" + i, i * 1_000L), List.of()).get(10, TimeUnit.SECONDS);
                // created with slot 0 the newer one: updates go to slot 1, 0, 1, 0
                long at = (i % 2) * (long) Formats.HARD_STATE_SLOT_SIZE;
                assertThat(io.calls).as("update %d", i)
                        .containsExactly("write " + Formats.HARD_STATE_SLOT_SIZE + "@" + at, "force");
            }
        }
        try (FileRaftStorage s = FileRaftStorage.open(DIR, opts)) {
            assertThat(s.hardState()).isEqualTo(new HardState(4, "n4", 4_000L));
            assertThat(s.recoveryWarnings()).isEmpty();
        }
    }

    @Test
    void sequenceNumbersGrowAndTheNewerSlotWins() throws Exception {
        SimFileIO io = new SimFileIO();
        try (FileRaftStorage s = FileRaftStorage.open(DIR, CrashRecoveryTest.opts(io))) {
            s.persist(new HardState(1, "n1"), List.of()).get(10, TimeUnit.SECONDS);
            s.persist(new HardState(2, null), List.of()).get(10, TimeUnit.SECONDS);
        }
        byte[] b = io.read(HS);
        assertThat(seq(b, 0)).isEqualTo(3); // created: slot 0 = 1, slot 1 = 0; then slot 1 = 2, slot 0 = 3
        assertThat(seq(b, 1)).isEqualTo(2);
        HardStateFile.Loaded l = HardStateFile.read(io, HS);
        assertThat(l.state()).isEqualTo(new HardState(2, null));
        assertThat(l.slot()).isZero();
        assertThat(l.problem()).isNull();
    }

    @Test
    void aVoteLongerThanASlotHoldsIsRefusedBeforeAnythingIsWritten() throws Exception {
        try (FileRaftStorage s = FileRaftStorage.open(dir)) {
            String id = "n".repeat(Formats.HARD_STATE_MAX_VOTE_BYTES + 1);
            assertThatThrownBy(() -> s.persist(new HardState(1, id), List.of()))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at most 4056");
            s.persist(new HardState(1, "n".repeat(Formats.HARD_STATE_MAX_VOTE_BYTES)), List.of()).get(10, TimeUnit.SECONDS);
        }
        try (FileRaftStorage s = FileRaftStorage.open(dir)) {
            assertThat(s.hardState().votedFor()).hasSize(Formats.HARD_STATE_MAX_VOTE_BYTES);
        }
    }

    @Test
    void raisingTheTermAtRecoveryKeepsThePromisedStickiness() throws Exception {
        try (FileRaftStorage s = FileRaftStorage.open(dir)) {
            s.persist(new HardState(1, "n1", 2_000_000_000L), List.of(Entry.noop(1, 1))).get(10, TimeUnit.SECONDS);
            s.persist(null, List.of(Entry.noop(2, 3))).get(10, TimeUnit.SECONDS);
        }
        try (FileRaftStorage s = FileRaftStorage.open(dir)) {
            assertThat(s.hardState()).isEqualTo(new HardState(3, null, 2_000_000_000L));
        }
    }

    @Test
    void aNegativeStickinessWithAValidChecksumIsDamage() {
        byte[] b = Formats.encodeHardStateSlot(1, new HardState(2, null, 5));
        ByteBuffer.wrap(b).putLong(24, -5);
        ByteBuffer.wrap(b).putInt(b.length - 4, Formats.crc(b, 0, b.length - 4));
        assertThatThrownBy(() -> Formats.decodeHardStateSlot(b, 0, dir, new String[1]))
                .isInstanceOf(StorageCorruptedException.class)
                .hasMessageContaining("stickiness -5");
    }

    @Test
    void aFormatThreeFileOfTheWrongSizeIsDamage() throws Exception {
        try (FileRaftStorage s = FileRaftStorage.open(dir)) {
            s.persist(new HardState(2, "n1"), List.of()).get(10, TimeUnit.SECONDS);
        }
        Path hs = dir.resolve("hardstate");
        byte[] b = Files.readAllBytes(hs);
        Files.write(hs, java.util.Arrays.copyOf(b, 5000));
        assertThatThrownBy(() -> FileRaftStorage.open(dir)).isInstanceOf(StorageCorruptedException.class)
                .hasMessageContaining("hard state file has 5000 bytes where format 3 has 8192");
    }
}
