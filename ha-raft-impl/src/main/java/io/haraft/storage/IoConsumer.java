package io.haraft.storage;

import java.io.IOException;

/**
 * A consumer that may throw {@link IOException}; used to let a state machine stream its snapshot
 * into the store.
 *
 * @param <T> the consumed type
 */
@FunctionalInterface
public interface IoConsumer<T> {
    /** Consumes {@code value}. */
    void accept(T value) throws IOException;
}
