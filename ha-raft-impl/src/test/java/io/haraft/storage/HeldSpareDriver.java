package io.haraft.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;

/**
 * A {@link StoreDriver} that runs a store's group-commit writer on its own thread, as in production,
 * and its spare segment's preallocation only when the test calls {@link #write}: until then no
 * spare is ready, so every segment the store starts grows with its entries, and none is left early
 * for a spare. Open a store on it with {@code FileRaftStorage.open(dir, options, driver)}.
 */
final class HeldSpareDriver implements StoreDriver {
    private volatile StoreDriver.Worker prealloc;

    @Override
    public Background background(String role, Path dir, Map<String, String> mdc, Worker worker) {
        if (!role.equals("haraft-storage-prealloc")) {
            return StoreDriver.THREADS.background(role, dir, mdc, worker);
        }
        prealloc = worker;
        return new Background() {
            @Override
            public void start() {
                // held: only write() runs it
            }

            @Override
            public void wake() {
                // held
            }

            @Override
            public boolean join() {
                return false; // a spare never written stays wanted; the next open asks again
            }
        };
    }

    /** Writes the spare the store asked for, now, on the test's thread. */
    void write() {
        assertThat(prealloc.step()).as("the store had asked for a spare").isTrue();
    }
}
