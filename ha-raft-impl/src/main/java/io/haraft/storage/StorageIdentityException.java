package io.haraft.storage;

import java.nio.file.Path;

/**
 * The data directory belongs to another cluster or another node than the one opening it: its
 * {@code manifest} records the cluster id and node id it was created for. Starting on it would put
 * another node's votes and log (perhaps another cluster's) into this one, so the store refuses.
 *
 * <p>Nothing is damaged: the usual cause is a wrong {@code dataDir} (or {@code clusterId} or
 * {@code nodeId}) setting, or a directory copied from another machine. The message names the
 * recorded and the configured values and what to do.
 */
public class StorageIdentityException extends StorageException {
    private final Path dataDir;

    /** @param message the full operator message, naming recorded and configured values */
    StorageIdentityException(Path dataDir, String message) {
        super(message);
        this.dataDir = dataDir;
    }

    /** The refused data directory. */
    public Path dataDir() {
        return dataDir;
    }
}
