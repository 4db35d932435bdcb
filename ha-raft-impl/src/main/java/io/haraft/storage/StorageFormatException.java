package io.haraft.storage;

import java.nio.file.Path;

/**
 * A file in the data directory has a format version this build of HA-Raft does not read: almost
 * always it was written by a newer HA-Raft (a downgrade, or a node started from an old binary).
 * The store refuses to start rather than guess at its layout.
 *
 * <p>Unlike {@link StorageCorruptedException} the data is not known to be damaged: its header checks
 * out except for the version. Do not wipe the directory; run an HA-Raft that reads this version
 * (the one that wrote it, or a later one). A version field damaged by a flipped bit is reported as
 * corruption instead, because its checksum matches a version this build reads.
 */
public class StorageFormatException extends StorageException {
    private final Path file;
    private final int version;
    private final int oldestReadable;
    private final int newestReadable;

    /**
     * @param file           the file with the unknown version
     * @param kind           what the file is, e.g. "log segment"
     * @param version        the version found in it
     * @param oldestReadable the oldest version of this kind of file this build reads
     * @param newestReadable the newest one
     */
    public StorageFormatException(Path file, String kind, int version, int oldestReadable, int newestReadable) {
        super(format(file, kind, version, oldestReadable, newestReadable));
        this.file = file;
        this.version = version;
        this.oldestReadable = oldestReadable;
        this.newestReadable = newestReadable;
    }

    private static String format(Path file, String kind, int version, int oldest, int newest) {
        Path dir = file.toAbsolutePath().getParent();
        return "Unsupported HA-Raft storage format in " + file + ": " + kind + " format version " + version
                + " (this build of HA-Raft reads " + (oldest == newest ? "version " + oldest : "versions " + oldest
                + " to " + newest) + "). The file was most likely written by a " + (version > newest ? "newer" : "different")
                + " HA-Raft. Upgrade HA-Raft on this node to the version that wrote it (or a later one) and start it"
                + " again. Do not delete or wipe the data directory (" + dir + "): it is not damaged, and it holds"
                + " this node's log, vote and snapshot.";
    }

    /** The file with the unknown version. */
    public Path file() {
        return file;
    }

    /** The version found. */
    public int version() {
        return version;
    }

    /** The oldest version of this kind of file this build reads. */
    public int oldestReadable() {
        return oldestReadable;
    }

    /** The newest version of this kind of file this build reads. */
    public int newestReadable() {
        return newestReadable;
    }
}
