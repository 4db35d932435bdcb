package io.haraft.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.haraft.core.HardState;
import io.haraft.core.log.Entry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The {@link RaftStorage} contract, run against every implementation by a subclass. {@link #reopen}
 * models a clean restart: everything persisted before it (and waited for) must come back.
 */
abstract class RaftStorageContractTest {
    static final long TIMEOUT_S = 10;

    /** A fresh, empty store. */
    abstract RaftStorage create() throws Exception;

    /** Closes {@code store} cleanly and opens its data again. */
    abstract RaftStorage reopen(RaftStorage store) throws Exception;

    private final List<RaftStorage> open = new ArrayList<>();

    RaftStorage store;

    RaftStorage fresh() throws Exception {
        store = track(create());
        return store;
    }

    RaftStorage restart() throws Exception {
        store = track(reopen(store));
        return store;
    }

    private RaftStorage track(RaftStorage s) {
        open.add(s);
        return s;
    }

    @AfterEach
    void closeAll() {
        open.forEach(RaftStorage::close);
    }

    static Entry cmd(long index, long term) {
        return Entry.command(index, term, ("e" + index + "t" + term).getBytes(StandardCharsets.UTF_8));
    }

    static List<Entry> run(long from, long to, long term) {
        List<Entry> l = new ArrayList<>();
        for (long i = from; i <= to; i++) {
            l.add(cmd(i, term));
        }
        return l;
    }

    static void await(CompletableFuture<?> f) throws Exception {
        f.get(TIMEOUT_S, TimeUnit.SECONDS);
    }

    void append(List<Entry> entries) throws Exception {
        await(store.persist(null, entries));
    }

    List<Entry> all() {
        return store.entries(store.firstIndex(), store.lastIndex() + 1, Long.MAX_VALUE);
    }

    static byte[] readAll(Snapshot s) throws IOException {
        try (InputStream in = s.open()) {
            return in.readAllBytes();
        }
    }

    @Test
    void emptyStore() throws Exception {
        fresh();
        assertThat(store.hardState()).isEqualTo(HardState.INITIAL);
        assertThat(store.firstIndex()).isEqualTo(1);
        assertThat(store.lastIndex()).isEqualTo(0);
        assertThat(store.term(0)).isEqualTo(0);
        assertThat(store.entries(1, 1, 100)).isEmpty();
        assertThat(store.latestSnapshot()).isEmpty();
        restart();
        assertThat(store.lastIndex()).isEqualTo(0);
        assertThat(store.hardState()).isEqualTo(HardState.INITIAL);
    }

    @Test
    void appendReadAndSurviveRestart() throws Exception {
        fresh();
        List<Entry> batch = new ArrayList<>(run(1, 5, 1));
        batch.add(Entry.noop(6, 2));
        batch.addAll(run(7, 9, 2));
        await(store.persist(new HardState(2, "n1"), batch));
        assertThat(store.lastIndex()).isEqualTo(9);
        assertThat(all()).isEqualTo(batch);
        assertThat(store.term(5)).isEqualTo(1);
        assertThat(store.term(6)).isEqualTo(2);
        assertThat(store.term(9)).isEqualTo(2);
        assertThat(store.entries(3, 6, Long.MAX_VALUE)).isEqualTo(batch.subList(2, 5));
        restart();
        assertThat(store.hardState()).isEqualTo(new HardState(2, "n1"));
        assertThat(all()).isEqualTo(batch);
        assertThat(store.term(6)).isEqualTo(2);
        assertThat(store.entries(6, 7, 0).get(0).kind()).isEqualTo(Entry.Kind.NOOP);
    }

    @Test
    void readsSeeWritesBeforeTheyAreDurable() throws Exception {
        fresh();
        CompletableFuture<Void> f = store.persist(new HardState(1, null), run(1, 3, 1));
        assertThat(store.lastIndex()).isEqualTo(3);
        assertThat(store.hardState().term()).isEqualTo(1);
        assertThat(store.entries(1, 4, Long.MAX_VALUE)).isEqualTo(run(1, 3, 1));
        await(f);
    }

    @Test
    void maxBytesLimitsButAlwaysReturnsOneEntry() throws Exception {
        fresh();
        append(run(1, 10, 1)); // payloads "e1t1".."e9t1" are 4 bytes, "e10t1" 5
        assertThat(store.entries(1, 11, 0)).hasSize(1);
        assertThat(store.entries(1, 11, 4)).hasSize(1);
        assertThat(store.entries(1, 11, 8)).hasSize(2);
        assertThat(store.entries(1, 11, 11)).hasSize(2);
        assertThat(store.entries(2, 11, 1_000)).isEqualTo(run(2, 10, 1));
    }

    @Test
    void truncatesSuffixThenAppends() throws Exception {
        fresh();
        append(run(1, 10, 1));
        await(store.persist(new HardState(3, null), run(6, 8, 3)));
        assertThat(store.lastIndex()).isEqualTo(8);
        assertThat(store.term(5)).isEqualTo(1);
        assertThat(store.term(6)).isEqualTo(3);
        List<Entry> expected = new ArrayList<>(run(1, 5, 1));
        expected.addAll(run(6, 8, 3));
        assertThat(all()).isEqualTo(expected);
        append(run(9, 9, 3));
        restart();
        expected.add(cmd(9, 3));
        assertThat(all()).isEqualTo(expected);
        // Truncate everything.
        await(store.persist(new HardState(4, null), run(1, 2, 4)));
        assertThat(all()).isEqualTo(run(1, 2, 4));
        restart();
        assertThat(all()).isEqualTo(run(1, 2, 4));
        assertThat(store.hardState()).isEqualTo(new HardState(4, null));
    }

    @Test
    void truncatesEntriesThatAreNotYetDurable() throws Exception {
        fresh();
        append(run(1, 3, 1));
        store.persist(null, run(4, 10, 1));
        store.persist(new HardState(2, null), run(6, 7, 2));
        assertThat(store.entries(5, 8, Long.MAX_VALUE)).containsExactly(cmd(5, 1), cmd(6, 2), cmd(7, 2));
        store.persist(new HardState(3, null), run(2, 2, 3));
        CompletableFuture<Void> last = store.persist(null, run(3, 4, 3));
        await(last);
        List<Entry> expected = new ArrayList<>(run(1, 1, 1));
        expected.addAll(run(2, 4, 3));
        assertThat(all()).isEqualTo(expected);
        restart();
        assertThat(all()).isEqualTo(expected);
        assertThat(store.hardState().term()).isEqualTo(3);
    }

    @Test
    void hardStateAloneAndBarrier() throws Exception {
        fresh();
        await(store.persist(new HardState(7, "n3"), List.of()));
        await(store.persist(null, List.of()));
        assertThat(store.hardState()).isEqualTo(new HardState(7, "n3"));
        restart();
        assertThat(store.hardState()).isEqualTo(new HardState(7, "n3"));
        assertThat(store.lastIndex()).isEqualTo(0);
    }

    @Test
    void rejectsBatchesThatDoNotFit() throws Exception {
        fresh();
        await(store.persist(new HardState(2, null), run(1, 3, 2)));
        assertThatThrownBy(() -> store.persist(null, run(5, 6, 2))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("gap");
        assertThatThrownBy(() -> store.persist(null, List.of(cmd(4, 2), cmd(6, 2))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("consecutive");
        assertThatThrownBy(() -> store.persist(null, List.of(cmd(4, 1)))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("term");
        assertThatThrownBy(() -> store.persist(new HardState(1, null), List.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("backwards");
        assertThat(all()).isEqualTo(run(1, 3, 2));
        assertThat(store.hardState().term()).isEqualTo(2);
    }

    @Test
    void rangeChecks() throws Exception {
        fresh();
        append(run(1, 3, 1));
        assertThatThrownBy(() -> store.term(4)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> store.term(-1)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> store.entries(0, 2, 10)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> store.entries(2, 5, 10)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> store.entries(3, 2, 10)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void futuresCompleteInOrderUnderConcurrentAppenders() throws Exception {
        fresh();
        int threads = 8;
        int perThread = 200;
        Object order = new Object();
        long[] next = {1};
        List<CompletableFuture<Void>> futures = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> tasks = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                tasks.add(pool.submit(() -> {
                    for (int i = 0; i < perThread; i++) {
                        CompletableFuture<Void> f;
                        synchronized (order) {
                            f = store.persist(null, List.of(cmd(next[0], 1)));
                            futures.add(f);
                            next[0]++;
                        }
                        f.get(TIMEOUT_S, TimeUnit.SECONDS);
                    }
                    return null;
                }));
            }
            for (Future<?> t : tasks) {
                t.get(TIMEOUT_S * 3, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        // A later future is never done before an earlier one.
        synchronized (order) {
            assertThat(futures).allMatch(CompletableFuture::isDone);
        }
        assertThat(store.lastIndex()).isEqualTo((long) threads * perThread);
        restart();
        assertThat(all()).isEqualTo(run(1, (long) threads * perThread, 1));
    }

    @Test
    void snapshotCompactsTheLogAndSurvivesRestart() throws Exception {
        fresh();
        append(run(1, 20, 1));
        append(run(21, 30, 2));
        byte[] data = new byte[100_000];
        new Random(1).nextBytes(data);
        SnapshotMeta meta = new SnapshotMeta(25, 2, List.of("n1", "n2", "n3"));
        Snapshot snap = store.writeSnapshot(meta, out -> out.write(data));
        assertThat(snap.meta()).isEqualTo(meta);
        assertThat(store.firstIndex()).isEqualTo(26);
        assertThat(store.lastIndex()).isEqualTo(30);
        assertThat(store.term(25)).isEqualTo(2);
        assertThatThrownBy(() -> store.term(24)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThat(all()).isEqualTo(run(26, 30, 2));
        assertThatThrownBy(() -> store.persist(null, run(25, 26, 2))).isInstanceOf(IllegalArgumentException.class);
        append(run(31, 32, 2));
        restart();
        assertThat(store.firstIndex()).isEqualTo(26);
        assertThat(store.term(25)).isEqualTo(2);
        assertThat(all()).isEqualTo(run(26, 32, 2));
        Snapshot back = store.latestSnapshot().orElseThrow();
        assertThat(back.meta()).isEqualTo(meta);
        assertThat(back.size()).isEqualTo(data.length);
        assertThat(readAll(back)).isEqualTo(data);
        ByteArrayOutputStream chunks = new ByteArrayOutputStream();
        for (long off = 0; ; ) {
            byte[] c = back.readChunk(off, 7_000);
            if (c.length == 0) {
                break;
            }
            chunks.write(c);
            off += c.length;
        }
        assertThat(chunks.toByteArray()).isEqualTo(data);
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(data);
        assertThat(back.crc32c()).isEqualTo((int) crc.getValue());
    }

    @Test
    void snapshotAheadOfTheLogReplacesIt() throws Exception {
        fresh();
        append(run(1, 5, 1));
        store.writeSnapshot(new SnapshotMeta(100, 4, List.of("n1")), out -> out.write(42));
        assertThat(store.firstIndex()).isEqualTo(101);
        assertThat(store.lastIndex()).isEqualTo(100);
        assertThat(store.term(100)).isEqualTo(4);
        append(run(101, 103, 4));
        restart();
        assertThat(store.firstIndex()).isEqualTo(101);
        assertThat(all()).isEqualTo(run(101, 103, 4));
        assertThat(readAll(store.latestSnapshot().orElseThrow())).containsExactly(42);
    }

    @Test
    void snapshotConflictingWithTheLogReplacesIt() throws Exception {
        fresh();
        append(run(1, 10, 1));
        store.writeSnapshot(new SnapshotMeta(5, 2, List.of("n1")), out -> { });
        assertThat(store.firstIndex()).isEqualTo(6);
        assertThat(store.lastIndex()).isEqualTo(5);
        assertThat(store.term(5)).isEqualTo(2);
        restart();
        assertThat(store.lastIndex()).isEqualTo(5);
        assertThat(store.term(5)).isEqualTo(2);
    }

    @Test
    void olderSnapshotIsRefusedAndNewerReplaces() throws Exception {
        fresh();
        append(run(1, 10, 1));
        store.writeSnapshot(new SnapshotMeta(5, 1, List.of("a")), out -> out.write(1));
        assertThatThrownBy(() -> store.writeSnapshot(new SnapshotMeta(4, 1, List.of("a")), out -> out.write(2)))
                .isInstanceOf(IllegalArgumentException.class);
        store.writeSnapshot(new SnapshotMeta(8, 1, List.of("a", "b")), out -> out.write(3));
        restart();
        Snapshot s = store.latestSnapshot().orElseThrow();
        assertThat(s.meta()).isEqualTo(new SnapshotMeta(8, 1, List.of("a", "b")));
        assertThat(readAll(s)).containsExactly(3);
        assertThat(all()).isEqualTo(run(9, 10, 1));
    }

    @Test
    void failingSnapshotWriterKeepsThePreviousSnapshot() throws Exception {
        fresh();
        append(run(1, 10, 1));
        store.writeSnapshot(new SnapshotMeta(3, 1, List.of("a")), out -> out.write(1));
        assertThatThrownBy(() -> store.writeSnapshot(new SnapshotMeta(6, 1, List.of("a")), out -> {
            out.write(9);
            throw new IOException("state machine failed");
        })).isInstanceOf(IOException.class).hasMessageContaining("state machine failed");
        assertThat(store.latestSnapshot().orElseThrow().meta().lastIndex()).isEqualTo(3);
        restart();
        assertThat(store.latestSnapshot().orElseThrow().meta().lastIndex()).isEqualTo(3);
        assertThat(all()).isEqualTo(run(4, 10, 1));
    }

    @Test
    void snapshotReceivedInChunksIsInstalledOnlyOnCommit() throws Exception {
        fresh();
        append(run(1, 4, 1));
        byte[] data = new byte[50_000];
        new Random(3).nextBytes(data);
        SnapshotMeta meta = new SnapshotMeta(40, 3, List.of("n1", "n2"));
        try (SnapshotWriter broken = store.beginSnapshot(meta)) {
            broken.write(data, 0, 1000);
            assertThat(broken.bytesWritten()).isEqualTo(1000);
        } // closed without commit: discarded
        assertThat(store.latestSnapshot()).isEmpty();
        assertThat(all()).isEqualTo(run(1, 4, 1));
        Snapshot leader = MemoryRaftStorage.create().writeSnapshot(meta, out -> out.write(data));
        try (SnapshotWriter w = store.beginSnapshot(meta)) {
            for (long off = 0; ; ) {
                assertThat(w.bytesWritten()).isEqualTo(off);
                byte[] chunk = leader.readChunk(off, 4096);
                if (chunk.length == 0) {
                    break;
                }
                w.write(chunk, 0, chunk.length);
                off += chunk.length;
            }
            Snapshot got = w.commit();
            assertThat(got.crc32c()).isEqualTo(leader.crc32c());
        }
        assertThat(store.firstIndex()).isEqualTo(41);
        assertThat(store.lastIndex()).isEqualTo(40);
        restart();
        assertThat(readAll(store.latestSnapshot().orElseThrow())).isEqualTo(data);
        assertThat(store.term(40)).isEqualTo(3);
    }

    @Test
    void manyEntriesAcrossSegments() throws Exception {
        fresh();
        List<Entry> expected = new ArrayList<>();
        Random rnd = new Random(7);
        long term = 1;
        for (long i = 1; i <= 2_000; ) {
            int n = 1 + rnd.nextInt(20);
            List<Entry> batch = new ArrayList<>();
            for (int k = 0; k < n; k++, i++) {
                byte[] d = new byte[rnd.nextInt(300)];
                rnd.nextBytes(d);
                batch.add(Entry.command(i, term, d));
            }
            if (rnd.nextInt(10) == 0) {
                term++;
            }
            store.persist(null, batch);
            expected.addAll(batch);
        }
        await(store.persist(null, List.of()));
        assertThat(all()).isEqualTo(expected);
        restart();
        assertThat(all()).isEqualTo(expected);
        assertThat(store.entries(1500, 2001, 1_000)).isNotEmpty().allMatch(e -> e.index() >= 1500);
        // Truncate across segment boundaries.
        await(store.persist(null, run(100, 105, term + 1)));
        List<Entry> shorter = new ArrayList<>(expected.subList(0, 99));
        shorter.addAll(run(100, 105, term + 1));
        assertThat(all()).isEqualTo(shorter);
        restart();
        assertThat(all()).isEqualTo(shorter);
    }

    @Test
    void closedStoreRefusesWrites() throws Exception {
        fresh();
        append(run(1, 1, 1));
        store.close();
        store.close();
        assertThatThrownBy(() -> store.persist(null, run(2, 2, 1))).isInstanceOf(IllegalStateException.class);
    }
}
