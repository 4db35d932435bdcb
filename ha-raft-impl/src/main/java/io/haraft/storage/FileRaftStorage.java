package io.haraft.storage;

import io.haraft.core.HardState;
import io.haraft.core.log.Entry;
import java.io.Closeable;
import java.io.IOException;
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
 * <p>Threads: all methods are thread-safe. Reads share a read-write lock and run in parallel;
 * writes, snapshot installs and {@link #close} hold it exclusively, and the writer thread holds it
 * only while it takes a round (never during an fsync). A snapshot's data is written by its
 * {@link SnapshotWriter} without the lock, and its install holds it only to switch to the new
 * snapshot and drop the covered entries in memory: the fsyncs and deletions come after. Two threads besides the caller's run while the store is
 * open: the writer and the preallocation of the next segment, both daemons named after the
 * directory. Inside, this class opens, recovers and locks the directory and delegates: the log
 * to {@code SegmentLog}, snapshot files to {@code SnapshotStore}, durability to
 * {@code GroupCommit}.
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
     * @param workers     where the store's background work (group-commit rounds, preallocation) runs,
     *                    as short tasks: an executor shared by many stores (the groups of one node),
     *                    or {@code null} (the default) for two threads of the store's own
     */
    public record Options(long segmentSize, FileIO fileIO, String clusterId, String nodeId, long freeSpace,
                          java.util.concurrent.Executor workers) {
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

        /** Without shared workers. */
        public Options(long segmentSize, FileIO fileIO, String clusterId, String nodeId, long freeSpace) {
            this(segmentSize, fileIO, clusterId, nodeId, freeSpace, null);
        }

        /** Without identity, with the default free space. */
        public Options(long segmentSize, FileIO fileIO) {
            this(segmentSize, fileIO, null, null, 0);
        }

        /** A copy whose background work runs on {@code executor} (shared with other stores) instead of threads of its own. */
        public Options withWorkers(java.util.concurrent.Executor executor) {
            return new Options(segmentSize, fileIO, clusterId, nodeId, freeSpace,
                    Objects.requireNonNull(executor, "executor"));
        }

        /** 64 MiB segments on the real file system, no identity check. */
        public static Options defaults() {
            return new Options(DEFAULT_SEGMENT_SIZE, FileIO.standard());
        }

        /** A copy with another segment size. */
        public Options withSegmentSize(long size) {
            return new Options(size, fileIO, clusterId, nodeId, freeSpace, workers);
        }

        /** A copy with another file layer. */
        public Options withFileIO(FileIO io) {
            return new Options(segmentSize, io, clusterId, nodeId, freeSpace, workers);
        }

        /**
         * A copy that records {@code cluster} and {@code node} in a new (or older-format) directory
         * and refuses one recorded for another cluster or node ({@link StorageIdentityException}).
         */
        public Options withIdentity(String cluster, String node) {
            return new Options(segmentSize, fileIO, Objects.requireNonNull(cluster, "cluster"),
                    Objects.requireNonNull(node, "node"), freeSpace, workers);
        }

        /** A copy that keeps {@code bytes} free when preallocating (0: the default). */
        public Options withFreeSpace(long bytes) {
            return new Options(segmentSize, fileIO, clusterId, nodeId, bytes, workers);
        }

        long effectiveFreeSpace() {
            return freeSpace > 0 ? freeSpace : Math.max(MIN_FREE_SPACE, segmentSize);
        }
    }

    private final Path dir;
    private final FileIO io;
    private final Closeable dirLock;
    /** WARN messages of recovery; written only by {@link #open}, before the store is shared. */
    private final List<String> recoveryWarnings;

    // Log and snapshot state: guarded by rw (writes under the write lock).
    private final ReentrantReadWriteLock rw = new ReentrantReadWriteLock();
    /** Held by a snapshot install from start to end, so installs run one at a time (taken before {@link #rw}). */
    private final Object installs = new Object();
    private final SegmentLog raftLog;
    private final SnapshotStore snapshots;
    private HardState hardState;
    /** Written only by the writer thread (after recovery); closed after it stopped. */
    private final HardStateFile hardStateFile;
    private boolean closed;

    private final ManifestKeeper manifest;
    private final GroupCommit commit;
    private final SpareSegment spare;

    private FileRaftStorage(Path dir, Options options, Closeable dirLock, LogRecovery recovered, StoreDriver driver) {
        this.dir = dir;
        this.io = options.fileIO();
        this.dirLock = dirLock;
        this.recoveryWarnings = List.copyOf(recovered.warnings);
        this.hardState = recovered.hardState;
        this.hardStateFile = recovered.hardStateFile;
        this.snapshots = new SnapshotStore(dir, io, recovered.snapshot);
        this.manifest = new ManifestKeeper(dir, io, recovered.manifest);
        // The store's threads log with the MDC of the thread that opened it (the node's cluster and node).
        Map<String, String> mdc = MDC.getCopyOfContextMap();
        this.commit = new GroupCommit(dir, io, hardStateFile, manifest, rw.writeLock(), recovered.segments, mdc,
                driver);
        this.spare = new SpareSegment(dir, io, options.segmentSize(), options.effectiveFreeSpace(), mdc, driver);
        this.raftLog = new SegmentLog(dir, io, options.segmentSize(), recovered, snapshots, manifest, commit, spare);
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
        return open(dir, options, options.workers() == null ? StoreDriver.THREADS
                : StoreDriver.onExecutor(options.workers()));
    }

    /** {@link #open(Path, Options)} with the store's background work run by {@code driver}. */
    static FileRaftStorage open(Path dir, Options options, StoreDriver driver) {
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
        FileRaftStorage s = new FileRaftStorage(abs, options, lock, recovery, driver);
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
            return raftLog.firstIndex();
        } finally {
            rw.readLock().unlock();
        }
    }

    @Override
    public long lastIndex() {
        rw.readLock().lock();
        try {
            return raftLog.lastIndex();
        } finally {
            rw.readLock().unlock();
        }
    }

    @Override
    public long term(long index) {
        rw.readLock().lock();
        try {
            return raftLog.term(index);
        } finally {
            rw.readLock().unlock();
        }
    }

    @Override
    public List<Entry> entries(long from, long toExclusive, long maxBytes) {
        rw.readLock().lock();
        try {
            if (!raftLog.buffered(toExclusive)) {
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
            try {
                raftLog.flushTail();
            } catch (IOException e) {
                StorageException se = DataDir.ioFailure("cannot write the log in " + dir, dir, e);
                commit.fail(se);
                throw se;
            }
            return readEntries(from, toExclusive, maxBytes);
        } finally {
            rw.writeLock().unlock();
        }
    }

    private List<Entry> readEntries(long from, long toExclusive, long maxBytes) {
        checkOpen();
        return raftLog.read(from, toExclusive, maxBytes);
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
                    raftLog.write(entries, touched);
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
        raftLog.validate(entries);
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("storage in " + dir + " is closed");
        }
    }

    // ------------------------------------------------------------------ snapshots

    @Override
    public SnapshotWriter beginSnapshot(SnapshotMeta meta) throws IOException {
        checkOpenAndNotOlder(meta);
        return snapshots.begin(meta, this::install);
    }

    /** @throws IllegalStateException if closed; @throws IllegalArgumentException if {@code meta} is older than the stored snapshot */
    private void checkOpenAndNotOlder(SnapshotMeta meta) {
        rw.readLock().lock();
        try {
            checkOpen();
            snapshots.checkNotOlder(meta);
        } finally {
            rw.readLock().unlock();
        }
    }

    /**
     * Renames the committed snapshot file {@code tmp} into place and compacts (or replaces) the log.
     * Installs run one at a time ({@link #installs}). The durable rename, the manifest update of a
     * compaction, the deletions and the directory fsync that makes them durable run outside the
     * store's write lock, so appends and hard-state writes (the Raft loop's {@code persist}) do not
     * wait for them; only the switch to the new snapshot and the compaction in memory hold it (and
     * the whole replacement of a log that does not contain the snapshot, which is rare). Power lost between the steps
     * leaves states recovery already handles: a snapshot newer than the manifest names (the newest
     * wins, the others are deleted), or files whose deletion was not durable yet.
     */
    private void install(FileSnapshot snap, Path tmp) {
        SnapshotMeta meta = snap.meta();
        synchronized (installs) {
            try {
                checkOpenAndNotOlder(meta);
                snapshots.rename(snap, tmp);
                FileSnapshot old;
                List<Segment> compacted;
                rw.writeLock().lock();
                try {
                    checkOpen();
                    snapshots.checkNotOlder(meta);   // only installs change it, and they run one at a time
                    old = snapshots.makeCurrent(snap);
                    compacted = raftLog.compactTo(meta);
                } finally {
                    rw.writeLock().unlock();
                }
                // The manifest naming the new snapshot (and not the compacted segments) is made
                // durable before anything it no longer names is deleted. close() waits for this.
                raftLog.deleteCompacted(compacted);
                snapshots.deleteReplaced(old);
                io.syncDirectory(dir);
                LOG.info("Stored snapshot {}@{} ({} bytes) in {}; log now from index {}", meta.lastIndex(),
                        meta.lastTerm(), snap.size(), dir, meta.lastIndex() + 1);
            } catch (IOException e) {
                StorageException se = DataDir.ioFailure("cannot install snapshot in " + dir, dir, e);
                commit.fail(se);
                throw se;
            }
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
        synchronized (installs) {
            // an install past its last check of closed finishes its writes and deletions first
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
        raftLog.closeQuietly();
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
