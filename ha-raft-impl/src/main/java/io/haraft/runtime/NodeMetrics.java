package io.haraft.runtime;

import io.haraft.metrics.MeterId;
import io.haraft.metrics.RaftMetrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.DoubleSupplier;

/**
 * The meters of one node, on the application's {@link RaftMetrics}: names, tags and units in one
 * place, and the guard that keeps a failing metrics system away from the node.
 *
 * <p><b>Guard.</b> Every call into the application's {@code RaftMetrics} and its handles is made
 * here, inside a try/catch: the first failure of a node is logged at WARN with its stack trace,
 * later ones at DEBUG; a registration that fails yields a handle that records nothing. Gauge
 * suppliers are wrapped too: one that throws reads {@link Double#NaN}.
 *
 * <p><b>Threads.</b> The recording methods are called from the node's threads (loop, apply, storage,
 * callback, watchdog) and are thread-safe; {@link #setPeers} is called from {@code start()} and the
 * loop; {@link #close} once, from {@code close()}. Names and their meaning are listed in
 * {@code docs/metrics.md}; a test checks that every name registered here is in that table.
 */
final class NodeMetrics {
    private static final Logger LOG = LoggerFactory.getLogger(NodeMetrics.class);
    /** The value of the {@code group} tag of a node of its own (not one of many groups). */
    static final String GROUP = io.haraft.GroupNames.DEFAULT;
    static final String SECONDS = "seconds";

    /** Metrics that record nothing, for parts used without a node (tests). */
    static final NodeMetrics NONE = new NodeMetrics(RaftMetrics.none(), "none", "none");

    private final RaftMetrics spi;
    private final String nodeId;
    private final Map<String, String> tags;
    private final AtomicBoolean warned = new AtomicBoolean();
    private final List<MeterId> registered = new CopyOnWriteArrayList<>();
    private final Map<String, List<MeterId>> peerMeters = new HashMap<>();        // guarded by itself
    private final Map<String, RaftMetrics.Timer> rtt = new java.util.concurrent.ConcurrentHashMap<>();
    private final AtomicInteger pendingProposals = new AtomicInteger();

    final RaftMetrics.Counter leaderChanges;
    final RaftMetrics.Counter electionsStarted;
    final RaftMetrics.Counter electionsWon;
    final RaftMetrics.Counter leaseExpiries;
    final RaftMetrics.Counter membershipChanges;
    final RaftMetrics.Timer commitLatency;
    final RaftMetrics.Timer fsyncLatency;
    final RaftMetrics.Distribution fsyncBatch;
    final RaftMetrics.Timer snapshotDuration;
    final RaftMetrics.Distribution snapshotSize;
    final RaftMetrics.Timer electedCallback;
    final RaftMetrics.Timer revokedCallback;

    NodeMetrics(RaftMetrics spi, String clusterId, String nodeId) {
        this(spi, clusterId, nodeId, GROUP);
    }

    /** The meters of Raft group {@code group} of node {@code nodeId}: every id carries the three as tags. */
    NodeMetrics(RaftMetrics spi, String clusterId, String nodeId, String group) {
        this.spi = spi;
        this.nodeId = nodeId;
        this.tags = Map.of("cluster", clusterId, "node", nodeId, "group", group);
        leaderChanges = counter("haraft.leader.changes", "Times this node learned of a new leader (one per term"
                + " with a known leader)");
        electionsStarted = counter("haraft.elections.started", "Elections this node started as candidate (each"
                + " raises its term)");
        electionsWon = counter("haraft.elections.won", "Elections this node won");
        leaseExpiries = counter("haraft.lease.expiries", "Leaderships of this node that ended because the lease"
                + " ran out without renewal");
        membershipChanges = counter("haraft.membership.changes", "Committed configuration changes this node"
                + " learned");
        commitLatency = timer("haraft.commit.latency", "From submit to commit, on the leader", Map.of());
        fsyncLatency = timer("haraft.fsync.latency", "One group-commit round of the log store: fsync of the"
                + " log (and of the hard state when it changed)", Map.of());
        fsyncBatch = distribution("haraft.fsync.batch.size", "Log entries made durable by one fsync round",
                "entries");
        snapshotDuration = timer("haraft.snapshot.duration", "Taking a snapshot of the state machine into the"
                + " store, durably", Map.of());
        snapshotSize = distribution("haraft.snapshot.size", "Size of each snapshot taken", "bytes");
        electedCallback = timer("haraft.callback.duration", "Run time of the leadership listener's callbacks",
                Map.of("callback", "elected"));
        revokedCallback = timer("haraft.callback.duration", "Run time of the leadership listener's callbacks",
                Map.of("callback", "revoked"));
    }

