package io.haraft.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The manifest keeper's threads: a compaction's manifest write ({@code makeDurable}, outside the
 * store's lock) holds up neither the writer thread's reading of the generation nor its raise after
 * a new segment; a raise made during that write is written by the compaction's thread before it
 * lets go, so no change stays in memory only.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ManifestKeeperTest {
    private static final long PATIENCE_S = 20;

    @TempDir
    Path tmp;

    @Test
    void aRaiseDuringACompactionsWriteDoesNotWaitAndIsWrittenBeforeTheCompactionReturns() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("d"));
        SnapshotInstallConcurrencyTest.HeldManifestWrite io = new SnapshotInstallConcurrencyTest.HeldManifestWrite();
        io.heldThread = "compactor";
        Manifest first = Manifest.create("c", "n1").withFiles(0, 1, 0);
        first.write(io, dir);
        ManifestKeeper keeper = new ManifestKeeper(dir, io, first);

        keeper.lowerInMemory(m -> m.withFiles(100, 1, m.durableIndex()));   // a snapshot at 100 compacts
        CompletableFuture<Void> compaction = new CompletableFuture<>();
        Thread compactor = new Thread(() -> {
            try {
                keeper.makeDurable();
                compaction.complete(null);
            } catch (Throwable t) {
                compaction.completeExceptionally(t);
            }
        }, "compactor");
        compactor.start();
        try {
            assertThat(io.entered.await(PATIENCE_S, TimeUnit.SECONDS)).as("the compaction writes the manifest").isTrue();
            // The writer thread meanwhile: reads the generation, and records a new segment at 150.
            CompletableFuture<Void> raised = CompletableFuture.runAsync(() -> {
                try {
                    keeper.raise(keeper.generation(), 150, 149);
                } catch (IOException e) {
                    throw new AssertionError(e);
                }
            });
            raised.get(PATIENCE_S, TimeUnit.SECONDS);
            assertThat(compaction).as("the compaction still writes").isNotDone();
        } finally {
            io.release.countDown();
        }
        compaction.get(PATIENCE_S, TimeUnit.SECONDS);

        Manifest onDisk = Manifest.read(FileIO.standard(), dir);
        assertThat(onDisk.snapshotIndex()).as("the compaction's snapshot").isEqualTo(100);
        assertThat(onDisk.lastSegmentBase()).as("the raise's newest segment").isEqualTo(150);
        assertThat(onDisk.durableIndex()).isEqualTo(149);
    }
}
