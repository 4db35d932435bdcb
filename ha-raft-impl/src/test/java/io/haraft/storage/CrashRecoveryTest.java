package io.haraft.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.haraft.core.HardState;
import io.haraft.core.log.Entry;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Crashes through {@link SimFileIO}: unsynced data vanishing (or torn) at a crash, torn writes at
 * every byte of the last record, and bit flips anywhere. No entry reported durable may be lost,
 * and damaged data must be refused with {@link StorageCorruptedException}, never used silently.
 */
class CrashRecoveryTest {
    static final Path DIR = Path.of("/sim/node");
    static final long TIMEOUT_S = 10;

    static FileRaftStorage.Options opts(SimFileIO io) {
        return FileRaftStorage.Options.defaults().withSegmentSize(4096).withFileIO(io);
    }

    static Entry entry(Random rnd, long index, long term) {
        byte[] d = new byte[1 + rnd.nextInt(200)];
        rnd.nextBytes(d);
        return Entry.command(index, term, d);
    }

    // ------------------------------------------------------------------ lost unsynced writes

    static LongStream seeds() {
        return LongStream.rangeClosed(1, 40);
    }

    /** One persist call of the workload and the log right after it. */
    private record Op(CompletableFuture<Void> future, List<Entry> logAfter, long truncatedFrom, long hsTerm) {
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void unsyncedWritesVanishButNothingDurableIsLost(long seed) throws Exception {
        Random rnd = new Random(seed);
        SimFileIO io = new SimFileIO();
        FileRaftStorage store = FileRaftStorage.open(DIR, opts(io));
        List<Op> ops = new ArrayList<>();
        List<Entry> log = new ArrayList<>(); // model, from index 1 (compaction does not change it)
        long term = 1;
        long snapIndex = 0;
        int crashes = 0;
        try {
            for (int step = 0; step < 400; step++) {
                int dice = rnd.nextInt(100);
                if (dice < 8 && store.lastIndex() > store.firstIndex()) {
                    // Conflict: truncate a suffix and append in a new term.
                    long from = store.firstIndex() + rnd.nextInt((int) (store.lastIndex() - store.firstIndex() + 1));
                    term++;
                    List<Entry> batch = new ArrayList<>();
                    for (long i = from; i < from + 1 + rnd.nextInt(5); i++) {
                        batch.add(entry(rnd, i, term));
                    }
                    log = new ArrayList<>(log.subList(0, (int) from - 1));
                    log.addAll(batch);
                    ops.add(new Op(store.persist(new HardState(term, "n" + rnd.nextInt(3)), batch),
                            List.copyOf(log), from, term));
                } else if (dice < 11 && store.lastIndex() > snapIndex + 5) {
                    long idx = snapIndex + 1 + rnd.nextInt((int) (store.lastIndex() - snapIndex));
                    byte[] data = new byte[rnd.nextInt(3000)];
                    rnd.nextBytes(data);
                    store.writeSnapshot(new SnapshotMeta(idx, store.term(idx), List.of("n0", "n1")), out -> out.write(data));
                    snapIndex = idx;
                } else {
                    HardState hs = null;
                    if (rnd.nextInt(10) == 0) {
                        term++;
                        hs = new HardState(term, null);
                    }
                    long first = store.lastIndex() + 1;
                    List<Entry> batch = new ArrayList<>();
                    for (long i = first; i < first + 1 + rnd.nextInt(8); i++) {
                        batch.add(entry(rnd, i, term));
                    }
                    log.addAll(batch);
                    ops.add(new Op(store.persist(hs, batch), List.copyOf(log), Long.MAX_VALUE,
                            hs == null ? -1 : hs.term()));
                }
                if (rnd.nextInt(4) == 0) {
                    ops.get(ops.size() - 1).future().get(TIMEOUT_S, TimeUnit.SECONDS);
                }
                if (rnd.nextInt(15) == 0) {
                    // Which calls were reported durable: decided before the crash image is taken.
                    int acked = -1;
                    for (int i = ops.size() - 1; i >= 0; i--) {
                        if (ops.get(i).future().isDone()) {
                            acked = i;
                            break;
                        }
                    }
                    long snapAtCrash = snapIndex;
                    SimFileIO image = rnd.nextBoolean() ? io.crash() : io.crash(rnd);
                    checkRecovery(image, ops, acked, snapAtCrash);
                    crashes++;
                }
            }
        } finally {
            store.close();
        }
        // After a clean close everything is durable.
        checkRecovery(io.crash(), ops, ops.size() - 1, snapIndex);
        assertThat(crashes).isPositive();
    }

