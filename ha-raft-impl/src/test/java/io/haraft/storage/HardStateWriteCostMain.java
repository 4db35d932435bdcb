package io.haraft.storage;

import io.haraft.core.HardState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CyclicBarrier;

/**
 * Measures one hard state update on the real disk, as three voters sharing one disk make it at
 * once in an election: the single-record replacement of format 2 (temporary file, fsync, rename,
 * directory fsync) against the in-place slot write of format 3 (one write, one fdatasync). Each
 * of {@code writers} threads has its own directory; all start each update together.
 *
 * <p>Usage: {@code java -cp <test classpath> io.haraft.storage.HardStateWriteCostMain DIR [updates] [writers] [rounds]}.
 * Prints, per method and round, the update latency percentiles in microseconds over all writers.
 */
public final class HardStateWriteCostMain {
    private HardStateWriteCostMain() {
    }

    private interface Writer {
        void write(HardState hs) throws IOException;
    }

    public static void main(String[] args) throws Exception {
        Path root = Path.of(args[0]);
        int updates = args.length > 1 ? Integer.parseInt(args[1]) : 200;
        int writers = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 3;
        FileIO io = FileIO.standard();
        for (int round = 1; round <= rounds; round++) {
            for (String method : List.of("rename-v2", "slots-v3")) {
                List<Writer> ws = new ArrayList<>();
                List<HardStateFile> files = new ArrayList<>();
                for (int w = 0; w < writers; w++) {
                    Path dir = root.resolve(method + "-" + round + "-n" + w);
                    Files.createDirectories(dir);
                    if (method.equals("rename-v2")) {
                        ws.add(hs -> DataDir.replaceDurably(io, dir, DataDir.HARD_STATE_FILE,
                                HardStateFormatTest.formatTwo(hs)));
                    } else {
                        HardStateFile f = HardStateFile.create(io, dir, HardState.INITIAL);
                        files.add(f);
                        ws.add(f::write);
                    }
                }
                long[] nanos = run(ws, updates);
                for (HardStateFile f : files) {
                    f.close();
                }
                Arrays.sort(nanos);
                System.out.printf("round %d %-9s n=%d p10=%d p50=%d p90=%d p99=%d max=%d us%n", round, method,
                        nanos.length, pct(nanos, 10), pct(nanos, 50), pct(nanos, 90), pct(nanos, 99),
                        nanos[nanos.length - 1] / 1000);
            }
        }
    }

    private static long pct(long[] sorted, int p) {
        return sorted[Math.min(sorted.length - 1, sorted.length * p / 100)] / 1000;
    }

    private static long[] run(List<Writer> ws, int updates) throws Exception {
        long[] nanos = new long[ws.size() * updates];
        CyclicBarrier barrier = new CyclicBarrier(ws.size());
        List<Thread> threads = new ArrayList<>();
        Exception[] failure = new Exception[1];
        for (int w = 0; w < ws.size(); w++) {
            int me = w;
            Thread t = new Thread(() -> {
                try {
                    for (int i = 1; i <= updates; i++) {
                        barrier.await();
                        long t0 = System.nanoTime();
                        ws.get(me).write(new HardState(i, "n" + (i % 3), 300_000_000L));
                        nanos[me * updates + i - 1] = System.nanoTime() - t0;
                    }
                } catch (Exception e) {
                    synchronized (failure) {
                        failure[0] = e;
                    }
                    barrier.reset();
                }
            });
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            t.join();
        }
        if (failure[0] != null) {
            throw failure[0];
        }
        return nanos;
    }
}
