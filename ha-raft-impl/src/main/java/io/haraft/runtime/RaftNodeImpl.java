package io.haraft.runtime;

import io.haraft.ClusterConfiguration;
import io.haraft.Committed;
import io.haraft.LeaderChangeListener;
import io.haraft.Leadership;
import io.haraft.LeadershipListener;
import io.haraft.NodeStatus;
import io.haraft.NotLeaderException;
import io.haraft.RaftConfig;
import io.haraft.RaftNode;
import io.haraft.StateMachine;
import io.haraft.Subscription;
import io.haraft.core.CoreConfig;
import io.haraft.core.HardState;
import io.haraft.core.RaftCore;
import io.haraft.core.log.Entry;
import io.haraft.core.log.RaftLog;
import io.haraft.core.quorum.Membership;
import io.haraft.metrics.RaftMetrics;
import io.haraft.storage.Snapshot;
import io.haraft.transport.Transport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Function;

/**
 * The node runtime: turns the pure {@link RaftCore} into a running {@link RaftNode}.
 *
 * <p><b>Threads.</b> One Raft loop thread drives the core (and is the only thread that touches
 * it); the {@link LogStore} persists asynchronously (group commit is the store's business); one
 * apply thread runs the {@link StateMachine} and completes futures; one callback thread runs the
 * {@link LeadershipListener}s and {@link io.haraft.LeaderChangeListener}s that have no executor of
 * their own ({@link LeadershipDispatcher}); a lease watchdog revokes leadership on time even while the loop is
 * busy; a node that stops itself (removed, or after a fatal error) does so on a thread of its own.
 * All are daemon threads named {@code haraft-<role>-<nodeId>}, with the MDC keys {@code cluster},
 * {@code node} and (on the loop and callback threads) {@code term}. {@link #start()} and
 * {@link #close()} set {@code cluster} and {@code node} on the caller's thread while they run (and
 * give the caller its own MDC back), so a store opened by {@code start()} hands them on to its own
 * threads.
 * Every clock reading, thread and random draw comes from one {@code NodeEnvironment}: the public
 * constructors use the system's; the whole-node simulator gives its own, so that the same code runs
 * deterministically on virtual time.
 *
 * <p><b>Guarantees.</b> Everything {@link RaftNode} promises, with these implementation notes:
 * <ul>
 *   <li>{@code elected}/{@code revoked} strictly alternate: revocation is a compare-and-set on the
 *       leadership, so the watchdog and the loop never deliver two {@code revoked} for one term.</li>
 *   <li>A leadership is invalid before any message of the same Ready leaves, and a TimeoutNow
 *       (leadership transfer) is sent only after the {@code revoked} callback has returned.</li>
 *   <li>The transport is closed only after the leadership was revoked (it is invalid from then
 *       on), and a closing node neither campaigns nor keeps a leadership it still wins, which keeps
 *       fast failover on refused connections safe. It closes after the listener's last
 *       callback returned, waiting at most 10 s for a listener
 *       that blocks. Past that wait, close() logs an ERROR naming the blocked callback and goes on;
 *       the callbacks queued behind it are not dropped but delivered, in order, on the callback
 *       thread once the listener returns (after close() returned). Only
 *       a crash drops queued callbacks.</li>
 * </ul>
 *
 * <pre>{@code
 * RaftNode node = new RaftNodeImpl(config, listener, stateMachine,
 *         cfg -> new GrpcTransport(cfg),              // any Transport
 *         cfg -> new InMemoryLogStore(),              // or a RaftStorage adapter
 *         MonotonicClock.system());
 * node.start();
 * }</pre>
 *
 * <p><b>Snapshots.</b> Every {@link RaftConfig#snapshotThreshold()} applied entries, or sooner once
 * {@link RaftConfig#snapshotThresholdBytes()} bytes of log were applied, the apply thread has the
 * state machine write a snapshot into the store, which makes it durable and drops the log prefix
 * it covers; then the core forgets those entries too. The core holds the log since the latest
 * snapshot in memory, and start() reads it back, so the byte bound is what bounds that heap. A follower that needs
 * entries the leader no longer has receives the leader's snapshot in chunks (read and written on
 * a snapshot thread, never on the loop) and restores its state machine from it. At start the
 * state machine is restored from the latest snapshot, and only the log after it is replayed.
 *
 * <p><b>Membership.</b> The core keeps the configuration in its log; this runtime starts it from
 * the latest one stored (log, else snapshot, else the start-up members, with a WARN when those
 * differ), keeps the transport's peers and the heartbeat statistics in step with it, records it in
 * every snapshot, and drives the membership operations of the API ({@link MembershipChanges}). A
 * node that learns that it was removed stops itself ({@link NodeStatus#removed()}). A witness
 * (in its start-up role or its latest configuration) applies no commands and takes empty
 * snapshots: the leader sends it entries without payloads.
 *
 * <p><b>Failures.</b> A fatal error (the store fails a write, the state machine throws, the loop
 * fails) stops the node on a thread of its own, revoking any leadership without handing it over;
 * {@link #status()} says {@code FAILED} with the error from then on, and shows no leader role.
 *
 * <p><b>Limits.</b> A snapshot is taken on the apply thread, so a large state delays applies while
 * it is written.
 *
 * <p><b>Structure.</b> This class is the API facade and the lifecycle (start, close, fatal stop);
 * package-private collaborators do the rest: {@code StatusReporter} (status, health, gauges),
 * {@code MembershipCalls}, {@code LeaseReads} and {@code NodeShutdown} (the order in which a node's
 * parts stop).
 */
