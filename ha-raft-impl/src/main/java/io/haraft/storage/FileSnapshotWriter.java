package io.haraft.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * Writes a snapshot to a temporary file (header first); {@link #commit()} adds the trailer, fsyncs,
 * and hands the file to the store, which renames it into place and compacts the log.
 */
final class FileSnapshotWriter implements SnapshotWriter {
    /** Renames the committed file into place and compacts the log. */
    interface Installer {
        void install(FileSnapshot snapshot, Path tmp);
    }

    private final FileIO io;
    private final Path path;
    private final Installer installer;
    private final SnapshotMeta meta;
    private final Path tmp;
    private final FileIO.Handle handle;
    private final long headerLength;
    private final HandleOutputStream out;
    private boolean done;

    FileSnapshotWriter(FileIO io, SnapshotMeta meta, Path tmp, Path path, FileIO.Handle handle, long headerLength,
                       Installer installer) {
        this.io = io;
        this.path = path;
        this.installer = installer;
        this.meta = meta;
        this.tmp = tmp;
        this.handle = handle;
        this.headerLength = headerLength;
        this.out = new HandleOutputStream(handle, headerLength);
    }

    @Override
    public void write(byte[] data, int offset, int length) throws IOException {
        if (done) {
            throw new IllegalStateException("snapshot writer already committed or closed");
        }
        out.write(data, offset, length);
    }

    @Override
    public long bytesWritten() {
        return out.count();
    }

    @Override
    public Snapshot commit() throws IOException {
        if (done) {
            throw new IllegalStateException("snapshot writer already committed or closed");
        }
        done = true;
        long dataLength;
        int crc;
        try {
            out.flushBuffer();
            dataLength = out.written();
            crc = out.crc32c();
            handle.write(ByteBuffer.wrap(Formats.encodeSnapshotTrailer(dataLength, crc)), headerLength + dataLength);
            handle.force();
            handle.close();
        } catch (IOException | RuntimeException e) {
            discard();
            throw e;
        }
        FileSnapshot snap = new FileSnapshot(io, path, meta, headerLength, dataLength, crc);
        try {
            installer.install(snap, tmp);
        } catch (IllegalArgumentException | IllegalStateException e) {
            io.delete(tmp);
            throw e;
        }
        return snap;
    }

    private void discard() throws IOException {
        try {
            handle.close();
        } finally {
            io.delete(tmp);
        }
    }

    @Override
    public void close() throws IOException {
        if (!done) {
            done = true;
            discard();
        }
    }
}
