package io.haraft;

/**
 * A listener's registration with a {@link RaftNode}; {@link #cancel()} removes the listener.
 * Returned by {@link RaftNode#addListener} and {@link RaftNode#addLeaderChangeListener}.
 *
 * <p><b>Guarantees.</b> Thread-safe; {@link #cancel()} is idempotent and never blocks. Once
 * {@code cancel()} has returned, no further call of the listener starts (a call already running
 * on another thread finishes). A {@link LeadershipListener} removed between an {@code elected} and
 * its {@code revoked} does not receive that {@code revoked}.
 *
 * <pre>{@code
 * try (Subscription s = node.addListener(listener)) {
 *     ...
 * }   // removed
 * }</pre>
 *
 * <p><b>Limits.</b> Closing the node ends deliveries too (after the last {@code revoked}); cancelling
 * is then unnecessary but harmless.
 */
public interface Subscription extends AutoCloseable {

    /** Removes the listener; see the class documentation. */
    void cancel();

    /** The same as {@link #cancel()}. */
    @Override
    default void close() {
        cancel();
    }
}
