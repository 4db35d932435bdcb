package io.haraft.it;

import io.haraft.runtime.RecordingListener;

import io.haraft.Leadership;
import io.haraft.MemberRole;
import io.haraft.RaftConfig;
import io.haraft.RaftNode;
import io.haraft.TlsConfig;
import io.haraft.runtime.MonotonicClock;
import io.haraft.runtime.RaftNodeProvider;
import io.haraft.transport.FaultyTransport;
import io.haraft.transport.GrpcTransport;
import io.haraft.transport.GrpcTransportConfig;
import io.haraft.transport.TransportTesting;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Three (or more) real nodes in this JVM: gRPC on loopback ports that were free, the file store
 * under a temporary directory, every transport wrapped in a {@link FaultyTransport} that shares
 * one {@link FaultyTransport.Faults} plan. A node can be crashed, closed and re-created on the same
 * data directory and port.
 */
final class GrpcCluster implements AutoCloseable {
    final String clusterId;
    /** Every node id, those that joined later included. */
    final List<String> ids = new ArrayList<>();
    /** The members every node is started with (the bootstrap configuration), in order. */
    final List<String> bootstrap = new ArrayList<>();
    /** The start-up role of each node: voter unless set; a node that joins later lists itself with its role. */
    final Map<String, MemberRole> roles = new ConcurrentHashMap<>();
    final Map<String, Integer> ports = new LinkedHashMap<>();
    final FaultyTransport.Faults faults = new FaultyTransport.Faults();
    final Map<String, RaftNode> nodes = new LinkedHashMap<>();
    final Map<String, RecordingListener> listeners = new LinkedHashMap<>();
    final Map<String, Commands> stateMachines = new LinkedHashMap<>();
    /** The real transport each node object was given most recently. */
    final Map<String, GrpcTransport> transports = new ConcurrentHashMap<>();
    /** Every listener that ever ran, including those of nodes re-created since. */
    final List<RecordingListener> allListeners = new ArrayList<>();
    /** Extra nodes (intruders) started by a test; closed with the cluster. */
    final List<RaftNode> extras = new ArrayList<>();
    private final Path root;
    private final Duration heartbeat;
    private final Duration election;
    private final double drift;
    /** The TLS files of each node, or none. */
    Function<String, TlsConfig> tls = id -> null;
    /** Further settings of every node's builder (e.g. a small snapshot threshold). */
    java.util.function.UnaryOperator<RaftNode.Builder> tune = b -> b;
    /** The maxMessageBytes of each node, or null for the default. */
    Function<String, Integer> maxMessageBytes = id -> null;
    /** The maxPendingProposals of each node, or null for the default. */
    Function<String, Integer> maxPendingProposals = id -> null;

    GrpcCluster(String clusterId, int size, Path root, Duration heartbeat, Duration election, double drift) {
        this.clusterId = clusterId;
        this.root = root;
        this.heartbeat = heartbeat;
        this.election = election;
        this.drift = drift;
        for (int i = 1; i <= size; i++) {
            ids.add("n" + i);
            ports.put("n" + i, TransportTesting.freePort());
        }
        bootstrap.addAll(ids);
    }

    /**
     * A node that will join the running cluster: it gets a port, and is started with the bootstrap
     * members plus itself in {@code role} (a learner kind). Not started; see {@link #create}.
     */
    void joining(String id, MemberRole role) {
        ids.add(id);
        ports.put(id, TransportTesting.freePort());
        roles.put(id, role);
    }

