package io.haraft.storage;

import io.haraft.core.HardState;
import io.haraft.core.log.Entry;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link RaftStorage} on local files: a segmented write-ahead log with CRC32C-framed records, a hard
 * state file replaced atomically, and snapshot files with a checksum.
 *
 * <p>Directory layout: {@code LOCK} (held with an OS file lock while open), {@code hardstate},
 * {@code log-<base index>.seg} segments (default {@value #DEFAULT_SEGMENT_SIZE} bytes each) and
 * {@code snapshot-<last index>.snap}. Formats are described in the package's {@code Formats}
 * class; every file starts with a magic number and a format version.
 *
 * <p>Group commit: {@link #persist} writes the batch to the page cache in the caller's thread and
 * queues its future; one writer thread makes everything written so far durable with one
 * {@code fsync} per dirty segment (plus the directory and the hard state file when they changed)
 * and completes all futures covered. Batches that arrive while an fsync runs share the next one.
 *
 * <p>Recovery at {@link #open}: a record cut short at the end of the last segment (a write torn by
 * a crash, which can only be a write that was never reported durable) is truncated with a WARN
 * log ({@link #recoveryWarnings()} lists what was cut). Any other damage (a bad checksum, a damaged
 * length, a gap in the indexes, a bad magic number) makes {@code open} throw
 * {@link StorageCorruptedException} naming the file and offset. A file whose format version this
 * build does not read (written by a newer HA-Raft) makes it throw {@link StorageFormatException},
 * which says to upgrade rather than wipe. A data directory in use by another process makes it throw
 * {@link StorageLockedException}.
 *
 * <pre>{@code
 * try (FileRaftStorage store = FileRaftStorage.open(Path.of("/var/lib/orders/raft"))) {
 *     store.persist(new HardState(1, "n1"), List.of(Entry.noop(1, 1))).get();
 * }
 * }</pre>
 *
 * <p>Limits: one record must fit in a Java array (under 2 GiB); a segment holds at most
 * {@code Integer.MAX_VALUE} bytes.
 */
public final class FileRaftStorage implements RaftStorage {
    /** Default segment size: 64 MiB. */
    public static final long DEFAULT_SEGMENT_SIZE = 64L << 20;

    private static final Logger LOG = LoggerFactory.getLogger(FileRaftStorage.class);
    private static final String LOCK_FILE = "LOCK";
    private static final String HARD_STATE_FILE = "hardstate";
    private static final String SEGMENT_PREFIX = "log-";
    private static final String SEGMENT_SUFFIX = ".seg";
    private static final String SNAPSHOT_PREFIX = "snapshot-";
    private static final String SNAPSHOT_SUFFIX = ".snap";
    private static final String TMP_SUFFIX = ".tmp";
    private static final String SPARE_FILE = "log-spare" + TMP_SUFFIX;
    /** The background preallocation forces its zeros to disk in chunks of this size. */
    private static final long SPARE_CHUNK = 1L << 20;

    /**
     * Tuning and test hooks.
     *
     * @param segmentSize size at which a new log segment is started, at least 4096 bytes
     * @param fileIO      file-system access; {@link FileIO#standard()} outside tests
     */
    public record Options(long segmentSize, FileIO fileIO) {
        /** Validates. */
        public Options {
            if (segmentSize < 4096 || segmentSize > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("segmentSize must be in [4096, 2^31), got " + segmentSize);
            }
            java.util.Objects.requireNonNull(fileIO, "fileIO");
        }

        /** 64 MiB segments on the real file system. */
        public static Options defaults() {
            return new Options(DEFAULT_SEGMENT_SIZE, FileIO.standard());
        }

        /** A copy with another segment size. */
        public Options withSegmentSize(long size) {
            return new Options(size, fileIO);
        }

        /** A copy with another file layer. */
        public Options withFileIO(FileIO io) {
            return new Options(segmentSize, io);
        }
    }

    private final Path dir;
    private final FileIO io;
    private final long segmentSize;
    private final Closeable dirLock;
    /** WARN messages of recovery; written only by {@link #open}, before the store is shared. */
    private final List<String> recoveryWarnings = new ArrayList<>();

    // Log and snapshot state: guarded by rw (writes under the write lock).
    private final ReentrantReadWriteLock rw = new ReentrantReadWriteLock();
    private final List<Segment> segments = new ArrayList<>();
    private final TermRuns terms = new TermRuns();
    private HardState hardState;
    private FileSnapshot snapshot;
    private long firstIndex;
    private long lastIndex;
    private boolean closed;

    // Group commit state: guarded by syncLock, never held during I/O.
    private final ReentrantLock syncLock = new ReentrantLock();
    private final Condition work = syncLock.newCondition();
    private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
    private Set<FileIO.Handle> dirty = new LinkedHashSet<>();
    private List<FileIO.Handle> toClose = new ArrayList<>();
    private boolean dirDirty;
    private HardState pendingHardState;
    private long submittedSeq;
    private long durableSeq;
    private boolean stopping;
    private volatile StorageException failure;
    private volatile long syncRounds;
    private final Thread writer;

    // Preallocation of the next segment, in the background: guarded by spareLock.
    private final ReentrantLock spareLock = new ReentrantLock();
    private final Condition spareChanged = spareLock.newCondition();
    private boolean spareReady;
    private boolean spareWanted;
    private boolean spareStop;
    private final Thread preallocator;

    private record Waiter(long seq, CompletableFuture<Void> future) {
    }

    private FileRaftStorage(Path dir, Options options, Closeable dirLock) {
        this.dir = dir;
        this.io = options.fileIO();
        this.segmentSize = options.segmentSize();
        this.dirLock = dirLock;
        // The store's threads log with the MDC of the thread that opened it (the node's cluster and node).
        java.util.Map<String, String> mdc = org.slf4j.MDC.getCopyOfContextMap();
        this.writer = new Thread(withMdc(mdc, this::writerLoop), "haraft-storage-writer[" + dir.getFileName() + "]");
        this.writer.setDaemon(true);
        this.preallocator = new Thread(withMdc(mdc, this::preallocatorLoop),
                "haraft-storage-prealloc[" + dir.getFileName() + "]");
        this.preallocator.setDaemon(true);
    }

    private static Runnable withMdc(java.util.Map<String, String> mdc, Runnable task) {
        return () -> {
            if (mdc != null) {
                org.slf4j.MDC.setContextMap(mdc);
            }
            task.run();
        };
    }

    /** Opens (creating if needed) the store in {@code dir} with default options; see {@link #open(Path, Options)}. */
    public static FileRaftStorage open(Path dir) {
        return open(dir, Options.defaults());
    }

    /**
     * Opens the store in {@code dir}, creating the directory if needed, and recovers its state.
     *
     * @throws StorageLockedException    if another process (or store) has the directory open
     * @throws StorageCorruptedException if the data is damaged beyond a torn last write
     * @throws StorageFormatException    if a file has a format version this build does not read
     * @throws StorageException          on an I/O error
     */
    public static FileRaftStorage open(Path dir, Options options) {
        Path abs = dir.toAbsolutePath();
        FileIO io = options.fileIO();
        Closeable lock;
        try {
            io.createDirectories(abs);
            lock = io.tryLock(abs.resolve(LOCK_FILE));
        } catch (IOException e) {
            throw new StorageException("cannot open data directory " + abs + ": " + e.getMessage(), e);
        }
        if (lock == null) {
            throw new StorageLockedException(abs);
        }
        FileRaftStorage s = new FileRaftStorage(abs, options, lock);
        try {
            s.recover();
        } catch (IOException e) {
            s.closeFilesQuietly();
            throw new StorageException("I/O error while recovering " + abs + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            s.closeFilesQuietly();
            throw e;
        }
        s.writer.start();
        s.preallocator.start();
        s.requestSpare();
        return s;
    }

    /** The data directory (absolute). */
    public Path directory() {
        return dir;
    }

    /** Number of group-commit rounds (each one fsync of the log, or more if several files changed) so far. */
    public long syncCount() {
        return syncRounds;
    }

    // ------------------------------------------------------------------ recovery

    private void recover() throws IOException {
        List<String> names = new ArrayList<>(io.list(dir));
        Collections.sort(names);
        boolean removed = false;
        List<Long> segmentBases = new ArrayList<>();
        List<Long> snapshotIndexes = new ArrayList<>();
        for (String name : names) {
            if (name.endsWith(TMP_SUFFIX)) {
                LOG.info("Removing {} left by an interrupted write in {}", name, dir);
                io.delete(dir.resolve(name));
                removed = true;
            } else if (name.startsWith(SEGMENT_PREFIX) && name.endsWith(SEGMENT_SUFFIX)) {
                segmentBases.add(parseNumber(name, SEGMENT_PREFIX, SEGMENT_SUFFIX));
            } else if (name.startsWith(SNAPSHOT_PREFIX) && name.endsWith(SNAPSHOT_SUFFIX)) {
                snapshotIndexes.add(parseNumber(name, SNAPSHOT_PREFIX, SNAPSHOT_SUFFIX));
            } else if (!name.equals(LOCK_FILE) && !name.equals(HARD_STATE_FILE)) {
                warnAtRecovery("Ignoring unexpected file " + name + " in data directory " + dir);
            }
        }
        Collections.sort(segmentBases);
        Collections.sort(snapshotIndexes);

        // Hard state.
        Path hsPath = dir.resolve(HARD_STATE_FILE);
        hardState = io.exists(hsPath) ? Formats.decodeHardState(readAll(hsPath), hsPath) : HardState.INITIAL;

        // Snapshot: the newest one is authoritative; older ones are leftovers of a crash.
        if (!snapshotIndexes.isEmpty()) {
            long newest = snapshotIndexes.get(snapshotIndexes.size() - 1);
            snapshot = FileSnapshot.load(io, snapshotPath(newest));
            if (snapshot.meta().lastIndex() != newest) {
                throw new StorageCorruptedException(snapshot.path, 8, "snapshot file name says index " + newest
                        + " but its header says " + snapshot.meta().lastIndex());
            }
            for (long old : snapshotIndexes.subList(0, snapshotIndexes.size() - 1)) {
                LOG.info("Removing superseded snapshot {}", snapshotPath(old));
                io.delete(snapshotPath(old));
                removed = true;
            }
        }
        long snapIndex = snapshot == null ? 0 : snapshot.meta().lastIndex();
        long snapTerm = snapshot == null ? 0 : snapshot.meta().lastTerm();

        // Segments, in order; each must continue the previous one.
        long expected = -1;
        long prevTerm = 0;
        for (int i = 0; i < segmentBases.size(); i++) {
            long base = segmentBases.get(i);
            Path path = segmentPath(base);
            boolean last = i == segmentBases.size() - 1;
            FileIO.Handle h = io.open(path, false);
            byte[] buf;
            try {
                buf = readAll(h);
            } catch (IOException | RuntimeException e) {
                h.close();
                throw e;
            }
            if (last && Formats.isTornSegmentCreation(buf, base)) {
                h.close();
                warnAtRecovery("Deleting log segment " + path + ": its header was not completely written before a"
                        + " crash (" + Formats.zeroTailStart(buf) + " bytes of data)");
                io.delete(path);
                removed = true;
                continue;
            }
            if (buf.length < Formats.SEGMENT_HEADER_SIZE) {
                h.close();
                throw new StorageCorruptedException(path, 0, "log segment shorter than its header");
            }
            Segment seg = new Segment(path, base, h, buf.length);
            segments.add(seg);
            checkSegmentHeader(seg, buf);
            if (expected >= 0 && base != expected) {
                if (base <= snapIndex + 1) {
                    // Earlier segments were being deleted after a snapshot when the node stopped.
                    dropSegmentsBefore(seg);
                    removed = true;
                } else {
                    throw new StorageCorruptedException(path, 0, "log segment starts at index " + base
                            + " but the previous segment ends at index " + (expected - 1) + " (entries missing)");
                }
            }
            if (segments.size() == 1 && base != 1 && base > snapIndex + 1) {
                throw new StorageCorruptedException(path, 0, "log starts at index " + base + " but "
                        + (snapshot == null ? "there is no snapshot" : "the snapshot ends at index " + snapIndex)
                        + " (entries missing)");
            }
            if (segments.size() == 1) {
                prevTerm = 0;
            }
            prevTerm = scanSegment(seg, buf, last, prevTerm);
            expected = seg.base + seg.count;
        }
        // A torn tail is cut only from the last segment; scanSegment refuses it elsewhere.
        // Log shape.
        if (segments.isEmpty()) {
            firstIndex = snapIndex + 1;
            lastIndex = snapIndex;
        } else {
            firstIndex = segments.get(0).base;
            lastIndex = expected - 1;
        }
        if (snapshot != null) {
            boolean covers = lastIndex >= snapIndex && (snapIndex < firstIndex || terms.termAt(snapIndex) == snapTerm);
            if (!covers && !segments.isEmpty()) {
                LOG.info("Discarding log {}..{} in {}: it does not contain the snapshot's last entry {} (term {});"
                        + " a snapshot from the leader replaced it", firstIndex, lastIndex, dir, snapIndex, snapTerm);
                for (int i = segments.size() - 1; i >= 0; i--) { // last first, as when installing
                    segments.get(i).handle.close();
                    io.delete(segments.get(i).path);
                }
                segments.clear();
                terms.n = 0;
                removed = true;
                lastIndex = snapIndex;
            }
            firstIndex = snapIndex + 1;
            removed |= deleteSegmentsUpTo(snapIndex, true);
        }
        // The term never goes backwards: the log or snapshot may have reached the disk while the
        // hard state of the same unacknowledged batch did not.
        long maxTerm = Math.max(snapTerm, terms.lastTerm());
        if (hardState.term() < maxTerm) {
            LOG.info("Raising term in {} from {} to {}, the last term in the log (a crash interrupted a batch)",
                    dir, hardState.term(), maxTerm);
            hardState = hardState.withTerm(maxTerm);
            writeHardState(hardState);
        }
        if (removed) {
            io.syncDirectory(dir);
        }
        LOG.info("Opened {}: term {}, log {}..{}, snapshot {}", dir, hardState.term(), firstIndex, lastIndex,
                snapshot == null ? "none" : snapIndex + "@" + snapTerm);
    }

    private void warnAtRecovery(String message) {
        recoveryWarnings.add(message);
        LOG.warn("{}", message);
    }

    /**
     * What recovery at {@link #open} found and repaired or ignored, one message per WARN it logged,
     * exactly as logged: a torn tail cut (file, offset, bytes cut, what they were, where the log now
     * ends), a segment whose creation a crash interrupted, an unexpected file. Empty after a clean
     * shutdown. Immutable.
     */
    public List<String> recoveryWarnings() {
        return List.copyOf(recoveryWarnings);
    }

    private static long parseNumber(String name, String prefix, String suffix) {
        try {
            return Long.parseLong(name.substring(prefix.length(), name.length() - suffix.length()));
        } catch (NumberFormatException e) {
            throw new StorageException("unexpected file name " + name + " in an HA-Raft data directory");
        }
    }

    private void dropSegmentsBefore(Segment keep) throws IOException {
        while (segments.get(0) != keep) {
            Segment s = segments.remove(0);
            LOG.info("Deleting log segment {}, already covered by the snapshot", s.path);
            s.handle.close();
            io.delete(s.path);
        }
        terms.n = 0;
    }

    private void checkSegmentHeader(Segment seg, byte[] buf) {
        ByteBuffer b = ByteBuffer.wrap(buf);
        int magic = b.getInt();
        if (magic != Formats.SEGMENT_MAGIC) {
            throw new StorageCorruptedException(seg.path, 0, "not an HA-Raft log segment (bad magic number 0x"
                    + Integer.toHexString(magic) + ")");
        }
        int version = b.getInt();
        if (version != Formats.VERSION) {
            throw Formats.unknownVersion(buf, seg.path, "log segment", version, Formats.VERSION, Formats.VERSION,
                    copy -> Formats.crc(copy, 0, 16) == ByteBuffer.wrap(copy, 16, 4).getInt());
        }
        long base = b.getLong();
        if (Formats.crc(buf, 0, 16) != b.getInt()) {
            throw new StorageCorruptedException(seg.path, 16, "log segment header checksum mismatch");
        }
        if (base != seg.base) {
            throw new StorageCorruptedException(seg.path, 8, "segment header says base index " + base
                    + " but the file name says " + seg.base);
        }
    }

    /**
     * Reads every record of {@code seg}, filling its offsets; returns the last term seen.
     *
     * <p>Segments are preallocated with zeros, so the data ends where only zeros remain. A damaged
     * record is a torn tail (cut, with a WARN) only if all of these hold: it is in the last
     * segment; the damage looks like a write that stopped part-way (what was written is followed by
     * zeros only, and the record's length fields agree as far as they were written); no flipped
     * bit in what was written explains the checksum mismatch (one in the trailing zeros, where the
     * write may have stopped, explains it no better than the write stopping); and no valid record
     * follows it. Anything else is refused as corruption.
     */
    private long scanSegment(Segment seg, byte[] buf, boolean last, long prevTerm) throws IOException {
        int pos = Formats.SEGMENT_HEADER_SIZE;
        long expected = seg.base;
        int len = buf.length;
        int zeroTail = Formats.zeroTailStart(buf);
        while (pos < zeroTail) {
            int rem = len - pos;
            String torn = null;
            String corrupt = null;
            if (rem < Formats.FRAME_HEADER_SIZE) {
                torn = "an incomplete record header (" + rem + " bytes)";
            } else {
                ByteBuffer b = ByteBuffer.wrap(buf, pos, rem);
                int l = b.getInt();
                int inv = b.getInt();
                int crc = b.getInt();
                long recordEnd = (long) pos + Formats.FRAME_HEADER_SIZE + l;
                if (l != ~inv) {
                    if (Formats.headerLooksTorn(buf, pos)) {
                        torn = "a record header written only in part";
                    } else {
                        corrupt = "record length field damaged";
                    }
                } else if (l < Formats.PAYLOAD_FIXED_SIZE) {
                    corrupt = "record length " + l + " is impossible";
                } else if (recordEnd > len) {
                    torn = "a record of " + l + " bytes cut short after " + (rem - Formats.FRAME_HEADER_SIZE) + " bytes";
                } else if (Formats.crc(buf, pos + Formats.FRAME_HEADER_SIZE, l) != crc) {
                    int flip = zeroTail >= recordEnd ? Formats.NO_FLIP
                            : Formats.flippedByte(buf, pos + Formats.FRAME_HEADER_SIZE, l, crc);
                    if (zeroTail >= recordEnd) {
                        corrupt = "record checksum mismatch";
                    } else if (flip != Formats.NO_FLIP && flip < zeroTail) {
                        corrupt = "record checksum mismatch (one flipped bit)";
                    } else {
                        // Also when the one bit that would fix it lies in the zeros where the write
                        // may have stopped: the record's last bytes held a single set bit, and a
                        // write cut short there (power lost) explains the damage as well as a flip.
                        torn = "a record written only in part";
                    }
                } else {
                    long index = b.getLong();
                    long term = b.getLong();
                    byte kind = b.get();
                    if (index != expected) {
                        corrupt = "record holds index " + index + " where " + expected + " was expected";
                    } else if (term < prevTerm || term < 1) {
                        corrupt = "entry " + index + " has term " + term + " after term " + prevTerm;
                    } else if (Formats.kind(kind) == null) {
                        corrupt = "entry " + index + " has unknown kind " + kind;
                    } else {
                        seg.add(pos);
                        terms.append(index, term);
                        prevTerm = term;
                        expected++;
                        pos = (int) recordEnd;
                        continue;
                    }
                }
            }
            int validAfter = torn == null ? -1 : Formats.findValidRecord(buf, pos + 1, zeroTail);
            if (torn != null && last && validAfter < 0) {
                warnAtRecovery("Log segment " + seg.path + ": truncating a torn tail at offset " + pos + ": cutting "
                        + (zeroTail - pos) + " bytes (" + torn + "), left by a write that was interrupted by a crash"
                        + " and never reported durable; the log now ends at entry " + (expected - 1));
                zeroFill(seg.handle, pos, zeroTail);
                seg.handle.force();
                seg.size = pos;
                seg.flushed = pos;
                return prevTerm;
            }
            String what = corrupt != null ? corrupt
                    : validAfter >= 0 ? "damaged record followed by a valid record at offset " + validAfter
                    : torn + " in a segment that is not the last one";
            throw new StorageCorruptedException(seg.path, pos, what + " (" + (zeroTail - pos)
                    + " bytes of data from there on"
                    + (expected > seg.base ? ", after " + (expected - seg.base) + " valid records" : "") + ")");
        }
        seg.size = pos;
        seg.flushed = pos;
        return prevTerm;
    }

    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(1 << 20).asReadOnlyBuffer();

    /** Overwrites {@code [from, to)} with zeros. */
    private static void zeroFill(FileIO.Handle h, long from, long to) throws IOException {
        long pos = from;
        while (pos < to) {
            ByteBuffer z = ZEROS.duplicate();
            z.limit((int) Math.min(z.capacity(), to - pos));
            int n = z.remaining();
            h.write(z, pos);
            pos += n;
        }
    }

    private byte[] readAll(Path path) throws IOException {
        try (FileIO.Handle h = io.open(path, false)) {
            return readAll(h);
        }
    }

    private static byte[] readAll(FileIO.Handle h) throws IOException {
        long size = h.size();
        if (size > Integer.MAX_VALUE - 16) {
            throw new IOException("file too large: " + size + " bytes");
        }
        byte[] buf = new byte[(int) size];
        ByteBuffer bb = ByteBuffer.wrap(buf);
        while (bb.hasRemaining()) {
            if (h.read(bb, bb.position()) < 0) {
                break;
            }
        }
        return bb.position() == buf.length ? buf : Arrays.copyOf(buf, bb.position());
    }

    private Path segmentPath(long base) {
        return dir.resolve(String.format("%s%020d%s", SEGMENT_PREFIX, base, SEGMENT_SUFFIX));
    }

    private Path snapshotPath(long index) {
        return dir.resolve(String.format("%s%020d%s", SNAPSHOT_PREFIX, index, SNAPSHOT_SUFFIX));
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
                    StorageException se = new StorageException("cannot write the log in " + dir + ": " + e.getMessage(), e);
                    fail(se);
                    throw se;
                }
            }
            return readEntries(from, toExclusive, maxBytes);
        } finally {
            rw.writeLock().unlock();
        }
    }

    private List<Entry> readEntries(long from, long toExclusive, long maxBytes) {
        {
            checkOpen();
            if (from < firstIndex || from > toExclusive || toExclusive > lastIndex + 1) {
                throw new IndexOutOfBoundsException("entries [" + from + ", " + toExclusive + ") outside [" + firstIndex
                        + ", " + (lastIndex + 1) + ")");
            }
            List<Entry> out = new ArrayList<>();
            long bytes = 0;
            long i = from;
            int segIdx = segmentFor(from);
            while (i < toExclusive) {
                Segment seg = segments.get(segIdx);
                long end = Math.min(toExclusive, seg.base + seg.count);
                // Read a run of records from this segment in one call, bounded by maxBytes.
                long j = i;
                long runBytes = 0;
                while (j < end) {
                    long rec = seg.endOf(j) - seg.offsetOf(j);
                    long payload = rec - Formats.FRAME_HEADER_SIZE - Formats.PAYLOAD_FIXED_SIZE;
                    if (!out.isEmpty() || j > i) {
                        if (bytes + runBytes + payload > maxBytes) {
                            break;
                        }
                    }
                    runBytes += payload;
                    j++;
                }
                if (j == i) {
                    return out;
                }
                long start = seg.offsetOf(i);
                long stop = seg.endOf(j - 1);
                byte[] buf = new byte[(int) (stop - start)];
                ByteBuffer bb = ByteBuffer.wrap(buf);
                try {
                    while (bb.hasRemaining()) {
                        if (seg.handle.read(bb, start + bb.position()) < 0) {
                            throw new StorageCorruptedException(seg.path, start + bb.position(), "log segment shorter than expected");
                        }
                    }
                } catch (IOException e) {
                    throw new StorageException("cannot read " + seg.path + ": " + e.getMessage(), e);
                }
                for (long k = i; k < j; k++) {
                    int off = (int) (seg.offsetOf(k) - start);
                    int len = (int) (seg.endOf(k) - seg.offsetOf(k));
                    out.add(Formats.decodeFrame(buf, off, len, seg.path, seg.offsetOf(k), k));
                }
                bytes += runBytes;
                i = j;
                if (j < end) {
                    return out;
                }
                segIdx++;
            }
            return out;
        }
    }

    private int segmentFor(long index) {
        int lo = 0;
        int hi = segments.size() - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (segments.get(mid).base <= index) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return lo;
    }

    @Override
    public Optional<Snapshot> latestSnapshot() {
        rw.readLock().lock();
        try {
            return Optional.ofNullable(snapshot);
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
                    StorageException se = new StorageException("cannot write the log in " + dir + ": " + e.getMessage(), e);
                    fail(se);
                    throw se;
                }
            }
            if (hardStateOrNull != null) {
                hardState = hardStateOrNull;
            }
            syncLock.lock();
            try {
                long seq = ++submittedSeq;
                waiters.add(new Waiter(seq, future));
                dirty.addAll(touched);
                if (hardStateOrNull != null) {
                    pendingHardState = hardStateOrNull;
                }
                work.signal();
            } finally {
                syncLock.unlock();
            }
        } finally {
            rw.writeLock().unlock();
        }
        return future;
    }

    private void validate(HardState hs, List<Entry> entries) {
        if (hs != null && hs.term() < hardState.term()) {
            throw new IllegalArgumentException("term may not go backwards: " + hardState.term() + " -> " + hs.term());
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
        boolean deleted = false;
        while (!segments.isEmpty() && segments.get(segments.size() - 1).base >= index) {
            Segment s = segments.remove(segments.size() - 1);
            io.delete(s.path);
            closeLater(s.handle);
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
     * written, and writes one itself only if the background thread failed.
     */
    private Segment createSegment(long base) throws IOException {
        Path path = segmentPath(base);
        boolean useSpare;
        spareLock.lock();
        try {
            while (!spareReady && spareWanted && !spareStop) {
                spareChanged.awaitUninterruptibly();
            }
            useSpare = spareReady;
            spareReady = false;
        } finally {
            spareLock.unlock();
        }
        FileIO.Handle h;
        if (useSpare) {
            io.rename(dir.resolve(SPARE_FILE), path);
            h = io.open(path, false);
        } else {
            h = io.open(path, true);
            h.truncate(0);
            zeroFill(h, 0, segmentSize);
            h.force();
        }
        h.write(ByteBuffer.wrap(Formats.segmentHeader(base)), 0);
        Segment s = new Segment(path, base, h, Formats.SEGMENT_HEADER_SIZE);
        segments.add(s);
        syncLock.lock();
        try {
            dirDirty = true;
        } finally {
            syncLock.unlock();
        }
        requestSpare();
        return s;
    }

    private void requestSpare() {
        spareLock.lock();
        try {
            if (!spareReady) {
                spareWanted = true;
                spareChanged.signalAll();
            }
        } finally {
            spareLock.unlock();
        }
    }

    private void preallocatorLoop() {
        while (true) {
            spareLock.lock();
            try {
                while (!spareWanted && !spareStop) {
                    spareChanged.awaitUninterruptibly();
                }
                if (spareStop) {
                    return;
                }
            } finally {
                spareLock.unlock();
            }
            boolean ok = false;
            try (FileIO.Handle h = io.open(dir.resolve(SPARE_FILE), true)) {
                h.truncate(0);
                // Forced chunk by chunk: an fsync of the log issued meanwhile then waits behind at
                // most one chunk of zeros, not behind the whole segment's dirty pages (measured on
                // a 2-core VM: 3 stores preallocating 64 MiB at once held log fsyncs for ~260 ms,
                // longer than a lease, since nothing is sent while a persist is in flight).
                for (long pos = 0; pos < segmentSize; pos += SPARE_CHUNK) {
                    zeroFill(h, pos, Math.min(segmentSize, pos + SPARE_CHUNK));
                    h.force();
                }
                ok = true;
            } catch (IOException | RuntimeException e) {
                LOG.warn("Could not preallocate the next log segment in {}; it will be written when needed", dir, e);
            }
            spareLock.lock();
            try {
                spareReady = ok;
                spareWanted = false;
                spareChanged.signalAll();
            } finally {
                spareLock.unlock();
            }
        }
    }

    private void closeLater(FileIO.Handle h) {
        syncLock.lock();
        try {
            toClose.add(h);
            dirty.remove(h);
        } finally {
            syncLock.unlock();
        }
    }

    private void writeHardState(HardState hs) throws IOException {
        Path tmp = dir.resolve(HARD_STATE_FILE + TMP_SUFFIX);
        try (FileIO.Handle h = io.open(tmp, true)) {
            h.truncate(0);
            h.write(ByteBuffer.wrap(Formats.encodeHardState(hs)), 0);
            h.force();
        }
        io.rename(tmp, dir.resolve(HARD_STATE_FILE));
        io.syncDirectory(dir);
    }

    // ------------------------------------------------------------------ group commit

    private void writerLoop() {
        while (true) {
            long target;
            List<FileIO.Handle> handles;
            List<FileIO.Handle> closing;
            boolean syncDir;
            HardState hs;
            syncLock.lock();
            try {
                while (durableSeq == submittedSeq && !stopping && toClose.isEmpty()) {
                    work.awaitUninterruptibly();
                }
                if (durableSeq == submittedSeq && stopping && toClose.isEmpty()) {
                    return;
                }
            } finally {
                syncLock.unlock();
            }
            StorageException flushError = null;
            rw.writeLock().lock();
            try {
                syncLock.lock();
                try {
                    target = submittedSeq;
                    handles = new ArrayList<>(dirty);
                    dirty = new LinkedHashSet<>();
                    closing = toClose;
                    toClose = new ArrayList<>();
                    syncDir = dirDirty;
                    dirDirty = false;
                    hs = pendingHardState;
                    pendingHardState = null;
                } finally {
                    syncLock.unlock();
                }
                // Only the last segment can hold buffered records (a roll writes them out).
                if (!segments.isEmpty() && failure == null) {
                    try {
                        segments.get(segments.size() - 1).flush();
                    } catch (IOException | RuntimeException e) {
                        flushError = new StorageException("cannot write the log in " + dir + ": " + e.getMessage(), e);
                        fail(flushError);
                    }
                }
            } finally {
                rw.writeLock().unlock();
            }
            StorageException error = failure;
            if (error == null) {
                try {
                    for (FileIO.Handle h : handles) {
                        h.force();
                    }
                    if (syncDir) {
                        io.syncDirectory(dir);
                    }
                    if (hs != null) {
                        writeHardState(hs);
                    }
                    syncRounds++;
                } catch (IOException | RuntimeException e) {
                    error = new StorageException("fsync failed in " + dir + "; data not known to be durable, the node"
                            + " must restart: " + e.getMessage(), e);
                    fail(error);
                }
            }
            for (FileIO.Handle h : closing) {
                try {
                    h.close();
                } catch (IOException e) {
                    LOG.debug("closing a deleted segment failed", e);
                }
            }
            List<Waiter> done = new ArrayList<>();
            syncLock.lock();
            try {
                if (error == null) {
                    durableSeq = target;
                    while (!waiters.isEmpty() && waiters.peekFirst().seq() <= target) {
                        done.add(waiters.pollFirst());
                    }
                } else {
                    durableSeq = submittedSeq;
                    done.addAll(waiters);
                    waiters.clear();
                }
                work.signalAll();
            } finally {
                syncLock.unlock();
            }
            for (Waiter w : done) {
                if (error == null) {
                    w.future().complete(null);
                } else {
                    w.future().completeExceptionally(error);
                }
            }
        }
    }

    private void fail(StorageException e) {
        if (failure == null) {
            failure = e;
            LOG.error("Storage in {} failed; refusing further writes", dir, e);
        }
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
            checkSnapshotIndex(meta);
        } finally {
            rw.readLock().unlock();
        }
        Path tmp = dir.resolve(String.format("%s%020d-%d%s", SNAPSHOT_PREFIX, meta.lastIndex(),
                snapshotWriters.incrementAndGet(), TMP_SUFFIX));
        byte[] header = Formats.encodeSnapshotHeader(meta);
        FileIO.Handle h = io.open(tmp, true);
        try {
            h.truncate(0);
            h.write(ByteBuffer.wrap(header), 0);
        } catch (IOException | RuntimeException e) {
            h.close();
            io.delete(tmp);
            throw e;
        }
        return new FileSnapshotWriter(meta, tmp, h, header.length);
    }

    private final AtomicLong snapshotWriters = new AtomicLong();

    /** Writes data to a temporary file; commit adds the trailer, fsyncs, renames and installs. */
    private final class FileSnapshotWriter implements SnapshotWriter {
        private final SnapshotMeta meta;
        private final Path tmp;
        private final FileIO.Handle handle;
        private final long headerLength;
        private final HandleOutputStream out;
        private boolean done;

        FileSnapshotWriter(SnapshotMeta meta, Path tmp, FileIO.Handle handle, long headerLength) {
            this.meta = meta;
            this.tmp = tmp;
            this.handle = handle;
            this.headerLength = headerLength;
            this.out = new HandleOutputStream(handle, headerLength);
        }

        @Override
        public void write(byte[] data, int offset, int length) throws IOException {
            if (done) {
                throw new IllegalStateException("snapshot writer already committed or closed");
            }
            out.write(data, offset, length);
        }

        @Override
        public long bytesWritten() {
            return out.count();
        }

        @Override
        public Snapshot commit() throws IOException {
            if (done) {
                throw new IllegalStateException("snapshot writer already committed or closed");
            }
            done = true;
            long dataLength;
            int crc;
            try {
                out.flushBuffer();
                dataLength = out.written();
                crc = out.crc32c();
                handle.write(ByteBuffer.wrap(Formats.encodeSnapshotTrailer(dataLength, crc)), headerLength + dataLength);
                handle.force();
                handle.close();
            } catch (IOException | RuntimeException e) {
                discard();
                throw e;
            }
            Path path = snapshotPath(meta.lastIndex());
            FileSnapshot snap = new FileSnapshot(io, path, meta, headerLength, dataLength, crc);
            try {
                install(snap, tmp);
            } catch (IllegalArgumentException | IllegalStateException e) {
                io.delete(tmp);
                throw e;
            }
            LOG.info("Stored snapshot {}@{} ({} bytes) in {}; log now {}..{}", meta.lastIndex(), meta.lastTerm(),
                    dataLength, dir, firstIndex(), lastIndex());
            return snap;
        }

        private void discard() throws IOException {
            try {
                handle.close();
            } finally {
                io.delete(tmp);
            }
        }

        @Override
        public void close() throws IOException {
            if (!done) {
                done = true;
                discard();
            }
        }
    }

    private void install(FileSnapshot snap, Path tmp) {
        SnapshotMeta meta = snap.meta();
        rw.writeLock().lock();
        try {
            checkOpen();
            checkSnapshotIndex(meta);
            io.rename(tmp, snap.path);
            io.syncDirectory(dir);
            FileSnapshot old = snapshot;
            snapshot = snap;
            long idx = meta.lastIndex();
            boolean covers = lastIndex >= idx && idx >= firstIndex - 1 && termLocked(idx) == meta.lastTerm();
            if (!covers) {
                // Last segment first: power lost part-way leaves a shorter log that still starts
                // where it did (recovery then discards it too), never one with a hole at its start.
                for (int i = segments.size() - 1; i >= 0; i--) {
                    io.delete(segments.get(i).path);
                    closeLater(segments.get(i).handle);
                }
                segments.clear();
                terms.n = 0;
                lastIndex = idx;
            }
            firstIndex = idx + 1;
            deleteSegmentsUpTo(idx, false);
            if (old != null && !old.path.equals(snap.path)) {
                io.delete(old.path);
            }
            io.syncDirectory(dir);
        } catch (IOException e) {
            StorageException se = new StorageException("cannot install snapshot in " + dir + ": " + e.getMessage(), e);
            fail(se);
            throw se;
        } finally {
            rw.writeLock().unlock();
        }
    }

    private void checkSnapshotIndex(SnapshotMeta meta) {
        if (snapshot != null && meta.lastIndex() < snapshot.meta().lastIndex()) {
            throw new IllegalArgumentException("snapshot at index " + meta.lastIndex() + " is older than the stored one at "
                    + snapshot.meta().lastIndex());
        }
    }

    /** Deletes whole segments whose entries are all {@code <= index}. */
    private boolean deleteSegmentsUpTo(long index, boolean recovering) throws IOException {
        boolean any = false;
        while (!segments.isEmpty() && segments.get(0).lastIndex() <= index) {
            Segment s = segments.remove(0);
            io.delete(s.path);
            if (recovering) {
                s.handle.close();
            } else {
                closeLater(s.handle);
            }
            any = true;
        }
        return any;
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
        syncLock.lock();
        try {
            stopping = true;
            work.signalAll();
        } finally {
            syncLock.unlock();
        }
        spareLock.lock();
        try {
            spareStop = true;
            spareChanged.signalAll();
        } finally {
            spareLock.unlock();
        }
        boolean interrupted = false;
        while (preallocator.isAlive()) {
            try {
                preallocator.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        while (writer.isAlive()) {
            try {
                writer.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
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
