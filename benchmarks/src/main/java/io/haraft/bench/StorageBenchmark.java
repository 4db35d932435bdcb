package io.haraft.bench;

import io.haraft.core.log.Entry;
import io.haraft.storage.FileIO;
import io.haraft.storage.FileRaftStorage;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import org.HdrHistogram.Histogram;

/**
 * Append throughput of {@link FileRaftStorage} with group commit: N appenders each persist one
 * entry at a time and wait until it is durable before the next, for 128 B and 4 KiB entries and
 * N = 1, 8, 64. Two kinds of appender: a thread that blocks on the future ({@code threads}), and an
 * asynchronous loop that issues its next append from the completion callback ({@code async}, the
 * way a Raft runtime pipelines its writes). Before the cases it measures the disk's own floor: a
 * 128 B write plus {@code fdatasync} in a preallocated file. Prints a Markdown table; numbers are
 * reported, not asserted.
 *
 * <p>Run (after the build, e.g. {@code mvn -B -q -DskipTests package -pl benchmarks -am}):
 * {@code java -jar benchmarks/target/ha-raft-benchmarks.jar storage [seconds per case, default 5]
 * [data dir parent, default the system temp dir] [emulated fsync in µs]}. The data directory must be
 * on a real disk (not tmpfs) for fsync to mean anything. The third argument replaces every fsync by
 * a pause of that length (no durability at all): it shows what the store's CPU path can do when
 * the disk is shared or slow, and its table says so in its title.
 *
 * <p>fsyncs are counted where they happen: a wrapper around the store's {@link FileIO} counts each
 * {@code force()} of a file and each fsync of the directory (so a group-commit round that forces a
 * segment and the hard state counts two, and preallocating the next segment counts too).
 */
public final class StorageBenchmark {
    private StorageBenchmark() {
    }

    /** One measured case. */
    private record Result(String mode, int size, int appenders, long entries, long fsyncs, long segmentFsyncs,
                          double seconds, Histogram latency) {
    }

    static final String USAGE = "usage: java -jar ha-raft-benchmarks.jar storage [seconds per case, default 5]"
            + " [data dir parent, default the system temp dir] [emulated fsync in µs, default: real fsync]";

