package io.haraft.storage;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;

/**
 * A {@link FileIO} that passes every call to another one: tests extend it and override only what
 * they observe or break, and wrap handles in a {@link ForwardingHandle} the same way.
 */
class ForwardingFileIO implements FileIO {
    final FileIO real;

    ForwardingFileIO(FileIO real) {
        this.real = real;
    }

    /** The handle {@link #open} returns for {@code file}; by default {@code h} itself. */
    Handle wrap(Path file, Handle h) {
        return h;
    }

    /** A handle that passes every call to another one. */
    static class ForwardingHandle implements Handle {
        final Handle h;

        ForwardingHandle(Handle h) {
            this.h = h;
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            return h.read(dst, position);
        }

        @Override
        public void write(ByteBuffer src, long position) throws IOException {
            h.write(src, position);
        }

        @Override
        public long size() throws IOException {
            return h.size();
        }

        @Override
        public void truncate(long size) throws IOException {
            h.truncate(size);
        }

        @Override
        public void force() throws IOException {
            h.force();
        }

        @Override
        public void close() throws IOException {
            h.close();
        }
    }

    @Override
    public Handle open(Path file, boolean create) throws IOException {
        return wrap(file, real.open(file, create));
    }

    @Override
    public boolean exists(Path file) throws IOException {
        return real.exists(file);
    }

    @Override
    public List<String> list(Path dir) throws IOException {
        return real.list(dir);
    }

    @Override
    public void createDirectories(Path dir) throws IOException {
        real.createDirectories(dir);
    }

    @Override
    public void rename(Path from, Path to) throws IOException {
        real.rename(from, to);
    }

    @Override
    public void delete(Path file) throws IOException {
        real.delete(file);
    }

    @Override
    public void syncDirectory(Path dir) throws IOException {
        real.syncDirectory(dir);
    }

    @Override
    public long usableSpace(Path dir) throws IOException {
        return real.usableSpace(dir);
    }

    @Override
    public Closeable tryLock(Path lockFile) throws IOException {
        return real.tryLock(lockFile);
    }
}
