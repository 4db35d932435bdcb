package io.haraft.runtime;

import io.haraft.RaftNode;

/**
 * Test-only access to the runtime's package-private test hooks, for tests in other packages (the
 * integration tests in {@code io.haraft.it}). Lives in the test sources, so no default build can
 * reach it (fault injection is never reachable from a default build).
 */
public final class RuntimeTestHooks {
    private RuntimeTestHooks() {
    }

    /**
     * Stops {@code node} like a crashed process: nothing is revoked or delivered, nothing more is
     * sent, its transport closes (peers then see refused connections) and its threads stop.
     *
     * @throws IllegalArgumentException if {@code node} is not a {@link RaftNodeImpl}
     */
    public static void crash(RaftNode node) {
        if (!(node instanceof RaftNodeImpl impl)) {
            throw new IllegalArgumentException("not a RaftNodeImpl: " + node);
        }
        impl.crashForTest();
    }
}