    private static void checkRecovery(SimFileIO image, List<Op> ops, int acked, long snapIndex) {
        try (FileRaftStorage r = FileRaftStorage.open(DIR, opts(image))) {
            long ackedTerm = 0;
            for (int i = 0; i <= acked; i++) {
                ackedTerm = Math.max(ackedTerm, ops.get(i).hsTerm());
            }
            assertThat(r.hardState().term()).as("term survives").isGreaterThanOrEqualTo(ackedTerm);
            assertThat(r.firstIndex()).as("snapshot survives").isEqualTo(snapIndex + 1);
            List<Entry> got = r.entries(r.firstIndex(), r.lastIndex() + 1, Long.MAX_VALUE);
            // The log must be a prefix of the log after some call j >= acked, long enough to hold
            // every entry that was durable at 'acked' and not truncated by a call up to j.
            long floor = acked < 0 ? 0 : ops.get(acked).logAfter().size();
            for (int j = Math.max(acked, 0); j < ops.size(); j++) {
                if (j > acked) {
                    floor = Math.min(floor, ops.get(j).truncatedFrom() - 1);
                }
                List<Entry> lj = ops.get(j).logAfter();
                if (r.lastIndex() >= floor && r.lastIndex() <= lj.size()
                        && got.equals(lj.subList((int) r.firstIndex() - 1, (int) r.lastIndex()))) {
                    return;
                }
                if (acked < 0 && j == 0 && r.lastIndex() == 0) {
                    return;
                }
            }
            fail("recovered log " + r.firstIndex() + ".." + r.lastIndex() + " matches no allowed state (acked call "
                    + acked + " of " + ops.size() + ")");
        }
    }

    // ------------------------------------------------------------------ torn last record

    private static SimFileIO durableStore(int entries, long seed) throws Exception {
        SimFileIO io = new SimFileIO();
        Random rnd = new Random(seed);
        try (FileRaftStorage s = FileRaftStorage.open(DIR, opts(io))) {
            List<Entry> batch = new ArrayList<>();
            for (int i = 1; i <= entries; i++) {
                batch.add(entry(rnd, i, 1 + i / 50));
            }
            s.persist(new HardState(1 + entries / 50, "n1"), batch).get(TIMEOUT_S, TimeUnit.SECONDS);
        }
        return io.copyAll();
    }

    private static Path lastSegment(SimFileIO io) {
        return io.sizes().keySet().stream().filter(p -> p.toString().endsWith(".seg")).reduce((a, b) -> b).orElseThrow();
    }

    /**
     * The last record torn at every byte, two ways: the rest of it still zero (the preallocated
     * space a real disk leaves), or the file cut there. Every case must recover the 39 durable
     * entries and start: a power loss never needs an operator.
     */
    @Test
    void tornWriteAtEveryByteOfTheLastRecordIsCutOrRefusedNeverUsed() throws Exception {
        SimFileIO full = durableStore(40, 3);
        List<Entry> expected;
        try (FileRaftStorage s = FileRaftStorage.open(DIR, opts(full.copyAll()))) {
            expected = s.entries(1, 41, Long.MAX_VALUE);
        }
        Path seg = lastSegment(full);
        byte[] content = full.read(seg);
        ByteBuffer frame = ByteBuffer.allocate(Formats.frameSize(expected.get(39)));
        Formats.putFrame(frame, expected.get(39));
        byte[] record = frame.array();
        int recStart = indexOf(content, record);
        assertThat(recStart).isPositive();
        int recovered = 0;
        int refused = 0;
        for (int k = 0; k < record.length; k++) {
            for (boolean cut : new boolean[] {false, true}) {
                SimFileIO torn = full.copyAll();
                byte[] c = cut ? Arrays.copyOf(content, recStart + k) : content.clone();
                if (!cut) {
                    Arrays.fill(c, recStart + k, recStart + record.length, (byte) 0);
                }
                torn.overwrite(seg, c);
                try (FileRaftStorage s = FileRaftStorage.open(DIR, opts(torn))) {
                    assertThat(s.lastIndex()).as("torn at %d", k).isEqualTo(39);
                    assertThat(s.entries(1, 40, Long.MAX_VALUE)).isEqualTo(expected.subList(0, 39));
                    s.persist(null, List.of(expected.get(39))).get(TIMEOUT_S, TimeUnit.SECONDS);
                    recovered++;
                } catch (StorageCorruptedException e) {
                    refused++;
                    fail("torn at " + k + (cut ? " (file cut)" : " (zeros after)") + " was refused: " + e.getMessage());
                }
                try (FileRaftStorage s = FileRaftStorage.open(DIR, opts(torn))) {
                    assertThat(s.entries(1, 41, Long.MAX_VALUE)).isEqualTo(expected);
                }
            }
        }
        // A power loss must never stop a node from starting: a write cut short is a torn tail even
        // where one flipped bit in the zeros it left would explain the checksum as well.
        assertThat(recovered).isEqualTo(2 * record.length);
        assertThat(refused).isZero();
    }

