package io.haraft.storage;

import io.haraft.core.HardState;
import io.haraft.core.log.Entry;
import io.haraft.core.quorum.Membership;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;
import java.util.zip.CRC32C;

/**
 * On-disk formats, all big-endian. Version 1 of log segments; version 3 of hard state, two
 * fixed-size slots updated in place (see {@link HardStateFile}), which still reads the single-record
 * versions 2 (with the promised stickiness) and 1 (without: read as 0, the node's own election
 * timeout) and converts them at start; version 2 of snapshots, which record the whole configuration
 * (members, addresses, roles), and still read version 1, which recorded member ids only.
 *
 * <pre>
 * log segment  = header record*
 *   header     = magic "HRLG" (int) | version (int) | base index (long) | crc32c of the previous 16 bytes (int)
 *   record     = length (int) | ~length (int) | crc32c(payload) (int) | payload
 *   payload    = index (long) | term (long) | kind (byte: 0 command, 1 noop) | data
 * hard state   = slot 0 | slot 1, each exactly 4096 bytes (the file is 8192 bytes)
 *   slot       = magic "HRHS" (int) | version 3 (int) | sequence (long) | term (long)
 *                | stickiness (long, nanoseconds) | vote length (int, -1 = none) | vote UTF-8
 *                | zeros up to byte 4092 | crc32c of the slot's first 4092 bytes (int)
 *   the valid slot with the larger sequence number holds the hard state
 *   version 2 (read only, converted) = magic "HRHS" | version 2 | term (long) | vote length (int, -1 = none)
 *                | vote UTF-8 | stickiness (long, nanoseconds) | crc32c of all before (int)
 *   version 1 (read only, converted) had no stickiness
 * snapshot     = magic "HRSN" | version 2 | last index (long) | last term (long)
 *                | configuration length (int, -1 = none) | configuration (Membership.encode())
 *                | crc32c of the header so far (int)
 *                | data | data length (long) | crc32c(data) (int) | end magic "HRSE" (int)
 *   version 1 (read only) had, instead of the configuration, member count (int) | (length (int) | UTF-8 id)*
 * </pre>
 * The length is stored twice (plain and inverted) so that a damaged length is recognised as damage,
 * never mistaken for a record cut short by a crash.
 */
final class Formats {
    static final int VERSION = 1;
    /**
     * The hard state format written: two slots; {@link #HARD_STATE_VERSION_SINGLE} and
     * {@link #HARD_STATE_VERSION_NO_STICKINESS} are still read (and converted at start).
     */
    static final int HARD_STATE_VERSION = 3;
    /** The second hard state format: one record with term, vote and stickiness, replaced by renaming. */
    static final int HARD_STATE_VERSION_SINGLE = 2;
    /** The first hard state format: term and vote, without the promised stickiness. */
    static final int HARD_STATE_VERSION_NO_STICKINESS = 1;
    /** The snapshot format written; {@link #SNAPSHOT_VERSION_IDS_ONLY} is still read. */
    static final int SNAPSHOT_VERSION = 2;
    /** The first snapshot format: member ids without addresses or roles. */
    static final int SNAPSHOT_VERSION_IDS_ONLY = 1;
    static final int SEGMENT_MAGIC = 0x48524C47; // HRLG
    static final int HARD_STATE_MAGIC = 0x48524853; // HRHS
    static final int SNAPSHOT_MAGIC = 0x4852534E; // HRSN
    static final int SNAPSHOT_END_MAGIC = 0x48525345; // HRSE
    static final int SEGMENT_HEADER_SIZE = 20;
    static final int FRAME_HEADER_SIZE = 12;
    static final int PAYLOAD_FIXED_SIZE = 17;
    static final int SNAPSHOT_TRAILER_SIZE = 16;
    /** Size of one hard state slot: a whole page and (on 512-byte and 4 KiB sector disks) whole sectors. */
    static final int HARD_STATE_SLOT_SIZE = 4096;
    /** Size of the hard state file: two slots. */
    static final int HARD_STATE_FILE_SIZE = 2 * HARD_STATE_SLOT_SIZE;
    /** Bytes of a slot before the vote: magic, version, sequence, term, stickiness, vote length. */
    private static final int SLOT_FIXED_SIZE = 36;
    /** Longest vote (node id, UTF-8) a slot holds. */
    static final int HARD_STATE_MAX_VOTE_BYTES = HARD_STATE_SLOT_SIZE - SLOT_FIXED_SIZE - 4;