public final class RaftNodeImpl implements RaftNode {
    private static final Logger LOG = LoggerFactory.getLogger(RaftNodeImpl.class);
    private static final Logger CORE_LOG = LoggerFactory.getLogger(RaftCore.class);
    /** Room left in a message for framing and the other fields of an Append. */
    static final int MESSAGE_OVERHEAD_BYTES = 4096;

    private enum State { NEW, RUNNING, CLOSING, CLOSED }

    private final RaftConfig config;
    private final StateMachine stateMachine;
    private final TransportFactory transportFactory;
    private final LogStoreFactory logStoreFactory;
    private final NodeEnvironment env;
    private final MonotonicClock clock;
    private final long electionTimeoutNanos;
    private final RaftMetrics metricsSpi;
    /** The Raft group this node is ({@code default} for a node of its own): the {@code group} tag of its meters. */
    private final String group;
    private volatile NodeMetrics metrics = NodeMetrics.NONE;   // set by start()

    private final Object lifecycle = new Object();
    private volatile State state = State.NEW;                 // written under lifecycle; status() reads it
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    private volatile boolean failed;
    private volatile String failure;                          // what made the node fail, for status()
    private volatile boolean removed;

    // set by start(); read after a happens-before through 'running' or lifecycle
    private volatile LogStore store;
    private volatile Transport transport;
    private volatile Applier applier;
    private volatile SnapshotTransfer snapshots;
    private final LeadershipDispatcher dispatcher;
    private final ProposalAdmission admission;
    private volatile NodeLoop loop;
    private volatile HeartbeatStats stats;
    /** Whether this node defers its candidacy by an election timeout (its {@code RaftGroups} is drained). */
    private volatile boolean defersCandidacy;
    /** Whether a peer said it is drained; set before start by a {@code RaftGroups} (none otherwise). */
    private volatile java.util.function.Predicate<String> drainedPeers = peer -> false;

    // the jobs done apart, on the parts above
    private final StatusReporter reporter;
    private final MembershipCalls membership;
    private final LeaseReads leaseReads;
    private final NodeShutdown shutdown;

    /**
     * Creates a node that is not started: no thread, socket or file is opened until {@link #start()}.
     *
     * @param config           the validated configuration
     * @param listener         receives leadership transitions
     * @param stateMachine     the replicated state
     * @param transportFactory creates the transport at {@link #start()}
     * @param logStoreFactory  opens the store at {@link #start()}
     * @param clock            the monotonic clock for every timeout and lease
     * @throws NullPointerException if an argument is null
     */
    public RaftNodeImpl(RaftConfig config, LeadershipListener listener, StateMachine stateMachine,
                        TransportFactory transportFactory, LogStoreFactory logStoreFactory, MonotonicClock clock) {
        this(config, listener, stateMachine, transportFactory, logStoreFactory, clock, RaftMetrics.none());
    }

