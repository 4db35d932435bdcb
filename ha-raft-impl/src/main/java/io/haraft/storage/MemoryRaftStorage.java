package io.haraft.storage;

import io.haraft.core.HardState;
import io.haraft.core.log.Entry;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.zip.CRC32C;

/**
 * {@link RaftStorage} in memory, with the same contract as {@link FileRaftStorage}, for tests and
 * the deterministic simulator. It starts no threads and reads no clock.
 *
 * <p>It keeps two states: what the node sees (every {@code persist} applied at once) and what is
 * durable. {@link #create()} makes every batch durable before {@code persist} returns (its future
 * is already complete). {@link #createManualSync()} keeps batches pending until the simulator
 * calls {@link #sync()} or {@link #syncOldest()}; {@link #crash()} then models a power loss: it
 * returns a new store holding only the durable state, as a restarted node would find it.
 * {@link #writeSnapshot} is durable when it returns, and makes every batch before it durable too.
 *
 * <p>Thread-safe (every method is synchronized). Futures are completed outside the lock, in the
 * thread that calls {@code persist} (auto sync) or {@code sync} (manual sync).
 *
 * <pre>{@code
 * MemoryRaftStorage disk = MemoryRaftStorage.createManualSync();
 * CompletableFuture<Void> f = disk.persist(new HardState(2, null), List.of());
 * MemoryRaftStorage afterCrash = disk.crash();   // f fails; afterCrash.hardState() is INITIAL
 * }</pre>
 */
public final class MemoryRaftStorage implements RaftStorage {

    /** One version of the whole state. */
    private static final class State {
        HardState hardState = HardState.INITIAL;
        MemorySnapshot snapshot;
        long firstIndex = 1;
        ArrayList<Entry> log = new ArrayList<>();
        java.util.UUID clusterUuid;

        State copy() {
            State s = new State();
            s.clusterUuid = clusterUuid;
            s.hardState = hardState;
            s.snapshot = snapshot;
            s.firstIndex = firstIndex;
            s.log = new ArrayList<>(log);
            return s;
        }

        long lastIndex() {
            return firstIndex + log.size() - 1;
        }

        long term(long index) {
            if (index == firstIndex - 1) {
                return snapshot == null ? 0 : snapshot.meta().lastTerm();
            }
            if (index < firstIndex - 1 || index > lastIndex()) {
                throw new IndexOutOfBoundsException("index " + index + " outside [" + (firstIndex - 1) + ", " + lastIndex() + "]");
            }
            return log.get((int) (index - firstIndex)).term();
        }

        void apply(HardState hs, List<Entry> entries) {
            if (hs != null) {
                hardState = hs;
            }
            if (!entries.isEmpty()) {
                long first = entries.get(0).index();
                int keep = (int) (first - firstIndex);
                if (keep < log.size()) {
                    log.subList(keep, log.size()).clear();
                }
                log.addAll(entries);
            }
        }

        void install(MemorySnapshot snap) {
            long idx = snap.meta().lastIndex();
            boolean covers = lastIndex() >= idx && idx >= firstIndex - 1 && term(idx) == snap.meta().lastTerm();
            if (covers) {
                log = new ArrayList<>(log.subList((int) (idx + 1 - firstIndex), log.size()));
            } else {
                log = new ArrayList<>();
            }
            firstIndex = idx + 1;
            snapshot = snap;
        }
    }

    private record Pending(HardState hardState, List<Entry> entries, CompletableFuture<Void> future) {
    }

    private final boolean autoSync;
    private final State current;
    private final State durable;
    private final ArrayDeque<Pending> pending = new ArrayDeque<>();
    private boolean closed;

    private MemoryRaftStorage(boolean autoSync, State durable) {
        this.autoSync = autoSync;
        this.durable = durable;
        this.current = durable.copy();
    }

    /** A fresh store whose writes are durable at once. */
    public static MemoryRaftStorage create() {
        return new MemoryRaftStorage(true, new State());
    }

    /** A fresh store whose writes stay pending until {@link #sync()} or {@link #syncOldest()}. */
    public static MemoryRaftStorage createManualSync() {
        return new MemoryRaftStorage(false, new State());
    }

    /** Number of batches written but not yet durable. */
    public synchronized int pendingBatches() {
        return pending.size();
    }

    /** Makes every pending batch durable and completes their futures. */
    public void sync() {
        List<Pending> done;
        synchronized (this) {
            done = syncAllLocked();
        }
        done.forEach(p -> p.future().complete(null));
    }

    /** Makes the oldest pending batch durable; returns false if there was none. */
    public boolean syncOldest() {
        Pending p;
        synchronized (this) {
            p = pending.pollFirst();
            if (p == null) {
                return false;
            }
            durable.apply(p.hardState(), p.entries());
        }
        p.future().complete(null);
        return true;
    }

    private List<Pending> syncAllLocked() {
        List<Pending> done = new ArrayList<>(pending);
        pending.clear();
        for (Pending p : done) {
            durable.apply(p.hardState(), p.entries());
        }
        return done;
    }

