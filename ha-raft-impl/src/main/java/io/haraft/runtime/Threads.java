package io.haraft.runtime;

import org.slf4j.MDC;

import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;

/**
 * Thread factories of the runtime: named daemon threads with the MDC keys {@code cluster} and
 * {@code node} set before their first task runs. Every thread the runtime starts comes from here.
 */
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
     * Puts {@code cluster} and {@code node} into the calling thread's MDC (for work done for a node
     * on a caller's thread, such as {@code start()} and {@code close()}; a store opened meanwhile
     * gives its own threads the same keys).
     *
     * @return the caller's MDC before, for {@link #restoreMdc}
     */
    static Map<String, String> enterNode(String clusterId, String nodeId) {
        Map<String, String> before = MDC.getCopyOfContextMap();
        MDC.put("cluster", clusterId);
        MDC.put("node", nodeId);
        return before;
    }

    /** Gives the calling thread back the MDC {@link #enterNode} found. */
    static void restoreMdc(Map<String, String> before) {
        if (before == null || before.isEmpty()) {
            MDC.clear();
        } else {
            MDC.setContextMap(before);
        }
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
