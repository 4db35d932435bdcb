package io.haraft.storage;

import io.haraft.core.HardState;
import io.haraft.core.log.Entry;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * {@link RaftStorage} on local files: a segmented write-ahead log with CRC32C-framed records, a hard
 * state file of two checksummed slots updated in place, snapshot files with a checksum, and a
 * manifest.
 *
 * <p>Directory layout: {@code LOCK} (held with an OS file lock while open), {@code manifest} (the
 * cluster and node the directory belongs to, and which files must exist), {@code hardstate},
 * {@code log-<base index>.seg} segments (default {@value #DEFAULT_SEGMENT_SIZE} bytes each) and
 * {@code snapshot-<last index>.snap}. Formats are described in the package's {@code Formats} and
 * {@code Manifest} classes; every file starts with a magic number and a format version.
 *
 * <p>Group commit: {@link #persist} writes the batch to the page cache in the caller's thread and
 * queues its future; one writer thread makes everything written so far durable with one
 * {@code fsync} per dirty segment (plus the directory when a segment was started, and one
 * {@code fdatasync} of the hard state file, written in place, when it changed)
 * and completes all futures covered. Batches that arrive while an fsync runs share the next one.
 * The manifest is rewritten only when a segment was started, before a truncation or snapshot
 * removes what it names, and at open: never for an ordinary append.
 *
 * <p>Recovery at {@link #open}: a directory recorded for another cluster or node than the one in
 * {@link Options#withIdentity} makes it throw {@link StorageIdentityException}; a file the manifest
 * names that is gone (a log segment, the hard state, the snapshot) makes it throw
 * {@link StorageFilesMissingException}. A record cut short at the end of the last segment (a write
 * torn by a crash, which can only be a write that was never reported durable) is truncated with a
 * WARN log ({@link #recoveryWarnings()} lists what was cut); a torn slot of the hard state file is
 * ignored with a WARN (its other slot holds the last acknowledged state). Any other damage (a bad
 * checksum, a damaged length, a gap in the indexes, a bad magic number) makes {@code open} throw
 * {@link StorageCorruptedException} naming the file and offset. A file whose format version this
 * build does not read (written by a newer HA-Raft) makes it throw {@link StorageFormatException},
 * which says to upgrade rather than wipe. A data directory in use by another process makes it throw
 * {@link StorageLockedException}. A directory with data but no manifest (written by an older
 * HA-Raft) is accepted and gets one.
 *
 * <pre>{@code
 * try (FileRaftStorage store = FileRaftStorage.open(Path.of("/var/lib/orders/raft"),
 *         FileRaftStorage.Options.defaults().withIdentity("orders", "n1"))) {
 *     store.persist(new HardState(1, "n1"), List.of(Entry.noop(1, 1))).get();
 * }
 * }</pre>
 *
 * <p>Limits: one record must fit in a Java array (under 2 GiB); a segment holds at most
 * {@code Integer.MAX_VALUE} bytes. Entries appended to the newest segment since it was started are
 * not recorded in the manifest: that segment being cut short by hand is not detected.
 */
public final class FileRaftStorage implements RaftStorage {
    /** Default segment size: 64 MiB. */
    public static final long DEFAULT_SEGMENT_SIZE = 64L << 20;
    /** The least free space kept by default when preallocating: 16 MiB, or one segment if larger. */
    public static final long MIN_FREE_SPACE = 16L << 20;

    private static final Logger LOG = LoggerFactory.getLogger(FileRaftStorage.class);

    /**
     * Tuning, identity and test hooks.
     *
     * @param segmentSize size at which a new log segment is started, at least 4096 bytes
     * @param fileIO      file-system access; {@link FileIO#standard()} outside tests
     * @param clusterId   the cluster the directory must belong to, or {@code null} not to check
     * @param nodeId      the node the directory must belong to, or {@code null} not to check
     * @param freeSpace   bytes left free on the file system when preallocating a segment: a segment
     *                    that would leave less is not preallocated; 0 for the default, the larger of
     *                    {@value #MIN_FREE_SPACE} and one segment
     */
    public record Options(long segmentSize, FileIO fileIO, String clusterId, String nodeId, long freeSpace) {
        /** Validates. */
        public Options {
            if (segmentSize < 4096 || segmentSize > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("segmentSize must be in [4096, 2^31), got " + segmentSize);
            }
            Objects.requireNonNull(fileIO, "fileIO");
            if (freeSpace < 0) {
                throw new IllegalArgumentException("freeSpace must be >= 0, got " + freeSpace);
            }
        }

        /** Without identity, with the default free space. */
        public Options(long segmentSize, FileIO fileIO) {
            this(segmentSize, fileIO, null, null, 0);
        }

        /** 64 MiB segments on the real file system, no identity check. */
        public static Options defaults() {
            return new Options(DEFAULT_SEGMENT_SIZE, FileIO.standard());
        }

        /** A copy with another segment size. */
        public Options withSegmentSize(long size) {
            return new Options(size, fileIO, clusterId, nodeId, freeSpace);
        }

        /** A copy with another file layer. */
        public Options withFileIO(FileIO io) {
            return new Options(segmentSize, io, clusterId, nodeId, freeSpace);
        }

        /**
         * A copy that records {@code cluster} and {@code node} in a new (or older-format) directory
         * and refuses one recorded for another cluster or node ({@link StorageIdentityException}).
         */
        public Options withIdentity(String cluster, String node) {
            return new Options(segmentSize, fileIO, Objects.requireNonNull(cluster, "cluster"),
                    Objects.requireNonNull(node, "node"), freeSpace);
        }

        /** A copy that keeps {@code bytes} free when preallocating (0: the default). */
        public Options withFreeSpace(long bytes) {
            return new Options(segmentSize, fileIO, clusterId, nodeId, bytes);
        }

        long effectiveFreeSpace() {
            return freeSpace > 0 ? freeSpace : Math.max(MIN_FREE_SPACE, segmentSize);
        }
    }

    private final Path dir;
    private final FileIO io;
    private final long segmentSize;
    private final Closeable dirLock;
    /** WARN messages of recovery; written only by {@link #open}, before the store is shared. */
    private final List<String> recoveryWarnings;

    // Log and snapshot state: guarded by rw (writes under the write lock).
    private final ReentrantReadWriteLock rw = new ReentrantReadWriteLock();
    private final List<Segment> segments;
    private final TermRuns terms;
    private HardState hardState;
    /** Written only by the writer thread (after recovery); closed after it stopped. */
    private final HardStateFile hardStateFile;
    private final SnapshotStore snapshots;
    private long firstIndex;
    private long lastIndex;
    private boolean closed;

    private final ManifestKeeper manifest;
    private final GroupCommit commit;
    private final SpareSegment spare;

    private FileRaftStorage(Path dir, Options options, Closeable dirLock, LogRecovery recovered) {
        this.dir = dir;
        this.io = options.fileIO();
        this.segmentSize = options.segmentSize();
        this.dirLock = dirLock;
        this.recoveryWarnings = List.copyOf(recovered.warnings);
        this.segments = recovered.segments;
        this.terms = recovered.terms;
        this.hardState = recovered.hardState;
        this.hardStateFile = recovered.hardStateFile;
        this.snapshots = new SnapshotStore(dir, io, recovered.snapshot);
        this.firstIndex = recovered.firstIndex;
        this.lastIndex = recovered.lastIndex;
        this.manifest = new ManifestKeeper(dir, io, recovered.manifest);
        // The store's threads log with the MDC of the thread that opened it (the node's cluster and node).
        Map<String, String> mdc = MDC.getCopyOfContextMap();
        this.commit = new GroupCommit(dir, io, hardStateFile, manifest, rw.writeLock(), segments, mdc);
        this.spare = new SpareSegment(dir, io, segmentSize, options.effectiveFreeSpace(), mdc);
    }

    /** Opens (creating if needed) the store in {@code dir} with default options; see {@link #open(Path, Options)}. */
    public static FileRaftStorage open(Path dir) {
        return open(dir, Options.defaults());
    }

    /**
     * Opens the store in {@code dir}, creating the directory if needed, and recovers its state.
     *
     * @throws StorageLockedException       if another process (or store) has the directory open
     * @throws StorageIdentityException     if the directory belongs to another cluster or node
     * @throws StorageFilesMissingException if a file the node had made durable is gone
     * @throws StorageCorruptedException    if the data is damaged beyond a torn last write
     * @throws StorageFormatException       if a file has a format version this build does not read
     * @throws StorageException             on an I/O error (a full file system: free space, then start again)
     */
    public static FileRaftStorage open(Path dir, Options options) {
        Path abs = dir.toAbsolutePath();
        FileIO io = options.fileIO();
        Closeable lock;
        try {
            io.createDirectories(abs);
            lock = io.tryLock(abs.resolve(DataDir.LOCK_FILE));
        } catch (IOException e) {
            throw DataDir.ioFailure("cannot open data directory " + abs, abs, e);
        }
        if (lock == null) {
            throw new StorageLockedException(abs);
        }
        LogRecovery recovery = new LogRecovery(abs, io, options.clusterId(), options.nodeId());
        try {
            recovery.run();
        } catch (IOException | RuntimeException e) {
            recovery.closeQuietly();
            try {
                lock.close();
            } catch (IOException c) {
                LOG.warn("releasing the lock on {} failed", abs, c);
            }
            if (e instanceof IOException io2) {
                throw DataDir.ioFailure("I/O error while recovering " + abs, abs, io2);
            }
            throw (RuntimeException) e;
        }
        FileRaftStorage s = new FileRaftStorage(abs, options, lock, recovery);
        s.commit.start();
        s.spare.start();
        return s;
    }

    /** The data directory (absolute). */
    public Path directory() {
        return dir;
    }

    @Override
    public void observeSyncs(SyncObserver observer) {
        commit.observe(observer);
    }

    /** Number of group-commit rounds (each one fsync of the log, or more if several files changed) so far. */
    public long syncCount() {
        return commit.rounds();
    }

    /**
     * What recovery at {@link #open} found and repaired or ignored, one message per WARN it logged,
     * exactly as logged: a torn tail cut (file, offset, bytes cut, what they were, where the log now
     * ends), a segment whose creation a crash interrupted, a hard state slot a crash tore (or one
     * flipped bit corrected in one), an unexpected file. Empty after a clean shutdown. Immutable.
     */
    public List<String> recoveryWarnings() {
        return recoveryWarnings;
    }

    // ------------------------------------------------------------------ identity

    /** The id created when this directory was first used; it never changes, and a wiped directory gets a new one. */
    public UUID storageId() {
        return manifest.storageId();
    }

    /** The identity of the cluster incarnation this directory belongs to, once recorded. */
    @Override
    public Optional<UUID> clusterUuid() {
        return manifest.clusterUuid();
    }

    /**
     * Records, durably, the identity of the cluster incarnation this directory belongs to; a no-op
     * if it is already the recorded one.
     *
     * @throws StorageIdentityException if another one is recorded: the directory belongs to another
     *                                  cluster (with the same name, perhaps)
     * @throws StorageException         on an I/O error
     */
    @Override
    public void recordClusterUuid(UUID uuid) {
        manifest.recordClusterUuid(uuid);
    }

    /**
     * The end of the log up to the newest segment: the last index of the segment before it (forced
     * when the newest one was started), or 0. The newest segment's own entries are not recorded,
     * so that the manifest need not change as they are appended.
     */
    static long sealedEnd(List<Segment> segments) {
        return segments.size() < 2 ? 0 : segments.get(segments.size() - 2).lastIndex();
    }

    private Path segmentPath(long base) {
        return DataDir.segmentPath(dir, base);
    }

    // ------------------------------------------------------------------ reads

    @Override
    public HardState hardState() {
        rw.readLock().lock();
        try {
            return hardState;
        } finally {
            rw.readLock().unlock();
        }
    }

    @Override
    public long firstIndex() {
        rw.readLock().lock();
        try {
            return firstIndex;
        } finally {
            rw.readLock().unlock();
        }
    }

    @Override
    public long lastIndex() {
        rw.readLock().lock();
        try {
            return lastIndex;
        } finally {
            rw.readLock().unlock();
        }
    }

    @Override
    public long term(long index) {
        rw.readLock().lock();
        try {
            return termLocked(index);
        } finally {
            rw.readLock().unlock();
        }
    }

    private long termLocked(long index) {
        if (index == firstIndex - 1) {
            FileSnapshot snapshot = snapshots.current();
            return snapshot == null ? 0 : snapshot.meta().lastTerm();
        }
        if (index < firstIndex - 1 || index > lastIndex) {
            throw new IndexOutOfBoundsException("index " + index + " outside [" + (firstIndex - 1) + ", " + lastIndex + "]");
        }
        return terms.termAt(index);
    }

    @Override
    public List<Entry> entries(long from, long toExclusive, long maxBytes) {
        rw.readLock().lock();
        try {
            Segment last = segments.isEmpty() ? null : segments.get(segments.size() - 1);
            if (last == null || last.size == last.flushed || toExclusive <= last.base
                    || last.offsetOf(Math.min(toExclusive - 1, last.lastIndex())) < last.flushed) {
                return readEntries(from, toExclusive, maxBytes);
            }
        } finally {
            rw.readLock().unlock();
        }
        // Some of the records are only in memory: write them out (as the writer thread would do
        // before its next fsync), then read.
        rw.writeLock().lock();
        try {
            checkOpen();
            if (!segments.isEmpty()) {
                try {
                    segments.get(segments.size() - 1).flush();
                } catch (IOException e) {
                    StorageException se = DataDir.ioFailure("cannot write the log in " + dir, dir, e);
                    commit.fail(se);
                    throw se;
                }
            }
            return readEntries(from, toExclusive, maxBytes);
        } finally {
            rw.writeLock().unlock();
        }
    }

    private List<Entry> readEntries(long from, long toExclusive, long maxBytes) {
        checkOpen();
        if (from < firstIndex || from > toExclusive || toExclusive > lastIndex + 1) {
            throw new IndexOutOfBoundsException("entries [" + from + ", " + toExclusive + ") outside [" + firstIndex
                    + ", " + (lastIndex + 1) + ")");
        }
        return LogReader.read(segments, from, toExclusive, maxBytes);
    }

    @Override
    public Optional<Snapshot> latestSnapshot() {
        rw.readLock().lock();
        try {
            return Optional.ofNullable(snapshots.current());
        } finally {
            rw.readLock().unlock();
        }
    }

    // ------------------------------------------------------------------ writes

    @Override
    public CompletableFuture<Void> persist(HardState hardStateOrNull, List<Entry> entries) {
        CompletableFuture<Void> future = new CompletableFuture<>();
        rw.writeLock().lock();
        try {
            checkOpen();
            StorageException failure = commit.failure();
            if (failure != null) {
                throw new IllegalStateException("storage in " + dir + " has failed; restart the node", failure);
            }
            validate(hardStateOrNull, entries);
            Set<FileIO.Handle> touched = new LinkedHashSet<>(2);
            if (!entries.isEmpty()) {
                try {
                    long first = entries.get(0).index();
                    if (first <= lastIndex) {
                        truncateFrom(first);
                    }
                    append(entries, touched);
                } catch (IOException e) {
                    StorageException se = DataDir.ioFailure("cannot write the log in " + dir, dir, e);
                    commit.fail(se);
                    throw se;
                }
            }
            if (hardStateOrNull != null) {
                hardState = hardStateOrNull;
            }
            commit.submit(future, touched, hardStateOrNull, entries.size());
        } finally {
            rw.writeLock().unlock();
        }
        return future;
    }

    private void validate(HardState hs, List<Entry> entries) {
        if (hs != null && hs.term() < hardState.term()) {
            throw new IllegalArgumentException("term may not go backwards: " + hardState.term() + " -> " + hs.term());
        }
        if (hs != null && Formats.voteBytes(hs).length > Formats.HARD_STATE_MAX_VOTE_BYTES) {
            throw new IllegalArgumentException("vote for a node id of " + Formats.voteBytes(hs).length + " bytes: at most "
                    + Formats.HARD_STATE_MAX_VOTE_BYTES + " are stored");
        }
        if (entries.isEmpty()) {
            return;
        }
        long first = entries.get(0).index();
        if (first < firstIndex) {
            throw new IllegalArgumentException("entry " + first + " is covered by the snapshot (first index " + firstIndex + ")");
        }
        if (first > lastIndex + 1) {
            throw new IllegalArgumentException("entry " + first + " would leave a gap after last index " + lastIndex);
        }
        long prevTerm = termLocked(first - 1);
        long expect = first;
        for (Entry e : entries) {
            if (e.index() != expect) {
                throw new IllegalArgumentException("entries not consecutive: " + e.index() + " where " + expect + " was expected");
            }
            if (e.term() < prevTerm) {
                throw new IllegalArgumentException("entry " + e.index() + " has term " + e.term() + " below the previous term " + prevTerm);
            }
            prevTerm = e.term();
            expect++;
        }
    }

    /** Removes entries {@code >= index}, durably, before anything is appended after them. */
    private void truncateFrom(long index) throws IOException {
        long keptSegment = 0;
        for (Segment s : segments) {
            if (s.base < index) {
                keptSegment = s.base;
            }
        }
        long below = keptSegment;
        manifest.lower(m -> index > m.durableIndex() && index > m.lastSegmentBase() ? m
                : m.withFiles(m.snapshotIndex(), m.lastSegmentBase() >= index ? below : m.lastSegmentBase(),
                        Math.min(m.durableIndex(), index - 1)));
        boolean deleted = false;
        while (!segments.isEmpty() && segments.get(segments.size() - 1).base >= index) {
            Segment s = segments.remove(segments.size() - 1);
            io.delete(s.path);
            commit.closeLater(s.handle);
            deleted = true;
        }
        if (deleted) {
            io.syncDirectory(dir);
        }
        if (!segments.isEmpty()) {
            Segment s = segments.get(segments.size() - 1);
            if (s.lastIndex() >= index) {
                long off = s.offsetOf(index);
                if (off >= s.flushed) {
                    s.pending.position((int) (off - s.flushed)); // never written: just forget it
                } else {
                    if (s.pending != null) {
                        s.pending.clear();
                    }
                    // Cut the file there, durably, before new records go where the old ones were.
                    // Not by overwriting the old records with zeros: power lost during that write
                    // can leave zeros followed by old records, which recovery must refuse as damage.
                    // A truncation is all or nothing. The rest of this segment is then no longer
                    // preallocated (its appends' fsyncs also commit the file size) until the next one.
                    s.handle.truncate(off);
                    s.handle.force();
                    s.flushed = off;
                }
                s.size = off;
                s.count = (int) (index - s.base);
            }
        }
        terms.truncateFrom(index);
        lastIndex = index - 1;
    }

    private void append(List<Entry> entries, Set<FileIO.Handle> touched) throws IOException {
        Segment active = segments.isEmpty() ? null : segments.get(segments.size() - 1);
        int i = 0;
        while (i < entries.size()) {
            if (active == null || (active.count > 0 && active.size + Formats.frameSize(entries.get(i)) > segmentSize)) {
                if (active != null) {
                    // The previous segment is complete before the next one gets data, so a torn
                    // record can only ever be at the end of the last segment.
                    active.flush();
                    active.handle.force();
                }
                active = createSegment(entries.get(i).index());
                touched.add(active.handle);
            } else if (active.lastIndex() + 1 != entries.get(i).index()) {
                throw new IllegalStateException("segment " + active.path + " ends at " + active.lastIndex()
                        + " but entry " + entries.get(i).index() + " is next");
            }
            // Frames for as many entries as fit in this segment, buffered; the writer thread
            // writes everything buffered with one call before its fsync.
            int j = i;
            long bytes = 0;
            do {
                bytes += Formats.frameSize(entries.get(j));
                j++;
            } while (j < entries.size() && active.size + bytes + Formats.frameSize(entries.get(j)) <= segmentSize);
            ByteBuffer buf = active.reserve(bytes);
            for (int k = i; k < j; k++) {
                active.add((int) (active.flushed + buf.position()));
                Formats.putFrame(buf, entries.get(k));
                terms.append(entries.get(k).index(), entries.get(k).term());
            }
            active.size = active.flushed + buf.position();
            touched.add(active.handle);
            lastIndex = entries.get(j - 1).index();
            i = j;
        }
    }

    /**
     * Starts a segment. Segment files are preallocated (written with zeros and fsynced) so that an
     * fsync after an append need not commit a new file size: on ext4 that is about 15 times
     * cheaper. A background thread keeps one spare file ready; this waits for it if it is being
     * written, and writes one itself only if the background thread failed, and only if that leaves
     * the reserved free space: otherwise the segment grows as entries are appended.
     */
    private Segment createSegment(long base) throws IOException {
        Path path = segmentPath(base);
        FileIO.Handle h;
        if (spare.take()) {
            io.rename(spare.file(), path);
            h = io.open(path, false);
        } else {
            h = io.open(path, true);
            h.truncate(0);
            if (spare.roomFor(segmentSize)) {
                try {
                    DataDir.zeroFill(h, 0, segmentSize);
                    h.force();
                } catch (IOException e) {
                    // Not into the last free space: give back what the zeros took, keep the header.
                    h.truncate(0);
                    if (!DataDir.isDiskFull(e)) {
                        throw e;
                    }
                    LOG.warn("Could not preallocate log segment {} ({}); it grows as entries are appended", path,
                            e.toString());
                }
            }
        }
        h.write(ByteBuffer.wrap(Formats.segmentHeader(base)), 0);
        Segment s = new Segment(path, base, h, Formats.SEGMENT_HEADER_SIZE);
        segments.add(s);
        commit.segmentStarted();
        spare.request();
        return s;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("storage in " + dir + " is closed");
        }
    }

    // ------------------------------------------------------------------ snapshots

    @Override
    public SnapshotWriter beginSnapshot(SnapshotMeta meta) throws IOException {
        rw.readLock().lock();
        try {
            checkOpen();
            snapshots.checkNotOlder(meta);
        } finally {
            rw.readLock().unlock();
        }
        return snapshots.begin(meta, this::install);
    }

    /** Renames the committed snapshot file {@code tmp} into place and compacts (or replaces) the log. */
    private void install(FileSnapshot snap, Path tmp) {
        SnapshotMeta meta = snap.meta();
        rw.writeLock().lock();
        try {
            checkOpen();
            snapshots.checkNotOlder(meta);
            FileSnapshot old = snapshots.putInPlace(snap, tmp);
            long idx = meta.lastIndex();
            boolean covers = lastIndex >= idx && idx >= firstIndex - 1 && termLocked(idx) == meta.lastTerm();
            // The manifest names the new snapshot, and no longer what is about to be deleted.
            manifest.lower(m -> covers ? m.withFiles(idx, segments.stream().anyMatch(x -> x.base == m.lastSegmentBase()
                    && x.lastIndex() > idx) ? m.lastSegmentBase() : 0, m.durableIndex())
                    : m.withFiles(idx, 0, Math.min(m.durableIndex(), idx)));
            if (!covers) {
                // Last segment first: power lost part-way leaves a shorter log that still starts
                // where it did (recovery then discards it too), never one with a hole at its start.
                for (int i = segments.size() - 1; i >= 0; i--) {
                    io.delete(segments.get(i).path);
                    commit.closeLater(segments.get(i).handle);
                }
                segments.clear();
                terms.n = 0;
                lastIndex = idx;
            }
            firstIndex = idx + 1;
            deleteSegmentsUpTo(idx);
            snapshots.deleteReplaced(old);
            io.syncDirectory(dir);
            LOG.info("Stored snapshot {}@{} ({} bytes) in {}; log now {}..{}", idx, meta.lastTerm(), snap.size(), dir,
                    firstIndex, lastIndex);
        } catch (IOException e) {
            StorageException se = DataDir.ioFailure("cannot install snapshot in " + dir, dir, e);
            commit.fail(se);
            throw se;
        } finally {
            rw.writeLock().unlock();
        }
    }

    /** Deletes whole segments whose entries are all {@code <= index}. */
    private void deleteSegmentsUpTo(long index) throws IOException {
        while (!segments.isEmpty() && segments.get(0).lastIndex() <= index) {
            Segment s = segments.remove(0);
            io.delete(s.path);
            commit.closeLater(s.handle);
        }
    }

    // ------------------------------------------------------------------ close

    @Override
    public void close() {
        rw.writeLock().lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
        } finally {
            rw.writeLock().unlock();
        }
        commit.stop();
        spare.stop();
        boolean interrupted = commit.join();
        closeFilesQuietly();
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private void closeFilesQuietly() {
        for (Segment s : segments) {
            try {
                s.handle.close();
            } catch (IOException e) {
                LOG.debug("closing {} failed", s.path, e);
            }
        }
        try {
            hardStateFile.close();
        } catch (IOException e) {
            LOG.debug("closing {} failed", hardStateFile.path(), e);
        }
        try {
            dirLock.close();
        } catch (IOException e) {
            LOG.warn("releasing the lock on {} failed", dir, e);
        }
    }

    @Override
    public String toString() {
        return "FileRaftStorage{" + dir + "}";
    }
}
