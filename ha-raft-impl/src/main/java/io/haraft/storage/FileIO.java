package io.haraft.storage;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;

/**
 * Every file-system call {@link FileRaftStorage} makes, behind one small interface so that tests
 * can replace the disk: lose what was not fsynced at a simulated crash, tear the last write, flip
 * bits. Production code uses {@link #standard()}.
 *
 * <p>Durability model the store relies on (and that fault-injecting implementations model): data
 * written to a file is durable only after {@link Handle#force()} on it; a file creation, rename or
 * deletion is durable only after {@link #syncDirectory(Path)} on its directory; {@link #rename} is
 * atomic.
 *
 * <p>Implementations must be thread-safe: the store reads, writes and forces from several threads.
 */
public interface FileIO {
    /** An open file, read and written at explicit positions. */
    interface Handle extends Closeable {
        /** Reads into {@code dst} from {@code position}; returns bytes read, or -1 at end of file. */
        int read(ByteBuffer dst, long position) throws IOException;

        /** Writes all of {@code src} at {@code position}, extending the file if needed. */
        void write(ByteBuffer src, long position) throws IOException;

        /** Current size in bytes. */
        long size() throws IOException;

        /** Cuts the file to {@code size} bytes. */
        void truncate(long size) throws IOException;

        /** Makes the data (and the size) durable: {@code fdatasync}. */
        void force() throws IOException;
    }

    /** Opens {@code file} for reading and writing, creating it (empty) if {@code create}. */
    Handle open(Path file, boolean create) throws IOException;

    /** Whether {@code file} exists. */
    boolean exists(Path file) throws IOException;

    /** File names (not paths) directly inside {@code dir}. */
    List<String> list(Path dir) throws IOException;

    /** Creates {@code dir} and missing parents. */
    void createDirectories(Path dir) throws IOException;

    /** Atomically renames {@code from} to {@code to}, replacing {@code to}. */
    void rename(Path from, Path to) throws IOException;

    /** Deletes {@code file} if it exists. */
    void delete(Path file) throws IOException;

    /** Makes creations, renames and deletions in {@code dir} durable. */
    void syncDirectory(Path dir) throws IOException;

    /**
     * Bytes available to this process on the file system holding {@code dir}; the store keeps a
     * reserve of it free and does not preallocate into the rest. Implementations that cannot tell
     * return {@link Long#MAX_VALUE}.
     */
    default long usableSpace(Path dir) throws IOException {
        return Long.MAX_VALUE;
    }

    /**
     * Takes an exclusive lock on {@code lockFile} (creating it), held until the returned handle is
     * closed; returns {@code null} if another process or another holder in this JVM has it.
     */
    Closeable tryLock(Path lockFile) throws IOException;

    /** The real file system, through {@link java.nio.channels.FileChannel}. */
    static FileIO standard() {
        return StandardFileIO.INSTANCE;
    }
}
