package io.haraft.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import io.haraft.core.quorum.Membership;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The contract on {@link FileRaftStorage} over real files, plus file-specific behaviour. */
class FileRaftStorageTest extends RaftStorageContractTest {
    @TempDir
    Path tmp;

    private int dirs;

    static FileRaftStorage.Options small() {
        return FileRaftStorage.Options.defaults().withSegmentSize(4096);
    }

    @Override
    RaftStorage create() {
        return FileRaftStorage.open(tmp.resolve("d" + dirs++), small());
    }

    @Override
    RaftStorage reopen(RaftStorage s) {
        s.close();
        return FileRaftStorage.open(((FileRaftStorage) s).directory(), small());
    }

    private static long count(Path dir, String suffix) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.toString().endsWith(suffix)).count();
        }
    }

    @Test
    void snapshotDeletesWholeSegmentsBelowIt() throws Exception {
        FileRaftStorage s = (FileRaftStorage) fresh();
        for (int i = 1; i <= 400; i++) {
            s.persist(null, List.of(Entry100.of(i)));
        }
        await(s.persist(null, List.of()));
        long before = count(s.directory(), ".seg");
        assertThat(before).isGreaterThan(5);
        s.writeSnapshot(new SnapshotMeta(300, 1, List.of("n1")), out -> out.write(1));
        long after = count(s.directory(), ".seg");
        assertThat(after).isLessThan(before).isGreaterThanOrEqualTo(1);
        assertThat(count(s.directory(), ".snap")).isEqualTo(1);
        assertThat(s.entries(301, 401, Long.MAX_VALUE)).hasSize(100);
    }

    @Test
    void snapshotKeepsTheWholeConfigurationAcrossARestart() throws Exception {
        FileRaftStorage s = (FileRaftStorage) fresh();
        for (int i = 1; i <= 10; i++) {
            s.persist(null, List.of(Entry100.of(i)));
        }
        Membership config = Membership.of(List.of(
                new Membership.Member("n1", "10.0.0.1:7001", Membership.Role.VOTER),
                new Membership.Member("n2", "10.0.0.2:7001", Membership.Role.VOTER),
                new Membership.Member("w1", "[fd00::3]:7001", Membership.Role.WITNESS),
                new Membership.Member("n4", "10.0.0.4:7001", Membership.Role.LEARNER)));
        s.writeSnapshot(new SnapshotMeta(8, 1, config), out -> out.write(5));
        Path dir = s.directory();
        s.close();
        try (FileRaftStorage again = FileRaftStorage.open(dir, small())) {
            SnapshotMeta meta = again.latestSnapshot().orElseThrow().meta();
            assertThat(meta.membership()).contains(config);
            assertThat(meta.members()).containsExactly("n1", "n2", "w1", "n4");
        }
    }

    @Test
    void snapshotOfTheFirstFormatIsReadWithoutAConfiguration() throws Exception {
        // Format 1 recorded member ids only (membership was static then): written here by hand.
        Path dir = tmp.resolve("legacy");
        Files.createDirectories(dir);
        byte[] data = {1, 2, 3};
        java.nio.ByteBuffer h = java.nio.ByteBuffer.allocate(4 + 4 + 8 + 8 + 4 + 2 * (4 + 2) + 4);
        h.putInt(Formats.SNAPSHOT_MAGIC).putInt(1).putLong(7).putLong(2).putInt(2);
        for (String id : List.of("n1", "n2")) {
            h.putInt(2).put(id.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        h.putInt(Formats.crc(h.array(), 0, h.position()));
        java.util.zip.CRC32C c = new java.util.zip.CRC32C();
        c.update(data);
        java.io.ByteArrayOutputStream file = new java.io.ByteArrayOutputStream();
        file.write(h.array());
        file.write(data);
        file.write(Formats.encodeSnapshotTrailer(data.length, (int) c.getValue()));
        Files.write(dir.resolve(String.format("snapshot-%020d.snap", 7)), file.toByteArray());
        try (FileRaftStorage s = FileRaftStorage.open(dir, small())) {
            Snapshot snap = s.latestSnapshot().orElseThrow();
            assertThat(snap.meta().lastIndex()).isEqualTo(7);
            assertThat(snap.meta().lastTerm()).isEqualTo(2);
            assertThat(snap.meta().membership()).isEmpty();
            assertThat(snap.open().readAllBytes()).isEqualTo(data);
            assertThat(s.firstIndex()).isEqualTo(8);
        }
    }

    /** The version reads 9, but the header's checksum matches version 2: damage, not a newer format. */
    @Test
    void snapshotWhoseVersionFieldIsDamagedIsRefusedAsCorrupted() throws Exception {
        FileRaftStorage s = (FileRaftStorage) fresh();
        s.persist(null, List.of(Entry100.of(1)));
        s.writeSnapshot(new SnapshotMeta(1, 1, List.of("n1")), out -> out.write(5));
        Path dir = s.directory();
        s.close();
        Path file = dir.resolve(String.format("snapshot-%020d.snap", 1));
        byte[] bytes = Files.readAllBytes(file);
        bytes[7] = 9;   // the version
        Files.write(file, bytes);
        assertThatThrownBy(() -> FileRaftStorage.open(dir, small()))
                .isInstanceOf(StorageCorruptedException.class)
                .hasMessageContaining("snapshot format version field damaged: it reads 9, but the checksum matches"
                        + " version 2");
    }

    @Test
    void secondOpenOfALockedDirectoryFailsFast() {
        FileRaftStorage s = (FileRaftStorage) fresh0();
        assertThatThrownBy(() -> FileRaftStorage.open(s.directory(), small()))
                .isInstanceOf(StorageLockedException.class)
                .hasMessageContaining(s.directory().toString())
                .hasMessageContaining("another HA-Raft node is probably running there");
        s.close();
        FileRaftStorage.open(s.directory(), small()).close();
    }

    private RaftStorage fresh0() {
        try {
            return fresh();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void appendsThatArriveDuringAnFsyncShareTheNextOne() throws Exception {
        SimFileIO io = new SimFileIO();
        // no spare: a segment left for one would be forced on this thread, inside persist
        FileRaftStorage s = FileRaftStorage.open(tmp.resolve("g"), small().withFileIO(io), new HeldSpareDriver());
        try {
            await(s.persist(null, List.of(cmd(1, 1))));
            CountDownLatch inForce = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            io.beforeForce = path -> {
                if (!path.toString().endsWith(".seg")) {
                    return; // the directory and the hard state are not part of this
                }
                inForce.countDown();
                try {
                    release.await(TIMEOUT_S, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    throw new IOException(e);
                }
            };
            long rounds = s.syncCount();
            CompletableFuture<Void> first = s.persist(null, List.of(cmd(2, 1)));
            assertThat(inForce.await(TIMEOUT_S, TimeUnit.SECONDS)).isTrue();
            List<CompletableFuture<Void>> rest = new ArrayList<>();
            for (int i = 3; i <= 52; i++) {
                rest.add(s.persist(null, List.of(cmd(i, 1))));
            }
            assertThat(first).isNotDone();
            release.countDown();
            io.beforeForce = path -> { };
            for (CompletableFuture<Void> f : rest) {
                await(f);
            }
            assertThat(first).isDone();
            assertThat(s.syncCount() - rounds).isEqualTo(2);
        } finally {
            s.close();
        }
    }

    @Test
    void failedFsyncFailsThePendingFuturesAndTheStore() throws Exception {
        SimFileIO io = new SimFileIO();
        // no spare: a segment left for one would be forced inside persist, which would then throw
        FileRaftStorage s = FileRaftStorage.open(tmp.resolve("f"), small().withFileIO(io), new HeldSpareDriver());
        try {
            await(s.persist(null, List.of(cmd(1, 1))));
            io.beforeForce = path -> {
                if (path.toString().endsWith(".seg")) {
                    throw new IOException("EIO");
                }
            };
            CompletableFuture<Void> f = s.persist(null, List.of(cmd(2, 1)));
            assertThatThrownBy(() -> f.get(TIMEOUT_S, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .hasCauseInstanceOf(StorageException.class).hasMessageContaining("EIO");
            assertThatThrownBy(() -> s.persist(null, List.of(cmd(3, 1)))).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("restart");
        } finally {
            s.close();
        }
    }

    /** 100-byte entries. */
    static final class Entry100 {
        static io.haraft.core.log.Entry of(long index) {
            return io.haraft.core.log.Entry.command(index, 1, new byte[100]);
        }
    }
}
