package io.haraft.runtime;

import io.haraft.LeadershipListener;
import io.haraft.RaftConfig;
import io.haraft.RaftNode;
import io.haraft.StateMachine;
import io.haraft.metrics.RaftMetrics;
import io.haraft.spi.RaftNodeFactory;
import io.haraft.storage.FileRaftStorage;
import io.haraft.transport.GrpcTransport;
import io.haraft.transport.GrpcTransportConfig;

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
 * <p>The no-argument constructor uses the production parts: {@link GrpcTransport} on the node's
 * member address and {@link FileRaftStorage} under its data directory.
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
        return create(config, listener, stateMachine, RaftMetrics.none());
    }

    @Override
    public RaftNode create(RaftConfig config, LeadershipListener listener, StateMachine stateMachine,
                           RaftMetrics metrics) {
        TransportFactory t = transports != null ? transports : defaultTransports();
        LogStoreFactory s = stores != null ? stores : defaultStores();
        return new RaftNodeImpl(config, listener, stateMachine, t, s, clock, metrics);
    }

    /**
     * A node hosting many Raft groups ({@link RaftGroupsImpl}), always on the production parts:
     * one {@link GrpcTransport} and {@link FileRaftStorage} stores under the data directory (a
     * transport or store factory given to this provider applies to single-group nodes only).
     */
    @Override
    public io.haraft.RaftGroups createGroups(RaftConfig config, LeadershipListener listener) {
        return new RaftGroupsImpl(config, listener, clock);
    }

    @Override
    public io.haraft.RaftGroups createGroups(RaftConfig config, LeadershipListener listener, RaftMetrics metrics) {
        return new RaftGroupsImpl(config, listener, clock, metrics);
    }

    /** The production transport: gRPC on the node's member address, with TLS if configured. */
    static TransportFactory defaultTransports() {
        return config -> GrpcTransport.create(GrpcTransportConfig.from(config));
    }

    /** The log segment size of a witness: its entries carry no payload (29 bytes each on disk). */
    static final long WITNESS_SEGMENT_SIZE = 1L << 20;

    /**
     * The production store: the segmented write-ahead log under the node's data directory. A node
     * started as a witness uses {@value #WITNESS_SEGMENT_SIZE}-byte segments instead of the default
     * {@value FileRaftStorage#DEFAULT_SEGMENT_SIZE}: segments are preallocated, and a witness's
     * entries are tiny, so default segments would be almost all zeros. The directory is opened for
     * the node's cluster id and node id: one recorded for another is refused.
     */
    static LogStoreFactory defaultStores() {
        return config -> {
            // The directory records the cluster and node it belongs to, and refuses any other.
            FileRaftStorage.Options options = FileRaftStorage.Options.defaults()
                    .withIdentity(config.clusterId(), config.nodeId());
            return new StorageLogStore(FileRaftStorage.open(config.dataDir(), config.self().role().isWitness()
                    ? options.withSegmentSize(WITNESS_SEGMENT_SIZE) : options));
        };
    }
}