    @Test
    void aTornLastRecordWhoseMissingBytesHeldOneSetBitIsCutNotRefused() throws Exception {
        // The last byte of the payload is 0x01: torn just before it, the record differs from the one
        // written by exactly one bit, which a flip would explain too (found by the file-store simulation)
        SimFileIO full = durableStore(3, 3);
        Entry last = Entry.command(4, 1, new byte[] {7, 7, 1});
        try (FileRaftStorage s = FileRaftStorage.open(DIR, opts(full))) {
            s.persist(null, List.of(last)).get(TIMEOUT_S, TimeUnit.SECONDS);
        }
        Path seg = lastSegment(full);
        byte[] content = full.read(seg);
        ByteBuffer frame = ByteBuffer.allocate(Formats.frameSize(last));
        Formats.putFrame(frame, last);
        int at = indexOf(content, frame.array()) + frame.capacity() - 1;
        content[at] = 0;
        full.overwrite(seg, content);
        try (FileRaftStorage s = FileRaftStorage.open(DIR, opts(full))) {
            assertThat(s.lastIndex()).isEqualTo(3);
            assertThat(s.recoveryWarnings()).anyMatch(w -> w.contains("torn tail"));
        }
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        for (int i = hay.length - needle.length; i >= 0; i--) {
            if (Arrays.equals(hay, i, i + needle.length, needle, 0, needle.length)) {
                return i;
            }
        }
        return -1;
    }

    @Test
    void tornHeaderOfANewSegmentIsRemoved() throws Exception {
        SimFileIO full = durableStore(40, 5);
        byte[] header = Formats.segmentHeader(41);
        for (int k = 0; k < header.length; k++) {
            SimFileIO torn = full.copyAll();
            Path p = DIR.resolve(String.format("log-%020d.seg", 41));
            torn.open(p, true).close();
            torn.overwrite(p, Arrays.copyOf(header, k));
            try (FileRaftStorage s = FileRaftStorage.open(DIR, opts(torn))) {
                assertThat(s.lastIndex()).isEqualTo(40);
            }
            assertThat(torn.exists(p)).isFalse();
        }
    }

    // ------------------------------------------------------------------ power lost inside one operation

    /**
     * Power lost at any fsync while the store cuts a conflicting suffix (a leader overwrote it) and
     * appends the new one: whatever part of those writes reached the disk, recovery keeps every
     * entry before the conflict, then the old suffix or part of the new one, and never refuses the
     * log as damaged.
     */
    @Test
    void powerLostWhileCuttingAConflictingSuffixKeepsTheEntriesBeforeIt() throws Exception {
        int images = 0;
        for (long seed = 1; seed <= 60; seed++) {
            Random rnd = new Random(seed);
            SimFileIO io = new SimFileIO();
            List<SimFileIO> crashes = new java.util.concurrent.CopyOnWriteArrayList<>();
            List<Entry> old = new ArrayList<>();
            for (int i = 1; i <= 40; i++) {
                old.add(entry(rnd, i, 1));
            }
            int from = 5 + rnd.nextInt(30);
            List<Entry> replacing = new ArrayList<>();
            for (int i = from; i < from + 1 + rnd.nextInt(10); i++) {
                replacing.add(entry(rnd, i, 2));
            }
            try (FileRaftStorage s = FileRaftStorage.open(DIR, opts(io))) {
                s.persist(new HardState(1, null), old).get(TIMEOUT_S, TimeUnit.SECONDS);
                io.beforeForce = path -> crashes.add(io.crash(rnd));
                s.persist(new HardState(2, null), replacing).get(TIMEOUT_S, TimeUnit.SECONDS);
                io.beforeForce = path -> { };
            }
            for (SimFileIO image : crashes) {
                try (FileRaftStorage r = FileRaftStorage.open(DIR, opts(image))) {
                    assertThat(r.lastIndex()).as("seed %d: entries before the conflict kept", seed)
                            .isGreaterThanOrEqualTo(from - 1);
                    List<Entry> got = r.entries(1, r.lastIndex() + 1, Long.MAX_VALUE);
                    assertThat(got.subList(0, from - 1)).isEqualTo(old.subList(0, from - 1));
                    List<Entry> rest = got.subList(from - 1, got.size());
                    boolean oldSuffix = rest.size() <= old.size() - (from - 1)
                            && rest.equals(old.subList(from - 1, from - 1 + rest.size()));
                    boolean newSuffix = rest.size() <= replacing.size() && rest.equals(replacing.subList(0, rest.size()));
                    assertThat(oldSuffix || newSuffix).as("seed %d: after the conflict, a prefix of the old or the new"
                            + " suffix", seed).isTrue();
                }
                images++;
            }
        }
        assertThat(images).isGreaterThan(100);
    }

