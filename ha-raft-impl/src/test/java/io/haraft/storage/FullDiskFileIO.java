package io.haraft.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiPredicate;
import java.util.function.LongSupplier;

/**
 * The real file system with a disk that fills up where a test says: writes for which
 * {@code fullAt(file, end position)} holds fail with "No space left on device" (the message of
 * ENOSPC), and {@code usableSpace} reports what the test says. Counts writes to the spare segment.
 */
final class FullDiskFileIO extends ForwardingFileIO {
    volatile BiPredicate<Path, Long> fullAt = (file, end) -> false;
    volatile LongSupplier usable = () -> Long.MAX_VALUE;
    final AtomicInteger spareWrites = new AtomicInteger();

    FullDiskFileIO() {
        super(FileIO.standard());
    }

    @Override
    Handle wrap(Path file, Handle h) {
        return new ForwardingHandle(h) {
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
        };
    }

    @Override
    public long usableSpace(Path dir) {
        return usable.getAsLong();
    }
}
