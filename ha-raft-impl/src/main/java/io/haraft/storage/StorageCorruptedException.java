package io.haraft.storage;

import java.nio.file.Path;

/**
 * The data directory holds data that fails its checksum, is inconsistent in a way a crash cannot
 * explain, or lacks files that the node had made durable, so the store refuses to start rather
 * than use it.
 *
 * <p>The message names the file (and byte offset, if known) and gives the one repair rule:
 * restarting fails the same way, and the node must not come back under its id with an emptied
 * directory (it would forget what it acknowledged); replace it by a new node with a new id and an
 * empty directory ({@code replaceMember} on the leader), which copies the log from the others.
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
        super("Corrupted HA-Raft storage in " + file + (offset >= 0 ? " at offset " + offset : "") + ": " + what
                + ". " + Repair.rule(file.toAbsolutePath().getParent()));
        this.file = file;
        this.offset = offset;
    }

    /** For subclasses with their own description; {@code message} must end with the repair rule. */
    StorageCorruptedException(String message, Path file) {
        super(message);
        this.file = file;
        this.offset = -1;
    }

    /**
     * The one repair rule for a node whose data directory {@code dataDir} is damaged or incomplete,
     * as every such error message states it: replace the node under a new id, never restart it
     * under its own id on an emptied directory.
     */
    public static String repairRule(Path dataDir) {
        return Repair.rule(dataDir);
    }

    /** The damaged (or missing) file. */
    public Path file() {
        return file;
    }

    /** The byte offset where the damage was found, or -1 if unknown. */
    public long offset() {
        return offset;
    }
}
