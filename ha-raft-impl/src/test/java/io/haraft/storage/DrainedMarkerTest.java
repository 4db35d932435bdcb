package io.haraft.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code drained} file of a node hosting groups: what {@code record} and {@code remove} do
 * survives power loss ({@link SimFileIO} keeps only what was fsynced), a file that is not a valid
 * record reads as drained with the reason, and a write that fails on a full disk says so.
 */
class DrainedMarkerTest {
    private static final Path DIR = Path.of("/sim/n1");
    private static final Instant SINCE = Instant.parse("2024-05-06T07:08:09Z");

    @TempDir
    Path tmp;

    @Test
    void aRecordedDrainAndItsRemovalSurvivePowerLoss() throws Exception {
        SimFileIO io = new SimFileIO();
        assertThat(DrainedMarker.in(DIR, io).read()).isEqualTo(new DrainedMarker.Reading(false, Optional.empty(),
                Optional.empty()));

        DrainedMarker.in(DIR, io).record(SINCE);
        SimFileIO afterRecord = io.crash();
        assertThat(DrainedMarker.in(DIR, afterRecord).read()).as("after power loss")
                .isEqualTo(new DrainedMarker.Reading(true, Optional.of(SINCE), Optional.empty()));

        DrainedMarker.in(DIR, afterRecord).remove();
        assertThat(DrainedMarker.in(DIR, afterRecord.crash()).read().drained()).as("removed, after power loss")
                .isFalse();
    }

    @Test
    void aFileThatIsNotAValidRecordReadsAsDrainedWithTheReason() throws Exception {
        Files.createDirectories(tmp);
        Path file = tmp.resolve(DrainedMarker.FILE_NAME);
        DrainedMarker m = DrainedMarker.in(tmp, FileIO.standard());
        assertThat(m.path()).isEqualTo(file.toAbsolutePath());

        Files.writeString(file, "");
        assertThat(m.read().problem()).hasValue("its first line is missing, not 'ha-raft-drained 1'");
        Files.writeString(file, "yes\n");
        assertThat(m.read().problem()).hasValue("its first line is 'yes', not 'ha-raft-drained 1'");
        Files.writeString(file, "ha-raft-drained 1\nsince yesterday\n");
        assertThat(m.read().problem()).hasValue("its second line 'since yesterday' holds no valid instant");
        Files.writeString(file, "ha-raft-drained 1\n");
        assertThat(m.read().problem()).hasValue("its second line is not 'since <instant>'");
        Files.write(file, new byte[5000]);
        assertThat(m.read().problem()).hasValue("it has 5000 bytes, more than this file ever holds");
        Files.delete(file);
        Files.createDirectory(file);
        DrainedMarker.Reading unreadable = m.read();
        assertThat(unreadable.problem()).hasValueSatisfying(p -> assertThat(p).startsWith("it cannot be read: "));
        assertThat(unreadable.drained()).isTrue();
        assertThat(unreadable.since()).isEmpty();
        Files.delete(file);

        m.record(SINCE);
        String text = Files.readString(file, StandardCharsets.UTF_8);
        assertThat(text).startsWith("ha-raft-drained 1\nsince 2024-05-06T07:08:09Z\n# ").contains("undrain");
        assertThat(m.read()).isEqualTo(new DrainedMarker.Reading(true, Optional.of(SINCE), Optional.empty()));
    }

    @Test
    void recordCreatesTheDataDirectoryAndRemoveNeedsNone() throws Exception {
        Path dir = tmp.resolve("new").resolve("n1");
        DrainedMarker m = DrainedMarker.in(dir, FileIO.standard());
        m.remove();
        assertThat(dir).doesNotExist();
        m.record(SINCE);
        assertThat(m.read().drained()).isTrue();
        assertThat(dir.resolve(DrainedMarker.FILE_NAME + ".tmp")).doesNotExist();
        m.remove();
        assertThat(m.read().drained()).isFalse();
    }

    @Test
    void aFullDiskFailsTheRecordAndTheAdviceSaysToFreeSpace() throws Exception {
        FullDiskFileIO disk = new FullDiskFileIO();
        disk.fullAt = (file, end) -> file.getFileName().toString().equals(DrainedMarker.FILE_NAME + ".tmp");
        DrainedMarker m = DrainedMarker.in(tmp, disk);
        IOException full = org.junit.jupiter.api.Assertions.assertThrows(IOException.class, () -> m.record(SINCE));
        assertThat(full).hasMessageContaining("No space left on device");
        assertThat(m.read().drained()).as("nothing recorded").isFalse();
        assertThat(m.whatToFix(full)).contains("is full: free space on it");
        assertThat(m.whatToFix(new IOException("Read-only file system"))).contains("writable directory",
                "mounted read-write");

        assertThat(m.deleteLeftover()).as("the .tmp the failed write left").isTrue();
        assertThat(m.deleteLeftover()).isFalse();
    }
}
