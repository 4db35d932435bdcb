package io.haraft.storage;

import io.haraft.core.log.Entry;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The write-ahead log of a {@link FileRaftStorage}: entries {@link #firstIndex()} ..
 * {@link #lastIndex()} in segment files {@code log-<base index>.seg} of CRC32C-framed records, and
 * their terms in memory.
 *
 * <p><b>Guarantees.</b> Appended records are buffered in the newest segment; the
 * {@link GroupCommit} writes them out and forces them. A segment is complete and forced before
 * the next one gets data, so a torn record can only ever be at the end of the last segment. A
 * truncation is durable before anything is appended after it: the manifest is lowered first, then
 * whole segments are deleted (newest first) and the directory forced, then the last kept segment
 * is cut, never overwritten. Entries a snapshot covers are dropped a whole segment at a time,
 * oldest first; a snapshot the log does not contain replaces the whole log, newest segment first,
 * so that power lost part-way never leaves a log with a hole at its start. Starting a segment
 * renames the preallocated spare into place when one is ready ({@link SpareSegment}); otherwise the
 * segment grows with its entries and is left, complete and forced, for the spare once it is ready.
 *
 * <p><b>Threads.</b> Not thread-safe: every method is called under the store's lock (reads under
 * its read lock, everything else under its write lock), which also guards the segment list the
 * writer thread flushes. Deleted segments' files are closed by the writer thread
 * ({@link GroupCommit#closeLater}), never while they are being forced.
 */
final class SegmentLog {
    private static final Logger LOG = LoggerFactory.getLogger(FileRaftStorage.class);

    private final Path dir;
    private final FileIO io;
    private final long segmentSize;
    private final List<Segment> segments;
    private final TermRuns terms;
    private final SnapshotStore snapshots;
    private final ManifestKeeper manifest;
    private final GroupCommit commit;
    private final SpareSegment spare;
    private long firstIndex;
    private long lastIndex;

    /** The log {@code recovered} found; {@code commit} must have been given the same segment list. */
    SegmentLog(Path dir, FileIO io, long segmentSize, LogRecovery recovered, SnapshotStore snapshots,
               ManifestKeeper manifest, GroupCommit commit, SpareSegment spare) {
        this.dir = dir;
        this.io = io;
        this.segmentSize = segmentSize;
        this.segments = recovered.segments;
        this.terms = recovered.terms;
        this.firstIndex = recovered.firstIndex;
        this.lastIndex = recovered.lastIndex;
        this.snapshots = snapshots;
        this.manifest = manifest;
        this.commit = commit;
        this.spare = spare;
        if (!segments.isEmpty()) {
            // A newest segment shorter than a segment was not preallocated (or was cut): it grows.
            segments.get(segments.size() - 1).growing = recovered.lastFileLength < segmentSize;
        }
    }

    /**
     * The end of the log up to the newest segment: the last index of the segment before it (forced
     * when the newest one was started), or 0. The newest segment's own entries are not recorded,
     * so that the manifest need not change as they are appended.
     */
    static long sealedEnd(List<Segment> segments) {
        return segments.size() < 2 ? 0 : segments.get(segments.size() - 2).lastIndex();
    }

    long firstIndex() {
        return firstIndex;
    }

    long lastIndex() {
        return lastIndex;
    }

    /** The term of entry {@code index}; at {@code firstIndex - 1}, the snapshot's last term (0 without one). */
    long term(long index) {
        if (index == firstIndex - 1) {
            FileSnapshot snapshot = snapshots.current();
            return snapshot == null ? 0 : snapshot.meta().lastTerm();
        }
        if (index < firstIndex - 1 || index > lastIndex) {
            throw new IndexOutOfBoundsException("index " + index + " outside [" + (firstIndex - 1) + ", " + lastIndex + "]");
        }
        return terms.termAt(index);
    }

    /** Whether some of the records of entries before {@code toExclusive} are only in memory (see {@link #flushTail}). */
    boolean buffered(long toExclusive) {
        Segment last = segments.isEmpty() ? null : segments.get(segments.size() - 1);
        return !(last == null || last.size == last.flushed || toExclusive <= last.base
                || last.offsetOf(Math.min(toExclusive - 1, last.lastIndex())) < last.flushed);
    }

    /** Writes out the records buffered in the newest segment (to the page cache; not forced). */
    void flushTail() throws IOException {
        if (!segments.isEmpty()) {
            segments.get(segments.size() - 1).flush();
        }
    }

    /** Entries {@code [from, toExclusive)}, as {@link RaftStorage#entries} says; records must have been written out. */
    List<Entry> read(long from, long toExclusive, long maxBytes) {
        if (from < firstIndex || from > toExclusive || toExclusive > lastIndex + 1) {
            throw new IndexOutOfBoundsException("entries [" + from + ", " + toExclusive + ") outside [" + firstIndex
                    + ", " + (lastIndex + 1) + ")");
        }
        return LogReader.read(segments, from, toExclusive, maxBytes);
    }

    /**
     * @throws IllegalArgumentException unless {@code entries} are consecutive, start inside the log
     *                                  or right after it, and have terms that never go down
     */
    void validate(List<Entry> entries) {
        AppendCheck.check(entries, firstIndex, lastIndex, this::term);
    }

    /**
     * Writes {@code entries} (validated), replacing the entries from the first of them on, and
     * adds the handles of the segments written to {@code touched}.
     */
    void write(List<Entry> entries, Set<FileIO.Handle> touched) throws IOException {
        if (entries.isEmpty()) {
            return;
        }
        if (entries.get(0).index() <= lastIndex) {
            truncateFrom(entries.get(0).index());
        }
        append(entries, touched);
    }

    /**
     * Makes the log start after the snapshot {@code meta}, now the current one. If the log contains
     * the snapshot's last entry, the entries it covers are dropped from memory only, a whole segment
     * at a time, and the manifest lowered in memory: the dropped segments are returned, and
     * {@link #deleteCompacted} deletes them once the manifest no longer names them durably (outside
     * the store's lock, so that appends do not wait for those fsyncs). Otherwise the snapshot
     * replaces the whole log here, durably, and nothing is returned: a segment started after it may
     * take the name of one of the old ones, so they must be gone first.
     */
    List<Segment> compactTo(SnapshotMeta meta) throws IOException {
        long idx = meta.lastIndex();
        boolean covers = lastIndex >= idx && idx >= firstIndex - 1 && term(idx) == meta.lastTerm();
        if (!covers) {
            // The manifest names the new snapshot, and no longer the log about to be deleted.
            manifest.lower(m -> m.withFiles(idx, 0, Math.min(m.durableIndex(), idx)));
            // Last segment first: power lost part-way leaves a shorter log that still starts
            // where it did (recovery then discards it too), never one with a hole at its start.
            for (int i = segments.size() - 1; i >= 0; i--) {
                io.delete(segments.get(i).path);
                commit.closeLater(segments.get(i).handle);
            }
            segments.clear();
            terms.n = 0;
            lastIndex = idx;
            firstIndex = idx + 1;
            return List.of();
        }
        UnaryOperator<Manifest> lowering = m -> m.withFiles(idx, segments.stream().anyMatch(x -> x.base
                == m.lastSegmentBase() && x.lastIndex() > idx) ? m.lastSegmentBase() : 0, m.durableIndex());
        firstIndex = idx + 1;
        List<Segment> dropped = new ArrayList<>();
        for (Segment s : segments) {
            if (s.lastIndex() > idx) {
                break;
            }
            dropped.add(s);
        }
        if (dropped.stream().anyMatch(s -> s.count == 0)) {
            // An empty newest segment (left by a crash right after it was started) is named for the
            // next entry: a segment started after the lock is let go would take its name. Then
            // all of it happens here, durably, as for a replaced log.
            manifest.lower(lowering);
            for (Segment s : dropped) {
                io.delete(s.path);
                commit.closeLater(s.handle);
            }
            segments.subList(0, dropped.size()).clear();
            return List.of();
        }
        manifest.lowerInMemory(lowering);
        segments.subList(0, dropped.size()).clear();
        return dropped;
    }

    /**
     * Deletes the files of the segments {@link #compactTo} dropped, oldest first, after making the
     * manifest that no longer names them durable. Called outside the store's lock, by the one
     * snapshot install running: the names of dropped segments are never reused (each holds entries,
     * all at or below the snapshot, and new segments start after the log's end, above it).
     */
    void deleteCompacted(List<Segment> dropped) throws IOException {
        try {
            manifest.makeDurable();
        } catch (IOException | RuntimeException e) {
            dropped.forEach(s -> commit.closeLater(s.handle));   // the store fails; its files stay
            throw e;
        }
        for (Segment s : dropped) {
            io.delete(s.path);
            commit.closeLater(s.handle);
        }
    }

    /** Closes every segment file; the writer thread must have stopped. */
    void closeQuietly() {
        closeQuietly(segments);
    }

    /** Closes the files of {@code segments}; a failure is logged at DEBUG. */
    static void closeQuietly(List<Segment> segments) {
        for (Segment s : segments) {
            try {
                s.handle.close();
            } catch (IOException e) {
                LOG.debug("closing {} failed", s.path, e);
            }
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
                    s.growing = true;
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
            if (active == null || (active.count > 0 && (active.size + Formats.frameSize(entries.get(i)) > segmentSize
                    || (active.growing && spare.ready())))) {
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
     * cheaper. A background thread keeps one spare file ready, and this renames it into place. If
     * none is ready (the log filled a segment faster than the disk wrote the zeros beside it, or
     * the free space is too low to preallocate), it never waits for one: the segment grows as
     * entries are appended, and {@link #append} leaves it for the spare as soon as one is ready.
     */
    private Segment createSegment(long base) throws IOException {
        Path path = DataDir.segmentPath(dir, base);
        FileIO.Handle h;
        boolean preallocated = spare.take();
        if (preallocated) {
            io.rename(spare.file(), path);
            h = io.open(path, false);
        } else {
            h = io.open(path, true);
            h.truncate(0);
        }
        h.write(ByteBuffer.wrap(Formats.segmentHeader(base)), 0);
        Segment s = new Segment(path, base, h, Formats.SEGMENT_HEADER_SIZE);
        s.growing = !preallocated;
        segments.add(s);
        commit.segmentStarted();
        spare.request();
        return s;
    }
}
