package io.haraft.storage;

import io.haraft.core.HardState;
import io.haraft.core.log.Entry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The hard state file: format 2 records the promised stickiness; format 1 files are still read. */
class HardStateFormatTest {
    @TempDir
    Path dir;

    /** A hard state file as format 1 wrote it: magic, version 1, term, vote, checksum. */
    private static byte[] formatOne(long term, String vote) {
        byte[] v = vote.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(4 + 4 + 8 + 4 + v.length + 4);
        b.putInt(Formats.HARD_STATE_MAGIC).putInt(1).putLong(term).putInt(v.length).put(v);
        b.putInt(Formats.crc(b.array(), 0, b.position()));
        return b.array();
    }

    @Test
    void theStickinessSurvivesARoundTripAndARestart() throws Exception {
        HardState hs = new HardState(4, "n2", 1_000_000_000L);
        assertThat(Formats.decodeHardState(Formats.encodeHardState(hs), dir)).isEqualTo(hs);
        try (FileRaftStorage s = FileRaftStorage.open(dir)) {
            s.persist(hs, List.of()).get(10, TimeUnit.SECONDS);
        }
        try (FileRaftStorage s = FileRaftStorage.open(dir)) {
            assertThat(s.hardState()).isEqualTo(hs);
        }
    }

    @Test
    void aFormatOneFileIsReadAsPromisingNoStickinessAndRewrittenAsFormatTwo() throws Exception {
        try (FileRaftStorage s = FileRaftStorage.open(dir)) {
            s.persist(new HardState(3, "n1"), List.of(Entry.noop(1, 3))).get(10, TimeUnit.SECONDS);
        }
        Files.write(dir.resolve("hardstate"), formatOne(3, "n1"));
        try (FileRaftStorage s = FileRaftStorage.open(dir)) {
            assertThat(s.hardState()).isEqualTo(new HardState(3, "n1", 0));
            s.persist(new HardState(3, "n1", 300_000_000L), List.of()).get(10, TimeUnit.SECONDS);
        }
        assertThat(ByteBuffer.wrap(Files.readAllBytes(dir.resolve("hardstate"))).getInt(4)).isEqualTo(2);
        try (FileRaftStorage s = FileRaftStorage.open(dir)) {
            assertThat(s.hardState()).isEqualTo(new HardState(3, "n1", 300_000_000L));
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
        byte[] b = Formats.encodeHardState(new HardState(2, null, 5));
        ByteBuffer.wrap(b).putLong(20, -5);
        ByteBuffer.wrap(b).putInt(b.length - 4, Formats.crc(b, 0, b.length - 4));
        assertThatThrownBy(() -> Formats.decodeHardState(b, dir)).isInstanceOf(StorageCorruptedException.class)
                .hasMessageContaining("stickiness -5 is negative");
    }
}
