package io.haraft.storage;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiPredicate;
import java.util.function.LongSupplier;

/**
 * The real file system with a disk that fills up where a test says: writes for which
 * {@code fullAt(file, end position)} holds fail with "No space left on device" (the message of
 * ENOSPC), and {@code usableSpace} reports what the test says. Counts writes to the spare segment.
 */
final class FullDiskFileIO implements FileIO {
    private final FileIO real = FileIO.standard();
    volatile BiPredicate<Path, Long> fullAt = (file, end) -> false;
    volatile LongSupplier usable = () -> Long.MAX_VALUE;
    final AtomicInteger spareWrites = new AtomicInteger();

    @Override
    public Handle open(Path file, boolean create) throws IOException {
        Handle h = real.open(file, create);
        return new Handle() {
            @Override
            public int read(ByteBuffer dst, long position) throws IOException {
                return h.read(dst, position);
            }

            @Override
            public void write(ByteBuffer src, long position) throws IOException {
                if (file.getFileName().toString().equals(DataDir.SPARE_FILE)) {
                    spareWrites.incrementAndGet();
                }
                if (fullAt.test(file, position + src.remaining())) {
                    throw new IOException("No space left on device");
                }
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
        };
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
    public long usableSpace(Path dir) {
        return usable.getAsLong();
    }

    @Override
    public Closeable tryLock(Path lockFile) throws IOException {
        return real.tryLock(lockFile);
    }
}