    public static void main(String[] args) throws Exception {
        double seconds;
        Path parent;
        long emulatedFsyncNanos;
        try {
            if (args.length > 3) {
                throw new IllegalArgumentException("too many arguments");
            }
            seconds = args.length > 0 ? Double.parseDouble(args[0]) : 5;
            parent = args.length > 1 ? Path.of(args[1]) : Path.of(System.getProperty("java.io.tmpdir"));
            emulatedFsyncNanos = args.length > 2 ? Long.parseLong(args[2]) * 1000 : -1;
            if (!(seconds > 0) || !Files.isDirectory(parent)) {
                throw new IllegalArgumentException("seconds must be > 0 and " + parent + " an existing directory");
            }
        } catch (IllegalArgumentException e) {
            String why = e instanceof NumberFormatException ? "not a number (" + e.getMessage() + ")" : e.getMessage();
            System.err.println("storage benchmark: " + why + "\n" + USAGE);
            System.exit(64);
            return;
        }
        Histogram floor = fsyncFloor(parent);
        List<Result> results = new ArrayList<>();
        for (boolean async : new boolean[] {false, true}) {
            for (int size : new int[] {128, 4096}) {
                for (int appenders : new int[] {1, 8, 64}) {
                    results.add(run(parent, size, appenders, async, Math.min(1.0, seconds / 4), seconds,
                            emulatedFsyncNanos));
                }
            }
        }
        Histogram floorAfter = fsyncFloor(parent);
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "FileRaftStorage append, each appender waits for durability (%s, %d cores, %.0f s per case, dir %s)%n%n",
                System.getProperty("java.version"), Runtime.getRuntime().availableProcessors(), seconds, parent));
        if (emulatedFsyncNanos >= 0) {
            out.append(String.format(Locale.ROOT, "**EMULATED fsync: every fsync replaced by a %d µs pause, nothing is durable.**%n%n",
                    emulatedFsyncNanos / 1000));
        }
        out.append(String.format(Locale.ROOT, "Disk floor, 128 B write + fdatasync in a preallocated file: p50 %s, p99 %s"
                + " before the cases; p50 %s, p99 %s after.%n%n",
                micros(floor.getValueAtPercentile(50)), micros(floor.getValueAtPercentile(99)),
                micros(floorAfter.getValueAtPercentile(50)), micros(floorAfter.getValueAtPercentile(99))));
        out.append("fsyncs/s: every fsync the store issued (each force() of a file and each fsync of the data"
                + " directory, counted by a wrapper around its file layer), preallocation of the next segment"
                + " included; entries per fsync divides by that count. segment fsyncs/s: those of log segment files"
                + " alone (group-commit rounds, and segment rolls).\n\n");
        out.append("| appenders are | entry size | appenders | entries/s | fsyncs/s | entries per fsync | segment fsyncs/s"
                + " | latency p50 | latency p99 |\n");
        out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Result r : results) {
            out.append(String.format(Locale.ROOT, "| %s | %s | %d | %,.0f | %,.0f | %.1f | %,.0f | %s | %s |%n", r.mode(),
                    r.size() == 128 ? "128 B" : (r.size() / 1024) + " KiB", r.appenders(), r.entries() / r.seconds(),
                    r.fsyncs() / r.seconds(), (double) r.entries() / Math.max(1, r.fsyncs()),
                    r.segmentFsyncs() / r.seconds(),
                    micros(r.latency().getValueAtPercentile(50)), micros(r.latency().getValueAtPercentile(99))));
        }
        System.out.print(out);
    }

    private static String micros(long nanos) {
        return nanos >= 10_000_000 ? String.format(Locale.ROOT, "%.1f ms", nanos / 1e6)
                : String.format(Locale.ROOT, "%d µs", nanos / 1000);
    }

    /** 300 samples of a 128 B positional write plus fdatasync into a preallocated 4 MiB file. */
    private static Histogram fsyncFloor(Path parent) throws IOException {
        Path f = Files.createTempFile(parent, "haraft-floor-", ".bin");
        Histogram h = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer zeros = ByteBuffer.allocate(1 << 20);
            for (int i = 0; i < 4; i++) {
                zeros.clear();
                ch.write(zeros, (long) i << 20);
            }
            ch.force(true);
            ByteBuffer b = ByteBuffer.allocate(128);
            for (int i = 0; i < 300; i++) {
                b.clear();
                long t0 = System.nanoTime();
                ch.write(b, i * 128L);
                ch.force(false);
                h.recordValue(Math.min(System.nanoTime() - t0, TimeUnit.SECONDS.toNanos(10)));
            }
        } finally {
            Files.deleteIfExists(f);
        }
        return h;
    }

    private static Result run(Path parent, int size, int appenders, boolean async, double warmup, double seconds,
                              long emulatedFsyncNanos) throws Exception {
        Path dir = Files.createTempDirectory(parent, "haraft-bench-");
        CountingFileIO files = new CountingFileIO(emulatedFsyncNanos);
        try (FileRaftStorage store = FileRaftStorage.open(dir, FileRaftStorage.Options.defaults().withFileIO(files))) {
            byte[] payload = new byte[size];
            new java.util.Random(size).nextBytes(payload);
            Object order = new Object();
            long[] next = {1};
            long start = System.nanoTime();
            long warmEnd = start + (long) (warmup * 1e9);
            long end = warmEnd + (long) (seconds * 1e9);
            Histogram[] hist = new Histogram[appenders];
            long[] counts = new long[appenders];
            CountDownLatch done = new CountDownLatch(appenders);
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < appenders; t++) {
                int id = t;
                hist[t] = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);
                if (async) {
                    new AsyncAppender(store, order, next, payload, warmEnd, end, hist[t], counts, id, done).next();
                    continue;
                }
                Thread th = new Thread(() -> {
                    try {
                        while (true) {
                            long t0 = System.nanoTime();
                            if (t0 >= end) {
                                break;
                            }
                            CompletableFuture<Void> f;
                            synchronized (order) {
                                f = store.persist(null, List.of(Entry.of(next[0], 1, Entry.Kind.COMMAND, payload)));
                                next[0]++;
                            }
                            f.get(30, TimeUnit.SECONDS);
                            long t1 = System.nanoTime();
                            if (t0 >= warmEnd) {
                                hist[id].recordValue(Math.min(t1 - t0, TimeUnit.SECONDS.toNanos(10)));
                                counts[id]++;
                            }
                        }
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    } finally {
                        done.countDown();
                    }
                }, "appender-" + t);
                threads.add(th);
                th.start();
            }
            // Sample the fsync counters when the measured window opens.
            long waitNanos = warmEnd - System.nanoTime();
            if (waitNanos > 0) {
                done.await(waitNanos, TimeUnit.NANOSECONDS);
            }
            long fsyncsAtWarmEnd = files.fsyncs();
            long segmentFsyncsAtWarmEnd = files.segmentForces.get();
            done.await();
            long fsyncs = files.fsyncs() - fsyncsAtWarmEnd;
            long segmentFsyncs = files.segmentForces.get() - segmentFsyncsAtWarmEnd;
            double measured = (System.nanoTime() - warmEnd) / 1e9;
            Histogram all = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);
            long entries = 0;
            for (int t = 0; t < appenders; t++) {
                all.add(hist[t]);
                entries += counts[t];
            }
            return new Result(async ? "async" : "threads", size, appenders, entries, fsyncs, segmentFsyncs, measured, all);
        } finally {
            deleteTree(dir);
        }
    }

    /**
     * The file system the store runs on in a case: the real one, counting every fsync the store
     * issues (each {@code force()} of a file, each fsync of the directory); in the emulated mode
     * each of them is a pause instead of a real fsync.
     */
    private static final class CountingFileIO implements FileIO {
        private final FileIO real = FileIO.standard();
        private final long pauseNanos;
        final AtomicLong fileForces = new AtomicLong();
        final AtomicLong segmentForces = new AtomicLong();
        final AtomicLong directorySyncs = new AtomicLong();

        /** @param pauseNanos negative for real fsyncs, else the pause that replaces each one */
        CountingFileIO(long pauseNanos) {
            this.pauseNanos = pauseNanos;
        }

        long fsyncs() {
            return fileForces.get() + directorySyncs.get();
        }

        private void fsync(IoAction realFsync) throws IOException {
            if (pauseNanos >= 0) {
                LockSupport.parkNanos(pauseNanos);
            } else {
                realFsync.run();
            }
        }

        @Override
        public Handle open(Path file, boolean create) throws IOException {
            Handle h = real.open(file, create);
            boolean segment = file.getFileName().toString().endsWith(".seg");
            return new Handle() {
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
                    fileForces.incrementAndGet();
                    if (segment) {
                        segmentForces.incrementAndGet();
                    }
                    fsync(h::force);
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
            directorySyncs.incrementAndGet();
            fsync(() -> real.syncDirectory(dir));
        }

        @Override
        public Closeable tryLock(Path lockFile) throws IOException {
            return real.tryLock(lockFile);
        }
    }

    private interface IoAction {
        void run() throws IOException;
    }

    /** An appender without a thread: each completion issues the next append. */
    private static final class AsyncAppender {
        private final FileRaftStorage store;
        private final Object order;
        private final long[] next;
        private final byte[] payload;
        private final long warmEnd;
        private final long end;
        private final Histogram hist;
        private final long[] counts;
        private final int id;
        private final CountDownLatch done;

        AsyncAppender(FileRaftStorage store, Object order, long[] next, byte[] payload, long warmEnd, long end,
                      Histogram hist, long[] counts, int id, CountDownLatch done) {
            this.store = store;
            this.order = order;
            this.next = next;
            this.payload = payload;
            this.warmEnd = warmEnd;
            this.end = end;
            this.hist = hist;
            this.counts = counts;
            this.id = id;
            this.done = done;
        }

        void next() {
            long t0 = System.nanoTime();
            if (t0 >= end) {
                done.countDown();
                return;
            }
            CompletableFuture<Void> f;
            synchronized (order) {
                f = store.persist(null, List.of(Entry.of(next[0], 1, Entry.Kind.COMMAND, payload)));
                next[0]++;
            }
            f.whenComplete((v, e) -> {
                if (e != null) {
                    done.countDown();
                    throw new IllegalStateException(e);
                }
                long t1 = System.nanoTime();
                if (t0 >= warmEnd) {
                    hist.recordValue(Math.min(t1 - t0, TimeUnit.SECONDS.toNanos(10)));
                    counts[id]++;
                }
                next();
            });
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