    /**
     * Models a crash: this store stops (pending futures fail, later calls throw) and the returned
     * store holds only what was durable, in the same sync mode.
     */
    public MemoryRaftStorage crash() {
        List<Pending> lost;
        MemoryRaftStorage restarted;
        synchronized (this) {
            closed = true;
            lost = new ArrayList<>(pending);
            pending.clear();
            restarted = new MemoryRaftStorage(autoSync, durable.copy());
        }
        StorageException e = new StorageException("the node crashed before this batch was durable");
        lost.forEach(p -> p.future().completeExceptionally(e));
        return restarted;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("memory storage is closed (or crashed)");
        }
    }

    @Override
    public synchronized HardState hardState() {
        return current.hardState;
    }

    @Override
    public synchronized long firstIndex() {
        return current.firstIndex;
    }

    @Override
    public synchronized long lastIndex() {
        return current.lastIndex();
    }

    @Override
    public synchronized long term(long index) {
        return current.term(index);
    }

    @Override
    public synchronized List<Entry> entries(long from, long toExclusive, long maxBytes) {
        checkOpen();
        if (from < current.firstIndex || from > toExclusive || toExclusive > current.lastIndex() + 1) {
            throw new IndexOutOfBoundsException("entries [" + from + ", " + toExclusive + ") outside ["
                    + current.firstIndex + ", " + (current.lastIndex() + 1) + ")");
        }
        List<Entry> out = new ArrayList<>();
        long bytes = 0;
        for (long i = from; i < toExclusive; i++) {
            Entry e = current.log.get((int) (i - current.firstIndex));
            if (!out.isEmpty() && bytes + e.size() > maxBytes) {
                break;
            }
            bytes += e.size();
            out.add(e);
        }
        return out;
    }

    @Override
    public CompletableFuture<Void> persist(HardState hardStateOrNull, List<Entry> entries) {
        CompletableFuture<Void> future = new CompletableFuture<>();
        synchronized (this) {
            checkOpen();
            validate(hardStateOrNull, entries);
            List<Entry> copy = List.copyOf(entries);
            current.apply(hardStateOrNull, copy);
            if (autoSync) {
                durable.apply(hardStateOrNull, copy);
            } else {
                pending.add(new Pending(hardStateOrNull, copy, future));
            }
        }
        if (autoSync) {
            future.complete(null);
        }
        return future;
    }

    private void validate(HardState hs, List<Entry> entries) {
        if (hs != null && hs.term() < current.hardState.term()) {
            throw new IllegalArgumentException("term may not go backwards: " + current.hardState.term() + " -> " + hs.term());
        }
        AppendCheck.check(entries, current.firstIndex, current.lastIndex(), current::term);
    }

    @Override
    public SnapshotWriter beginSnapshot(SnapshotMeta meta) {
        synchronized (this) {
            checkOpen();
            checkIndex(meta);
        }
        return new SnapshotWriter() {
            private final ByteArrayOutputStream out = new ByteArrayOutputStream();
            private boolean done;

            @Override
            public void write(byte[] data, int offset, int length) {
                if (done) {
                    throw new IllegalStateException("snapshot writer already committed or closed");
                }
                out.write(data, offset, length);
            }

            @Override
            public long bytesWritten() {
                return out.size();
            }

            @Override
            public Snapshot commit() {
                if (done) {
                    throw new IllegalStateException("snapshot writer already committed or closed");
                }
                done = true;
                return install(new MemorySnapshot(meta, out.toByteArray()));
            }

            @Override
            public void close() {
                done = true;
            }
        };
    }

    private Snapshot install(MemorySnapshot snap) {
        List<Pending> done;
        synchronized (this) {
            checkOpen();
            checkIndex(snap.meta());
            done = syncAllLocked();
            durable.install(snap);
            current.install(snap);
        }
        done.forEach(p -> p.future().complete(null));
        return snap;
    }

    private void checkIndex(SnapshotMeta meta) {
        if (current.snapshot != null && meta.lastIndex() < current.snapshot.meta().lastIndex()) {
            throw new IllegalArgumentException("snapshot at index " + meta.lastIndex() + " is older than the stored one at "
                    + current.snapshot.meta().lastIndex());
        }
    }

    @Override
    public synchronized Optional<Snapshot> latestSnapshot() {
        return Optional.ofNullable(current.snapshot);
    }

    @Override
    public synchronized Optional<java.util.UUID> clusterUuid() {
        return Optional.ofNullable(current.clusterUuid);
    }

    /** Durable at once (it survives {@link #crash()}), as the file store's manifest. */
    @Override
    public synchronized void recordClusterUuid(java.util.UUID uuid) {
        java.util.Objects.requireNonNull(uuid, "uuid");
        if (uuid.equals(current.clusterUuid)) {
            return;
        }
        if (current.clusterUuid != null) {
            throw new StorageIdentityException(null, "this in-memory store belongs to cluster incarnation "
                    + current.clusterUuid + ", not to " + uuid + ": it was used by another cluster; give this node"
                    + " a new store");
        }
        current.clusterUuid = uuid;
        durable.clusterUuid = uuid;
    }

    /** Makes pending batches durable (as the file store does) and stops accepting calls. */
    @Override
    public void close() {
        List<Pending> done;
        synchronized (this) {
            if (closed) {
                return;
            }
            done = syncAllLocked();
            closed = true;
        }
        done.forEach(p -> p.future().complete(null));
    }

    /** A snapshot held in a byte array. */
    private static final class MemorySnapshot implements Snapshot {
        private final SnapshotMeta meta;
        private final byte[] data;
        private final int crc;

        MemorySnapshot(SnapshotMeta meta, byte[] data) {
            this.meta = meta;
            this.data = data;
            CRC32C c = new CRC32C();
            c.update(data);
            this.crc = (int) c.getValue();
        }

        @Override
        public SnapshotMeta meta() {
            return meta;
        }

        @Override
        public long size() {
            return data.length;
        }

        @Override
        public int crc32c() {
            return crc;
        }

        @Override
        public InputStream open() {
            return new ByteArrayInputStream(data);
        }

        @Override
        public byte[] readChunk(long offset, int maxBytes) {
            if (offset < 0 || maxBytes < 0) {
                throw new IllegalArgumentException("offset and maxBytes must be >= 0");
            }
            int from = (int) Math.min(offset, data.length);
            return Arrays.copyOfRange(data, from, (int) Math.min(data.length, from + (long) maxBytes));
        }
    }
}