    /** Deletes the data directory of {@code id} (its node must be stopped), as a replaced disk would. */
    void wipe(String id) throws java.io.IOException {
        Path dir = dataDir(id);
        if (java.nio.file.Files.exists(dir)) {
            try (var walk = java.nio.file.Files.walk(dir)) {
                for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    java.nio.file.Files.delete(p);
                }
            }
        }
    }

    /** Heartbeat 100 ms, election timeout 300 ms, drift bound 0.01: the defaults. */
    static GrpcCluster ofThree(Path root) {
        return new GrpcCluster("orders", 3, root, Duration.ofMillis(100), Duration.ofMillis(300), 0.01);
    }

    Path dataDir(String id) {
        return root.resolve(id);
    }

    String address(String id) {
        return TransportTesting.address(ports.get(id));
    }

    /** A builder for {@code id} with this cluster's members, timeouts, data directory and TLS. */
    RaftNode.Builder builder(String id) {
        RaftNode.Builder b = RaftNode.builder().clusterId(clusterId).nodeId(id).dataDir(dataDir(id))
                .heartbeatInterval(heartbeat).electionTimeout(election).clockDriftBound(drift);
        for (String m : bootstrap) {
            b.member(m, address(m), roles.getOrDefault(m, MemberRole.VOTER));
        }
        if (!bootstrap.contains(id)) {
            b.member(id, address(id), roles.getOrDefault(id, MemberRole.LEARNER));
        }
        TlsConfig t = tls.apply(id);
        if (t != null) {
            b.tls(t);
        }
        Integer limit = maxMessageBytes.apply(id);
        if (limit != null) {
            b.maxMessageBytes(limit);
        }
        Integer pending = maxPendingProposals.apply(id);
        if (pending != null) {
            b.maxPendingProposals(pending);
        }
        return tune.apply(b);
    }

    /**
     * Builds (does not start) a new node object for {@code id} on its data directory and port:
     * the production {@link RaftNodeProvider} with the file store, and a gRPC transport wrapped in
     * the shared fault plan.
     */
    RaftNode create(String id) {
        RecordingListener listener = new RecordingListener(id);
        Commands sm = new Commands();
        RaftConfig config = builder(id).config().prepareDataDir();
        RaftNode node = provider(faults, transports).create(config, listener, sm);
        nodes.put(id, node);
        listeners.put(id, listener);
        stateMachines.put(id, sm);
        allListeners.add(listener);
        return node;
    }

    /** The production provider, except that each real transport is recorded and wrapped in {@code faults}. */
    static RaftNodeProvider provider(FaultyTransport.Faults faults, Map<String, GrpcTransport> record) {
        return new RaftNodeProvider(config -> {
            GrpcTransport real = GrpcTransport.create(GrpcTransportConfig.from(config));
            record.put(config.nodeId(), real);
            return new FaultyTransport(real, faults);
        }, null, MonotonicClock.system());
    }

    GrpcCluster createAll() {
        ids.forEach(this::create);
        return this;
    }

    GrpcCluster start() {
        if (nodes.isEmpty()) {
            createAll();
        }
        nodes.values().forEach(RaftNode::start);
        return this;
    }

    RaftNode node(String id) {
        return nodes.get(id);
    }

    RecordingListener listener(String id) {
        return listeners.get(id);
    }

    List<String> others(String id) {
        return ids.stream().filter(i -> !i.equals(id)).toList();
    }

    Optional<String> validLeader(List<String> candidates) {
        for (String id : candidates) {
            Leadership l = listeners.get(id).current();
            if (l != null && l.isValid()) {
                return Optional.of(id);
            }
        }
        return Optional.empty();
    }

    /** Waits until one of {@code candidates} holds a delivered, valid leadership, and returns it. */
    String awaitLeader(List<String> candidates, Duration timeout) {
        String[] found = new String[1];
        TransportTesting.awaitTrue("a leader among " + candidates + "; " + allListeners, timeout, () -> {
            Optional<String> l = validLeader(candidates);
            l.ifPresent(id -> found[0] = id);
            return l.isPresent();
        });
        return found[0];
    }

    String awaitLeader() {
        return awaitLeader(ids, Duration.ofSeconds(15));
    }

    /**
     * Commits {@code command} through whichever node leads, as a client would: a refusal
     * ({@link io.haraft.NotLeaderException}) is retried on the leader; after an
     * {@link io.haraft.IndeterminateOutcomeException} the new leader is asked (read barrier, then
     * its state machine) whether the command committed, and it is resubmitted only if not. On a
     * loaded machine a leader may lose its lease to a long GC or scheduling pause; tests whose point
     * is not that stability commit through this. Returns the entry as committed (for a command found
     * after an indeterminate outcome, {@code data} is the command itself, not the apply result).
     */
    io.haraft.Committed commitSomewhere(String command) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        byte[] bytes = command.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        while (true) {
            String leaderId = awaitLeader(ids.stream().filter(nodes::containsKey).toList(), Duration.ofSeconds(15));
            try {
                return nodes.get(leaderId).submit(bytes).get(10, java.util.concurrent.TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException e) {
                if (!(e.getCause() instanceof io.haraft.NotLeaderException
                        || e.getCause() instanceof io.haraft.IndeterminateOutcomeException)) {
                    throw e;
                }
                if (System.nanoTime() - deadline > 0) {
                    throw new AssertionError("could not commit " + command + " in 30 s; " + allListeners, e);
                }
                if (e.getCause() instanceof io.haraft.IndeterminateOutcomeException) {
                    Optional<io.haraft.Committed> found = findCommitted(command);
                    if (found.isPresent()) {
                        return found.get();
                    }
                }
            }
        }
    }

    private Optional<io.haraft.Committed> findCommitted(String command) throws Exception {
        while (true) {
            String leaderId = awaitLeader(ids.stream().filter(nodes::containsKey).toList(), Duration.ofSeconds(15));
            try {
                nodes.get(leaderId).readIndex().get(10, java.util.concurrent.TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException e) {
                continue;   // lost leadership again: ask the next one
            }
            return stateMachines.get(leaderId).applied.stream()
                    .filter(c -> Commands.text(c.data()).equals(command)).findFirst();
        }
    }

    /** The failure of {@code f}, which must fail within {@code timeout}. */
    static Throwable failure(java.util.concurrent.CompletableFuture<?> f, Duration timeout) {
        try {
            f.get(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            return e.getCause();
        } catch (Exception e) {
            throw new AssertionError("the future did not fail in time: " + e, e);
        }
        throw new AssertionError("the future completed normally but a failure was expected");
    }

    /** Waits until the state machine of {@code id} has applied every one of {@code commands}. */
    void awaitApplied(String id, List<String> commands, Duration timeout) {
        Commands sm = stateMachines.get(id);
        TransportTesting.awaitTrue(id + " applies " + commands.size() + " commands " + commands.subList(0,
                Math.min(3, commands.size())) + "... (has " + sm.commands().size() + ")", timeout,
                () -> sm.commands().containsAll(commands));
    }

    /** No listener saw a contract violation, and no two elected calls in the cluster share a token. */
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
        extras.forEach(RaftNode::close);
        // In parallel: each leader's close() may wait for a handover.
        nodes.values().stream().map(n -> java.util.concurrent.CompletableFuture.runAsync(n::close)).toList()
                .forEach(java.util.concurrent.CompletableFuture::join);
    }
}
