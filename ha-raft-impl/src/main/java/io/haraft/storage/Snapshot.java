package io.haraft.storage;

import java.io.IOException;
import java.io.InputStream;

/**
 * A durable snapshot held by a {@link RaftStorage}: its metadata, its size and checksum, and ways
 * to read its bytes, either as a stream (to restore a state machine) or in chunks (so that a
 * transport can send it to a lagging follower piece by piece).
 *
 * <p>Thread-safe; every read is independent. A snapshot that has been superseded by a newer one may
 * be deleted: reads through an already open stream keep working, but {@link #open()} or
 * {@link #readChunk} on a superseded snapshot may fail with an {@link IOException}; callers then
 * ask the store for its {@link RaftStorage#latestSnapshot() latest snapshot} again.
 */
public interface Snapshot {
    /** What the snapshot covers. */
    SnapshotMeta meta();

    /** Size of the state machine data in bytes. */
    long size();

    /** CRC32C of the state machine data, so a receiver can verify what it reassembled. */
    int crc32c();

    /**
     * Opens the data as a stream. The stream verifies the checksum when it reaches the end and
     * throws an {@link IOException} if the data does not match.
     */
    InputStream open() throws IOException;

    /**
     * Reads up to {@code maxBytes} of the data starting at {@code offset}. Returns an empty array
     * at or after the end. Chunks are not individually checksummed: the receiver checks the
     * whole with {@link #crc32c()}.
     */
    byte[] readChunk(long offset, int maxBytes) throws IOException;
}