    private Formats() {
    }

    static int crc(byte[] b, int off, int len) {
        CRC32C c = new CRC32C();
        c.update(b, off, len);
        return (int) c.getValue();
    }

    static int crc(ByteBuffer b) {
        CRC32C c = new CRC32C();
        c.update(b);
        return (int) c.getValue();
    }

    static byte[] segmentHeader(long baseIndex) {
        ByteBuffer b = ByteBuffer.allocate(SEGMENT_HEADER_SIZE);
        b.putInt(SEGMENT_MAGIC).putInt(VERSION).putLong(baseIndex);
        b.putInt(crc(b.array(), 0, 16));
        return b.array();
    }

    static int frameSize(Entry e) {
        return FRAME_HEADER_SIZE + PAYLOAD_FIXED_SIZE + e.size();
    }

    /** Appends the framed record of {@code e} to {@code out}. */
    static void putFrame(ByteBuffer out, Entry e) {
        int len = PAYLOAD_FIXED_SIZE + e.size();
        int start = out.position();
        out.putInt(len).putInt(~len).putInt(0);
        int payloadStart = out.position();
        out.putLong(e.index()).putLong(e.term()).put(kindByte(e.kind())).put(e.data());
        ByteBuffer payload = out.duplicate().position(payloadStart).limit(out.position());
        out.putInt(start + 8, crc(payload));
    }

    private static final int CRC32C_POLY_REFLECTED = 0x82F63B78;

    /**
     * Whether one flipped bit (in the payload {@code buf[off, off + len)} or in the stored checksum)
     * explains why the payload does not match {@code stored}. CRC32C is affine, so the difference
     * of checksums depends only on the flipped bit; walking the register from the last bit backwards
     * visits every single-bit difference once.
     */
    static boolean singleBitFlip(byte[] buf, int off, int len, int stored) {
        return flippedByte(buf, off, len, stored) != NO_FLIP;
    }

    /** {@link #flippedByte}: no single flipped bit explains the mismatch. */
    static final int NO_FLIP = -1;
    /** {@link #flippedByte}: a flipped bit in the stored checksum explains the mismatch. */
    static final int FLIP_IN_CHECKSUM = -2;

    /**
     * Where one flipped bit would explain why the payload {@code buf[off, off + len)} does not match
     * {@code stored}: the index in {@code buf} of the byte holding it, {@link #FLIP_IN_CHECKSUM}, or
     * {@link #NO_FLIP}. Step {@code d} of the walk is bit {@code 7 - d % 8} of the byte {@code d / 8}
     * from the end (the reflected CRC takes each byte's lowest bit first).
     */
    static int flippedByte(byte[] buf, int off, int len, int stored) {
        int syndrome = crc(buf, off, len) ^ stored;
        if (Integer.bitCount(syndrome) == 1) {
            return FLIP_IN_CHECKSUM;
        }
        int r = CRC32C_POLY_REFLECTED;
        for (long d = 0; d < 8L * len; d++) {
            if (r == syndrome) {
                return off + len - 1 - (int) (d / 8);
            }
            r = (r >>> 1) ^ ((r & 1) != 0 ? CRC32C_POLY_REFLECTED : 0);
        }
        return NO_FLIP;
    }

    static Entry.Kind kind(byte b) {
        return switch (b) {
            case 0 -> Entry.Kind.COMMAND;
            case 1 -> Entry.Kind.NOOP;
            case 2 -> Entry.Kind.CONFIG;
            default -> null;
        };
    }

    static byte kindByte(Entry.Kind k) {
        return switch (k) {
            case COMMAND -> 0;
            case NOOP -> 1;
            case CONFIG -> 2;
        };
    }

