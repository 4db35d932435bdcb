package io.haraft.runtime;

import io.haraft.LeadershipListener;
import io.haraft.RaftConfig;
import io.haraft.RaftNode;
import io.haraft.StateMachine;
import io.haraft.spi.RaftNodeFactory;

import java.util.Objects;

/**
 * The {@link RaftNodeFactory} of {@code io.haraft:ha-raft-impl}, registered for
 * {@link java.util.ServiceLoader} in {@code META-INF/services/io.haraft.spi.RaftNodeFactory}, so
 * that {@link RaftNode#builder()} finds it.
 *
 * <p><b>Guarantees.</b> Thread-safe and stateless. {@link #create} only builds a
 * {@link RaftNodeImpl}; nothing is opened or started before {@link RaftNode#start()}.
 *
 * <pre>{@code
 * RaftNode node = RaftNode.builder()...build();       // uses the no-argument constructor
 * RaftNodeFactory custom = new RaftNodeProvider(myTransports, myStores, MonotonicClock.system());
 * }</pre>
 *
 * <p><b>Limits.</b> Until the gRPC transport and the durable store are merged, the no-argument
 * constructor cannot build a usable node: {@link #create} then throws
 * {@link UnsupportedOperationException}. See {@link #defaultTransports()} and
 * {@link #defaultStores()}, the two places to wire them.
 */
public final class RaftNodeProvider implements RaftNodeFactory {

    private final TransportFactory transports;
    private final LogStoreFactory stores;
    private final MonotonicClock clock;

    /** The provider {@link java.util.ServiceLoader} uses: the default transport and store. */
    public RaftNodeProvider() {
        this(null, null, MonotonicClock.system());
    }

    /**
     * A provider with an explicit transport and store (tests, embedding with a custom transport).
     *
     * @param transports creates each node's transport, or {@code null} for the default
     * @param stores     opens each node's store, or {@code null} for the default
     * @param clock      the monotonic clock
     */
    public RaftNodeProvider(TransportFactory transports, LogStoreFactory stores, MonotonicClock clock) {
        this.transports = transports;
        this.stores = stores;
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    @Override
    public RaftNode create(RaftConfig config, LeadershipListener listener, StateMachine stateMachine) {
        TransportFactory t = transports != null ? transports : defaultTransports();
        LogStoreFactory s = stores != null ? stores : defaultStores();
        return new RaftNodeImpl(config, listener, stateMachine, t, s, clock);
    }

    /**
     * The production transport.
     *
     * <p>WIRING POINT (gRPC): once {@code io.haraft.transport.GrpcTransport} is merged, return
     * {@code GrpcTransport::new} (or {@code config -> new GrpcTransport(config)}) here.
     */
    static TransportFactory defaultTransports() {
        throw new UnsupportedOperationException("The gRPC transport is not yet wired into ha-raft-impl"
                + " (RaftNodeProvider.defaultTransports); until it is, create nodes with"
                + " new RaftNodeProvider(transportFactory, logStoreFactory, clock) or new RaftNodeImpl(...)");
    }

    /**
     * The production store.
     *
     * <p>WIRING POINT (storage): once {@code io.haraft.storage.RaftStorage} is merged, return a
     * factory that opens it under {@code config.dataDir()} and wraps it in a {@link LogStore}
     * adapter here.
     */
    static LogStoreFactory defaultStores() {
        throw new UnsupportedOperationException("Durable storage is not yet wired into ha-raft-impl"
                + " (RaftNodeProvider.defaultStores); until it is, create nodes with"
                + " new RaftNodeProvider(transportFactory, logStoreFactory, clock) or new RaftNodeImpl(...)");
    }
}