    /** Whether the application configured metrics: measurements that cost something are skipped otherwise. */
    boolean enabled() {
        return spi != RaftMetrics.none();
    }

    // ------------------------------------------------------------------ registration

    MeterId id(String name, String description, String unit, Map<String, String> more) {
        Map<String, String> all = new HashMap<>(tags);
        all.putAll(more);
        return MeterId.of(name, description, unit, all);
    }

    private RaftMetrics.Counter counter(String name, String description) {
        MeterId id = id(name, description, "", Map.of());
        try {
            RaftMetrics.Counter c = spi.counter(id);
            registered.add(id);
            return c == null ? amount -> { } : amount -> {
                try {
                    c.increment(amount);
                } catch (RuntimeException | LinkageError e) {
                    failed("incrementing " + id.name(), e);
                }
            };
        } catch (RuntimeException | LinkageError e) {
            failed("registering " + id.name(), e);
            return amount -> { };
        }
    }

    private RaftMetrics.Timer timer(String name, String description, Map<String, String> more) {
        return timer(id(name, description, SECONDS, more));
    }

    private RaftMetrics.Timer timer(MeterId id) {
        try {
            RaftMetrics.Timer t = spi.timer(id);
            registered.add(id);
            return t == null ? nanos -> { } : nanos -> {
                try {
                    t.record(Math.max(0, nanos));
                } catch (RuntimeException | LinkageError e) {
                    failed("recording " + id.name(), e);
                }
            };
        } catch (RuntimeException | LinkageError e) {
            failed("registering " + id.name(), e);
            return nanos -> { };
        }
    }

    private RaftMetrics.Distribution distribution(String name, String description, String unit) {
        MeterId id = id(name, description, unit, Map.of());
        try {
            RaftMetrics.Distribution d = spi.distribution(id);
            registered.add(id);
            return d == null ? amount -> { } : amount -> {
                try {
                    d.record(amount);
                } catch (RuntimeException | LinkageError e) {
                    failed("recording " + id.name(), e);
                }
            };
        } catch (RuntimeException | LinkageError e) {
            failed("registering " + id.name(), e);
            return amount -> { };
        }
    }

    /** Registers a gauge of this node; {@code value} is guarded (NaN if it throws). */
    void gauge(String name, String description, String unit, DoubleSupplier value) {
        gauge(id(name, description, unit, Map.of()), value);
    }

    private void gauge(MeterId id, DoubleSupplier value) {
        DoubleSupplier guarded = () -> {
            try {
                return value.getAsDouble();
            } catch (RuntimeException e) {
                LOG.debug("node {}: gauge {} failed", nodeId, id.name(), e);
                return Double.NaN;
            }
        };
        try {
            spi.gauge(id, guarded);
            registered.add(id);
        } catch (RuntimeException | LinkageError e) {
            failed("registering " + id.name(), e);
        }
    }

    private void remove(MeterId id) {
        try {
            spi.remove(id);
        } catch (RuntimeException | LinkageError e) {
            failed("removing " + id.name(), e);
        }
    }

