package io.haraft.runtime;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/** Single-thread executors for listeners, each thread named as asked; {@link #close()} stops them all. */
public final class NamedExecutors implements AutoCloseable {
    private final List<ExecutorService> executors = new CopyOnWriteArrayList<>();

    /** A new executor whose one daemon thread is called {@code name}, so a test can see where a call ran. */
    public ExecutorService named(String name) {
        ExecutorService e = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        });
        executors.add(e);
        return e;
    }

    @Override
    public void close() {
        executors.forEach(ExecutorService::shutdownNow);
    }
}
