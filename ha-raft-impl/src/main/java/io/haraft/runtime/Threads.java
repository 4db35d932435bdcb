package io.haraft.runtime;

import org.slf4j.MDC;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;

/** Thread factories of the runtime: named daemon threads with the cluster and node in their MDC. */
final class Threads {
    private Threads() {
    }

    static ThreadFactory factory(String name, String clusterId, String nodeId) {
        return task -> {
            Thread t = new Thread(() -> {
                MDC.put("cluster", clusterId);
                MDC.put("node", nodeId);
                task.run();
            }, name);
            t.setDaemon(true);
            return t;
        };
    }

    /**
     * Shuts {@code executor} down and waits up to {@code timeoutNanos} for its queued work; if that
     * is not enough (or the wait is interrupted), logs {@code warning} and abandons the work.
     */
    static void shutdownWithin(ExecutorService executor, long timeoutNanos, org.slf4j.Logger log, String warning) {
        executor.shutdown();
        if (timeoutNanos <= 0) {
            return;
        }
        try {
            if (!executor.awaitTermination(timeoutNanos, TimeUnit.NANOSECONDS)) {
                log.warn(warning);
                executor.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            executor.shutdownNow();
        }
    }
}