    /**
     * Creates a node that is not started and reports its measurements to {@code metrics} (see
     * {@link NodeMetrics} for the meters).
     *
     * @throws NullPointerException if an argument is null
     */
    public RaftNodeImpl(RaftConfig config, LeadershipListener listener, StateMachine stateMachine,
                        TransportFactory transportFactory, LogStoreFactory logStoreFactory, MonotonicClock clock,
                        RaftMetrics metrics) {
        this(config, listener, stateMachine, transportFactory, logStoreFactory,
                NodeEnvironment.system(Objects.requireNonNull(clock, "clock")), metrics);
    }

    /**
     * Creates a node that is not started and takes its time, threads and randomness from {@code env}
     * (a simulator's, in tests).
     */
    RaftNodeImpl(RaftConfig config, LeadershipListener listener, StateMachine stateMachine,
                 TransportFactory transportFactory, LogStoreFactory logStoreFactory, NodeEnvironment env,
                 RaftMetrics metrics) {
        this(config, io.haraft.GroupNames.DEFAULT, listener, stateMachine, transportFactory, logStoreFactory, env,
                metrics);
    }

    /** A node of Raft group {@code group} (one of many a {@link RaftGroupsImpl} hosts). */
    RaftNodeImpl(RaftConfig config, String group, LeadershipListener listener, StateMachine stateMachine,
                 TransportFactory transportFactory, LogStoreFactory logStoreFactory, NodeEnvironment env,
                 RaftMetrics metrics) {
        this.metricsSpi = Objects.requireNonNull(metrics, "metrics");
        this.group = Objects.requireNonNull(group, "group");
        this.config = Objects.requireNonNull(config, "config");
        Objects.requireNonNull(listener, "listener");
        this.stateMachine = Objects.requireNonNull(stateMachine, "stateMachine");
        this.transportFactory = Objects.requireNonNull(transportFactory, "transportFactory");
        this.logStoreFactory = Objects.requireNonNull(logStoreFactory, "logStoreFactory");
        this.env = Objects.requireNonNull(env, "env");
        this.clock = env.clock();
        this.electionTimeoutNanos = config.electionTimeout().toNanos();
        // Created here (no thread starts before the first callback) so that listeners and waiters
        // can be added before start().
        this.dispatcher = new LeadershipDispatcher(env, config.clusterId(), config.nodeId(), group,
                () -> loop.post(() -> { }), this::completeOnApplyThread);
        this.dispatcher.addListener(listener, null);
        this.admission = new ProposalAdmission(config);
        this.reporter = new StatusReporter(this, config, clock);
        this.membership = new MembershipCalls(this);
        this.leaseReads = new LeaseReads(this, clock);
        this.shutdown = new NodeShutdown(this, config, env);
    }

    /** Runs a future's completion on the apply thread (see {@link Applier#complete}), or here before start. */
    private void completeOnApplyThread(Runnable completion) {
        Applier a = applier;
        if (a == null) {
            completion.run();
        } else {
            a.complete(completion);
        }
    }

    /** Elections run by {@link Warmup} at start, enough for the JIT to compile the election code. */
    private static final int WARMUP_ROUNDS = 300;

    /** The core's settings derived from a node configuration. */
    static CoreConfig coreConfig(RaftConfig config) {
        return new CoreConfig(config.nodeId(), Configurations.bootstrap(config), config.heartbeatInterval().toNanos(),
                config.electionTimeout().toNanos(), config.clockDriftBound(), 512,
                Math.max(1, config.maxMessageBytes() / 2), 256, config.fastFailoverOnRefusedConnection(),
                config.promoteMaxLag());
    }

    // ------------------------------------------------------------------ lifecycle

