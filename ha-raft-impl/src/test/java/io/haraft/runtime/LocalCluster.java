package io.haraft.runtime;

import io.haraft.Leadership;
import io.haraft.RaftConfig;
import io.haraft.RaftNode;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A cluster of {@link RaftNodeImpl}s in this JVM over a {@link LocalNetwork}, each with an
 * {@link InMemoryLogStore} that survives a restart of its node.
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
    /** Which state machine a node object gets when it is created. */
    java.util.function.Function<String, RecordingStateMachine> stateMachineFactory = id -> new RecordingStateMachine();
    private final Duration heartbeat;
    private final Duration election;
    private final double drift;

    LocalCluster(int size, Duration heartbeat, Duration election, double drift) {
        this.heartbeat = heartbeat;
        this.election = election;
        this.drift = drift;
        for (int i = 1; i <= size; i++) {
            String id = "n" + i;
            ids.add(id);
            stores.put(id, new InMemoryLogStore());
        }
        for (String id : ids) {
            create(id);
        }
    }

    static LocalCluster ofThree() {
        return new LocalCluster(3, Duration.ofMillis(50), Duration.ofMillis(300), 0.01);
    }

    RaftConfig config(String id) {
        RaftNode.Builder b = RaftNode.builder().clusterId("test").nodeId(id)
                .dataDir(Path.of(System.getProperty("java.io.tmpdir"), "haraft-runtime-test", id))
                .heartbeatInterval(heartbeat).electionTimeout(election).clockDriftBound(drift);
        for (int i = 0; i < ids.size(); i++) {
            b.member(ids.get(i), "127.0.0.1:" + (17001 + i));
        }
        return b.config();
    }

    /** Builds (does not start) a fresh node object for {@code id}, on its existing store. */
    RaftNodeImpl create(String id) {
        RecordingListener listener = new RecordingListener(id);
        RecordingStateMachine sm = stateMachineFactory.apply(id);
        LogStore store = storeWrap.apply(id, stores.get(id));
        RaftNodeImpl node = new RaftNodeImpl(config(id), listener, sm, c -> network.transport(id), c -> store,
                MonotonicClock.system());
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
