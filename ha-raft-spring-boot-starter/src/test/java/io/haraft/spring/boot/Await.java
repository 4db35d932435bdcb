package io.haraft.spring.boot;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Waits for a condition with a deadline; fails the test with {@code what} if it does not hold in time. */
final class Await {
    /** Generous: the machine running the tests may be loaded. */
    static final Duration LONG = Duration.ofSeconds(30);

    private Await() {
    }

    static void until(BooleanSupplier condition, Supplier<String> what) {
        long deadline = System.nanoTime() + LONG.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("timed out after " + LONG.toSeconds() + " s waiting for: " + what.get());
            }
            LockSupport.parkNanos(5_000_000);
        }
    }
}