    private void failed(String what, Throwable e) {
        if (warned.compareAndSet(false, true)) {
            LOG.warn("node {}: the metrics implementation {} threw while {}; the node goes on, and reports further"
                    + " failures of it at DEBUG only. Fix the metrics implementation", nodeId, spi, what, e);
        } else {
            LOG.debug("node {}: the metrics implementation threw while {}", nodeId, what, e);
        }
    }

    // ------------------------------------------------------------------ peers

    /**
     * The peers changed with the configuration: registers the heartbeat meters of new peers
     * (round trip, share answered in {@code stats}' window) and removes those of peers that left.
     */
    void setPeers(Collection<String> peers, HeartbeatStats stats, MonotonicClock clock) {
        synchronized (peerMeters) {
            for (String gone : new ArrayList<>(peerMeters.keySet())) {
                if (!peers.contains(gone)) {
                    rtt.remove(gone);
                    for (MeterId id : peerMeters.remove(gone)) {
                        remove(id);
                        registered.remove(id);
                    }
                }
            }
            for (String peer : peers) {
                if (peerMeters.containsKey(peer)) {
                    continue;
                }
                MeterId roundTrip = id("haraft.heartbeat.rtt", "Heartbeat round trip from the leader to a peer",
                        SECONDS, Map.of("peer", peer));
                MeterId answered = id("haraft.heartbeat.answered.ratio", "Share of the recent heartbeats (the last "
                        + HeartbeatStats.WINDOW + ") to a peer that it answered; NaN when none were sent (not"
                        + " leader)", "", Map.of("peer", peer));
                rtt.put(peer, timer(roundTrip));
                gauge(answered, () -> stats.answeredShare(peer, clock.nanos()));
                peerMeters.put(peer, List.of(roundTrip, answered));
            }
        }
    }

    /** A heartbeat to {@code peer} was answered after {@code nanos}. */
    void heartbeatAnswered(String peer, long nanos) {
        RaftMetrics.Timer t = rtt.get(peer);
        if (t != null) {
            t.record(nanos);
        }
    }

    // ------------------------------------------------------------------ the loop's observations

    // loop thread only
    private long startedTerm = -1;
    private long wonTerm = -1;
    private long leaderTerm = -1;
    private Object committedMembership;

    /**
     * Loop thread, after every iteration: counts what changed since the last one. An election was
     * started when the term rose and this node voted for itself in it; won when it leads a term it
     * did not lead before; a new leader when a term's leader became known; a membership change when
     * the committed configuration changed.
     */
    void afterIteration(io.haraft.core.Role role, long term, String votedFor, String leader, Object committed) {
        boolean campaigning = role == io.haraft.core.Role.CANDIDATE || role == io.haraft.core.Role.LEADER;
        if (campaigning && term > startedTerm && nodeId.equals(votedFor)) {
            startedTerm = term;
            electionsStarted.increment();
        }
        if (role == io.haraft.core.Role.LEADER && term != wonTerm) {
            wonTerm = term;
            electionsWon.increment();
        }
        if (leader != null && term != leaderTerm) {
            leaderTerm = term;
            leaderChanges.increment();
        }
        if (committed != committedMembership) {
            if (committedMembership != null && !committed.equals(committedMembership)) {
                membershipChanges.increment();
            }
            committedMembership = committed;
        }
    }

    // ------------------------------------------------------------------ proposals

    /** A command was submitted; it counts as pending until {@code future} completes. */
    void proposalPending(CompletableFuture<?> future) {
        pendingProposals.incrementAndGet();
        future.whenComplete((r, e) -> pendingProposals.decrementAndGet());
    }

    int pendingProposals() {
        return pendingProposals.get();
    }

    // ------------------------------------------------------------------ lifecycle

    /** The node closed: removes every meter it registered. */
    void close() {
        synchronized (peerMeters) {
            peerMeters.clear();
            rtt.clear();
        }
        for (MeterId id : registered) {
            remove(id);
        }
        registered.clear();
    }

    /** Test hook: the ids registered now. */
    List<MeterId> registeredForTest() {
        return List.copyOf(registered);
    }
}