    /**
     * Power lost at any fsync while a snapshot from the leader replaces a log that does not hold its
     * last entry (the store deletes every segment): recovery finds the old log, or the snapshot
     * with an empty log after it, never a log with a hole that it must refuse.
     */
    @Test
    void powerLostWhileASnapshotReplacesAConflictingLogNeverLeavesAHole() throws Exception {
        int images = 0;
        for (long seed = 1; seed <= 60; seed++) {
            Random rnd = new Random(seed);
            SimFileIO io = new SimFileIO();
            List<SimFileIO> crashes = new java.util.concurrent.CopyOnWriteArrayList<>();
            List<Entry> old = new ArrayList<>();
            for (int i = 1; i <= 120; i++) {
                old.add(entry(rnd, i, 1));
            }
            SnapshotMeta meta = new SnapshotMeta(50 + rnd.nextInt(40), 2, List.of("n1", "n2", "n3"));
            try (FileRaftStorage s = FileRaftStorage.open(DIR, opts(io))) {
                s.persist(new HardState(2, null), old).get(TIMEOUT_S, TimeUnit.SECONDS);
                io.beforeForce = path -> crashes.add(io.crash(rnd));
                s.writeSnapshot(meta, out -> out.write(new byte[300])); // term 2 at its index: the log has term 1
                io.beforeForce = path -> { };
            }
            for (SimFileIO image : crashes) {
                try (FileRaftStorage r = FileRaftStorage.open(DIR, opts(image))) {
                    if (r.latestSnapshot().isPresent()) {
                        assertThat(r.latestSnapshot().get().meta()).isEqualTo(meta);
                        assertThat(r.firstIndex()).as("seed %d", seed).isEqualTo(meta.lastIndex() + 1);
                        assertThat(r.lastIndex()).as("seed %d: the old log is gone", seed).isEqualTo(meta.lastIndex());
                    } else {
                        assertThat(r.entries(1, r.lastIndex() + 1, Long.MAX_VALUE)).isEqualTo(old);
                    }
                }
                images++;
            }
        }
        assertThat(images).isGreaterThan(100);
    }

    // ------------------------------------------------------------------ bit flips

    @Test
    void bitFlipsAnywhereAreRefusedOrHarmless() throws Exception {
        SimFileIO io = new SimFileIO();
        Random rnd = new Random(11);
        byte[] snapData = new byte[5000];
        rnd.nextBytes(snapData);
        List<Entry> expected;
        try (FileRaftStorage s = FileRaftStorage.open(DIR, opts(io))) {
            for (int i = 1; i <= 300; i++) {
                s.persist(i == 1 ? new HardState(4, "n2") : null, List.of(entry(rnd, i, 1 + i / 100)));
            }
            s.persist(null, List.of()).get(TIMEOUT_S, TimeUnit.SECONDS);
            s.writeSnapshot(new SnapshotMeta(120, 2, List.of("n1", "n2", "n3")), out -> out.write(snapData));
            expected = s.entries(121, 301, Long.MAX_VALUE);
        }
        SimFileIO base = io.copyAll();
        TreeMap<Path, Integer> sizes = base.sizes();
        sizes.values().removeIf(n -> n == 0);
        long totalBits = sizes.values().stream().mapToLong(n -> n * 8L).sum();
        int refused = 0;
        int harmless = 0;
        int trials = 1500;
        for (int t = 0; t < trials; t++) {
            long bit = (long) (rnd.nextDouble() * totalBits);
            Path file = null;
            for (Map.Entry<Path, Integer> e : sizes.entrySet()) {
                if (bit < e.getValue() * 8L) {
                    file = e.getKey();
                    break;
                }
                bit -= e.getValue() * 8L;
            }
            SimFileIO damaged = base.copyAll();
            damaged.flipBit(file, bit);
            try (FileRaftStorage s = FileRaftStorage.open(DIR, opts(damaged))) {
                // Opening is allowed only if nothing we can see changed.
                assertThat(s.hardState()).isEqualTo(new HardState(4, "n2"));
                assertThat(s.firstIndex()).isEqualTo(121);
                assertThat(s.entries(121, s.lastIndex() + 1, Long.MAX_VALUE)).isEqualTo(expected);
                Snapshot snap = s.latestSnapshot().orElseThrow();
                assertThat(snap.meta()).isEqualTo(new SnapshotMeta(120, 2, List.of("n1", "n2", "n3")));
                try (InputStream in = snap.open()) {
                    assertThat(in.readAllBytes()).isEqualTo(snapData);
                }
                harmless++;
            } catch (StorageCorruptedException e) {
                assertThat(e.getMessage()).contains(file.getFileName().toString()).contains("offset");
                refused++;
            }
        }
        // Flips in the zeros of preallocated space are harmless; everything else is refused.
        assertThat(refused + harmless).isEqualTo(trials);
        assertThat(refused).isGreaterThan(trials / 4);
    }


}
