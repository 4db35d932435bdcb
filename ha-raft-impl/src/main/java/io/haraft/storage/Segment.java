package io.haraft.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * One log file: entries {@code base .. base + count - 1}, record offsets in memory. Records in
 * {@code [flushed, size)} are still in {@code pending}, not yet written to the file.
 */
final class Segment {
    final Path path;
    final long base;
    final FileIO.Handle handle;
    long size;
    long flushed;
    ByteBuffer pending;
    int[] offsets = new int[64];
    int count;
    /**
     * The file is not preallocated past its data (started while no spare was ready, or cut by a
     * truncation): each fsync of an append also commits the file size. Left for the spare as soon
     * as one is ready.
     */
    boolean growing;

    Segment(Path path, long base, FileIO.Handle handle, long size) {
        this.path = path;
        this.base = base;
        this.handle = handle;
        this.size = size;
        this.flushed = size;
    }

    /** Room for {@code bytes} more bytes in {@code pending}. */
    ByteBuffer reserve(long bytes) {
        int need = Math.toIntExact((size - flushed) + bytes);
        if (pending == null || pending.capacity() < need) {
            ByteBuffer b = ByteBuffer.allocate(Math.max(need, Math.max(64 << 10, pending == null ? 0 : pending.capacity() * 2)));
            if (pending != null) {
                pending.flip();
                b.put(pending);
            }
            pending = b;
        }
        return pending;
    }

    /** Writes the pending records to the file (page cache); not durable until forced. */
    void flush() throws IOException {
        if (size > flushed) {
            ByteBuffer b = pending.duplicate().flip();
            handle.write(b, flushed);
            flushed = size;
        }
        if (pending != null) {
            pending = pending.capacity() > (1 << 20) ? null : pending.clear();
        }
    }

    long lastIndex() {
        return base + count - 1;
    }

    void add(int offset) {
        if (count == offsets.length) {
            offsets = Arrays.copyOf(offsets, count * 2);
        }
        offsets[count++] = offset;
    }

    long offsetOf(long index) {
        return offsets[(int) (index - base)];
    }

    long endOf(long index) {
        int i = (int) (index - base);
        return i + 1 < count ? offsets[i + 1] : size;
    }
}