    /** Decodes the frame at {@code off} in {@code buf}, verifying it; throws if damaged. */
    static Entry decodeFrame(byte[] buf, int off, int avail, Path file, long fileOffset, long expectedIndex) {
        if (avail < FRAME_HEADER_SIZE) {
            throw new StorageCorruptedException(file, fileOffset, "record shorter than its header");
        }
        ByteBuffer b = ByteBuffer.wrap(buf, off, avail);
        int len = b.getInt();
        int inv = b.getInt();
        int crc = b.getInt();
        if (len != ~inv || len < PAYLOAD_FIXED_SIZE || len > avail - FRAME_HEADER_SIZE) {
            throw new StorageCorruptedException(file, fileOffset, "record length damaged");
        }
        if (crc(buf, off + FRAME_HEADER_SIZE, len) != crc) {
            throw new StorageCorruptedException(file, fileOffset, "record checksum mismatch on read");
        }
        long index = b.getLong();
        long term = b.getLong();
        Entry.Kind kind = kind(b.get());
        if (index != expectedIndex || kind == null) {
            throw new StorageCorruptedException(file, fileOffset,
                    "record holds index " + index + " where " + expectedIndex + " was expected");
        }
        byte[] data = new byte[len - PAYLOAD_FIXED_SIZE];
        b.get(data);
        return Entry.of(index, term, kind, data);
    }

    /** The vote of {@code hs} as stored: UTF-8, empty if none. */
    static byte[] voteBytes(HardState hs) {
        return hs.votedFor() == null ? new byte[0] : hs.votedFor().getBytes(StandardCharsets.UTF_8);
    }

    /**
     * One hard state slot (format 3) holding {@code hs} with sequence number {@code seq}: exactly
     * {@link #HARD_STATE_SLOT_SIZE} bytes.
     *
     * @throws IllegalArgumentException if the vote is longer than {@link #HARD_STATE_MAX_VOTE_BYTES}
     */
    static byte[] encodeHardStateSlot(long seq, HardState hs) {
        byte[] vote = voteBytes(hs);
        if (vote.length > HARD_STATE_MAX_VOTE_BYTES) {
            throw new IllegalArgumentException("vote for a node id of " + vote.length + " bytes: at most "
                    + HARD_STATE_MAX_VOTE_BYTES + " are stored");
        }
        ByteBuffer b = ByteBuffer.allocate(HARD_STATE_SLOT_SIZE);
        b.putInt(HARD_STATE_MAGIC).putInt(HARD_STATE_VERSION).putLong(seq).putLong(hs.term()).putLong(hs.stickiness())
                .putInt(hs.votedFor() == null ? -1 : vote.length).put(vote);
        b.putInt(HARD_STATE_SLOT_SIZE - 4, crc(b.array(), 0, HARD_STATE_SLOT_SIZE - 4));
        return b.array();
    }

    /**
     * A valid hard state slot: its sequence number and the hard state it holds; {@code repaired}
     * says where one flipped bit was corrected in it, or is {@code null} if it was intact.
     */
    record HardStateSlot(long seq, HardState state, String repaired) { }

