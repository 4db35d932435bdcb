package io.haraft.storage;

import static org.assertj.core.api.Assertions.assertThat;

import io.haraft.core.HardState;
import io.haraft.core.log.Entry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A snapshot install must not stop the Raft loop: while the install waits for a directory fsync,
 * or for the fsync of the manifest that names the new snapshot, {@code persist} (called on the
 * loop thread for every append and vote) still returns, and the entries it wrote become durable.
 * The disk here is real; the test layer only holds the installing thread at that step until the
 * test lets it go. (When the install held the store's write lock across it, persist waited.)
 */
@Timeout(60)
class SnapshotInstallConcurrencyTest {
    private static final long PATIENCE_SECONDS = 20;

    @TempDir
    Path tmp;

    /** The real disk, holding the thread named {@link #heldThread} at one step of its install until released. */
    abstract static class HeldInstall extends ForwardingFileIO {
        volatile String heldThread;
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);

        HeldInstall() {
            super(FileIO.standard());
        }

        /** Called on the held thread at the step: waits until the test releases it. */
        void hold() throws IOException {
            entered.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
        }

        boolean onHeldThread() {
            return Thread.currentThread().getName().equals(heldThread);
        }
    }

    /** Holds the first {@code syncDirectory} after a snapshot file was renamed into place (the sync that makes that rename durable). */
    static final class HeldDirectorySync extends HeldInstall {
        private volatile boolean armed;

        @Override
        public void rename(Path from, Path to) throws IOException {
            super.rename(from, to);
            if (onHeldThread() && to.getFileName().toString().endsWith(".snap")) {
                armed = true;
            }
        }

        @Override
        public void syncDirectory(Path dir) throws IOException {
            if (armed && onHeldThread()) {
                armed = false;
                hold();
            }
            super.syncDirectory(dir);
        }
    }

    /** Holds the fsync of the new manifest (naming the snapshot) that the install writes. */
    static final class HeldManifestWrite extends HeldInstall {
        @Override
        Handle wrap(Path file, Handle h) {
            if (!file.getFileName().toString().startsWith(DataDir.MANIFEST_FILE)) {
                return h;
            }
            return new ForwardingHandle(h) {
                @Override
                public void force() throws IOException {
                    if (onHeldThread()) {
                        hold();
                    }
                    h.force();
                }
            };
        }
    }

    private static List<Entry> run(long from, long to, long term) {
        List<Entry> out = new ArrayList<>();
        for (long i = from; i <= to; i++) {
            out.add(Entry.command(i, term, new byte[] {(byte) i}));
        }
        return out;
    }

    @Test
    void persistGoesOnWhileAnInstallWaitsForTheDirectorySync() throws Exception {
        persistGoesOnWhileTheInstallIsHeld(new HeldDirectorySync(), "a directory sync");
    }

    /** The manifest that names the snapshot, and no longer the segments it compacts, is written outside the store's lock. */
    @Test
    void persistGoesOnWhileAnInstallWaitsForTheManifestWrite() throws Exception {
        persistGoesOnWhileTheInstallIsHeld(new HeldManifestWrite(), "the manifest's fsync");
    }

    private void persistGoesOnWhileTheInstallIsHeld(HeldInstall disk, String step) throws Exception {
        FileRaftStorage.Options options = FileRaftStorage.Options.defaults().withSegmentSize(1 << 20).withFileIO(disk);
        try (FileRaftStorage store = FileRaftStorage.open(tmp.resolve("d"), options)) {
            store.persist(new HardState(2, "n1"), run(1, 20, 2)).get(PATIENCE_SECONDS, TimeUnit.SECONDS);

            disk.heldThread = "installer";
            CompletableFuture<Snapshot> installed = new CompletableFuture<>();
            Thread installer = new Thread(() -> {
                try {
                    installed.complete(store.writeSnapshot(new SnapshotMeta(15, 2, List.of("n1", "n2", "n3")),
                            out -> out.write(new byte[4096])));
                } catch (Throwable t) {
                    installed.completeExceptionally(t);
                }
            }, "installer");
            installer.start();
            assertThat(disk.entered.await(PATIENCE_SECONDS, TimeUnit.SECONDS))
                    .as("the install reached %s", step).isTrue();

            try {
                // The loop's persist: must not wait for the held install.
                CompletableFuture<CompletableFuture<Void>> persisted = CompletableFuture.supplyAsync(
                        () -> store.persist(new HardState(3, "n2"), run(21, 25, 3)));
                CompletableFuture<Void> durable = persisted.get(PATIENCE_SECONDS, TimeUnit.SECONDS);
                durable.get(PATIENCE_SECONDS, TimeUnit.SECONDS);
                assertThat(store.lastIndex()).isEqualTo(25);
                assertThat(store.hardState()).isEqualTo(new HardState(3, "n2"));
                assertThat(installed).as("the install still waits for %s", step).isNotDone();
            } finally {
                disk.release.countDown();   // never leave the installer (and close) waiting, even when persist did
            }
            Snapshot snap = installed.get(PATIENCE_SECONDS, TimeUnit.SECONDS);
            assertThat(snap.meta().lastIndex()).isEqualTo(15);
            assertThat(store.firstIndex()).isEqualTo(16);
            assertThat(store.entries(16, 26, Long.MAX_VALUE)).isEqualTo(expected());
        }
        try (FileRaftStorage again = FileRaftStorage.open(tmp.resolve("d"), FileRaftStorage.Options.defaults()
                .withSegmentSize(1 << 20))) {
            assertThat(again.latestSnapshot().orElseThrow().meta().lastIndex()).isEqualTo(15);
            assertThat(again.firstIndex()).isEqualTo(16);
            assertThat(again.lastIndex()).isEqualTo(25);
            assertThat(again.hardState()).isEqualTo(new HardState(3, "n2"));
            assertThat(again.entries(16, 26, Long.MAX_VALUE)).isEqualTo(expected());
        }
    }

    /**
     * A crash right after a segment was started leaves it empty, named for the next entry. A
     * snapshot at the log's end drops it: the segment that the next append starts has its name, so
     * the drop must be done before the store lets appends in, never deleted after. (Deleted after,
     * the new segment's file went, with the entries acknowledged in it.)
     */
    @Test
    void aSnapshotThatDropsAnEmptyNewestSegmentKeepsTheSegmentStartedAfterIt() throws Exception {
        Path dir = tmp.resolve("e");
        FileRaftStorage.Options plain = FileRaftStorage.Options.defaults().withSegmentSize(1 << 20);
        try (FileRaftStorage store = FileRaftStorage.open(dir, plain)) {
            store.persist(new HardState(2, "n1"), run(1, 20, 2)).get(PATIENCE_SECONDS, TimeUnit.SECONDS);
        }
        Files.write(DataDir.segmentPath(dir, 21), Formats.segmentHeader(21));   // started, then the crash

        HeldManifestWrite disk = new HeldManifestWrite();
        try (FileRaftStorage store = FileRaftStorage.open(dir, plain.withFileIO(disk))) {
            assertThat(store.lastIndex()).isEqualTo(20);
            disk.heldThread = "installer";
            CompletableFuture<Snapshot> installed = new CompletableFuture<>();
            Thread installer = new Thread(() -> {
                try {
                    installed.complete(store.writeSnapshot(new SnapshotMeta(20, 2, List.of("n1", "n2", "n3")),
                            out -> out.write(new byte[100])));
                } catch (Throwable t) {
                    installed.completeExceptionally(t);
                }
            }, "installer");
            CompletableFuture<Void> appended = new CompletableFuture<>();
            Thread appender = new Thread(() -> {
                try {
                    store.persist(null, run(21, 25, 2)).get(PATIENCE_SECONDS, TimeUnit.SECONDS);
                    appended.complete(null);
                } catch (Throwable t) {
                    appended.completeExceptionally(t);
                }
            }, "appender");
            try {
                installer.start();
                assertThat(disk.entered.await(PATIENCE_SECONDS, TimeUnit.SECONDS)).as("the install writes the manifest")
                        .isTrue();
                appender.start();
                // The append either completes while the install is held, or waits for the store's lock.
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(PATIENCE_SECONDS);
                while (!appended.isDone() && !waitsForTheStoresLock(appender) && System.nanoTime() < deadline) {
                    java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
                }
            } finally {
                disk.release.countDown();
            }
            installed.get(PATIENCE_SECONDS, TimeUnit.SECONDS);
            appended.get(PATIENCE_SECONDS, TimeUnit.SECONDS);
        }
        try (FileRaftStorage again = FileRaftStorage.open(dir, plain)) {
            assertThat(again.latestSnapshot().orElseThrow().meta().lastIndex()).isEqualTo(20);
            assertThat(again.lastIndex()).as("the entries appended after the snapshot").isEqualTo(25);
            assertThat(again.entries(21, 26, Long.MAX_VALUE)).isEqualTo(run(21, 25, 2));
        }
    }

    private static boolean waitsForTheStoresLock(Thread t) {
        if (t.getState() != Thread.State.WAITING && t.getState() != Thread.State.TIMED_WAITING) {
            return false;
        }
        for (StackTraceElement e : t.getStackTrace()) {
            if (e.getClassName().equals(FileRaftStorage.class.getName()) && e.getMethodName().equals("persist")) {
                return true;
            }
        }
        return false;
    }

    /** Entries 16..20 of term 2, then 21..25 of term 3. */
    private static List<Entry> expected() {
        List<Entry> out = new ArrayList<>(run(16, 20, 2));
        out.addAll(run(21, 25, 3));
        return out;
    }
}