    @Override
    public void start() {
        // Holding the lifecycle lock for the whole start keeps a concurrent close() from seeing half a node.
        synchronized (lifecycle) {
            if (state != State.NEW) {
                throw new IllegalStateException("node " + config.nodeId() + " was already "
                        + (state == State.RUNNING ? "started" : "closed") + "; build a new node to start again");
            }
            state = State.RUNNING;
            // The caller's thread works for this node until start returns; a store opened here gives
            // its own threads these MDC keys too.
            Map<String, String> callerMdc = Threads.enterNode(config.clusterId(), config.nodeId());
            try {
                LogStore s = logStoreFactory.open(config);
                store = s;
                HardState hardState = s.hardState();
                List<Entry> entries = StartupChecks.readLog(config, s);
                long snapshotIndex = s.snapshotIndex();
                long snapshotTerm = s.snapshotTerm();
                Optional<Snapshot> snapshot = s.latestSnapshot();
                StartupChecks.checkSnapshotMatchesLog(config, snapshot, snapshotIndex, snapshotTerm);
                Membership snapshotConfig = snapshot.flatMap(x -> x.meta().membership()).orElse(null);
                RaftCore core = env.newCore(coreConfig(config), hardState,
                        new RaftLog(snapshotIndex, snapshotTerm, snapshotConfig, entries), clock.nanos(), CORE_LOG);
                UUID recordedIdentity = s.clusterUuid().orElse(null);
                // a fresh random candidate, used only if this node becomes the first leader of an empty log
                core.bootstrapIdentity(recordedIdentity, env.newUuid());
                StartupChecks.warnIfConfigurationDiffers(config, core.membership(), core.log().latestMembershipIndex());
                stats = new HeartbeatStats(List.copyOf(Configurations.peerAddresses(config.nodeId(),
                        core.committedMembership(), core.membership()).keySet()), electionTimeoutNanos);
                boolean witness = NodeLoop.isWitness(config, core.membership());
                applier = new Applier(env, config.clusterId(), config.nodeId(), stateMachine, this::fail, s,
                        config.snapshotThreshold(), config.snapshotThresholdBytes(), core.membershipAt(snapshotIndex),
                        witness, snapshotIndex,
                        index -> loop.compacted(index));
                if (snapshot.isPresent()) {
                    // the first work of the apply thread: later entries are applied on top of it
                    applier.restore(snapshotIndex, snapshotTerm, snapshot.get().open(), core.membershipAt(snapshotIndex));
                }
                snapshots = new SnapshotTransfer(env, config.clusterId(), config.nodeId(), s, config.maxMessageBytes());
                loop = new NodeLoop(config, env, core, s, applier, snapshots, dispatcher, stats, this::fail,
                        this::stopRemoved);
                loop.candidacyDelay(this::candidacyDelayNanos);   // its first task: a drain set before start
                loop.drainedPeers(drainedPeers);
                startMetrics(s, stats);
                Transport t = transportFactory.create(config);
                transport = t;
                if (recordedIdentity != null) {
                    t.learnClusterUuid(recordedIdentity);
                }
                t.start(loop);
                loop.start(t);
                if (env.warmsUp()) {
                    Warmup.startInBackground(coreConfig(config), config.clusterId(), config.nodeId(), WARMUP_ROUNDS);
                }
                LOG.info("node {} of cluster {} started at term {} with {} log entries after snapshot index {}{}",
                        config.nodeId(), config.clusterId(), hardState.term(), entries.size(), snapshotIndex,
                        witness ? " as a witness (no state machine data)" : "");
            } catch (IOException e) {
                failure = "start failed: " + e;
                close();
                throw new UncheckedIOException("node " + config.nodeId() + " could not open its storage: " + e, e);
            } catch (RuntimeException | Error e) {
                failure = "start failed: " + e;
                close();
                throw e;
            } finally {
                Threads.restoreMdc(callerMdc);
            }
        }
    }

    /**
     * The node learned that it was removed from the cluster: it stops itself (on its own thread,
     * as close() waits for the loop), revoking any leadership and closing its transport.
     */
    private void stopRemoved() {
        removed = true;
        env.runApart("removed-stop", config.clusterId(), config.nodeId(), this::close);
    }

    @Override
    public void close() {
        boolean closeHere;
        synchronized (lifecycle) {
            if (state == State.NEW) {
                state = State.CLOSED;
                dispatcher.stopWaiters("node " + config.nodeId() + " was closed before it became leader");
                closed.complete(null);
                return;
            }
            closeHere = state == State.RUNNING;
            if (closeHere) {
                state = State.CLOSING;
            }
        }
        if (!closeHere) {
            // Someone else is closing: wait for it (bounded), unless we are one of the node's own threads.
            if (!ownThread()) {
                shutdown.awaitQuietly(closed, shutdown.closeBoundNanos());
            }
            return;
        }
        Map<String, String> callerMdc = Threads.enterNode(config.clusterId(), config.nodeId());
        try {
            shutdown.stopRunning();
        } catch (Throwable t) {
            LOG.error("error while closing node {}", config.nodeId(), t);
        } finally {
            Threads.restoreMdc(callerMdc);
            synchronized (lifecycle) {
                state = State.CLOSED;
            }
            closed.complete(null);
        }
    }

