package io.haraft.storage;

import java.io.IOException;
import java.io.InputStream;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.zip.CRC32C;

/** A snapshot file: header, data, trailer. */
final class FileSnapshot implements Snapshot {
    private final FileIO io;
    final Path path;
    private final SnapshotMeta meta;
    private final long dataOffset;
    private final long size;
    private final int crc;

    FileSnapshot(FileIO io, Path path, SnapshotMeta meta, long dataOffset, long size, int crc) {
        this.io = io;
        this.path = path;
        this.meta = meta;
        this.dataOffset = dataOffset;
        this.size = size;
        this.crc = crc;
    }

    /** Reads and fully verifies a snapshot file. */
    static FileSnapshot load(FileIO io, Path path) throws IOException {
        try (FileIO.Handle h = io.open(path, false)) {
            long fileSize = h.size();
            byte[] head = new byte[(int) Math.min(fileSize, 1 << 20)];
            readFully(h, head, 0);
            Formats.SnapshotHeader header = Formats.decodeSnapshotHeader(head, path);
            SnapshotMeta meta = header.meta();
            int headerLen = header.length();
            if (fileSize < headerLen + Formats.SNAPSHOT_TRAILER_SIZE) {
                throw new StorageCorruptedException(path, fileSize, "snapshot file has no trailer");
            }
            byte[] trailer = new byte[Formats.SNAPSHOT_TRAILER_SIZE];
            long trailerAt = fileSize - Formats.SNAPSHOT_TRAILER_SIZE;
            readFully(h, trailer, trailerAt);
            ByteBuffer t = ByteBuffer.wrap(trailer);
            long dataLength = t.getLong();
            int crc = t.getInt();
            if (t.getInt() != Formats.SNAPSHOT_END_MAGIC || dataLength != trailerAt - headerLen) {
                throw new StorageCorruptedException(path, trailerAt, "snapshot trailer damaged (length or end marker)");
            }
            CRC32C c = new CRC32C();
            ByteBuffer chunk = ByteBuffer.allocate(1 << 20);
            long pos = headerLen;
            while (pos < trailerAt) {
                chunk.clear().limit((int) Math.min(chunk.capacity(), trailerAt - pos));
                int n = h.read(chunk, pos);
                if (n <= 0) {
                    throw new StorageCorruptedException(path, pos, "snapshot file shorter than expected");
                }
                chunk.flip();
                c.update(chunk);
                pos += n;
            }
            if ((int) c.getValue() != crc) {
                throw new StorageCorruptedException(path, headerLen, "snapshot data checksum mismatch");
            }
            return new FileSnapshot(io, path, meta, headerLen, dataLength, crc);
        }
    }

    private static void readFully(FileIO.Handle h, byte[] dst, long position) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(dst);
        while (b.hasRemaining()) {
            if (h.read(b, position + b.position()) < 0) {
                throw new IOException("unexpected end of file");
            }
        }
    }

    @Override
    public SnapshotMeta meta() {
        return meta;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public int crc32c() {
        return crc;
    }

    @Override
    public InputStream open() throws IOException {
        FileIO.Handle h = io.open(path, false);
        return new InputStream() {
            private final CRC32C c = new CRC32C();
            private long pos;

            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                int n = read(one, 0, 1);
                return n < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (len == 0) {
                    return 0;
                }
                if (pos >= size) {
                    return -1;
                }
                ByteBuffer bb = ByteBuffer.wrap(b, off, (int) Math.min(len, size - pos));
                int n = h.read(bb, dataOffset + pos);
                if (n <= 0) {
                    throw new IOException("snapshot " + path + " ended early");
                }
                c.update(b, off, n);
                pos += n;
                if (pos == size && (int) c.getValue() != crc) {
                    throw new IOException(new StorageCorruptedException(path, dataOffset, "snapshot data checksum mismatch on read"));
                }
                return n;
            }

            @Override
            public void close() throws IOException {
                h.close();
            }
        };
    }

    @Override
    public byte[] readChunk(long offset, int maxBytes) throws IOException {
        if (offset < 0 || maxBytes < 0) {
            throw new IllegalArgumentException("offset and maxBytes must be >= 0");
        }
        int n = (int) Math.max(0, Math.min(maxBytes, size - offset));
        byte[] out = new byte[n];
        if (n > 0) {
            try (FileIO.Handle h = io.open(path, false)) {
                readFully(h, out, dataOffset + offset);
            }
        }
        return out;
    }

    @Override
    public String toString() {
        return "Snapshot{" + meta.lastIndex() + "@" + meta.lastTerm() + ", " + size + "B, " + path + "}";
    }
}
