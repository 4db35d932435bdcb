package io.haraft.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.slf4j.MDC;

/** File names of a data directory and the small file helpers recovery and the store share. */
final class DataDir {
    static final String LOCK_FILE = "LOCK";
    static final String HARD_STATE_FILE = "hardstate";
    static final String MANIFEST_FILE = "manifest";
    static final String SEGMENT_PREFIX = "log-";
    static final String SEGMENT_SUFFIX = ".seg";
    static final String SNAPSHOT_PREFIX = "snapshot-";
    static final String SNAPSHOT_SUFFIX = ".snap";
    static final String TMP_SUFFIX = ".tmp";
    static final String SPARE_FILE = "log-spare" + TMP_SUFFIX;

    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(1 << 20).asReadOnlyBuffer();

    private DataDir() {
    }

    static Path segmentPath(Path dir, long base) {
        return dir.resolve(String.format("%s%020d%s", SEGMENT_PREFIX, base, SEGMENT_SUFFIX));
    }

    static Path snapshotPath(Path dir, long index) {
        return dir.resolve(String.format("%s%020d%s", SNAPSHOT_PREFIX, index, SNAPSHOT_SUFFIX));
    }

    static long parseNumber(String name, String prefix, String suffix) {
        try {
            return Long.parseLong(name.substring(prefix.length(), name.length() - suffix.length()));
        } catch (NumberFormatException e) {
            throw new StorageException("unexpected file name " + name + " in an HA-Raft data directory");
        }
    }

    /**
     * A daemon thread of the store, named {@code <role>[<directory name>]}, that runs {@code body}
     * with {@code mdc} (the MDC of the thread that opened the store; null for none).
     */
    static Thread storeThread(String role, Path dir, Map<String, String> mdc, Runnable body) {
        Thread t = new Thread(() -> {
            if (mdc != null) {
                MDC.setContextMap(mdc);
            }
            body.run();
        }, role + "[" + dir.getFileName() + "]");
        t.setDaemon(true);
        return t;
    }

    /** Runs {@code body} on the caller's thread with {@code mdc} (null: none), then clears the MDC. */
    static void withMdc(Map<String, String> mdc, Runnable body) {
        if (mdc != null) {
            MDC.setContextMap(mdc);
        }
        try {
            body.run();
        } finally {
            MDC.clear();
        }
    }

    /** Overwrites {@code [from, to)} with zeros. */
    static void zeroFill(FileIO.Handle h, long from, long to) throws IOException {
        long pos = from;
        while (pos < to) {
            ByteBuffer z = ZEROS.duplicate();
            z.limit((int) Math.min(z.capacity(), to - pos));
            int n = z.remaining();
            h.write(z, pos);
            pos += n;
        }
    }

    static byte[] readAll(FileIO io, Path path) throws IOException {
        try (FileIO.Handle h = io.open(path, false)) {
            return readAll(h);
        }
    }

    static byte[] readAll(FileIO.Handle h) throws IOException {
        long size = h.size();
        if (size > Integer.MAX_VALUE - 16) {
            throw new IOException("file too large: " + size + " bytes");
        }
        byte[] buf = new byte[(int) size];
        ByteBuffer bb = ByteBuffer.wrap(buf);
        while (bb.hasRemaining()) {
            if (h.read(bb, bb.position()) < 0) {
                break;
            }
        }
        return bb.position() == buf.length ? buf : Arrays.copyOf(buf, bb.position());
    }

    /**
     * Replaces {@code name} in {@code dir} with {@code content} atomically and durably: a temporary
     * file, written and forced, renamed over the old one, then the directory forced.
     */
    static void replaceDurably(FileIO io, Path dir, String name, byte[] content) throws IOException {
        Path tmp = dir.resolve(name + TMP_SUFFIX);
        try (FileIO.Handle h = io.open(tmp, true)) {
            h.truncate(0);
            h.write(ByteBuffer.wrap(content), 0);
            h.force();
        }
        io.rename(tmp, dir.resolve(name));
        io.syncDirectory(dir);
    }

    /** Whether {@code e} (or a cause) says the file system is full. */
    static boolean isDiskFull(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String m = t.getMessage();
            if (m != null && (m.contains("No space left on device") || m.contains("ENOSPC")
                    || m.contains("Disk quota exceeded"))) {
                return true;
            }
        }
        return false;
    }

    /**
     * A {@link StorageException} for an I/O error, saying what to do when the file system is full:
     * free space and start the node again, without deleting anything in the data directory.
     */
    static StorageException ioFailure(String what, Path dir, IOException e) {
        String advice = isDiskFull(e) ? ". The file system holding " + dir + " is full: free space on it (do not"
                + " delete anything inside the data directory; this node leaves no large temporary file behind)"
                + " and start the node again" : "";
        return new StorageException(what + ": " + e.getMessage() + advice, e);
    }
}
