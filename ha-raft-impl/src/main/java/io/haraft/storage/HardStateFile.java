package io.haraft.storage;

import io.haraft.core.HardState;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * The {@code hardstate} file: the node's term, vote and promised stickiness, in two fixed-size slots
 * of {@value Formats#HARD_STATE_SLOT_SIZE} bytes (format in {@link Formats}). Each slot holds a
 * sequence number and a CRC32C over the slot; the valid slot with the larger sequence number is the
 * hard state.
 *
 * <p>An update writes the whole slot that holds the older sequence number (or an invalid one) with
 * one positional write, then {@code fdatasync}s the file ({@link FileIO.Handle#force()}); it never
 * renames, and never touches the directory: the file keeps its size from its creation on, so the
 * data sync alone makes the update durable. Creating the file (a new directory, or converting a file
 * of format 1 or 2) is the only time it goes through a temporary file, an fsync, a rename and a
 * directory fsync.
 *
 * <p>Why one invalid slot is safe to ignore at recovery: writes are serial, and each starts only after
 * the previous one's fsync returned, so at any moment at most one write is unfinished, and it is
 * aimed at the slot that does not hold the newest durable state. A crash can therefore tear only
 * that slot; the other one still holds the state of the last update whose fsync returned. The store
 * completes a {@code persist} only after that fsync, and the node sends nothing that depends on a
 * term or vote (a vote, an acknowledgement promising stickiness) before its {@code persist}
 * completed. So the update a torn slot loses was never acknowledged: recovery yields the new state
 * (if its write reached the disk whole) or the one before it, which is the last one acknowledged.
 * It never yields a term below an acknowledged one, nor forgets an acknowledged vote.
 *
 * <p>Damage on the disk, not a crash: a slot whose checksum one flipped bit explains is corrected
 * (if it is the newer one, recovery writes its state again, into the other slot). Both slots
 * invalid is refused with {@link StorageCorruptedException}, whose message gives the repair rule.
 *
 * <p>Limits: the newer slot damaged in more than one bit after its update was acknowledged cannot
 * be told from a torn write by the file alone, and the older slot is then used: the node's term is
 * still raised to the last term in its log at recovery, but a vote given in the lost update is
 * forgotten. Not thread-safe: recovery, then the store's writer thread, use it.
 */
final class HardStateFile implements Closeable {
    private final Path path;
    private final FileIO.Handle handle;
    /** The sequence number of the newest valid slot, and which slot that is. */
    private long seq;
    private int slot;

    /**
     * The hard state as read from the file: its state, the format version of the file, and for
     * format 3 the newest slot and its sequence number, and what recovery found wrong with a slot
     * ({@code null} if both were intact). {@code rewrite} says the newest slot was corrected (one
     * flipped bit): it must be written again.
     */
    record Loaded(HardState state, int version, long seq, int slot, String problem, boolean rewrite) {
        /** Whether the file is a single-record file (format 1 or 2) that must be converted. */
        boolean singleRecord() {
            return version != Formats.HARD_STATE_VERSION;
        }
    }

    private HardStateFile(Path path, FileIO.Handle handle, long seq, int slot) {
        this.path = path;
        this.handle = handle;
        this.seq = seq;
        this.slot = slot;
    }

    /**
     * Reads the hard state file {@code path}, of format 3 or of the single-record formats 1 and 2.
     *
     * @throws StorageCorruptedException if no slot is valid, or a slot is valid but impossible
     * @throws StorageFormatException    if the file is of a format this build does not read
     */
    static Loaded read(FileIO io, Path path) throws IOException {
        byte[] b = DataDir.readAll(io, path);
        int version = b.length >= 8 ? ByteBuffer.wrap(b).getInt(Formats.VERSION_OFFSET) : -1;
        if (version == Formats.HARD_STATE_VERSION_SINGLE || version == Formats.HARD_STATE_VERSION_NO_STICKINESS
                || (b.length != Formats.HARD_STATE_FILE_SIZE && version != Formats.HARD_STATE_VERSION)) {
            return new Loaded(Formats.decodeSingleRecordHardState(b, path), version, 0, 0, null, false);
        }
        if (b.length != Formats.HARD_STATE_FILE_SIZE) {
            throw new StorageCorruptedException(path, b.length, "hard state file has " + b.length + " bytes where"
                    + " format " + Formats.HARD_STATE_VERSION + " has " + Formats.HARD_STATE_FILE_SIZE
                    + " (cut short or extended)");
        }
        String[] why0 = new String[1];
        String[] why1 = new String[1];
        Formats.HardStateSlot s0 = Formats.decodeHardStateSlot(b, 0, path, why0);
        Formats.HardStateSlot s1 = Formats.decodeHardStateSlot(b, 1, path, why1);
        if (s0 == null && s1 == null) {
            throw new StorageCorruptedException(path, 0, "both copies of the hard state (slots 0 and 1, at offsets 0"
                    + " and " + Formats.HARD_STATE_SLOT_SIZE + ") are invalid (slot 0: " + why0[0] + "; slot 1: "
                    + why1[0] + "). A crash tears at most one of them, so this is damage, not a crash");
        }
        if (s0 != null && s1 != null && s0.seq() == s1.seq() && !s0.state().equals(s1.state())) {
            throw new StorageCorruptedException(path, 8, "both hard state slots have sequence number " + s0.seq()
                    + " but hold different states (" + s0.state() + ", " + s1.state() + ")");
        }
        int newest = s1 == null || (s0 != null && s0.seq() >= s1.seq()) ? 0 : 1;
        Formats.HardStateSlot n = newest == 0 ? s0 : s1;
        String problem = null;
        if (s0 == null || s1 == null) {
            problem = "slot " + (s0 == null ? 0 : 1) + " is invalid (" + (s0 == null ? why0[0] : why1[0]) + "), as a"
                    + " crash during its update leaves it (that update was never acknowledged)";
        } else if (s0.repaired() != null || s1.repaired() != null) {
            int r = s0.repaired() != null ? 0 : 1;
            problem = "slot " + r + " had " + (r == 0 ? s0 : s1).repaired() + " (damage on the disk), corrected";
        }
        return new Loaded(n.state(), Formats.HARD_STATE_VERSION, n.seq(), newest, problem, n.repaired() != null);
    }

    /**
     * Creates (or replaces) the hard state file in {@code dir} holding {@code hs}, durably: a
     * temporary file with both slots valid, fsynced, renamed into place, and the directory fsynced.
     */
    static HardStateFile create(FileIO io, Path dir, HardState hs) throws IOException {
        byte[] content = new byte[Formats.HARD_STATE_FILE_SIZE];
        System.arraycopy(Formats.encodeHardStateSlot(1, hs), 0, content, 0, Formats.HARD_STATE_SLOT_SIZE);
        System.arraycopy(Formats.encodeHardStateSlot(0, hs), 0, content, Formats.HARD_STATE_SLOT_SIZE,
                Formats.HARD_STATE_SLOT_SIZE);
        DataDir.replaceDurably(io, dir, DataDir.HARD_STATE_FILE, content);
        Path path = dir.resolve(DataDir.HARD_STATE_FILE);
        return new HardStateFile(path, io.open(path, false), 1, 0);
    }

    /** Opens the format-3 file {@code path} that {@link #read} returned {@code loaded} for, to update it. */
    static HardStateFile open(FileIO io, Path path, Loaded loaded) throws IOException {
        if (loaded.singleRecord()) {
            throw new IllegalArgumentException(path + " is of format " + loaded.version() + ": create a new one");
        }
        return new HardStateFile(path, io.open(path, false), loaded.seq(), loaded.slot());
    }

    /**
     * Makes {@code hs} the durable hard state: writes it, with the next sequence number, over the
     * slot that holds the older one, and fsyncs the file. When this returns the update is durable;
     * if it throws, either state may be found at recovery.
     */
    void write(HardState hs) throws IOException {
        int target = 1 - slot;
        long next = seq + 1;
        handle.write(ByteBuffer.wrap(Formats.encodeHardStateSlot(next, hs)), (long) target * Formats.HARD_STATE_SLOT_SIZE);
        handle.force();
        slot = target;
        seq = next;
    }

    /** Makes what the file holds durable (a crashed process may have written it without an fsync). */
    void force() throws IOException {
        handle.force();
    }

    /** The file. */
    Path path() {
        return path;
    }

    @Override
    public void close() throws IOException {
        handle.close();
    }
}
