package io.haraft.storage;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/** Streams snapshot data into a file at increasing positions, computing the CRC. */
final class HandleOutputStream extends OutputStream {
    private final FileIO.Handle handle;
    private final CRC32C crc = new CRC32C();
    private final ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
    private final long start;
    private long written;

    HandleOutputStream(FileIO.Handle handle, long start) {
        this.handle = handle;
        this.start = start;
    }

    @Override
    public void write(int b) throws IOException {
        if (!buf.hasRemaining()) {
            flushBuffer();
        }
        buf.put((byte) b);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        while (len > 0) {
            if (!buf.hasRemaining()) {
                flushBuffer();
            }
            int n = Math.min(len, buf.remaining());
            buf.put(b, off, n);
            off += n;
            len -= n;
        }
    }

    /** Bytes accepted so far, written or buffered. */
    long count() {
        return written + buf.position();
    }

    /** Bytes written to the file so far (after {@link #flushBuffer()}: all of them). */
    long written() {
        return written;
    }

    /** CRC32C of the bytes written to the file so far. */
    int crc32c() {
        return (int) crc.getValue();
    }

    /** Writes the buffered bytes to the file. */
    void flushBuffer() throws IOException {
        buf.flip();
        crc.update(buf.duplicate());
        int n = buf.remaining();
        handle.write(buf, start + written);
        written += n;
        buf.clear();
    }
}
