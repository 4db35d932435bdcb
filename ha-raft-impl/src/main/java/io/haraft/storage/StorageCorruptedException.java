package io.haraft.storage;

import java.nio.file.Path;

/**
 * The data directory holds data that fails its checksum or is inconsistent in a way a crash cannot
 * explain, so the store refuses to start rather than use it.
 *
 * <p>The message names the file and byte offset and says what the operator can do. Restarting
 * will fail the same way: the usual repair is to wipe this node's data directory and let the
 * node rejoin, so that it copies the log (or a snapshot) from the other members.
 */
public class StorageCorruptedException extends StorageException {
    private final Path file;
    private final long offset;

    /**
     * @param file   the damaged file
     * @param offset the byte offset in {@code file} where the damage was found, or -1 if unknown
     * @param what   what is wrong, e.g. "record checksum mismatch"
     */
    public StorageCorruptedException(Path file, long offset, String what) {
        super(format(file, offset, what));
        this.file = file;
        this.offset = offset;
    }

    private static String format(Path file, long offset, String what) {
        Path dir = file.toAbsolutePath().getParent();
        return "Corrupted HA-Raft storage in " + file + (offset >= 0 ? " at offset " + offset : "")
                + ": " + what + ". This node will not start on damaged data. To repair it, restore"
                + " this node from its peers: stop the node, move away or wipe its data directory ("
                + dir + "), and start it again so that it rejoins the cluster and copies the log"
                + " or a snapshot from the other members (safe as long as a majority of the other"
                + " members still has its data). Keep the damaged files if you want to investigate.";
    }

    /** The damaged file. */
    public Path file() {
        return file;
    }

    /** The byte offset where the damage was found, or -1 if unknown. */
    public long offset() {
        return offset;
    }
}
