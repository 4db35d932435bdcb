package io.haraft.runtime;

import io.haraft.RaftConfig;
import io.haraft.transport.Transport;

/**
 * Creates the {@link Transport} of a node; called once by {@link RaftNodeImpl#start()}, which
 * then starts the transport with the node's loop as its listener.
 *
 * <p><b>Contract.</b> Called on the thread that starts the node. The returned transport must not
 * listen or connect before {@link Transport#start} is called. A runtime exception fails the start.
 *
 * <pre>{@code
 * TransportFactory grpc = config -> new GrpcTransport(config);   // once the gRPC transport exists
 * }</pre>
 */
@FunctionalInterface
public interface TransportFactory {

    /** Creates the (unstarted) transport for {@code config}'s node. */
    Transport create(RaftConfig config);
}
