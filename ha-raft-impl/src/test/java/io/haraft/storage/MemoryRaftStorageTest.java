package io.haraft.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.haraft.core.HardState;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

/** The contract on {@link MemoryRaftStorage}, plus its crash model. */
class MemoryRaftStorageTest extends RaftStorageContractTest {
    @Override
    RaftStorage create() {
        return MemoryRaftStorage.create();
    }

    @Override
    RaftStorage reopen(RaftStorage s) {
        return ((MemoryRaftStorage) s).crash();
    }

    @Test
    void crashLosesOnlyUnsyncedBatches() throws Exception {
        MemoryRaftStorage disk = MemoryRaftStorage.createManualSync();
        CompletableFuture<Void> a = disk.persist(new HardState(1, "n1"), run(1, 3, 1));
        CompletableFuture<Void> b = disk.persist(null, run(4, 5, 1));
        CompletableFuture<Void> c = disk.persist(new HardState(2, null), run(3, 3, 2));
        assertThat(a).isNotDone();
        assertThat(disk.pendingBatches()).isEqualTo(3);
        assertThat(disk.syncOldest()).isTrue();
        assertThat(a).isDone();
        assertThat(b).isNotDone();
        disk.syncOldest();
        MemoryRaftStorage after = disk.crash();
        assertThatThrownBy(() -> c.get()).isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(StorageException.class);
        assertThatThrownBy(() -> disk.persist(null, List.of())).isInstanceOf(IllegalStateException.class);
        assertThat(after.hardState()).isEqualTo(new HardState(1, "n1"));
        assertThat(after.entries(1, 6, Long.MAX_VALUE)).isEqualTo(run(1, 5, 1));
        // The restarted store keeps the manual mode.
        CompletableFuture<Void> d = after.persist(null, run(6, 6, 1));
        assertThat(d).isNotDone();
        after.sync();
        assertThat(d).isDone();
    }

    @Test
    void snapshotMakesEarlierBatchesDurable() throws Exception {
        MemoryRaftStorage disk = MemoryRaftStorage.createManualSync();
        CompletableFuture<Void> a = disk.persist(null, run(1, 5, 1));
        disk.writeSnapshot(new SnapshotMeta(3, 1, List.of("n1")), out -> out.write(7));
        assertThat(a).isDone();
        MemoryRaftStorage after = disk.crash();
        assertThat(after.firstIndex()).isEqualTo(4);
        assertThat(after.entries(4, 6, 100)).isEqualTo(run(4, 5, 1));
    }
}
