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
        FileRaftStorage s = FileRaftStorage.open(tmp.resolve("g"), small().withFileIO(io));
        try {
            await(s.persist(null, List.of(cmd(1, 1))));
            CountDownLatch inForce = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            io.beforeForce = path -> {
                if (!path.toString().endsWith(".seg")) {
                    return; // the background preallocation of the next segment is not part of this
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
        FileRaftStorage s = FileRaftStorage.open(tmp.resolve("f"), small().withFileIO(io));
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
