package io.haraft.storage;

import io.haraft.core.HardState;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Recovery of a data directory at open: checks that the directory belongs to the configured
 * cluster and node and that every file its {@link Manifest} names is there, reads the hard state,
 * the newest snapshot and every log segment, repairs what a crash can leave (a torn last write, a
 * segment whose creation was interrupted, files a snapshot superseded) and refuses anything else.
 * Then makes what it found durable and records it in a new manifest.
 *
 * <p>Nothing is changed in the directory before the identity and missing-file checks pass.
 */
final class LogRecovery {
    private static final Logger LOG = LoggerFactory.getLogger(FileRaftStorage.class);

    private final Path dir;
    private final FileIO io;
    private final String clusterId;
    private final String nodeId;

    final List<Segment> segments = new ArrayList<>();
    final TermRuns terms = new TermRuns();
    final List<String> warnings = new ArrayList<>();
    HardState hardState;
    /** The hard state file, open for updates once recovery succeeded. */
    HardStateFile hardStateFile;
    FileSnapshot snapshot;
    long firstIndex;
    long lastIndex;
    /** The length of the newest segment's file (data and any preallocated zeros after it). */
    long lastFileLength;
    /** The manifest written at the end of recovery. */
    Manifest manifest;

    LogRecovery(Path dir, FileIO io, String clusterId, String nodeId) {
        this.dir = dir;
        this.io = io;
        this.clusterId = clusterId;
        this.nodeId = nodeId;
    }

