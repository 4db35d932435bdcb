package io.haraft.bench.node;

import java.nio.ByteBuffer;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Closed-loop load: {@code clients} virtual clients, each submitting its next entry as soon as the
 * previous one is acknowledged. Latencies of the measurement window go into an HdrHistogram
 * (microsecond resolution, 3 significant digits) that is sent to the driver compressed.
 */
final class LoadGenerator {

    private final Function<byte[], CompletableFuture<?>> submit;
    private final byte[] payload;
    private final Recorder recorder = new Recorder(3);
    private final AtomicLong errors = new AtomicLong();
    private final AtomicLong lastSuccess = new AtomicLong();
    private volatile String firstError;
    private volatile boolean measuring;
    private volatile long stopAt;
    private volatile boolean aborted;

    /** The load gives up once submits have failed, without any success, for this long. */
    static final long ABORT_AFTER_NANOS = TimeUnit.SECONDS.toNanos(2);

    LoadGenerator(Function<byte[], CompletableFuture<?>> submit, int entryBytes) {
        this.submit = submit;
        this.payload = new byte[entryBytes];
    }

    /**
     * Runs the load and returns the protocol line
     * {@code LOADRESULT clients ops nanos errors hist [aborted] [first error text]}: the text after the
     * histogram is present only when a submit failed. If submits fail without any success for
     * {@link #ABORT_AFTER_NANOS} (this node lost leadership, say), the load stops early and says
     * {@code aborted}; the driver then moves it to the new leader.
     */
    String run(int clients, long warmupMs, long measureMs) throws InterruptedException {
        long start = System.nanoTime();
        long measureFrom = start + TimeUnit.MILLISECONDS.toNanos(warmupMs);
        stopAt = measureFrom + TimeUnit.MILLISECONDS.toNanos(measureMs);
        lastSuccess.set(start);
        CountDownLatch done = new CountDownLatch(clients);
        for (int i = 0; i < clients; i++) {
            next(done);
        }
        while (System.nanoTime() < measureFrom && !aborted) {
            Thread.sleep(5);
            checkAbort();
        }
        recorder.reset();
        errors.set(0);
        measuring = true;
        long t0 = System.nanoTime();
        long waitUntil = stopAt + TimeUnit.SECONDS.toNanos(30);
        while (!done.await(50, TimeUnit.MILLISECONDS)) {
            checkAbort();
            if (System.nanoTime() > waitUntil) {
                System.err.println("load: clients still outstanding 30 s after the end");
                break;
            }
        }
        long t1 = Math.min(System.nanoTime(), stopAt);
        measuring = false;
        Histogram h = recorder.getIntervalHistogram();
        ByteBuffer buf = ByteBuffer.allocate(h.getNeededByteBufferCapacity());
        int n = h.encodeIntoCompressedByteBuffer(buf);
        String b64 = Base64.getEncoder().encodeToString(java.util.Arrays.copyOf(buf.array(), n));
        String line = "LOADRESULT " + clients + " " + h.getTotalCount() + " " + Math.max(1, t1 - t0) + " " + errors.get()
                + " " + b64;
        String err = firstError;
        if (aborted || err != null) {
            line += (aborted ? " aborted" : "") + (err != null ? " " + err : "");
        }
        return line;
    }

    private void checkAbort() {
        long now = System.nanoTime();
        if (!aborted && errors.get() > 0 && now - lastSuccess.get() > ABORT_AFTER_NANOS) {
            aborted = true;
            stopAt = now;
            System.err.println("load: no submit succeeded for " + TimeUnit.NANOSECONDS.toMillis(ABORT_AFTER_NANOS)
                    + " ms (first error: " + firstError + "); stopping early");
        }
    }

    private void next(CountDownLatch done) {
        long t = System.nanoTime();
        if (t >= stopAt) {
            done.countDown();
            return;
        }
        CompletableFuture<?> f;
        try {
            f = submit.apply(payload);
        } catch (RuntimeException e) {
            f = CompletableFuture.failedFuture(e);
        }
        f.whenComplete((r, e) -> {
            long end = System.nanoTime();
            if (e == null) {
                lastSuccess.accumulateAndGet(end, Math::max);
            } else {
                if (firstError == null) {
                    firstError = NodeMain.oneLine(e);
                }
                if (!measuring) {
                    errors.incrementAndGet();
                }
            }
            if (measuring && end <= stopAt) {
                if (e == null) {
                    recorder.recordValue(Math.max(1, (end - t) / 1_000));
                } else {
                    errors.incrementAndGet();
                }
            }
            if (e != null) {
                if (errors.get() % 1000 == 1) {
                    System.err.println("submit failed: " + e);
                }
                // back off a little, and never recurse on a future that failed synchronously
                CompletableFuture.delayedExecutor(1, TimeUnit.MILLISECONDS).execute(() -> next(done));
                return;
            }
            next(done);
        });
    }
}
