package io.haraft.runtime;

import io.haraft.RaftConfig;

import java.io.IOException;

/**
 * Opens the {@link LogStore} of a node; called once by {@link RaftNodeImpl#start()}.
 *
 * <p><b>Contract.</b> Called on the thread that starts the node; may block while it opens files
 * and recovers. Throws {@link IOException} if the store cannot be opened; the node then fails to
 * start.
 *
 * <pre>{@code
 * LogStoreFactory inMemory = config -> new InMemoryLogStore();
 * }</pre>
 */
@FunctionalInterface
public interface LogStoreFactory {

    /** Opens (or creates) the store for {@code config}'s node, typically under its data directory. */
    LogStore open(RaftConfig config) throws IOException;
}