    /**
     * Decodes slot {@code slot} (0 or 1) of the format-3 hard state file {@code b}. A slot whose
     * checksum does not match is corrected if one flipped bit explains the mismatch (and the
     * corrected slot is a valid one); otherwise it is invalid (torn by a crash, or damaged): the
     * result is {@code null} and {@code why[0]} says why.
     *
     * @throws StorageFormatException    if the slot is intact but of a format version this build does not read
     * @throws StorageCorruptedException if the slot is intact but its fields are impossible (no crash writes that)
     */
    static HardStateSlot decodeHardStateSlot(byte[] b, int slot, Path file, String[] why) {
        int off = slot * HARD_STATE_SLOT_SIZE;
        int len = HARD_STATE_SLOT_SIZE - 4;
        int stored = ByteBuffer.wrap(b, off + len, 4).getInt();
        if (crc(b, off, len) == stored) {
            return decodeIntactSlot(b, off, slot, file, null);
        }
        int flipped = flippedByte(b, off, len, stored);
        if (flipped == FLIP_IN_CHECKSUM) {
            return decodeRepaired(b, off, slot, file, "a flipped bit in its checksum", why);
        }
        if (flipped >= 0) {
            byte[] copy = b.clone();
            for (int bit = 0; bit < 8; bit++) {
                copy[flipped] = (byte) (b[flipped] ^ (1 << bit));
                if (crc(copy, off, len) == stored) {
                    return decodeRepaired(copy, off, slot, file, "a flipped bit at offset " + flipped, why);
                }
            }
        }
        int version = ByteBuffer.wrap(b, off + VERSION_OFFSET, 4).getInt();
        if (version != HARD_STATE_VERSION) {
            byte[] copy = b.clone();
            ByteBuffer.wrap(copy).putInt(off + VERSION_OFFSET, HARD_STATE_VERSION);
            if (crc(copy, off, len) == stored) {
                why[0] = "format version field damaged: it reads " + version + ", but the checksum matches version "
                        + HARD_STATE_VERSION;
                return null;
            }
        }
        why[0] = ByteBuffer.wrap(b, off, 4).getInt() != HARD_STATE_MAGIC ? "bad magic number and checksum mismatch"
                : "checksum mismatch";
        return null;
    }

    private static HardStateSlot decodeRepaired(byte[] b, int off, int slot, Path file, String where, String[] why) {
        try {
            return decodeIntactSlot(b, off, slot, file, where);
        } catch (StorageException e) {
            why[0] = "checksum mismatch";
            return null;
        }
    }

    private static HardStateSlot decodeIntactSlot(byte[] b, int off, int slot, Path file, String repaired) {
        ByteBuffer buf = ByteBuffer.wrap(b, off, HARD_STATE_SLOT_SIZE).slice();
        if (buf.getInt() != HARD_STATE_MAGIC) {
            throw new StorageCorruptedException(file, off, "hard state slot " + slot + " has a valid checksum but a bad"
                    + " magic number");
        }
        int version = buf.getInt();
        if (version != HARD_STATE_VERSION) {
            throw new StorageFormatException(file, "hard state", version, HARD_STATE_VERSION_NO_STICKINESS,
                    HARD_STATE_VERSION);
        }
        long seq = buf.getLong();
        long term = buf.getLong();
        long stickiness = buf.getLong();
        int voteLen = buf.getInt();
        if (seq < 0 || term < 0 || stickiness < 0 || voteLen < -1 || voteLen > HARD_STATE_MAX_VOTE_BYTES) {
            throw new StorageCorruptedException(file, off + 8L, "hard state slot " + slot + " fields inconsistent"
                    + " (sequence " + seq + ", term " + term + ", stickiness " + stickiness + ", vote length " + voteLen
                    + ")");
        }
        String vote = voteLen < 0 ? null : new String(b, off + SLOT_FIXED_SIZE, voteLen, StandardCharsets.UTF_8);
        return new HardStateSlot(seq, new HardState(term, vote, stickiness), repaired);
    }

