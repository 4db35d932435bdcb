package io.haraft.storage;

import java.io.Closeable;
import java.io.IOException;

/**
 * A snapshot being written, piece by piece: by a state machine, or by a transport that receives a
 * leader's snapshot in chunks (possibly over many messages and from several threads in turn, but
 * never concurrently). Obtained from {@link RaftStorage#beginSnapshot}.
 *
 * <p>Nothing is visible until {@link #commit()}, which makes the snapshot durable and installs it
 * (see {@link RaftStorage#writeSnapshot}). {@link #close()} without a commit discards what was
 * written, so a transfer that breaks off leaves no trace. Not thread-safe.
 *
 * <pre>{@code
 * try (SnapshotWriter w = store.beginSnapshot(meta)) {
 *     for (byte[] chunk : chunks) { w.write(chunk, 0, chunk.length); }
 *     w.commit();
 * }
 * }</pre>
 */
public interface SnapshotWriter extends Closeable {
    /** Appends data. */
    void write(byte[] data, int offset, int length) throws IOException;

    /** Bytes written so far: where the next chunk of a transfer starts. */
    long bytesWritten();

    /**
     * Makes the snapshot durable and installs it: the store compacts or replaces its log as
     * described for {@link RaftStorage#writeSnapshot}.
     *
     * @throws IllegalArgumentException if a newer snapshot was installed meanwhile
     */
    Snapshot commit() throws IOException;

    /** Discards the snapshot unless it was committed. Idempotent. */
    @Override
    void close() throws IOException;
}
