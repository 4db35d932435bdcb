package io.haraft.runtime;

import org.slf4j.MDC;

import java.util.concurrent.ThreadFactory;

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
}