    /** A fatal error (storage, state machine, loop): stop safely, revoking without handing over. */
    private void fail(Throwable cause) {
        if (failed) {
            return;
        }
        failure = cause.toString();
        failed = true;
        LOG.error("node {} is stopping after a fatal error: {}", config.nodeId(), cause.toString());
        env.runApart("fatal-stop", config.clusterId(), config.nodeId(), this::close);
    }

    /** Whether the caller is the node's callback or apply thread (which close() must not wait for). */
    private boolean ownThread() {
        LeadershipDispatcher d = dispatcher;
        Applier a = applier;
        return (d != null && d.isCallbackThread()) || (a != null && a.isApplyThread());
    }

    /** The node-wide heartbeat tick of {@link RaftGroupsImpl}: see {@link NodeLoop#heartbeatTick}. */
    void heartbeatTick() {
        NodeLoop l = loop();
        if (l != null) {
            l.heartbeatTick();
        }
    }

    // ------------------------------------------------------------------ test hooks (package-private)

    /** Test hook: how long close() waits for a blocked listener (default {@link NodeShutdown#CALLBACK_DRAIN_NANOS}). */
    void callbackDrainForTest(Duration wait) {
        shutdown.callbackDrainNanos(wait.toNanos());
    }

    /**
     * Test hook: stops like a crashed process. Nothing is revoked or delivered, nothing more is sent;
     * the transport closes (peers then see refused connections) and every thread stops. The store
     * is closed as the operating system would release a dead process's files (its data-directory
     * lock above all), so that a new node object can be started on the same directory.
     */
    void crashForTest() {
        synchronized (lifecycle) {
            if (state != State.RUNNING) {
                return;
            }
            state = State.CLOSED;
        }
        failed = true;
        shutdown.stopNow();
        closed.complete(null);
        LOG.info("node {} crashed (test)", config.nodeId());
    }

    // ------------------------------------------------------------------ parts, for the collaborators and test hooks
    // Each part is null until start() created it (the dispatcher exists from construction).

    NodeLoop loop() {
        return loop;
    }

    Applier applier() {
        return applier;
    }

    SnapshotTransfer snapshots() {
        return snapshots;
    }

    HeartbeatStats stats() {
        return stats;
    }

    LeadershipDispatcher dispatcher() {
        return dispatcher;
    }

    LogStore store() {
        return store;
    }

    Transport transport() {
        return transport;
    }

    /** The meters (a no-op set before start). */
    NodeMetrics metrics() {
        return metrics;
    }

    /** What made the node fail, or null. */
    String failure() {
        return failure;
    }

    /** Whether the node stops, or stopped, after a fatal error (or a crash). */
    boolean failed() {
        return failed;
    }

    /** Whether the node learned that it was removed from the cluster. */
    boolean removed() {
        return removed;
    }

    // ------------------------------------------------------------------ API

    /** Whether the node's loop runs and it did not fail: whether it takes requests. */
    boolean running() {
        NodeLoop l = loop;
        return l != null && l.isRunning() && !failed;
    }

    /** The exception for a request this node does not lead for, naming the leader it knows, if any. */
    NotLeaderException notLeaderHint() {
        NodeLoop l = loop;
        NodeView v = l == null ? null : l.view();
        String leader = v == null ? null : v.leader();
        if (leader == null || leader.equals(config.nodeId()) || !running()) {
            return new NotLeaderException(config.nodeId(), null, null);
        }
        return new NotLeaderException(config.nodeId(), leader, NodeLoop.addressOf(leader, v.membership(), config));
    }

    /**
     * What a leadership balancer needs, read without waiting: the leader this node knows in its
     * current term (itself if it leads; {@code null} if none or not running) and the members that
     * may lead (voters that are not witnesses), in configuration order.
     */
    record LeaderView(String leader, List<String> mayLead) { }