    void run() throws IOException {
        List<String> names = new ArrayList<>(io.list(dir));
        Collections.sort(names);
        Manifest recorded = Manifest.read(io, dir);
        checkIdentity(recorded);
        List<String> temporary = new ArrayList<>();
        List<Long> segmentBases = new ArrayList<>();
        List<Long> snapshotIndexes = new ArrayList<>();
        for (String name : names) {
            if (name.endsWith(DataDir.TMP_SUFFIX)) {
                temporary.add(name);
            } else if (name.startsWith(DataDir.SEGMENT_PREFIX) && name.endsWith(DataDir.SEGMENT_SUFFIX)) {
                segmentBases.add(DataDir.parseNumber(name, DataDir.SEGMENT_PREFIX, DataDir.SEGMENT_SUFFIX));
            } else if (name.startsWith(DataDir.SNAPSHOT_PREFIX) && name.endsWith(DataDir.SNAPSHOT_SUFFIX)) {
                snapshotIndexes.add(DataDir.parseNumber(name, DataDir.SNAPSHOT_PREFIX, DataDir.SNAPSHOT_SUFFIX));
            } else if (!name.equals(DataDir.LOCK_FILE) && !name.equals(DataDir.HARD_STATE_FILE)
                    && !name.equals(DataDir.MANIFEST_FILE)) {
                warn("Ignoring unexpected file " + name + " in data directory " + dir);
            }
        }
        Collections.sort(segmentBases);
        Collections.sort(snapshotIndexes);
        Path hsPath = dir.resolve(DataDir.HARD_STATE_FILE);
        boolean hasHardState = io.exists(hsPath);
        if (recorded != null) {
            checkNothingMissing(recorded, hasHardState, segmentBases, snapshotIndexes);
        }
        boolean removed = false;
        for (String name : temporary) {
            LOG.info("Removing {} left by an interrupted write in {}", name, dir);
            io.delete(dir.resolve(name));
            removed = true;
        }

        HardStateFile.Loaded loadedHardState = hasHardState ? HardStateFile.read(io, hsPath) : null;
        hardState = loadedHardState == null ? HardState.INITIAL : loadedHardState.state();
        if (loadedHardState != null && loadedHardState.problem() != null) {
            warn("Hard state file " + hsPath + ": " + loadedHardState.problem() + "; using slot "
                    + loadedHardState.slot() + ": term " + hardState.term() + ", vote " + hardState.votedFor()
                    + " (sequence " + loadedHardState.seq() + ")");
        }

        // Snapshot: the newest one is authoritative; older ones are leftovers of a crash.
        snapshot = SnapshotStore.loadNewest(io, dir, snapshotIndexes);
        removed |= SnapshotStore.deleteSuperseded(io, dir, snapshotIndexes);
        long snapIndex = snapshot == null ? 0 : snapshot.meta().lastIndex();
        long snapTerm = snapshot == null ? 0 : snapshot.meta().lastTerm();
        long durable = recorded == null ? 0 : recorded.durableIndex();

        // Segments, in order; each must continue the previous one.
        long expected = -1;
        long prevTerm = 0;
        for (int i = 0; i < segmentBases.size(); i++) {
            long base = segmentBases.get(i);
            Path path = DataDir.segmentPath(dir, base);
            boolean last = i == segmentBases.size() - 1;
            FileIO.Handle h = io.open(path, false);
            byte[] buf;
            try {
                buf = DataDir.readAll(h);
            } catch (IOException | RuntimeException e) {
                h.close();
                throw e;
            }
            if (last && Formats.isTornSegmentCreation(buf, base)) {
                h.close();
                warn("Deleting log segment " + path + ": its header was not completely written before a"
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
            lastFileLength = buf.length;
            checkSegmentHeader(seg, buf);
            if (expected >= 0 && base != expected) {
                if (base <= snapIndex + 1) {
                    // Earlier segments were being deleted after a snapshot when the node stopped.
                    dropSegmentsBefore(seg);
                    removed = true;
                } else {
                    throw new StorageFilesMissingException(dir, List.of(DataDir.segmentPath(dir, expected)),
                            List.of("log segment holding entries " + expected + ".." + (base - 1) + ": the next"
                                    + " segment starts at index " + base + " but the previous one ends at index "
                                    + (expected - 1)));
                }
            }
            if (segments.size() == 1 && base != 1 && base > snapIndex + 1) {
                throw new StorageCorruptedException(path, 0, "log starts at index " + base + " but "
                        + (snapshot == null ? "there is no snapshot" : "the snapshot ends at index " + snapIndex)
                        + " (entries missing: a log segment or the snapshot was deleted)");
            }
            if (segments.size() == 1) {
                prevTerm = 0;
            }
            prevTerm = scanSegment(seg, buf, last, prevTerm);
            expected = seg.base + seg.count;
        }
        long reached = Math.max(snapIndex, segments.isEmpty() ? 0 : expected - 1);
        if (reached < durable) {
            throw new StorageFilesMissingException(dir, List.of(DataDir.segmentPath(dir, reached + 1)),
                    List.of("log segment holding entries " + (reached + 1) + ".." + durable + ": the log ends at index "
                            + reached + ", but this node had made entries up to " + durable + " durable"));
        }
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
            while (!segments.isEmpty() && segments.get(0).lastIndex() <= snapIndex) {
                Segment s = segments.remove(0);
                s.handle.close();
                io.delete(s.path);
                removed = true;
            }
        }
        // The term never goes backwards: the log or snapshot may have reached the disk while the
        // hard state of the same unacknowledged batch did not.
        long maxTerm = Math.max(snapTerm, terms.lastTerm());
        boolean raise = hardState.term() < maxTerm;
        if (raise) {
            LOG.info("Raising term in {} from {} to {}, the last term in the log (a crash interrupted a batch)",
                    dir, hardState.term(), maxTerm);
            hardState = hardState.withTerm(maxTerm);
        }
        if (loadedHardState == null || loadedHardState.singleRecord()) {
            // The manifest below says it exists; a single-record file is converted once, atomically.
            hardStateFile = HardStateFile.create(io, dir, hardState);
            if (loadedHardState != null) {
                LOG.info("Converted hard state file {} from format {} to format {} (term {})", hsPath,
                        loadedHardState.version(), Formats.HARD_STATE_VERSION, hardState.term());
            }
        } else {
            hardStateFile = HardStateFile.open(io, hsPath, loadedHardState);
            if (raise || loadedHardState.rewrite()) {
                hardStateFile.write(hardState);
            }
        }
        if (removed) {
            io.syncDirectory(dir);
        }
        recordManifest(recorded, names);
        LOG.info("Opened {}: term {}, log {}..{}, snapshot {}", dir, hardState.term(), firstIndex, lastIndex,
                snapshot == null ? "none" : snapIndex + "@" + snapTerm);
    }

    /** Refuses a directory recorded for another cluster or node than the configured one, before touching it. */
    private void checkIdentity(Manifest recorded) {
        if (recorded == null) {
            return;
        }
        boolean otherCluster = clusterId != null && recorded.clusterId() != null
                && !clusterId.equals(recorded.clusterId());
        boolean otherNode = nodeId != null && recorded.nodeId() != null && !nodeId.equals(recorded.nodeId());
        if (!otherCluster && !otherNode) {
            return;
        }
        throw new StorageIdentityException(dir, "Data directory " + dir + " belongs to node \"" + recorded.nodeId()
                + "\" of cluster \"" + recorded.clusterId() + "\" (recorded in " + dir.resolve(DataDir.MANIFEST_FILE)
                + " when it was first used), but this node is configured as node \"" + nodeId + "\" of cluster \""
                + clusterId + "\". A data directory holds one node's votes and log: starting another "
                + (otherCluster ? "cluster's" : "node's") + " node on it would mix two histories and can lose"
                + " committed writes. Point dataDir at this node's own directory; for a node that is new to the"
                + " cluster, use an empty directory (and add it as a member on the leader). Nothing was changed in "
                + dir + ".");
    }

    /** Refuses the directory if a file the manifest names is gone, naming every one of them. */
    private void checkNothingMissing(Manifest m, boolean hasHardState, List<Long> segmentBases,
                                     List<Long> snapshotIndexes) {
        List<Path> missing = new ArrayList<>();
        List<String> why = new ArrayList<>();
        if (!hasHardState) {
            missing.add(dir.resolve(DataDir.HARD_STATE_FILE));
            why.add("this node's term and vote");
        }
        long newestSnapshot = snapshotIndexes.isEmpty() ? 0 : snapshotIndexes.get(snapshotIndexes.size() - 1);
        if (m.snapshotIndex() > 0 && newestSnapshot < m.snapshotIndex()) {
            missing.add(DataDir.snapshotPath(dir, m.snapshotIndex()));
            why.add("the snapshot of the entries up to index " + m.snapshotIndex());
        }
        // A snapshot newer than the manifest knows may have replaced the whole log before a crash.
        if (m.lastSegmentBase() > 0 && !segmentBases.contains(m.lastSegmentBase())
                && newestSnapshot <= m.snapshotIndex()) {
            missing.add(DataDir.segmentPath(dir, m.lastSegmentBase()));
            why.add("the newest log segment, entries from index " + m.lastSegmentBase() + " on");
        }
        if (!missing.isEmpty()) {
            throw new StorageFilesMissingException(dir, missing, why);
        }
    }

    /**
     * Makes everything recovered durable (a previous process may have written it without an fsync
     * before it died), then writes the manifest that records it, with the configured identity.
     */
    private void recordManifest(Manifest recorded, List<String> names) throws IOException {
        for (Segment s : segments) {
            s.handle.force();
        }
        hardStateFile.force();
        io.syncDirectory(dir);
        Manifest m = recorded;
        if (m == null) {
            boolean fresh = names.stream().allMatch(n -> n.equals(DataDir.LOCK_FILE) || n.endsWith(DataDir.TMP_SUFFIX));
            m = Manifest.create(clusterId, nodeId);
            if (fresh) {
                LOG.info("New data directory {} for node {} of cluster {} (storage id {})", dir, nodeId, clusterId,
                        m.storageId());
            } else {
                LOG.info("Data directory {} has no manifest (written by an older HA-Raft): recording that it belongs"
                        + " to node {} of cluster {} and what it holds (storage id {})", dir, nodeId, clusterId,
                        m.storageId());
            }
        }
        if ((clusterId != null && !Objects.equals(m.clusterId(), clusterId))
                || (nodeId != null && !Objects.equals(m.nodeId(), nodeId))) {
            m = m.withIdentity(clusterId != null ? clusterId : m.clusterId(), nodeId != null ? nodeId : m.nodeId());
        }
        long snap = snapshot == null ? 0 : snapshot.meta().lastIndex();
        manifest = m.withFiles(snap, segments.isEmpty() ? 0 : segments.get(segments.size() - 1).base,
                Math.max(snap, SegmentLog.sealedEnd(segments)));
        manifest.write(io, dir);
    }

    private void warn(String message) {
        warnings.add(message);
        LOG.warn("{}", message);
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

    /** Closes every segment opened so far (recovery failed). */
    void closeQuietly() {
        SegmentLog.closeQuietly(segments);
        if (hardStateFile != null) {
            try {
                hardStateFile.close();
            } catch (IOException e) {
                LOG.debug("closing {} failed", hardStateFile.path(), e);
            }
        }
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
                warn("Log segment " + seg.path + ": truncating a torn tail at offset " + pos + ": cutting "
                        + (zeroTail - pos) + " bytes (" + torn + "), left by a write that was interrupted by a crash"
                        + " and never reported durable; the log now ends at entry " + (expected - 1));
                DataDir.zeroFill(seg.handle, pos, zeroTail);
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
}
