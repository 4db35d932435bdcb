package io.haraft.storage;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An in-memory file system that models what survives a crash: file data becomes durable only on
 * {@code force}, directory changes only on {@code syncDirectory} (or, at a crash, a prefix of them
 * in order, as a journaling file system would keep). Written but unforced data vanishes at
 * {@link #crash}, or is torn to a random prefix with {@link #crash(Random)}. Tests can also flip
 * bits in, cut or rewrite any file, and make {@code force} fail or wait.
 */
final class SimFileIO implements FileIO {
    /** File contents; a name in a directory points at one. */
    static final class Inode {
        byte[] data = new byte[0];
        int len;
        byte[] durable = new byte[0];

        byte[] current() {
            return Arrays.copyOf(data, len);
        }
    }

    /** A directory change: {@code removed} disappears and {@code added} (if any) points at {@code inode}, atomically. */
    private record DirOp(Path removed, Path added, Inode inode) {
    }

    private final Map<Path, Inode> files = new HashMap<>();
    private final Map<Path, Inode> durableNames = new HashMap<>();
    private final List<DirOp> unsyncedDirOps = new ArrayList<>();
    private final Set<Path> locks = new HashSet<>();
    final AtomicInteger forces = new AtomicInteger();
    /** Called at the start of every force (of a file, or of a directory) with its path; may block or throw. */
    volatile IoHook beforeForce = path -> { };

    /** A hook that may throw. */
    interface IoHook {
        void run(Path path) throws IOException;
    }

    // ------------------------------------------------------------------ crash images

    /** The file system a machine would find after power loss: only durable data and names. */
    synchronized SimFileIO crash() {
        SimFileIO after = new SimFileIO();
        Map<Inode, Inode> copies = new HashMap<>();
        for (Map.Entry<Path, Inode> e : durableNames.entrySet()) {
            Inode copy = copies.computeIfAbsent(e.getValue(), i -> fresh(i.durable));
            after.files.put(e.getKey(), copy);
            after.durableNames.put(e.getKey(), copy);
        }
        return after;
    }

    /**
     * A harsher crash: directory changes since the last directory sync survive up to a random
     * point (in order), and each file keeps its durable data plus a random prefix of what was
     * appended after it (a torn write).
     */
    synchronized SimFileIO crash(Random rnd) {
        Map<Path, Inode> names = new HashMap<>(durableNames);
        int keep = unsyncedDirOps.isEmpty() ? 0 : rnd.nextInt(unsyncedDirOps.size() + 1);
        for (DirOp op : unsyncedDirOps.subList(0, keep)) {
            if (op.removed() != null) {
                names.remove(op.removed());
            }
            if (op.added() != null) {
                names.put(op.added(), op.inode());
            }
        }
        SimFileIO after = new SimFileIO();
        Map<Inode, Inode> copies = new HashMap<>();
        for (Map.Entry<Path, Inode> e : names.entrySet()) {
            Inode copy = copies.computeIfAbsent(e.getValue(), i -> fresh(torn(i, rnd)));
            after.files.put(e.getKey(), copy);
            after.durableNames.put(e.getKey(), copy);
        }
        return after;
    }

    /**
     * Durable content with a prefix (in file order) of the changes made since the last force: the
     * bytes a write that was cut short by the crash managed to put on the disk.
     */
    private static byte[] torn(Inode i, Random rnd) {
        byte[] cur = i.current();
        byte[] dur = i.durable;
        if (cur.length < dur.length) {
            return dur.clone(); // a truncation that did not reach the disk
        }
        int d = Arrays.mismatch(cur, dur);
        if (d < 0) {
            return dur.clone();
        }
        int p = d + rnd.nextInt(cur.length - d + 1);
        byte[] out = Arrays.copyOf(cur, Math.max(p, dur.length));
        if (dur.length > p) {
            System.arraycopy(dur, p, out, p, dur.length - p);
        }
        return out;
    }

    private static Inode fresh(byte[] content) {
        Inode n = new Inode();
        n.data = content.clone();
        n.len = content.length;
        n.durable = content.clone();
        return n;
    }

    /** A durable copy of the current state (as after a clean shutdown with everything synced). */
    synchronized SimFileIO copyAll() {
        SimFileIO after = new SimFileIO();
        for (Map.Entry<Path, Inode> e : files.entrySet()) {
            Inode copy = fresh(e.getValue().current());
            after.files.put(e.getKey(), copy);
            after.durableNames.put(e.getKey(), copy);
        }
        return after;
    }

    // ------------------------------------------------------------------ tampering

    synchronized TreeMap<Path, Integer> sizes() {
        TreeMap<Path, Integer> m = new TreeMap<>();
        files.forEach((p, i) -> m.put(p, i.len));
        return m;
    }

    synchronized byte[] read(Path p) {
        return files.get(p).current();
    }

    /** Replaces the content of {@code p} everywhere (current and durable). */
    synchronized void overwrite(Path p, byte[] content) {
        Inode i = files.get(p);
        i.data = content.clone();
        i.len = content.length;
        i.durable = content.clone();
    }

    synchronized void flipBit(Path p, long bit) {
        byte[] b = read(p);
        b[(int) (bit / 8)] ^= (byte) (1 << (bit % 8));
        overwrite(p, b);
    }

    // ------------------------------------------------------------------ FileIO

    private final class SimHandle implements Handle {
        private final Inode inode;
        private final Path path;
        private boolean closed;

        SimHandle(Inode inode, Path path) {
            this.inode = inode;
            this.path = path;
        }

        private void check() throws IOException {
            if (closed) {
                throw new java.nio.channels.ClosedChannelException();
            }
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            synchronized (SimFileIO.this) {
                check();
                if (position >= inode.len) {
                    return -1;
                }
                int n = (int) Math.min(dst.remaining(), inode.len - position);
                dst.put(inode.data, (int) position, n);
                return n;
            }
        }

        @Override
        public void write(ByteBuffer src, long position) throws IOException {
            synchronized (SimFileIO.this) {
                check();
                int n = src.remaining();
                long end = position + n;
                if (end > inode.data.length) {
                    inode.data = Arrays.copyOf(inode.data, (int) Math.max(end, inode.data.length * 2L));
                }
                if (position > inode.len) {
                    Arrays.fill(inode.data, inode.len, (int) position, (byte) 0);
                }
                src.get(inode.data, (int) position, n);
                inode.len = (int) Math.max(inode.len, end);
            }
        }

        @Override
        public long size() throws IOException {
            synchronized (SimFileIO.this) {
                check();
                return inode.len;
            }
        }

        @Override
        public void truncate(long size) throws IOException {
            synchronized (SimFileIO.this) {
                check();
                if (size < inode.len) {
                    inode.len = (int) size;
                }
            }
        }

        @Override
        public void force() throws IOException {
            beforeForce.run(path);
            synchronized (SimFileIO.this) {
                check();
                inode.durable = inode.current();
                forces.incrementAndGet();
            }
        }

        @Override
        public void close() {
            synchronized (SimFileIO.this) {
                closed = true;
            }
        }
    }

    @Override
    public synchronized Handle open(Path file, boolean create) throws IOException {
        Inode i = files.get(file);
        if (i == null) {
            if (!create) {
                throw new NoSuchFileException(file.toString());
            }
            i = new Inode();
            files.put(file, i);
            unsyncedDirOps.add(new DirOp(null, file, i));
        }
        return new SimHandle(i, file);
    }

    @Override
    public synchronized boolean exists(Path file) {
        return files.containsKey(file);
    }

    @Override
    public synchronized List<String> list(Path dir) {
        List<String> out = new ArrayList<>();
        for (Path p : files.keySet()) {
            if (dir.equals(p.getParent())) {
                out.add(p.getFileName().toString());
            }
        }
        return out;
    }

    @Override
    public void createDirectories(Path dir) {
        // Directories are implicit.
    }

    @Override
    public synchronized void rename(Path from, Path to) throws IOException {
        Inode i = files.remove(from);
        if (i == null) {
            throw new NoSuchFileException(from.toString());
        }
        files.put(to, i);
        unsyncedDirOps.add(new DirOp(from, to, i));
    }

    @Override
    public synchronized void delete(Path file) {
        if (files.remove(file) != null) {
            unsyncedDirOps.add(new DirOp(file, null, null));
        }
    }

    @Override
    public void syncDirectory(Path dir) throws IOException {
        beforeForce.run(dir);
        synchronized (this) {
            durableNames.clear();
            durableNames.putAll(files);
            unsyncedDirOps.clear();
            forces.incrementAndGet();
        }
    }

    @Override
    public synchronized Closeable tryLock(Path lockFile) {
        if (!locks.add(lockFile)) {
            return null;
        }
        if (!files.containsKey(lockFile)) {
            Inode i = new Inode();
            files.put(lockFile, i);
            durableNames.put(lockFile, i);
        }
        return () -> {
            synchronized (SimFileIO.this) {
                locks.remove(lockFile);
            }
        };
    }
}
