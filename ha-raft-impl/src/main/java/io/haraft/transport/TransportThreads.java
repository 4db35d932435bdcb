package io.haraft.transport;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.MDC;

/**
 * The threads of one started {@link GrpcTransport}: the I/O thread
 * {@code haraft-transport-<node>-io-1} ({@link EventLoops}), a pool of two to four threads
 * {@code haraft-transport-<node>-<n>} that write to streams a caller could not write to at once,
 * and one timer thread {@code haraft-transport-<node>-timer} for reconnections.
 *
 * <p><b>Guarantees.</b> Every thread is a daemon and carries the MDC keys {@code cluster} and
 * {@code node}; the I/O thread is known to the transport's {@link ConnectionGate}. Nothing is
 * shared with another transport. Timer tasks cancelled before they run are removed at once.
 *
 * <p><b>Threads.</b> Immutable once built; {@link #close} is called once, by the transport's close.
 */
final class TransportThreads {
    final EventLoops io;
    final ExecutorService pool;
    final ScheduledThreadPoolExecutor timer;

    TransportThreads(String cluster, String node, ConnectionGate gate) {
        AtomicInteger n = new AtomicInteger();
        io = new EventLoops(r -> {
            Thread t = new ConnectionGate.IoThread(withMdc(cluster, node, r),
                    "haraft-transport-" + node + "-io-" + n.incrementAndGet(), gate);
            t.setDaemon(true);
            return t;
        });
        pool = Executors.newFixedThreadPool(Math.max(2, Math.min(4, Runtime.getRuntime().availableProcessors())),
                threads(cluster, node, "haraft-transport-" + node + "-", true));
        timer = new ScheduledThreadPoolExecutor(1, threads(cluster, node, "haraft-transport-" + node + "-timer", false));
        timer.setRemoveOnCancelPolicy(true);
    }

    /**
     * Stops the timer at once, lets the pool finish what it runs, then stops the I/O thread once
     * the channels on it are closed, waiting until {@code deadline} (nanoTime) at most.
     */
    void close(long deadline) {
        timer.shutdownNow();
        pool.shutdown();
        GrpcTransport.awaitUntil(deadline, pool::awaitTermination);
        pool.shutdownNow();
        io.close(deadline);
    }

    private static Runnable withMdc(String cluster, String node, Runnable r) {
        return () -> {
            MDC.put("cluster", cluster);
            MDC.put("node", node);
            r.run();
        };
    }

    private static ThreadFactory threads(String cluster, String node, String prefix, boolean numbered) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(withMdc(cluster, node, r), numbered ? prefix + n.incrementAndGet() : prefix);
            t.setDaemon(true);
            return t;
        };
    }
}