    /**
     * Decodes a single-record hard state file of format 2, or of format 1 (which records no
     * stickiness: read as 0).
     */
    static HardState decodeSingleRecordHardState(byte[] b, Path file) {
        if (b.length < 24) {
            throw new StorageCorruptedException(file, b.length, "hard state file is too short (" + b.length + " bytes)");
        }
        ByteBuffer buf = ByteBuffer.wrap(b);
        int magic = buf.getInt();
        if (magic != HARD_STATE_MAGIC) {
            throw new StorageCorruptedException(file, 0, "not an HA-Raft hard state file (bad magic number)");
        }
        int version = buf.getInt();
        if (version != HARD_STATE_VERSION_SINGLE && version != HARD_STATE_VERSION_NO_STICKINESS) {
            throw unknownVersion(b, file, "hard state", version, HARD_STATE_VERSION_NO_STICKINESS, HARD_STATE_VERSION,
                    copy -> crc(copy, 0, copy.length - 4) == ByteBuffer.wrap(copy, copy.length - 4, 4).getInt());
        }
        if (crc(b, 0, b.length - 4) != ByteBuffer.wrap(b, b.length - 4, 4).getInt()) {
            throw new StorageCorruptedException(file, b.length - 4, "hard state checksum mismatch");
        }
        long term = buf.getLong();
        int voteLen = buf.getInt();
        int stickinessBytes = version == HARD_STATE_VERSION_SINGLE ? 8 : 0;
        if (voteLen < -1 || 20L + Math.max(voteLen, 0) + stickinessBytes + 4 != b.length || term < 0) {
            throw new StorageCorruptedException(file, 16, "hard state fields inconsistent");
        }
        String vote = voteLen < 0 ? null : new String(b, 20, voteLen, StandardCharsets.UTF_8);
        long stickiness = 0;
        if (version == HARD_STATE_VERSION_SINGLE) {
            stickiness = ByteBuffer.wrap(b, 20 + Math.max(voteLen, 0), 8).getLong();
            if (stickiness < 0) {
                throw new StorageCorruptedException(file, 20L + Math.max(voteLen, 0), "hard state stickiness "
                        + stickiness + " is negative");
            }
        }
        return new HardState(term, vote, stickiness);
    }

    /** Where every file's format version is: right after its magic number. */
    static final int VERSION_OFFSET = 4;

    /**
     * The error for a file whose version field, at {@link #VERSION_OFFSET} in {@code head}, reads
     * {@code version}, which this build does not read: corruption if writing a version it reads
     * there makes the file's own checksum match ({@code checksumOk}; a flipped bit in the field),
     * otherwise {@link StorageFormatException} (a file from another, probably newer, HA-Raft).
     */
    static StorageException unknownVersion(byte[] head, Path file, String kind, int version, int oldest, int newest,
                                           java.util.function.Predicate<byte[]> checksumOk) {
        for (int v = oldest; v <= newest; v++) {
            byte[] copy = head.clone();
            ByteBuffer.wrap(copy).putInt(VERSION_OFFSET, v);
            if (checksumOk.test(copy)) {
                return new StorageCorruptedException(file, VERSION_OFFSET, kind + " format version field damaged: it"
                        + " reads " + version + ", but the checksum matches version " + v);
            }
        }
        return new StorageFormatException(file, kind, version, oldest, newest);
    }

    static byte[] encodeSnapshotHeader(SnapshotMeta meta) {
        byte[] config = meta.membership().map(Membership::encode).orElse(null);
        int size = 4 + 4 + 8 + 8 + 4 + (config == null ? 0 : config.length) + 4;
        ByteBuffer b = ByteBuffer.allocate(size);
        b.putInt(SNAPSHOT_MAGIC).putInt(SNAPSHOT_VERSION).putLong(meta.lastIndex()).putLong(meta.lastTerm());
        if (config == null) {
            b.putInt(-1);
        } else {
            b.putInt(config.length).put(config);
        }
        b.putInt(crc(b.array(), 0, b.position()));
        return b.array();
    }

    /** A snapshot header read back: what it says and how many bytes it takes. */
    record SnapshotHeader(SnapshotMeta meta, int length) { }

