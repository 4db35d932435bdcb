package io.haraft.sim;

import io.haraft.storage.FileIO;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * The real file system (files in a temporary directory, through {@link FileIO#standard()}), with a
 * power loss decided by the simulator: every change since the last {@link #checkpoint()} is journaled
 * with what it replaced, and {@link #crash} undoes all of them, or all but an ordered prefix with the
 * last kept write torn part-way. The simulator calls {@code checkpoint()} when it treats everything
 * written so far as durable (after the store reported the batch durable); so a crash loses exactly
 * writes that were never reported durable, some or all of them, as a machine losing power would.
 *
 * <p>Every outcome is a state the disk could really be in: the state at some instant after the
 * checkpoint (everything before a {@code force} reached the disk before anything after it), plus
 * part of one write. {@code force} and {@code syncDirectory} do not call the real {@code fsync}:
 * durability is what this layer models, and real fsyncs would only make the simulation slow. They
 * are tracked, though: {@link #checkpoint()} reports any change to a file other than a temporary
 * one that was not made durable (written but never forced, or a creation, rename or deletion never
 * followed by an fsync of the directory), which a store must not report durable.
 *
 * <p>The background preallocation of the store's spare segment ({@value #SPARE}) is not journaled:
 * it runs on its own thread, so journaling it would make crashes depend on thread timing; it only
 * writes zeros to a temporary file, which recovery deletes. Renaming it into a segment is journaled.
 *
 * <p>Thread-safe. After {@code crash} every call fails: the process is gone.
 */
public final class CrashableFileIO implements FileIO {
    /** The store's spare segment, written in the background. */
    static final String SPARE = "log-spare.tmp";

    private final FileIO real = FileIO.standard();
    private final List<Journaled> journal = new ArrayList<>();
    private final Set<JournaledHandle> open = new HashSet<>();
    private final List<Closeable> locks = new ArrayList<>();
    private boolean crashed;
    /** Whole-node mode ({@link #untilPowerLoss}): a change made durable leaves the journal at once. */
    private final boolean forgetDurable;
    /** Planted bug: {@code force} of a log segment or the hard state returns without making anything durable. */
    private final boolean lyingFsync;

    /** For the core simulator: journals until {@link #checkpoint()}, which the simulator calls. */
    CrashableFileIO() {
        this(false, false);
    }

    private CrashableFileIO(boolean forgetDurable, boolean lyingFsync) {
        this.forgetDurable = forgetDurable;
        this.lyingFsync = lyingFsync;
    }

    /**
     * For the whole-node simulator: what each {@code force} and directory fsync made durable is
     * kept by any crash, and {@link #powerLoss} loses exactly the rest. With {@code lyingFsync} (a
     * planted bug: a disk or store that acknowledges before its data is durable) forcing a log
     * segment or the hard state file makes nothing durable.
     */
    public static CrashableFileIO untilPowerLoss(boolean lyingFsync) {
        return new CrashableFileIO(true, lyingFsync);
    }

    /** What a crash did: how many of the journaled changes it kept, and how much of a torn write. */
    record Outcome(int journaled, int kept, int tornBytes, int tornOf, String torn) {
        boolean lostSomething() {
            return kept < journaled;
        }
    }

    private sealed interface Change permits Write, Truncate, Create, Rename, Delete { }

    /** {@code after} was written at {@code position}, where {@code before} was (the file had {@code sizeBefore} bytes). */
    private record Write(Path file, long position, byte[] before, long sizeBefore, byte[] after) implements Change { }

    /** The file was cut from {@code sizeBefore} bytes to {@code sizeBefore - cut.length}, losing {@code cut}. */
    private record Truncate(Path file, long sizeBefore, byte[] cut) implements Change { }

    private record Create(Path file) implements Change { }

    /** {@code from} became {@code to}; {@code replaced} is what {@code to} held before, or {@code null}. */
    private record Rename(Path from, Path to, byte[] replaced) implements Change { }

    private record Delete(Path file, byte[] content) implements Change { }

    /** A journaled change, and whether a force (of its file) or a directory fsync made it durable since. */
    private static final class Journaled {
        final Change change;
        /** The file a write or truncation changed (it follows renames); {@code null} for directory changes. */
        final FileToken file;
        boolean durable;

        Journaled(Change change, FileToken file) {
            this.change = change;
            this.file = file;
        }
    }

    /** One file, whatever it is named now. */
    private static final class FileToken {
        Path path;
        boolean deleted;

        FileToken(Path path) {
            this.path = path;
        }
    }

    /** The file behind each path that has an open handle or was journaled. */
    private final java.util.Map<Path, FileToken> tokens = new java.util.HashMap<>();

    private FileToken token(Path path) {
        return tokens.computeIfAbsent(path, FileToken::new);
    }

    /**
     * The store reported everything written so far durable: a later crash keeps it. Returns
     * {@code null}, or what was not in fact made durable (a temporary file's content aside, which
     * recovery deletes anyway).
     */
    synchronized String checkpoint() {
        String notDurable = null;
        for (Journaled j : journal) {
            boolean temporary = j.file != null ? j.file.deleted || j.file.path.toString().endsWith(".tmp")
                    : j.change instanceof Delete d ? d.file().toString().endsWith(".tmp")
                    : j.change instanceof Create c && c.file().toString().endsWith(".tmp");
            if (!j.durable && !temporary && notDurable == null) {
                notDurable = j.change.getClass().getSimpleName().toLowerCase(java.util.Locale.ROOT) + " of "
                        + (j.file != null ? j.file.path.getFileName() : describe(j.change)) + " never "
                        + (j.file != null ? "forced" : "followed by an fsync of the directory");
            }
        }
        journal.clear();
        return notDurable;
    }

    /** What {@link #powerLoss} did. */
    public record PowerLoss(int lost, int tornBytes, String torn) {
    }

    /**
     * The machine loses power (whole-node mode): every open file is closed, the directory lock
     * released, and every change not made durable by a {@code force} of its file or an fsync of the
     * directory is undone, last first. With {@code tear}, the first undone write is then redone in
     * part (a random number of its bytes, at least one, fewer than all), as a write the power cut
     * short: a state the disk could be in, since the changes to one file after its last force reach
     * the disk in order, and everything before them is durable. Every later call fails.
     */
    public synchronized PowerLoss powerLoss(SplittableRandom rnd, boolean tear) throws IOException {
        crashed = true;
        for (JournaledHandle h : open) {
            h.delegate.close();
        }
        open.clear();
        for (Closeable l : locks) {
            l.close();
        }
        locks.clear();
        int n = journal.size();
        for (int i = n - 1; i >= 0; i--) {
            Change c = journal.get(i).change;
            Path file = c instanceof Write w ? w.file() : c instanceof Truncate t ? t.file() : null;
            if (file == null || Files.exists(file)) {
                undo(c);
            }
            // else a write to a file whose deletion is durable: nothing of it can come back
        }
        String tornWhere = null;
        int torn = 0;
        Write first = journal.stream().map(j -> j.change).filter(c -> c instanceof Write).map(c -> (Write) c)
                .findFirst().orElse(null);
        if (tear && first != null && first.after().length > 1 && Files.exists(first.file())) {
            torn = rnd.nextInt(1, first.after().length);
            try (FileChannel ch = FileChannel.open(first.file(), StandardOpenOption.WRITE)) {
                writeFully(ch, ByteBuffer.wrap(first.after(), 0, torn), first.position());
            }
            tornWhere = first.file().getFileName() + "@" + first.position();
        }
        journal.clear();
        return new PowerLoss(n, torn, tornWhere);
    }

    /**
     * Drops the durable changes from the journal (whole-node mode: no crash undoes them), and after
     * an fsync of the directory the changes to files whose deletion it made durable.
     */
    private void forgetDurable(boolean directorySynced) {
        if (forgetDurable) {
            journal.removeIf(j -> j.durable || directorySynced && j.file != null && j.file.deleted);
        }
    }

    private static String describe(Change c) {
        if (c instanceof Rename r) {
            return r.from().getFileName() + " to " + r.to().getFileName();
        }
        return c instanceof Create cr ? cr.file().getFileName().toString() : ((Delete) c).file().getFileName().toString();
    }

    /** Changes a crash could still lose. */
    public synchronized int unsyncedChanges() {
        return journal.size();
    }

    /**
     * The power fails: every open file is closed, and the journaled changes are undone from the
     * last back to the {@code kept}-th, which {@code rnd} chooses: none kept (a third of the time),
     * all kept (as after a process crash, where the page cache survives), or a random prefix whose
     * next write is torn after a random number of bytes. Must be called once the store is stopped.
     */
    synchronized Outcome crash(SplittableRandom rnd) throws IOException {
        crashed = true;
        for (JournaledHandle h : open) {
            h.delegate.close();
        }
        open.clear();
        int n = journal.size();
        if (n == 0) {
            return new Outcome(0, 0, 0, 0, null);
        }
        int mode = rnd.nextInt(3);
        int kept = mode == 0 ? 0 : mode == 1 ? n : rnd.nextInt(n);
        Change next = kept < n ? journal.get(kept).change : null;
        int torn = next instanceof Write w && mode == 2 && w.after().length > 1 ? rnd.nextInt(1, w.after().length) : 0;
        for (int i = n - 1; i >= kept; i--) {
            undo(journal.get(i).change);
        }
        String tornWhere = null;
        if (torn > 0) {
            Write w = (Write) next;
            try (FileChannel ch = FileChannel.open(w.file(), StandardOpenOption.WRITE)) {
                writeFully(ch, ByteBuffer.wrap(w.after(), 0, torn), w.position());
            }
            tornWhere = w.file().getFileName() + "@" + w.position();
        }
        journal.clear();
        return new Outcome(n, kept, torn, torn > 0 ? ((Write) next).after().length : 0, tornWhere);
    }

    private static void undo(Change c) throws IOException {
        if (c instanceof Write w) {
            try (FileChannel ch = FileChannel.open(w.file(), StandardOpenOption.WRITE)) {
                writeFully(ch, ByteBuffer.wrap(w.before()), w.position());
                if (w.position() + w.after().length > w.sizeBefore()) {
                    ch.truncate(w.sizeBefore());
                }
            }
        } else if (c instanceof Truncate t) {
            try (FileChannel ch = FileChannel.open(t.file(), StandardOpenOption.WRITE)) {
                writeFully(ch, ByteBuffer.wrap(t.cut()), t.sizeBefore() - t.cut().length);
            }
        } else if (c instanceof Create cr) {
            Files.deleteIfExists(cr.file());
        } else if (c instanceof Rename r) {
            Files.move(r.to(), r.from(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            if (r.replaced() != null) {
                Files.write(r.to(), r.replaced());
            }
        } else if (c instanceof Delete d) {
            Files.write(d.file(), d.content());
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer b, long position) throws IOException {
        long pos = position;
        while (b.hasRemaining()) {
            pos += ch.write(b, pos);
        }
    }

    private void check() throws IOException {
        if (crashed) {
            throw new IOException("the simulated machine lost power");
        }
    }

    private static boolean journaled(Path file) {
        return !file.getFileName().toString().equals(SPARE);
    }

    private void record(Path file, Change c) {
        if (journaled(file)) {
            journal.add(new Journaled(c, null));
        }
    }

    // ------------------------------------------------------------------ FileIO

    /** A real handle whose writes and truncations are journaled. */
    private final class JournaledHandle implements Handle {
        private final Handle delegate;
        private final FileToken file;

        JournaledHandle(Handle delegate, FileToken file) {
            this.delegate = delegate;
            this.file = file;
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            synchronized (CrashableFileIO.this) {
                check();
                return delegate.read(dst, position);
            }
        }

        @Override
        public void write(ByteBuffer src, long position) throws IOException {
            synchronized (CrashableFileIO.this) {
                check();
                if (journaled(file.path)) {
                    long size = delegate.size();
                    byte[] before = new byte[(int) Math.max(0, Math.min(position + src.remaining(), size) - position)];
                    ByteBuffer b = ByteBuffer.wrap(before);
                    while (b.hasRemaining() && delegate.read(b, position + b.position()) >= 0) {
                        // read it all
                    }
                    byte[] after = new byte[src.remaining()];
                    src.duplicate().get(after);
                    journal.add(new Journaled(new Write(file.path, position, before, size, after), file));
                }
                delegate.write(src, position);
            }
        }

        @Override
        public long size() throws IOException {
            synchronized (CrashableFileIO.this) {
                check();
                return delegate.size();
            }
        }

        @Override
        public void truncate(long size) throws IOException {
            synchronized (CrashableFileIO.this) {
                check();
                long old = delegate.size();
                if (size < old) {
                    if (journaled(file.path)) {
                        byte[] cut = new byte[(int) (old - size)];
                        ByteBuffer b = ByteBuffer.wrap(cut);
                        while (b.hasRemaining() && delegate.read(b, size + b.position()) >= 0) {
                            // read it all
                        }
                        journal.add(new Journaled(new Truncate(file.path, old, cut), file));
                    }
                    delegate.truncate(size);
                }
            }
        }

        @Override
        public void force() throws IOException {
            synchronized (CrashableFileIO.this) {
                check(); // no real fsync: durability is modelled by the journal
                if (lyingFsync && (file.path.getFileName().toString().startsWith("log-")
                        || file.path.getFileName().toString().equals("hardstate"))) {
                    return;
                }
                for (Journaled j : journal) {
                    if (j.file == file) {
                        j.durable = true;
                    }
                }
                forgetDurable(false);
            }
        }

        @Override
        public void close() throws IOException {
            synchronized (CrashableFileIO.this) {
                if (open.remove(this)) {
                    delegate.close();
                }
            }
        }
    }

    @Override
    public synchronized Handle open(Path file, boolean create) throws IOException {
        check();
        boolean existed = Files.exists(file);
        Handle h = real.open(file, create);
        if (!existed) {
            record(file, new Create(file));
        }
        JournaledHandle j = new JournaledHandle(h, token(file));
        open.add(j);
        return j;
    }

    @Override
    public synchronized boolean exists(Path file) throws IOException {
        check();
        return real.exists(file);
    }

    @Override
    public synchronized List<String> list(Path dir) throws IOException {
        check();
        return real.list(dir);
    }

    @Override
    public synchronized void createDirectories(Path dir) throws IOException {
        check();
        real.createDirectories(dir);
    }

    @Override
    public synchronized void rename(Path from, Path to) throws IOException {
        check();
        byte[] replaced = Files.exists(to) ? Files.readAllBytes(to) : null;
        real.rename(from, to);
        journal.add(new Journaled(new Rename(from, to, replaced), null));
        FileToken replacedFile = tokens.remove(to);
        if (replacedFile != null) {
            replacedFile.deleted = true;
        }
        FileToken moved = tokens.remove(from);
        if (moved != null) {
            moved.path = to;
            tokens.put(to, moved);
        }
    }

    @Override
    public synchronized void delete(Path file) throws IOException {
        check();
        if (Files.exists(file)) {
            byte[] content = Files.readAllBytes(file);
            real.delete(file);
            record(file, new Delete(file, content));
            FileToken gone = tokens.remove(file);
            if (gone != null) {
                gone.deleted = true;
            }
        }
    }

    @Override
    public synchronized void syncDirectory(Path dir) throws IOException {
        check(); // no real fsync: durability is modelled by the journal
        for (Journaled j : journal) {
            if (j.file == null) {
                j.durable = true;
            }
        }
        forgetDurable(true);
    }

    @Override
    public synchronized Closeable tryLock(Path lockFile) throws IOException {
        check();
        Closeable held = real.tryLock(lockFile);
        if (held == null) {
            return null;
        }
        boolean[] released = {false};
        Closeable lock = () -> {
            synchronized (CrashableFileIO.this) {
                if (!released[0]) {
                    released[0] = true;
                    held.close();
                }
            }
        };
        locks.add(lock);        // a power loss releases it (the process is gone)
        return lock;
    }
}
