package io.haraft.storage;

import java.nio.file.Path;

/**
 * The data directory is locked by another live process (or another store in this JVM), which is
 * almost certainly another HA-Raft node using the same directory. Two nodes sharing one log would
 * break every Raft guarantee, so the second one fails fast.
 */
public class StorageLockedException extends StorageException {
    private final Path dataDir;

    /** @param dataDir the directory whose {@code LOCK} file is held elsewhere */
    public StorageLockedException(Path dataDir) {
        super("Data directory " + dataDir + " is locked (file " + dataDir.resolve("LOCK")
                + " is held by another process or another store in this JVM): another HA-Raft"
                + " node is probably running there. Stop that node, or give this one its own data"
                + " directory.");
        this.dataDir = dataDir;
    }

    /** The locked data directory. */
    public Path dataDir() {
        return dataDir;
    }
}
