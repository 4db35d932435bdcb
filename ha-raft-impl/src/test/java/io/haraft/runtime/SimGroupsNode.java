package io.haraft.runtime;

import io.haraft.LeadershipListener;
import io.haraft.RaftConfig;
import io.haraft.RaftNode;
import io.haraft.StateMachine;
import io.haraft.core.Message;
import io.haraft.metrics.RaftMetrics;
import io.haraft.transport.GrpcTransport;
import io.haraft.transport.Transport;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * One node of the whole-node simulator that hosts several Raft groups, as {@link RaftGroupsImpl}
 * does: one production {@link RaftNodeImpl} per group, all on one {@link SimNet.Endpoint} (one
 * socket: a crash, pause or cut link hits every group at once), each with its own
 * {@link SimNodeEnvironment} and a {@link SimLogStore} whose disk survives crashes, and the
 * production {@link LeadershipBalancer}, whose round runs every
 * {@link RaftGroupsImpl#BALANCER_PERIOD_HEARTBEATS} heartbeat intervals as an event of the host.
 * The balancer is built as {@code RaftGroupsImpl} builds it (its live window, its lag bound, one
 * handover in flight); what the node last heard from each peer is what its endpoint delivered, in any group,
 * whether that message said its sender is drained, and whether a connection to it was refused
 * since, as the shared transport records it. {@link #drain} drains the process as {@code RaftGroups.drain()} does.
 *
 * <p>Planted balancer bugs, set before {@link #start}: {@link #liveWindowNanos} with
 * {@link #forgetsRefusals} (a window so long that a peer heard from once stays a target forever,
 * even once its connection is refused) and {@link #listsALedGroupTwice} (the
 * balancer is given the node's groups with one it leads listed twice, so it counts one leadership
 * more than the node holds and hands over when it leads only one more than another member), and
 * {@link #losesDrainedFlag} (the node never learns that a peer is drained, so it balances towards it),
 * {@link #maxLagEntries} (so large that a member lacking the whole log is handed groups);
 * and planted drain bugs, {@link #campaignsEarlyWhenDrained} (drained, its groups campaign as early as ever)
 * and {@link #forgetsRecordedDrain} (a restarted process ignores the drain its disk records).
 */
public final class SimGroupsNode {
    private final SimWorld world;
    private final SimNet net;
    private final SimWorld.Host host;
    private final RaftConfig config;
    private final List<String> groupNames;
    private final Map<String, InMemoryLogStore> disks = new HashMap<>();
    private final LongSupplier fsyncNanos;
    private final long maxTaskDelayNanos;
    private final SimNodeEnvironment.CoreFactory cores;
    /** The running process's groups by name (empty while it is down). */
    private final Map<String, GroupNode> running = new LinkedHashMap<>();
    /** The same, by the index of the group's name (all null while the node is down). */
    private final GroupNode[] byIndex;
    /** Planted bug: the balancer's live window (real production value: {@code RaftGroupsImpl.balancerLiveWindowNanos}). */
    public long liveWindowNanos;
    /** Planted bug: how many entries a target may lack (real production value: {@code promoteMaxLag}). */
    public long maxLagEntries;
    /** Planted bug: the balancer is never told that a connection to a peer was refused. */
    public boolean forgetsRefusals;
    /** Planted bug: the balancer sees one of the groups this node leads twice. */
    public boolean listsALedGroupTwice;
    /** Planted bug: this node never learns that a peer is drained (the flag lost on the way in). */
    public boolean losesDrainedFlag;
    /**
     * Planted bug: the batches this node sends are delivered with every element in the group of the
     * first (a receiver that reads the group of a coalesced heartbeat from the wrong place).
     */
    public boolean misroutesBatches;
    /** Planted bug: drained, this node's groups do not defer their candidacy (they campaign as early as ever). */
    public boolean campaignsEarlyWhenDrained;
    /** Planted bug: a process started on a disk that records a drain ignores it (starts undrained). */
    public boolean forgetsRecordedDrain;
    /** The drain recorded on the node's disk ({@link #drain}): survives crashes, as {@code <dataDir>/drained}. */
    private boolean drainRecorded;
    private long balancerRounds;
    /** The running process's balancer and endpoint (null before the first start). */
    private LeadershipBalancer balancer;
    private SimNet.Endpoint endpoint;
    /** The running process (a new object per start), null once it closes or crashes: its balancer's rounds stop. */
    private Object process;

    public SimGroupsNode(SimWorld world, SimNet net, SimWorld.Host host, RaftConfig config, List<String> groupNames,
                         LongSupplier fsyncNanos, long maxTaskDelayNanos, SimNodeEnvironment.CoreFactory cores) {
        this.world = world;
        this.net = net;
        this.host = host;
        this.config = config;
        this.groupNames = List.copyOf(groupNames);
        this.fsyncNanos = fsyncNanos;
        this.maxTaskDelayNanos = maxTaskDelayNanos;
        this.cores = cores;
        this.liveWindowNanos = RaftGroupsImpl.balancerLiveWindowNanos(config);
        this.maxLagEntries = config.promoteMaxLag();
        this.byIndex = new GroupNode[groupNames.size()];
        for (String g : groupNames) {
            disks.put(g, new InMemoryLogStore());
        }
    }

    public String id() {
        return config.nodeId();
    }

    public SimWorld.Host host() {
        return host;
    }

    /** Whether a process runs (it may be paused). */
    public boolean up() {
        return !running.isEmpty();
    }

    /** Group {@code name} of the running process, or null while the node is down. */
    public RaftNode group(String name) {
        return running.get(name);
    }

    /** The {@code index}th group (in the order given) of the running process, or null while the node is down. */
    public RaftNode group(int index) {
        return byIndex[index];
    }

    /**
     * Between two events: null if the {@code index}th group's published status view is what its
     * state shows now (or the node is down), else both (see {@link SimNode#staleView()}).
     */
    public String staleView(int index) {
        return SimNode.staleView(byIndex[index]);
    }

    /** How many balancer rounds ran on this node (every process). */
    public long balancerRounds() {
        return balancerRounds;
    }

    /**
     * Starts a new process on this node's disks: every group, then the balancer's rounds.
     *
     * @param listeners     each group's leadership listener
     * @param stateMachines each group's state machine
     */
    public void start(Function<String, LeadershipListener> listeners, Function<String, StateMachine> stateMachines,
                      long seed) {
        Object self = new Object();
        process = self;
        boolean drainRecorded = this.drainRecorded && !forgetsRecordedDrain;
        SplittableRandom seeds = new SplittableRandom(seed);
        Map<String, Transport.Listener> routes = new HashMap<>();
        Map<String, Heard> heard = new HashMap<>();
        SimNet.Endpoint endpoint = net.endpoint(id(), host);
        endpoint.coalescePeriodic(RaftGroupsImpl.linger(config.heartbeatInterval()).toNanos());
        endpoint.misroutesBatches = misroutesBatches;
        endpoint.setDrained(drainRecorded);      // as RaftGroups.start(): a recorded drain, from the first message
        this.endpoint = endpoint;
        endpoint.start(new RoutingListener() {
            @Override
            public void heard(String from, boolean senderDrained) {
                heard.put(from, new Heard(host.clock(), senderDrained && !losesDrainedFlag, false));
            }

            @Override
            public void onMessage(Message message) {
                onMessage("", message);
            }

            @Override
            public boolean onMessage(String group, Message message) {
                Transport.Listener l = routes.get(group);
                if (l != null) {
                    l.onMessage(message);
                }
                return true;           // a group not started (yet): dropped, Raft sends again
            }

            @Override
            public void onConnectionRefused(String peerId) {
                if (!forgetsRefusals) {
                    heard.computeIfPresent(peerId, (id, h) -> new Heard(h.at(), h.drained(), true));
                }
                new ArrayList<>(routes.values()).forEach(l -> l.onConnectionRefused(peerId));
            }
        });
        for (String name : groupNames) {
            SimNodeEnvironment env = new SimNodeEnvironment(world, host, seeds.nextLong(), maxTaskDelayNanos, cores);
            SimLogStore store = new SimLogStore(disks.get(name), host, fsyncNanos);
            RaftNodeImpl node = new RaftNodeImpl(config, name, listeners.apply(name), stateMachines.apply(name),
                    c -> groupTransport(name, endpoint, routes), c -> store, env, RaftMetrics.none());
            node.drainedPeers(peer -> heard.containsKey(peer) && heard.get(peer).drained());
            if (drainRecorded && !campaignsEarlyWhenDrained) {
                node.deferCandidacy(true);       // from its start, as RaftGroups.newGroup on a drained node
            }
            running.put(name, new GroupNode(name, node, null));
        }
        running.values().toArray(byIndex);
        for (GroupNode g : running.values()) {
            g.node().start();
        }
        LeadershipBalancer balancer = new LeadershipBalancer(id(), this::balancedGroups,
                peer -> Optional.ofNullable(heard.get(peer)).map(h -> new GrpcTransport.PeerSignal(
                        Duration.ofNanos(host.clock() - h.at()), h.drained(), h.refused())),
                liveWindowNanos, maxLagEntries, 1);
        balancer.setDrained(drainRecorded);
        this.balancer = balancer;
        long period = RaftGroupsImpl.BALANCER_PERIOD_HEARTBEATS * config.heartbeatInterval().toNanos();
        scheduleRound(balancer, period, self);
        scheduleHeartbeatTick(config.heartbeatInterval().toNanos() * RaftGroupsImpl.HEARTBEAT_TICK_PERCENT / 100, self);
    }

    /** The node-wide heartbeat tick of {@code RaftGroups}: every group that leads sends its heartbeats together. */
    private void scheduleHeartbeatTick(long period, Object self) {
        world.at(world.now() + host.toReal(period), host, host.incarnation(), () -> {
            if (process == self) {
                running.values().forEach(g -> g.node().heartbeatTick());
                scheduleHeartbeatTick(period, self);
            }
        });
    }

    /**
     * As {@code RaftGroups.drain()}: records the drain on the node's disk (it survives crashes and
     * restarts: a process started later starts drained), then, if a process runs, the balancer
     * hands every group this process leads away, every message it sends says it is drained, and
     * every group defers its candidacy; a round runs at once.
     */
    public void drain() {
        drainRecorded = true;
        if (up()) {
            balancer.setDrained(true);
            endpoint.setDrained(true);
            if (!campaignsEarlyWhenDrained) {
                running.values().forEach(g -> g.node().deferCandidacy(true));
            }
            int incarnation = host.incarnation();
            world.at(world.now(), host, incarnation, balancer::round);
        }
    }

    /** When (on this node's clock) a peer was last heard from, and whether it said it is drained. */
    private record Heard(long at, boolean drained, boolean refused) {
    }

    /** The listener of the node's endpoint: routes by group, and records what it heard from whom. */
    private interface RoutingListener extends Transport.Listener, SimNet.DrainAware {
    }

    private void scheduleRound(LeadershipBalancer balancer, long period, Object self) {
        world.at(world.now() + host.toReal(period), host, host.incarnation(), () -> {
            if (process == self) {
                balancerRounds++;
                balancer.round();
                scheduleRound(balancer, period, self);
            }
        });
    }

    /** What the balancer is given: the running groups (with the planted bug, one it leads twice). */
    private List<GroupNode> balancedGroups() {
        List<GroupNode> out = new ArrayList<>(running.values());
        if (listsALedGroupTwice) {
            out.stream().filter(g -> id().equals(g.node().leaderView().leader())).findFirst().ifPresent(out::add);
        }
        return out;
    }

    private static Transport groupTransport(String group, SimNet.Endpoint endpoint,
                                            Map<String, Transport.Listener> routes) {
        return new Transport() {
            private Listener listener;

            @Override
            public void start(Listener l) {
                listener = l;
                routes.put(group, l);
            }

            @Override
            public void send(Message message) {
                endpoint.send(group, message);
            }

            @Override
            public void close() {
                routes.remove(group, listener);
            }
        };
    }

    /**
     * A graceful stop, as {@code RaftGroups.close()}: the balancer stops, then each group closes in
     * turn (a leader hands over first; the world goes on while it waits), then the socket. Down
     * afterwards until started again.
     */
    public void close() {
        if (!up() || process == null) {
            return;
        }
        process = null;
        int incarnation = host.incarnation();
        // As RaftGroups.close(): from now on its messages say it is drained and its groups defer their candidacy.
        endpoint.setDrained(true);
        running.values().forEach(g -> g.node().deferCandidacy(true));
        for (GroupNode g : new ArrayList<>(running.values())) {
            g.node().close();
            if (host.incarnation() != incarnation) {
                return;                // crashed while it closed
            }
        }
        endpoint.close();
        running.clear();
        java.util.Arrays.fill(byIndex, null);
    }

    /** kill -9: every event of the process is dropped, its socket stops listening, its disks stay. */
    public void crash() {
        process = null;
        host.crash();
        net.crashed(id());
        running.clear();
        java.util.Arrays.fill(byIndex, null);
    }
}