    /**
     * Decodes and verifies the snapshot header at the start of {@code head} (format 2, or format 1,
     * whose member ids carry no addresses or roles and give an unknown configuration).
     *
     * @throws StorageCorruptedException if the header is damaged or cut short
     * @throws StorageFormatException    if its version is one this build does not read
     */
    static SnapshotHeader decodeSnapshotHeader(byte[] head, Path path) {
        ByteBuffer b = ByteBuffer.wrap(head);
        try {
            if (b.getInt() != SNAPSHOT_MAGIC) {
                throw new StorageCorruptedException(path, 0, "not an HA-Raft snapshot (bad magic number)");
            }
            int version = b.getInt();
            if (version != SNAPSHOT_VERSION && version != SNAPSHOT_VERSION_IDS_ONLY) {
                throw unknownVersion(head, path, "snapshot", version, SNAPSHOT_VERSION_IDS_ONLY, SNAPSHOT_VERSION, copy -> {
                    try {
                        decodeSnapshotHeader(copy, path);
                        return true;
                    } catch (StorageException e) {
                        return false;
                    }
                });
            }
            long lastIndex = b.getLong();
            long lastTerm = b.getLong();
            Optional<Membership> membership;
            if (version == SNAPSHOT_VERSION_IDS_ONLY) {
                skipMemberIds(b, path);
                membership = Optional.empty();
            } else {
                int n = b.getInt();
                if (n < -1 || n > b.remaining()) {
                    throw new StorageCorruptedException(path, b.position() - 4, "snapshot configuration length damaged");
                }
                byte[] config = new byte[Math.max(n, 0)];
                b.get(config);
                membership = n < 0 ? Optional.empty() : Optional.of(Membership.decode(config));
            }
            int stored = b.getInt();
            if (crc(head, 0, b.position() - 4) != stored) {
                throw new StorageCorruptedException(path, b.position() - 4, "snapshot header checksum mismatch");
            }
            return new SnapshotHeader(new SnapshotMeta(lastIndex, lastTerm, membership), b.position());
        } catch (java.nio.BufferUnderflowException | IllegalArgumentException e) {
            throw new StorageCorruptedException(path, b.position(), "snapshot header damaged or cut short");
        }
    }

    private static void skipMemberIds(ByteBuffer b, Path path) {
        int count = b.getInt();
        if (count < 0 || count > 10_000) {
            throw new StorageCorruptedException(path, 24, "snapshot member count " + count + " is impossible");
        }
        for (int i = 0; i < count; i++) {
            int n = b.getInt();
            if (n < 0 || n > b.remaining()) {
                throw new StorageCorruptedException(path, b.position() - 4, "snapshot member name length damaged");
            }
            b.position(b.position() + n);
        }
    }

    static byte[] encodeSnapshotTrailer(long dataLength, int dataCrc) {
        return ByteBuffer.allocate(SNAPSHOT_TRAILER_SIZE).putLong(dataLength).putInt(dataCrc)
                .putInt(SNAPSHOT_END_MAGIC).array();
    }

    /** Whether a record header that fails its length check is consistent with a write that stopped part-way. */
    static boolean headerLooksTorn(byte[] buf, int pos) {
        int n = Math.min(FRAME_HEADER_SIZE, buf.length - pos);
        int written = 0;
        for (int i = 0; i < n; i++) {
            if (buf[pos + i] != 0) {
                written = i + 1;
            }
        }
        for (int i = 4; i < Math.min(written, 8); i++) {
            if (buf[pos + i] != (byte) ~buf[pos + i - 4]) {
                return false;
            }
        }
        // Nothing non-zero may follow a header that was not completely written.
        return written == n || zeroTailStart(buf) <= pos + n;
    }

    /** Offset of the first complete record with a valid checksum in {@code [from, to)}, or -1. */
    static int findValidRecord(byte[] buf, int from, int to) {
        for (int p = from; p + FRAME_HEADER_SIZE + PAYLOAD_FIXED_SIZE <= to; p++) {
            int l = ByteBuffer.wrap(buf, p, 4).getInt();
            if (l < PAYLOAD_FIXED_SIZE || (long) p + FRAME_HEADER_SIZE + l > to) {
                continue;
            }
            ByteBuffer b = ByteBuffer.wrap(buf, p + 4, 8);
            if (b.getInt() == ~l && crc(buf, p + FRAME_HEADER_SIZE, l) == b.getInt()) {
                return p;
            }
        }
        return -1;
    }

    static int zeroTailStart(byte[] buf) {
        int i = buf.length;
        while (i > 0 && buf[i - 1] == 0) {
            i--;
        }
        return i;
    }

    /** A segment whose content is a strict prefix of its header followed by zeros: created, then the crash. */
    static boolean isTornSegmentCreation(byte[] buf, long base) {
        byte[] header = segmentHeader(base);
        int written = zeroTailStart(buf);
        if (written >= header.length && buf.length >= header.length) {
            return false;
        }
        for (int i = 0; i < Math.min(written, header.length); i++) {
            if (buf[i] != header[i]) {
                return false;
            }
        }
        return true;
    }
}
