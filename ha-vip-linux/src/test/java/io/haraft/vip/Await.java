package io.haraft.vip;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Waits for a condition with a deadline; fails with a description instead of sleeping and hoping. */
public final class Await {
    private Await() {
    }

    public static void until(Duration deadline, BooleanSupplier condition, Supplier<String> description) {
        long end = System.nanoTime() + deadline.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("not within " + deadline.toMillis() + " ms: " + description.get());
            }
            LockSupport.parkNanos(2_000_000);
        }
    }
}