    /**
     * Whether this node defers its candidacy, as a drained {@code RaftGroups} does: while on, its
     * election timer runs one election timeout longer, and after a refused connection to its leader
     * it takes the last turn and waits that timeout too ({@link io.haraft.core.RaftCore#setCandidacyDelay}),
     * so that a member that is not drained and can win is elected first; it still campaigns if none
     * does. Any thread, before or after start; off restores the usual timing.
     */
    void deferCandidacy(boolean on) {
        defersCandidacy = on;
        NodeLoop l = loop;
        if (l != null) {
            l.candidacyDelay(this::candidacyDelayNanos);
        }
    }

    /**
     * Before {@link #start}: which peers said they are drained, as the shared transport of a
     * {@code RaftGroups} knows it. A graceful {@link #close()} then hands a leadership over to a
     * peer that is not drained if one answers.
     */
    void drainedPeers(java.util.function.Predicate<String> drainedPeer) {
        this.drainedPeers = Objects.requireNonNull(drainedPeer, "drainedPeer");
    }

    private long candidacyDelayNanos() {
        return defersCandidacy ? electionTimeoutNanos : 0;
    }

    /** See {@link LeaderView}; cheap (one volatile read of the loop's published view). */
    LeaderView leaderView() {
        Membership m = latestMembership();
        List<String> mayLead = m.ids().stream().filter(m::canLead).toList();
        NodeLoop l = loop;
        return new LeaderView(running() && l != null ? l.view().leader() : null, mayLead);
    }

    /** The leader of {@link #leaderView()} alone, without the members that may lead; cheap. */
    String knownLeader() {
        NodeLoop l = loop;
        return running() && l != null ? l.view().leader() : null;
    }

    /** Whether this node heard from {@code peer} in this group within {@code withinNanos}; cheap. */
    boolean heardWithin(String peer, long withinNanos) {
        HeartbeatStats s = stats;
        return s != null && s.heardWithin(peer, withinNanos, clock.nanos());
    }

    /**
     * How many committed log entries {@code peer} lacks, as this node's loop last published it
     * while leading (its view is rebuilt after every iteration that changed it; entries not
     * committed yet do not count, so a follower keeping up under heavy writes lacks none);
     * {@link Long#MAX_VALUE} if unknown: not started, not leading, or {@code peer} is not a member.
     */
    long lagOf(String peer) {
        NodeLoop l = loop;
        return l == null ? Long.MAX_VALUE : l.view().committedLag(peer);
    }

    /** The latest configuration this node knows: from the loop once started, else the start-up one. */
    private Membership latestMembership() {
        NodeLoop l = loop;
        return l == null ? Configurations.bootstrap(config) : l.view().membership();
    }

    @Override
    public CompletableFuture<Committed> submit(byte[] command) {
        Objects.requireNonNull(command, "command");
        String tooLarge = admission.tooLarge(command.length, transport, latestMembership());
        if (tooLarge != null) {
            return CompletableFuture.failedFuture(new IllegalArgumentException(tooLarge));
        }
        if (!running()) {
            return CompletableFuture.failedFuture(notLeaderHint());
        }
        CompletableFuture<Committed> inLoop = new CompletableFuture<>();
        CompletableFuture<Committed> f = admission.admit(inLoop);
        if (!f.isDone()) {
            metrics.proposalPending(f);
            loop.submit(command.clone(), inLoop);
        }
        return f;
    }

    @Override
    public CompletableFuture<Committed> readIndex() {
        if (!running()) {
            return CompletableFuture.failedFuture(notLeaderHint());
        }
        CompletableFuture<Committed> f = new CompletableFuture<>();
        loop.readIndex(f);
        return f;
    }

    @Override
    public <T> T leaseRead(Function<? super Leadership, ? extends T> read) {
        return leaseReads.read(read);
    }

