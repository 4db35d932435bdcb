package io.haraft.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole storage contract on {@link FileRaftStorage} whose background work (group commit,
 * preallocation) runs on an executor shared by every store, as the groups of one node share it;
 * and that such stores start no thread of their own.
 */
class GroupsSharedStorageTest extends RaftStorageContractTest {
    @TempDir
    Path tmp;

    private int dirs;
    private final ExecutorService workers = Executors.newFixedThreadPool(2, r -> {
        Thread t = new Thread(r, "shared-storage-worker");
        t.setDaemon(true);
        return t;
    });

    @AfterEach
    void stopWorkers() throws InterruptedException {
        closeAll();   // the stores first (closing twice is harmless), then their workers
        workers.shutdown();
        assertThat(workers.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    }

    private FileRaftStorage.Options shared() {
        return FileRaftStorage.Options.defaults().withSegmentSize(4096).withWorkers(workers);
    }

    @Override
    RaftStorage create() {
        return FileRaftStorage.open(tmp.resolve("d" + dirs++), shared());
    }

    @Override
    RaftStorage reopen(RaftStorage s) {
        s.close();
        return FileRaftStorage.open(((FileRaftStorage) s).directory(), shared());
    }

    private static long storeThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("haraft-storage-")).count();
    }

    @Test
    void manyStoresOnSharedWorkersStartNoThreadAndAllMakeTheirWritesDurable() throws Exception {
        long before = storeThreads();
        List<FileRaftStorage> stores = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            stores.add((FileRaftStorage) fresh());
        }
        List<CompletableFuture<Void>> writes = new ArrayList<>();
        for (int round = 1; round <= 20; round++) {
            for (FileRaftStorage s : stores) {
                writes.add(s.persist(null, List.of(FileRaftStorageTest.Entry100.of(round))));
            }
        }
        CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
        assertThat(storeThreads()).isEqualTo(before);
        for (FileRaftStorage s : stores) {
            assertThat(s.syncCount()).isPositive();
            assertThat(s.entries(1, 21, Long.MAX_VALUE)).hasSize(20);
        }
        // closed and reopened: everything is there
        FileRaftStorage first = stores.get(0);
        Path dir = first.directory();
        first.close();
        try (FileRaftStorage again = FileRaftStorage.open(dir, shared())) {
            assertThat(again.entries(1, 21, Long.MAX_VALUE)).hasSize(20);
        }
    }

    /** Without the fallback a write would wait for a spare segment forever: the timeout fails it instead. */
    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void whenTheSharedWorkersAreShutDownTheWritingThreadDoesTheWorkAndNothingHangs() throws Exception {
        ExecutorService gone = Executors.newSingleThreadExecutor();
        gone.shutdown();
        Path dir = tmp.resolve("refused");
        FileRaftStorage.Options options = FileRaftStorage.Options.defaults().withSegmentSize(4096).withWorkers(gone);
        try (FileRaftStorage s = FileRaftStorage.open(dir, options)) {
            List<CompletableFuture<Void>> writes = new ArrayList<>();
            for (int i = 1; i <= 60; i++) {   // 100-byte entries in 4 KiB segments: several segments and spares
                writes.add(s.persist(null, List.of(FileRaftStorageTest.Entry100.of(i))));
            }
            CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
            assertThat(s.syncCount()).isPositive();
        }
        try (FileRaftStorage again = FileRaftStorage.open(dir, shared())) {
            assertThat(again.entries(1, 61, Long.MAX_VALUE)).hasSize(60);
        }
    }
}
