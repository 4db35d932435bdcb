package io.haraft.runtime;

import io.haraft.Committed;
import io.haraft.GroupNames;
import io.haraft.GroupOptions;
import io.haraft.LeadershipListener;
import io.haraft.RaftConfig;
import io.haraft.RaftGroups;
import io.haraft.RaftNode;
import io.haraft.StateMachine;
import io.haraft.metrics.RaftMetrics;
import io.haraft.storage.DrainedMarker;
import io.haraft.storage.FileIO;
import io.haraft.storage.FileRaftStorage;
import io.haraft.transport.GrpcTransport;
import io.haraft.transport.GrpcTransportConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * The {@link RaftGroups} of {@code ha-raft-impl}: one {@link RaftNodeImpl} per group, all on one
 * {@link GrpcTransport} (routed by {@link GroupRouter}), one data directory and one
 * {@link SharedEnvironment}.
 *
 * <p><b>Guarantees.</b> Everything {@link RaftGroups} promises. Each group's store is
 * {@code <dataDir>/groups/<name>/}, opened for the node's cluster and node id, with
 * {@value #GROUP_SEGMENT_SIZE}-byte log segments (preallocated one at a time, so 100 groups take
 * about 100 MiB of preallocated segments, not 6.4 GiB) and its background work on the shared
 * storage threads. A name is reserved from {@code newGroup} until its removal has finished, so a
 * group is never opened twice at once. A {@link LeadershipBalancer} runs a round every
 * {@value #BALANCER_PERIOD_HEARTBEATS} heartbeat intervals on the shared timer thread, with one
 * handover in flight at most; a peer is live for it if the transport heard from it within an
 * election timeout, and drained if its last message said so. A drain is recorded in the data
 * directory ({@link DrainedMarker}) before it takes effect (it takes effect also if that fails, and
 * {@link #drain()} then throws); the record is removed before the node undrains (it stays drained
 * if that fails); {@link #start()} reads it before the transport or any group starts.
 *
 * <p><b>Limits.</b> Groups are closed one after another by {@link #close()} (each leader hands
 * over first), so closing many groups takes a while.
 */
public final class RaftGroupsImpl implements RaftGroups {
    private static final Logger LOG = LoggerFactory.getLogger(RaftGroupsImpl.class);
    /** The log segment size of a group's store. */
    static final long GROUP_SEGMENT_SIZE = 1L << 20;
    /** The directory under the data directory that holds one directory per group. */
    static final String GROUPS_DIR = "groups";
    /**
     * The period of the node-wide heartbeat tick, in percent of the heartbeat interval: a little
     * shorter than the interval, so that a leader's own heartbeat timer (an interval after its last
     * round) does not fire before the shared tick does.
     */
    static final int HEARTBEAT_TICK_PERCENT = 90;

    private enum State { NEW, RUNNING, CLOSED }

    private final RaftConfig config;
    private final LeadershipListener nodeListener;
    private final MonotonicClock clock;
    /** Where every group reports its meters (tag {@code group}: its name). */
    private final RaftMetrics metrics;
    private final Object lifecycle = new Object();
    private State state = State.NEW;                                   // guarded by lifecycle
    private final Map<String, GroupNode> groups = new LinkedHashMap<>();  // guarded by lifecycle
    private final Map<String, GroupNode> removing = new HashMap<>();    // guarded by lifecycle: closing, not yet closed
    private volatile List<GroupNode> hosted = List.of();               // written under lifecycle (publishHosted)
    /** The shared pools; they start threads only when given work, so none runs before start. */
    private final SharedEnvironment env;
    private volatile GrpcTransport transport;                          // set by start, under lifecycle
    private final GroupRouter router = new GroupRouter();
    /** How many heartbeat intervals apart the balancer's rounds run. */
    static final int BALANCER_PERIOD_HEARTBEATS = 3;
    private final LeadershipBalancer balancer;
    /**
     * Orders drain(), undrain() and start()'s reading of the marker, so that the file and the
     * state in memory change in the same order. Taken before lifecycle, never inside it.
     */
    private final Object drainLock = new Object();
    private final DrainedMarker marker;

    /**
     * A node that hosts groups, not started: no thread, socket or file is opened before {@link #start()}
     * (but {@link #drain()} and {@link #undrain()} write their record at once).
     *
     * @param nodeListener a listener every group gets (besides its own)
     */
    public RaftGroupsImpl(RaftConfig config, LeadershipListener nodeListener, MonotonicClock clock) {
        this(config, nodeListener, clock, RaftMetrics.none());
    }

    /**
     * A node that hosts groups, not started, each group reporting to {@code metrics} with its name
     * as the {@code group} tag.
     */
    public RaftGroupsImpl(RaftConfig config, LeadershipListener nodeListener, MonotonicClock clock,
                          RaftMetrics metrics) {
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        this.config = Objects.requireNonNull(config, "config");
        this.nodeListener = Objects.requireNonNull(nodeListener, "nodeListener");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.env = new SharedEnvironment(clock, config.clusterId(), config.nodeId());
        this.balancer = new LeadershipBalancer(config.nodeId(), this::hostedGroups,
                peer -> {
                    GrpcTransport t = sharedTransport();
                    return t == null ? Optional.empty() : t.lastHeard(peer);
                },
                balancerLiveWindowNanos(config), config.promoteMaxLag(), 1);
        this.marker = DrainedMarker.in(config.dataDir(), FileIO.standard());
    }

    /**
     * How recently the balancer must have heard from a peer to hand it a group: two heartbeat
     * intervals (at most an election timeout). A leader hears every follower each heartbeat, and a
     * transfer to a node that died meanwhile ends only at its deadline, with its group leaderless.
     */
    static long balancerLiveWindowNanos(RaftConfig config) {
        return Math.min(config.electionTimeout().toNanos(), 2 * config.heartbeatInterval().toNanos());
    }

    /**
     * The node-wide heartbeat tick: every group that leads sends its heartbeats now, so that the
     * heartbeats of all groups to one peer leave in the same instant and the transport packs them
     * into one frame.
     */
    private void heartbeatTick() {
        for (GroupNode g : hostedGroups()) {
            g.node().heartbeatTick();
        }
    }

    /**
     * How long the transport lets a heartbeat (or an answer) wait for the other groups' ones: a
     * twentieth of the heartbeat interval, between 1 and 10 ms.
     */
    static java.time.Duration linger(java.time.Duration heartbeatInterval) {
        long micros = Math.max(1_000, Math.min(10_000, heartbeatInterval.toNanos() / 20 / 1_000));
        return java.time.Duration.ofNanos(micros * 1_000);
    }

    /**
     * The groups hosted while running, without taking {@code lifecycle}: the shared timer thread
     * asks for them (heartbeat tick, balancer), and {@code newGroup} holds that lock while a new
     * group opens its store, which can take long (a large log is read whole). Waiting for it there
     * would stop every group's heartbeats and deadlines.
     */
    private List<GroupNode> hostedGroups() {
        return hosted;
    }

    /** After every change of {@code state} or {@code groups}: what {@link #hostedGroups} returns. Holds lifecycle. */
    private void publishHosted() {
        hosted = state == State.RUNNING ? List.copyOf(groups.values()) : List.of();
    }

    @Override
    public void start() {
        synchronized (drainLock) {
            synchronized (lifecycle) {
                startLocked();
            }
        }
    }

    private void startLocked() {   // holds drainLock and lifecycle
        if (state != State.NEW) {
            throw new IllegalStateException("node " + config.nodeId() + " was already "
                    + (state == State.RUNNING ? "started" : "closed") + "; build a new one to start again");
        }
        state = State.RUNNING;
        try {
            readDrainMarker();
            transport = GrpcTransport.create(GrpcTransportConfig.from(config));
            transport.setDrained(balancer.drained());
            transport.start(router);
            for (GroupNode g : groups.values()) {
                g.node().start();
            }
            publishHosted();
            env.every(BALANCER_PERIOD_HEARTBEATS * config.heartbeatInterval().toNanos(),
                    balancer::round);
            transport.coalescePeriodic(linger(config.heartbeatInterval()));
            env.every(config.heartbeatInterval().toNanos() * HEARTBEAT_TICK_PERCENT / 100, this::heartbeatTick);
        } catch (RuntimeException | Error e) {
            closeAfterFailedStart();
            throw e;
        }
        LOG.info("node {} of cluster {} started with {} Raft groups", config.nodeId(), config.clusterId(),
                groups.size());
    }

    /**
     * Before anything starts: a drain recorded in the data directory (by an earlier run, or by
     * drain() before start) drains this node, so that the transport says so on its first message
     * and every group created so far defers its candidacy from its start. A marker that cannot be
     * read drains it too, with a WARN: that side never takes a leadership from the other members.
     */
    private void readDrainMarker() {   // holds drainLock and lifecycle
        try {
            if (marker.deleteLeftover()) {
                LOG.info("node {}: removed {}.tmp left by an interrupted drain()", config.nodeId(), marker.path());
            }
        } catch (IOException e) {
            LOG.warn("node {}: could not remove {}.tmp left by an interrupted drain(): {}", config.nodeId(),
                    marker.path(), e.toString());
        }
        DrainedMarker.Reading r = marker.read();
        if (!r.drained()) {
            return;
        }
        balancer.setDrained(true);
        groups.values().forEach(g -> g.node().deferCandidacy(true));
        if (r.problem().isPresent()) {
            LOG.warn("node {} starts drained because {} exists, but it is not a valid drain record ({}). The node"
                    + " leads no group while another member can. If it should not be drained, call undrain() (ha-vipd:"
                    + " admin undrain), which deletes the file; to keep it drained, call drain(), which rewrites it",
                    config.nodeId(), marker.path(), r.problem().get());
        } else {
            LOG.info("node {} starts drained, as {} records since {}: it leads no group while another member can;"
                    + " undrain() (ha-vipd: admin undrain) ends it", config.nodeId(), marker.path(), r.since().get());
        }
    }

    private void closeAfterFailedStart() {   // holds lifecycle
        state = State.CLOSED;
        for (GroupNode g : groups.values()) {
            g.node().close();
        }
        groups.clear();
        publishHosted();
        if (transport != null) {
            transport.close();
        }
        env.close();
    }

    @Override
    public RaftNode newGroup(String name) {
        return newGroup(name, GroupOptions.defaults());
    }

    @Override
    public RaftNode newGroup(String name, GroupOptions options) {
        GroupNames.check(name);
        Objects.requireNonNull(options, "options");
        options.preferredLeader().ifPresent(p -> {
            if (config.voters().stream().noneMatch(m -> m.id().equals(p))) {
                throw new IllegalArgumentException("group '" + name + "': preferred leader '" + p + "' is not a member"
                        + " that can lead (the voters are " + config.voters().stream().map(RaftConfig.Member::id)
                        .toList() + ")");
            }
        });
        synchronized (lifecycle) {
            if (state == State.CLOSED) {
                throw new IllegalStateException("node " + config.nodeId() + " is closed; cannot host group '"
                        + name + "'");
            }
            if (groups.containsKey(name) || removing.containsKey(name)) {
                throw new IllegalArgumentException("group '" + name + "' is " + (removing.containsKey(name)
                        ? "being removed" : "hosted already") + " on node " + config.nodeId());
            }
            RaftNodeImpl node = create(name, options);
            node.deferCandidacy(balancer.drained());   // setDrained() changes the hosted groups under lifecycle
            if (state == State.RUNNING) {
                node.start();   // on failure it closes itself and throws; nothing is hosted
            } else {
                router.expect(name);
            }
            GroupNode handle = new GroupNode(name, node, this, options.preferredLeader().orElse(null));
            groups.put(name, handle);
            publishHosted();
            return handle;
        }
    }

    private RaftNodeImpl create(String name, GroupOptions options) {
        RaftConfig c = groupConfig(name);
        StateMachine sm = options.stateMachine().orElseGet(NoState::new);
        LeadershipListener own = options.listener().orElse(nodeListener);
        TransportFactory transports = cfg -> router.transportOf(name, sharedTransport());
        LogStoreFactory stores = cfg -> new StorageLogStore(FileRaftStorage.open(cfg.dataDir(),
                FileRaftStorage.Options.defaults()
                        .withIdentity(cfg.clusterId(), cfg.nodeId())
                        .withSegmentSize(GROUP_SEGMENT_SIZE)
                        .withWorkers(env.storageWorkers())));
        RaftNodeImpl node = new RaftNodeImpl(c, name, own, sm, transports, stores, env.forGroup(name), metrics);
        node.drainedPeers(peer -> {
            GrpcTransport t = transport;   // no lock: a group's loop thread asks while closing
            return t != null && t.lastHeard(peer).map(GrpcTransport.PeerSignal::drained).orElse(false);
        });
        if (options.listener().isPresent()) {
            node.addListener(nodeListener);
        }
        return node;
    }

    private RaftConfig groupConfig(String name) {
        RaftConfig b = config;
        return new RaftConfig(b.clusterId(), b.nodeId(), b.members(), groupDir(name), b.heartbeatInterval(),
                b.electionTimeout(), b.clockDriftBound(), b.fastFailoverOnRefusedConnection(), b.tls(),
                b.maxMessageBytes(), b.snapshotThreshold(), b.promoteMaxLag(), b.snapshotThresholdBytes(),
                b.maxPendingProposals());
    }

    Path groupDir(String name) {
        return config.dataDir().resolve(GROUPS_DIR).resolve(name);
    }

    /** The shared transport (null before start), without taking {@code lifecycle} (see {@link #hostedGroups}). */
    private GrpcTransport sharedTransport() {
        return transport;
    }

    /** The shared transport, for tests (its counters); null before start. */
    GrpcTransport transport() {
        return sharedTransport();
    }

    @Override
    public Optional<RaftNode> group(String name) {
        synchronized (lifecycle) {
            return Optional.ofNullable(groups.get(name));
        }
    }

    @Override
    public SortedSet<String> groupNames() {
        synchronized (lifecycle) {
            return java.util.Collections.unmodifiableSortedSet(new TreeSet<>(groups.keySet()));
        }
    }

    @Override
    public boolean remove(String name) {
        Objects.requireNonNull(name, "name");
        GroupNode g;
        synchronized (lifecycle) {
            g = groups.remove(name);
            publishHosted();
            if (g == null) {
                return false;
            }
            router.forget(name);
            removing.put(name, g);
        }
        try {
            g.node().close();
            LOG.info("node {} no longer hosts group {}", config.nodeId(), name);
        } finally {
            synchronized (lifecycle) {
                removing.remove(name);
            }
        }
        return true;
    }

    @Override
    public boolean removeAndDeleteData(String name) {
        if (!GroupNames.isValid(name)) {
            return false;   // never a path outside the groups directory
        }
        if (GroupNames.DEFAULT.equals(name)) {
            synchronized (lifecycle) {
                if (state == State.RUNNING) {
                    // Its cluster identity is the one every connection of this node is checked
                    // against; a new default group may commit another one, which the running
                    // transport cannot take.
                    throw new IllegalStateException("node " + config.nodeId() + ": the data of group '" + name
                            + "' carries the cluster identity that this node's connections are checked against, so"
                            + " it cannot be deleted while the node runs: call removeAndDeleteData once close() has"
                            + " returned (or before start()), or delete " + groupDir(name) + " with the node stopped");
                }
            }
        }
        boolean hosted = remove(name);
        Path dir = groupDir(name);
        synchronized (lifecycle) {
            if (groups.containsKey(name) || removing.containsKey(name)) {
                throw new IllegalStateException("group '" + name + "' was created again while it was removed, or"
                        + " is still closing; its data is kept");
            }
            if (GroupNames.DEFAULT.equals(name) && state == State.RUNNING) {
                throw new IllegalStateException("node " + config.nodeId() + " was started while group '" + name
                        + "' was removed; its data, which carries the cluster identity, is kept");
            }
            if (!Files.exists(dir)) {
                return hosted;
            }
            try (Stream<Path> files = Files.walk(dir)) {
                List<Path> all = new ArrayList<>(files.sorted(Comparator.reverseOrder()).toList());
                for (Path p : all) {
                    Files.delete(p);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("could not delete the data of group '" + name + "' in " + dir, e);
            }
        }
        LOG.info("node {} deleted the data of group {} in {}", config.nodeId(), name, dir);
        return true;
    }

    @Override
    public RaftConfig config() {
        return config;
    }

    /**
     * Records the drain, then drains. If the record fails, the node is drained all the same (a
     * failing disk is a reason to move leaderships away) and the exception says that a restart
     * would end the drain.
     */
    @Override
    public void drain() {
        IOException failed = null;
        synchronized (drainLock) {
            try {
                marker.record();
            } catch (IOException e) {
                failed = e;
            }
            setDrained(true);
        }
        env.soon(balancer::round);
        if (failed != null) {
            LOG.warn("node {} drained, but not recorded in {} ({}): a restart would end the drain", config.nodeId(),
                    marker.path(), failed.toString());
            throw new UncheckedIOException("node " + config.nodeId() + " is drained now, but recording the drain in "
                    + marker.path() + " failed (" + failed + "), so a restart would start it not drained. "
                    + marker.whatToFix(failed) + ", then call drain() again to record it", failed);
        }
        LOG.info("node {} drained, recorded in {}: it hands its leaderships over, balancing nodes hand it none, and"
                + " it stays drained across restarts until undrain()", config.nodeId(), marker.path());
    }

    /** Removes the record of the drain, then undrains; if the removal fails, the node stays drained. */
    @Override
    public void undrain() {
        synchronized (drainLock) {
            try {
                marker.remove();
            } catch (IOException e) {
                throw new UncheckedIOException("node " + config.nodeId() + (balancer.drained() ? " is still drained"
                        : " is not drained") + ": removing " + marker.path() + " failed (" + e + "), so a restart"
                        + " might start it drained. " + marker.whatToFix(e) + ", then call undrain() again", e);
            }
            setDrained(false);
        }
        LOG.info("node {} undrained: it may lead again", config.nodeId());
    }

    /**
     * The balancer first, then the transport: start() copies the balancer's state to a new transport.
     * Every hosted group defers its candidacy while drained (a group created later reads the balancer).
     * The transport is written under lifecycle, so that an undrain() during close() cannot take back
     * the drained flag close() set on the wire.
     */
    private void setDrained(boolean on) {
        balancer.setDrained(on);
        synchronized (lifecycle) {
            boolean latest = balancer.drained();   // a concurrent drain()/undrain(): the later one holds
            if (transport != null) {
                transport.setDrained(latest || state == State.CLOSED);
            }
            groups.values().forEach(g -> g.node().deferCandidacy(latest));
        }
    }

    @Override
    public boolean isDrained() {
        return balancer.drained();
    }

    @Override
    public void setBalancing(boolean on) {
        balancer.setBalancing(on);
        LOG.info("node {}: leadership balancing {}", config.nodeId(), on ? "on" : "off");
    }

    @Override
    public boolean isBalancing() {
        return balancer.balancing();
    }

    @Override
    public void close() {
        List<GroupNode> toClose;
        synchronized (lifecycle) {
            if (state == State.CLOSED) {
                return;
            }
            boolean started = state == State.RUNNING;
            state = State.CLOSED;
            toClose = new ArrayList<>(groups.values());
            groups.clear();
            publishHosted();
            if (!started) {
                toClose.forEach(g -> g.node().close());   // under the lock: nothing can delete their files meanwhile
                env.close();
                return;
            }
            // From now on every message says this node is drained, so that the other members'
            // balancers stop handing it groups it is about to hand away again, and the groups not
            // yet closed defer their candidacy. Neither is recorded: a restarted node is drained
            // only if drain() said so.
            if (transport != null) {
                transport.setDrained(true);
            }
            toClose.forEach(g -> g.node().deferCandidacy(true));
            // until each has closed, removeAndDeleteData must not delete its files under it
            toClose.forEach(g -> removing.put(g.name(), g));
        }
        // Every group revokes (handing over) before the shared socket closes: fast failover stays safe.
        for (GroupNode g : toClose) {
            try {
                g.node().close();
            } catch (RuntimeException e) {
                LOG.warn("closing group {} failed", g.name(), e);
            } finally {
                synchronized (lifecycle) {
                    removing.remove(g.name());
                }
            }
        }
        // A group that a remove() is closing meanwhile also revokes, and its listener returns, before
        // the shared socket closes: a second close() of its node waits (bounded) for the first.
        List<GroupNode> stillRemoving;
        synchronized (lifecycle) {
            stillRemoving = new ArrayList<>(removing.values());
        }
        for (GroupNode g : stillRemoving) {
            try {
                g.node().close();
            } catch (RuntimeException e) {
                LOG.warn("waiting for group {} to close failed", g.name(), e);
            }
        }
        GrpcTransport t = sharedTransport();
        if (t != null) {
            t.close();
        }
        env.close();
        LOG.info("node {} and its {} Raft groups closed", config.nodeId(), toClose.size());
    }

    /**
     * Test hook: stops like a killed process. Every group stops at once without revoking, handing
     * over or delivering anything, then the shared socket closes and the threads stop.
     */
    void crashForTest() {
        List<GroupNode> toCrash;
        synchronized (lifecycle) {
            if (state != State.RUNNING) {
                return;
            }
            state = State.CLOSED;
            toCrash = new ArrayList<>(groups.values());
            groups.clear();
            publishHosted();
        }
        toCrash.forEach(g -> g.node().crashForTest());
        GrpcTransport t = sharedTransport();
        if (t != null) {
            t.close();
        }
        env.close();
        LOG.info("node {} crashed with its {} Raft groups (test)", config.nodeId(), toCrash.size());
    }

    @Override
    public String toString() {
        return "RaftGroups{" + config.nodeId() + ", groups=" + groupNames() + "}";
    }

    /** The state of a group created without a state machine: none. */
    private static final class NoState implements StateMachine {
        private static final byte[] EMPTY = new byte[0];

        @Override
        public byte[] apply(Committed entry) {
            return EMPTY;
        }

        @Override
        public void snapshot(OutputStream out) {
        }

        @Override
        public void restore(InputStream in) {
        }
    }
}