    @Override
    public CompletableFuture<Void> transferLeadership(String targetNodeId) {
        Objects.requireNonNull(targetNodeId, "targetNodeId");
        Membership members = latestMembership();
        if (!members.contains(targetNodeId)) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("\"" + targetNodeId
                    + "\" is not a member of cluster " + config.clusterId() + "; members are " + members.ids()));
        }
        if (!running()) {
            return CompletableFuture.failedFuture(notLeaderHint());
        }
        CompletableFuture<Void> f = new CompletableFuture<>();
        loop.transferLeadership(targetNodeId, f);
        return f;
    }

    @Override
    public NodeStatus status() {
        return reporter.status();
    }

    /** Whether the node runs, for status(): a failure wins over a stop, a stop over running. */
    NodeStatus.State apiState() {
        if (failure != null) {
            return NodeStatus.State.FAILED;
        }
        State st = state;
        if (st == State.NEW) {
            return NodeStatus.State.NOT_STARTED;
        }
        NodeLoop l = loop;
        return st == State.RUNNING && !removed && !failed && l != null && l.isRunning()
                ? NodeStatus.State.RUNNING : NodeStatus.State.STOPPED;
    }

    // ------------------------------------------------------------------ membership

    @Override
    public CompletableFuture<ClusterConfiguration> addLearner(String id, String address) {
        return membership.add("addLearner", id, address, Membership.Role.LEARNER);
    }

    @Override
    public CompletableFuture<ClusterConfiguration> addWitness(String id, String address) {
        return membership.add("addWitness", id, address, Membership.Role.WITNESS_LEARNER);
    }

    @Override
    public CompletableFuture<ClusterConfiguration> promote(String id) {
        return promote(id, DEFAULT_CATCH_UP_TIMEOUT);
    }

    @Override
    public CompletableFuture<ClusterConfiguration> promote(String id, Duration catchUpTimeout) {
        return membership.promote(id, catchUpTimeout);
    }

    @Override
    public CompletableFuture<ClusterConfiguration> removeMember(String id) {
        return membership.remove(id);
    }

    @Override
    public CompletableFuture<ClusterConfiguration> replaceMember(String oldId, String newId, String newAddress) {
        return replaceMember(oldId, newId, newAddress, DEFAULT_CATCH_UP_TIMEOUT);
    }

    @Override
    public CompletableFuture<ClusterConfiguration> replaceMember(String oldId, String newId, String newAddress,
                                                                 Duration catchUpTimeout) {
        return membership.replace(oldId, newId, newAddress, catchUpTimeout);
    }

    @Override
    public Optional<Leadership> leadership() {
        LeadershipDispatcher d = dispatcher;
        LeadershipImpl l = d == null || failed ? null : d.open();
        return l != null && l.isValid() ? Optional.of(l) : Optional.empty();
    }

    @Override
    public CompletableFuture<Leadership> awaitLeadership() {
        return dispatcher.awaitLeadership();
    }

    @Override
    public Subscription addListener(LeadershipListener listener) {
        return dispatcher.addListener(listener, null);
    }

    @Override
    public Subscription addListener(LeadershipListener listener, Executor executor) {
        return dispatcher.addListener(listener, Objects.requireNonNull(executor, "executor"));
    }

    @Override
    public Subscription addLeaderChangeListener(LeaderChangeListener listener) {
        return dispatcher.addLeaderChangeListener(listener, null);
    }

    @Override
    public Subscription addLeaderChangeListener(LeaderChangeListener listener, Executor executor) {
        return dispatcher.addLeaderChangeListener(listener, Objects.requireNonNull(executor, "executor"));
    }

    @Override
    public RaftConfig config() {
        return config;
    }

    // ------------------------------------------------------------------ metrics

    /**
     * Start: connects the node's parts to its meters and registers its gauges ({@link StatusReporter}).
     */
    private void startMetrics(LogStore s, HeartbeatStats hs) {
        NodeMetrics m = new NodeMetrics(metricsSpi, config.clusterId(), config.nodeId(), group);
        metrics = m;
        applier.metrics(m);
        dispatcher.metrics(m);
        loop.metrics(m);
        s.observeSyncs((nanos, entries) -> {
            m.fsyncLatency.record(nanos);
            if (entries > 0) {
                m.fsyncBatch.record(entries);
            }
        });
        m.setPeers(Configurations.peerAddresses(config.nodeId(), Configurations.bootstrap(config)).keySet(), hs, clock);
        reporter.registerGauges(m);
    }

    @Override
    public String toString() {
        NodeLoop l = loop;
        return "RaftNodeImpl{" + config.clusterId() + "/" + config.nodeId()
                + (l == null ? ", not started" : ", " + l.view()) + "}";
    }
}
