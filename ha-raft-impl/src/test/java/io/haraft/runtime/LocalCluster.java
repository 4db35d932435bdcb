package io.haraft.runtime;

import io.haraft.Leadership;
import io.haraft.RaftConfig;
import io.haraft.RaftNode;
import io.haraft.storage.FileRaftStorage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A cluster of {@link RaftNodeImpl}s in this JVM over a {@link LocalNetwork}, each with an
 * {@link InMemoryLogStore} that survives a restart of its node; or, built with {@link #onDisk},
 * each with the file store in its own data directory (reopened at every start) and, if asked, the
 * gRPC transport on loopback instead of the local network.
 */
final class LocalCluster implements AutoCloseable {
    final LocalNetwork network = new LocalNetwork();
    final List<String> ids = new ArrayList<>();
    final Map<String, RaftNodeImpl> nodes = new LinkedHashMap<>();
    final Map<String, RecordingListener> listeners = new LinkedHashMap<>();
    final Map<String, RecordingStateMachine> stateMachines = new LinkedHashMap<>();
    final Map<String, InMemoryLogStore> stores = new LinkedHashMap<>();
    /** Every listener that ever ran, including those of nodes restarted since. */
    final List<RecordingListener> allListeners = new ArrayList<>();
    /** How each node's store is wrapped when a node object is created (default: not at all). */
    java.util.function.BiFunction<String, InMemoryLogStore, LogStore> storeWrap = (id, store) -> store;
    /** How each file store is wrapped when its node opens it (file-store clusters; default: not at all). */
    java.util.function.BiFunction<String, LogStore, LogStore> fileStoreWrap = (id, store) -> store;
    /** The start-up role of each node (voter unless set); set it, then {@link #create} the nodes again. */
    final Map<String, io.haraft.MemberRole> roles = new java.util.concurrent.ConcurrentHashMap<>();
    /** Which state machine a node object gets when it is created. */
    java.util.function.Function<String, RecordingStateMachine> stateMachineFactory = id -> new RecordingStateMachine();
    /** The metrics each node object reports to when it is created (default: none). */
    java.util.function.Function<String, io.haraft.metrics.RaftMetrics> metricsFactory =
            id -> io.haraft.metrics.RaftMetrics.none();
    /** The snapshot byte bound of nodes created from now on. */
    long snapshotThresholdBytes = RaftConfig.DEFAULT_SNAPSHOT_THRESHOLD_BYTES;
    /** The store each node opened at its latest start (file-store clusters only). */
    final Map<String, LogStore> openStores = new java.util.concurrent.ConcurrentHashMap<>();
    /** Each node's (snapshot index, last index) as its store was opened at its latest start (file stores). */
    final Map<String, long[]> openedWith = new java.util.concurrent.ConcurrentHashMap<>();
    private final Duration heartbeat;
    private final Duration election;
    private final double drift;
    private final Path dataRoot;                 // null: in-memory stores
    private final long snapshotThreshold;
    private final int maxMessageBytes;
    private final List<Integer> ports = new ArrayList<>();
    private final boolean grpc;

    LocalCluster(int size, Duration heartbeat, Duration election, double drift) {
        this(size, heartbeat, election, drift, null, RaftConfig.DEFAULT_SNAPSHOT_THRESHOLD,
                RaftConfig.DEFAULT_MAX_MESSAGE_BYTES, false);
    }

    private LocalCluster(int size, Duration heartbeat, Duration election, double drift, Path dataRoot,
                         long snapshotThreshold, int maxMessageBytes, boolean grpc) {
        this.heartbeat = heartbeat;
        this.election = election;
        this.drift = drift;
        this.dataRoot = dataRoot;
        this.snapshotThreshold = snapshotThreshold;
        this.maxMessageBytes = maxMessageBytes;
        this.grpc = grpc;
        for (int i = 1; i <= size; i++) {
            String id = "n" + i;
            ids.add(id);
            stores.put(id, new InMemoryLogStore());
            ports.add(grpc ? freePort() : 17000 + i);
        }
        for (String id : ids) {
            create(id);
        }
    }

    /**
     * Three nodes with file stores under {@code dataRoot/<id>}, the given snapshot threshold and
     * message limit, over gRPC on loopback if {@code grpc}, otherwise over the local network; timeouts
     * are generous (heartbeat 100 ms, election 1 s) because fsyncs on a loaded machine can be slow.
     */
    static LocalCluster onDisk(Path dataRoot, long snapshotThreshold, int maxMessageBytes, boolean grpc) {
        return onDisk(dataRoot, snapshotThreshold, maxMessageBytes, grpc, Duration.ofMillis(1000));
    }

    /** As {@link #onDisk(Path, long, int, boolean)}, with the given minimum election timeout. */
    static LocalCluster onDisk(Path dataRoot, long snapshotThreshold, int maxMessageBytes, boolean grpc,
                               Duration election) {
        return new LocalCluster(3, Duration.ofMillis(100), election, 0.01, dataRoot, snapshotThreshold,
                maxMessageBytes, grpc);
    }

    private static int freePort() {
        return io.haraft.transport.TransportTesting.freePort();
    }

    /** Deletes the data directory of {@code id} (its node must be closed), as a replaced disk would. */
    void wipe(String id) throws IOException {
        Path dir = dataRoot.resolve(id);
        if (Files.exists(dir)) {
            try (var walk = Files.walk(dir)) {
                for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }

    static LocalCluster ofThree() {
        return new LocalCluster(3, Duration.ofMillis(50), Duration.ofMillis(300), 0.01);
    }

    RaftConfig config(String id) {
        RaftNode.Builder b = RaftNode.builder().clusterId("test").nodeId(id)
                .dataDir(dataRoot != null ? dataRoot.resolve(id)
                        : Path.of(System.getProperty("java.io.tmpdir"), "haraft-runtime-test", id))
                .heartbeatInterval(heartbeat).electionTimeout(election).clockDriftBound(drift)
                .snapshotThreshold(snapshotThreshold).snapshotThresholdBytes(snapshotThresholdBytes)
                .maxMessageBytes(maxMessageBytes);
        for (int i = 0; i < ids.size(); i++) {
            b.member(ids.get(i), "127.0.0.1:" + ports.get(i), roles.getOrDefault(ids.get(i), io.haraft.MemberRole.VOTER));
        }
        return b.config();
    }

    /** Builds (does not start) a fresh node object for {@code id}, on its existing store. */
    RaftNodeImpl create(String id) {
        RecordingListener listener = new RecordingListener(id);
        RecordingStateMachine sm = stateMachineFactory.apply(id);
        LogStoreFactory storeFactory;
        if (dataRoot == null) {
            LogStore store = storeWrap.apply(id, stores.get(id));
            storeFactory = c -> store;
        } else {
            storeFactory = c -> {
                LogStore store = fileStoreWrap.apply(id, new StorageLogStore(FileRaftStorage.open(c.dataDir(),
                        FileRaftStorage.Options.defaults().withIdentity(c.clusterId(), c.nodeId()))));
                openStores.put(id, store);
                openedWith.put(id, new long[] {store.snapshotIndex(), store.snapshotIndex() + store.entries().size()});
                return store;
            };
        }
        TransportFactory transports = grpc ? RaftNodeProvider.defaultTransports() : c -> network.transport(id);
        RaftNodeImpl node = new RaftNodeImpl(config(id), listener, sm, transports, storeFactory,
                MonotonicClock.system(), metricsFactory.apply(id));
        nodes.put(id, node);
        listeners.put(id, listener);
        stateMachines.put(id, sm);
        allListeners.add(listener);
        return node;
    }

    LocalCluster start() {
        nodes.values().forEach(RaftNodeImpl::start);
        return this;
    }

    RaftNodeImpl node(String id) {
        return nodes.get(id);
    }

    RecordingListener listener(String id) {
        return listeners.get(id);
    }

    /** The node whose listener holds an open, valid leadership, among {@code candidates}. */
    Optional<String> validLeader(List<String> candidates) {
        for (String id : candidates) {
            Leadership l = listeners.get(id).current();
            if (l != null && l.isValid()) {
                return Optional.of(id);
            }
        }
        return Optional.empty();
    }

    /** Waits until one of {@code candidates} holds a delivered, valid leadership; returns it. */
    String awaitLeader(List<String> candidates, Duration timeout) {
        String[] found = new String[1];
        Await.until(timeout, () -> {
            Optional<String> l = validLeader(candidates);
            l.ifPresent(id -> found[0] = id);
            return l.isPresent();
        }, "a leader among " + candidates + "; " + allListeners);
        return found[0];
    }

    String awaitLeader() {
        return awaitLeader(ids, Duration.ofSeconds(10));
    }

    List<String> others(String id) {
        return ids.stream().filter(i -> !i.equals(id)).toList();
    }

    /** A test's tear-down: closes {@code cluster} (if the test made one) and checks the listener contracts. */
    static void closeAndCheck(LocalCluster cluster) {
        if (cluster != null) {
            cluster.close();
            cluster.assertListenerContracts();
        }
    }

    /** No listener saw a contract violation, and tokens of all elected calls in the cluster are distinct. */
    void assertListenerContracts() {
        for (RecordingListener l : allListeners) {
            assertThat(l.violations).as("listener contract of %s", l).isEmpty();
        }
        List<Long> terms = allListeners.stream().flatMap(l -> l.events.stream())
                .filter(RecordingListener.Event::elected).map(RecordingListener.Event::term).toList();
        assertThat(terms).as("one leader per term: %s", allListeners).doesNotHaveDuplicates();
    }

    @Override
    public void close() {
        for (RaftNodeImpl n : nodes.values()) {
            n.close();
        }
    }
}
