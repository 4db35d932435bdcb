package io.haraft.runtime;

import io.haraft.Committed;
import io.haraft.NotLeaderException;
import io.haraft.RaftConfig;
import io.haraft.core.LeadershipEvent;
import io.haraft.core.LeadershipGate;
import io.haraft.core.Message;
import io.haraft.core.RaftCore;
import io.haraft.core.Ready;
import io.haraft.core.Role;
import io.haraft.core.progress.Progress;
import io.haraft.core.quorum.Membership;
import io.haraft.transport.Transport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The Raft loop of one node: the only thread that touches the {@link RaftCore}.
 *
 * <p>Inputs (messages, proposals, reads, transfers, persistence completions) arrive as tasks on an
 * unbounded queue; between them the loop waits until the core's next deadline, measured on the
 * injected {@link MonotonicClock}. A {@link Ready} is processed as its contract says: its state is
 * handed to the {@link LogStore} asynchronously and the loop keeps stepping the core meanwhile;
 * when the store's future completes, the loop delivers leadership events through the
 * {@link LeadershipGate} (revocations first, so that a leadership is invalid before any message
 * of the same Ready leaves), sends the messages, hands committed entries to the apply thread and
 * calls {@code advance}. At most one Ready is in flight; everything the core produces meanwhile
 * goes into the next one, which is where group commit comes from.
 *
 * <p>Snapshots: blocking snapshot I/O runs on the {@link SnapshotTransfer} thread, never here. A
 * Ready with snapshot chunks or an install is persisted there; its snapshot requests are read
 * there and the answers come back as tasks. When the apply thread has made a snapshot durable,
 * it posts {@link #compacted}, and the loop compacts the core: that task runs after the loop
 * task that handed the snapshot's entries over and advanced their Ready, as the core requires.
 *
 * <p>Reads are decided by the core alone ({@link RaftCore#readIndex}, {@link RaftCore#leaseRead});
 * {@link ReadRequests} hands requests over and completes the futures from the core's answers,
 * taken after every input and from each Ready. {@link LeadershipTransfers} does the same for
 * leadership transfers and {@link MembershipChanges} for membership operations;
 * {@link RemovalDetector} decides when the node has learned that it was removed.
 *
 * <p>Who runs it: a {@link LoopDriver} from the node's {@link NodeEnvironment}. In the library that
 * is a thread of its own blocking on the queue ({@link #runBlocking()}); in the whole-node simulator
 * it is the simulator's event queue, one {@link #step()} at a time. Both run the same iteration.
 */
final class NodeLoop implements Transport.Listener {
    private static final Logger LOG = LoggerFactory.getLogger(NodeLoop.class);
    private static final int MAX_TASKS_PER_ITERATION = 256;
    private static final long MAX_WAIT_NANOS = 1_000_000_000L;

    private final RaftConfig config;
    private final NodeEnvironment env;
    private final MonotonicClock clock;
    private final RaftCore core;
    private final LogStore store;
    private final Applier applier;
    private final SnapshotTransfer snapshots;
    private final LeadershipDispatcher dispatcher;
    private final HeartbeatStats stats;
    private final Consumer<Throwable> fatal;
    private final long electionTimeoutNanos;
    private final LinkedBlockingQueue<Runnable> inbox = new LinkedBlockingQueue<>();
    private final LeadershipGate gate = new LeadershipGate();
    private final LoopDriver driver;
    private final CompletableFuture<Void> stopped = new CompletableFuture<>();
    private volatile boolean running;
    private volatile Transport transport;
    private volatile NodeView view;
    private final MembershipChanges changes;

    // loop-thread state
    private Ready inFlight;
    private final ReadRequests reads;
    private final LeadershipTransfers transfers;
    private final List<CompletableFuture<Void>> idleWaiters = new ArrayList<>();
    private long leaderTerm = -1;
    private volatile long wakeAt;                   // see wakeAt()
    private long mdcTerm = -1;
    private long publishedTerm = -1;                // the leader change last handed to the dispatcher
    private String publishedLeader;
    /**
     * Set by {@link #shutdownCore}: the node is closing. The core is no longer ticked (no new
     * campaign), and a leadership it still wins (an election already running, a TimeoutNow) is
     * given up at once, before anything of it is delivered: otherwise the node could close its
     * listening socket while leader, which breaks the fast-failover assumption.
     */
    private boolean shuttingDown;
    private Membership syncedLatest;                // the configurations the transport and stats follow
    private Membership syncedCommitted;
    private Map<String, String> transportPeers = Map.of();
    private boolean witness;
    private final RemovalDetector removal;
    private NodeMetrics metrics = NodeMetrics.NONE;  // set before start
    private final CommitTimes commitTimes = new CommitTimes();
    /** When a leader's message last arrived, for health; {@link Long#MIN_VALUE} if none since start. */
    private volatile long leaderContact = Long.MIN_VALUE;
    /** The core's lease end while it leads ({@link Long#MIN_VALUE} otherwise), for health. */
    private volatile long leaseUntil = Long.MIN_VALUE;

    /**
     * @param onRemoved called once (on the loop thread) when this node learns that it was removed
     *                  from the cluster: the node stops itself
     */
    NodeLoop(RaftConfig config, NodeEnvironment env, RaftCore core, LogStore store, Applier applier,
             SnapshotTransfer snapshots, LeadershipDispatcher dispatcher, HeartbeatStats stats,
             Consumer<Throwable> fatal, Runnable onRemoved) {
        this.config = config;
        this.env = env;
        this.clock = env.clock();
        this.core = core;
        this.store = store;
        this.applier = applier;
        this.snapshots = snapshots;
        this.dispatcher = dispatcher;
        this.stats = stats;
        this.fatal = fatal;
        this.electionTimeoutNanos = config.electionTimeout().toNanos();
        this.driver = env.loopDriver(config.clusterId(), config.nodeId());
        this.witness = isWitness(config, core.membership());
        this.removal = new RemovalDetector(config, core, clock, electionTimeoutNanos, onRemoved);
        this.transportPeers = Configurations.peerAddresses(config.nodeId(), Configurations.bootstrap(config));
        this.changes = new MembershipChanges(config.nodeId(), core, config.heartbeatInterval().toNanos(),
                electionTimeoutNanos * 3 / 2, this::notLeader, applier::complete);
        this.reads = new ReadRequests(core, clock, applier, this::notLeader);
        this.transfers = new LeadershipTransfers(config.nodeId(), core, applier, electionTimeoutNanos, this::notLeader);
        this.view = NodeView.of(core, config.nodeId());
    }

    /**
     * Whether this node is a witness (in its start-up configuration or in its latest one): it
     * stores no payloads and applies no commands.
     */
    static boolean isWitness(RaftConfig config, Membership latest) {
        return config.self().role().isWitness() || latest.isWitness(config.nodeId());
    }

    // ------------------------------------------------------------------ lifecycle and inputs (any thread)

    /** Before {@link #start}: where the loop reports what it measures. */
    void metrics(NodeMetrics m) {
        this.metrics = m;
    }

    /** Any thread: when a leader's message last arrived ({@link Long#MIN_VALUE} if none since start). */
    long leaderContact() {
        return leaderContact;
    }

    /** Any thread: the end of this node's lease while it leads, {@link Long#MIN_VALUE} otherwise. */
    long leaseUntil() {
        return leaseUntil;
    }

    void start(Transport transport) {
        this.transport = transport;
        running = true;
        driver.start(this);
    }

    /** Any thread: starts a membership operation (see {@link MembershipChanges}). */
    void changeMembership(String name, List<MembershipChanges.Step> steps, long catchUpNanos,
                          CompletableFuture<io.haraft.ClusterConfiguration> future) {
        post(() -> changes.start(name, steps, catchUpNanos, clock.nanos(), future));
    }

    /**
     * Stops the loop after the task it is running; waits for it at most {@code timeoutNanos}.
     *
     * @return whether the loop thread has ended
     */
    boolean stop(long timeoutNanos, boolean interrupt) {
        running = false;
        post(() -> { });
        if (interrupt) {
            driver.interrupt();
        }
        if (driver.isAlive() && !driver.inLoop()) {
            try {
                if (!env.await(stopped, timeoutNanos)) {
                    LOG.warn("the Raft loop of {} did not stop in time", config.nodeId());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return stopped.isDone() || !driver.isAlive();
    }

    boolean isRunning() {
        return running;
    }

    NodeView view() {
        return view;
    }

    /** Loop thread: what {@link #view()} would show if it were rebuilt now (it is after every iteration that changed it). */
    NodeView freshView() {
        return NodeView.of(core, config.nodeId());
    }

    /**
     * The node-wide heartbeat tick of a node hosting many groups: on the loop thread, a leader
     * whose heartbeat is nearly due sends it now (see {@link RaftCore#heartbeatTick}).
     *
     * <p>A group whose last published {@link #view} is not a leader's is not woken: the tick does
     * nothing on a follower or candidate, and on a node hosting many groups most of them follow.
     * A group elected since that view missed at most this tick; its core still sends its
     * heartbeat at its own deadline ({@link RaftCore#nextDeadline}), as without the node tick.
     */
    void heartbeatTick() {
        if (view.role() != Role.LEADER) {
            return;
        }
        post(() -> {
            if (!shuttingDown) {
                core.heartbeatTick(clock.nanos());
            }
        });
    }

    /** Queues a task for the loop thread. */
    void post(Runnable task) {
        inbox.add(task);
        driver.wake();
    }

    /** Runs {@code task} on the loop and completes with its result; fails if the loop is stopped. */
    <T> CompletableFuture<T> call(Supplier<T> task) {
        CompletableFuture<T> f = new CompletableFuture<>();
        if (!running) {
            f.completeExceptionally(new IllegalStateException("the Raft loop is not running"));
            return f;
        }
        post(() -> {
            try {
                f.complete(task.get());
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        return f;
    }

    @Override
    public void onMessage(Message message) {
        post(() -> onMessageOnLoop(message));
    }

    @Override
    public void onConnectionRefused(String peerId) {
        post(() -> core.peerUnreachable(peerId, clock.nanos()));
    }

    @Override
    public void onRejectedAsNonMember(String peerId) {
        post(() -> removal.rejectedBy(peerId));
    }

    /**
     * Any thread (the apply thread): a snapshot of the state machine up to {@code index} is durable
     * in the store; the core may forget the entries it covers.
     */
    void compacted(long index) {
        post(() -> {
            if (index <= core.log().snapshotIndex()) {
                return;                         // a snapshot from the leader already covers it
            }
            try {
                core.compact(index, clock.nanos());
            } catch (IllegalArgumentException e) {
                // the core keeps its entries in memory a little longer; the store is compacted already
                LOG.warn("term {}: could not compact the log up to {}: {}", core.term(), index, e.getMessage());
            }
        });
    }

    /** Loop thread only: where the core's log starts (after its snapshot). */
    long coreSnapshotIndex() {
        return core.log().snapshotIndex();
    }

    /**
     * Loop thread only: whether this node leads and may send {@code peer} log entries before it
     * hears from it again (it replicates to it, or probes it without waiting for an answer).
     */
    boolean sendsEntriesTo(String peer) {
        Progress pr = core.role() == Role.LEADER ? core.progress(peer) : null;
        return pr != null && (pr.mode() == Progress.Mode.REPLICATE || pr.mode() == Progress.Mode.PROBE && !pr.isPaused());
    }

    void submit(byte[] command, CompletableFuture<Committed> future) {
        long submittedAt = clock.nanos();
        post(() -> {
            long index = core.propose(command, clock.nanos());
            if (index == 0) {
                fail(future, notLeader());
            } else {
                applier.register(index, core.term(), future);
                if (metrics.enabled()) {
                    commitTimes.proposed(index, submittedAt);
                }
            }
        });
    }

    /** Any thread: a linearizable read; {@code future} completes on the apply thread (see {@link ReadRequests}). */
    void readIndex(CompletableFuture<Committed> future) {
        post(() -> reads.readIndex(future));
    }

    /**
     * Any thread: asks the core whether a read under the lease may be served now; {@code future}
     * completes on the loop thread with the index the state machine must reach (see {@link ReadRequests}).
     */
    void leaseRead(CompletableFuture<Committed> future) {
        post(() -> reads.leaseRead(future));
    }

    /**
     * Any thread: the core's candidacy delay ({@link RaftCore#setCandidacyDelay}) becomes what
     * {@code nanos} says when the loop runs the task (the latest setting wins, whatever the order of calls).
     */
    void candidacyDelay(java.util.function.LongSupplier nanos) {
        post(() -> core.setCandidacyDelay(nanos.getAsLong()));
    }

    /** Before {@link #start}: which peers said they are drained (see {@link LeadershipTransfers#drainedPeers}). */
    void drainedPeers(java.util.function.Predicate<String> drainedPeer) {
        transfers.drainedPeers(drainedPeer);
    }

    /** Any thread: see {@link LeadershipTransfers#transfer}. */
    void transferLeadership(String target, CompletableFuture<Void> future) {
        post(() -> transfers.transfer(target, clock.nanos(), future));
    }

    /** Graceful close, step 1: see {@link LeadershipTransfers#handOver}. */
    CompletableFuture<Void> handOver() {
        return call(() -> transfers.handOver(clock.nanos())).thenCompose(f -> f);
    }

    /**
     * Graceful close, step 2: a leader still in office revokes with SHUT_DOWN, and from now on the
     * node neither campaigns nor keeps a leadership it wins; completes when flushed.
     */
    CompletableFuture<Void> shutdownCore() {
        return call(() -> {
            shuttingDown = true;
            core.shutdown(clock.nanos());
            CompletableFuture<Void> idle = new CompletableFuture<>();
            idleWaiters.add(idle);
            return idle;
        }).thenCompose(f -> f);
    }

    /** After the loop has stopped: fails the reads and transfers still waiting. */
    void failPendingAfterStop() {
        reads.failAll(config.nodeId());
        transfers.failAll();
        for (CompletableFuture<Void> f : idleWaiters) {
            f.complete(null);
        }
        idleWaiters.clear();
        changes.failOnStop(config.nodeId());
    }

    // ------------------------------------------------------------------ the loop

    /**
     * The loop on a thread of its own ({@link LoopDriver.OwnThread}): blocks on the inbox until a
     * task arrives or the next deadline passes, then runs one {@link #iterate iteration}, until stopped.
     */
    void runBlocking() {
        try {
            while (running) {
                long wait = waitNanos(clock.nanos());
                iterate(wait > 0 ? inbox.poll(wait, TimeUnit.NANOSECONDS) : inbox.poll());
            }
        } catch (InterruptedException e) {
            if (running) {
                LOG.error("the Raft loop was interrupted while running; stopping the node");
                running = false;
                fatal.accept(e);
            }
        } catch (Throwable t) {
            LOG.error("the Raft loop failed; stopping the node", t);
            running = false;
            fatal.accept(t);
        } finally {
            MDC.clear();
            stopped.complete(null);
        }
    }

    /**
     * The loop for a driver that does not block (a simulator): runs one {@link #iterate iteration}
     * with what is queued now.
     *
     * @return the nanoseconds until the loop wants to run again (0: tasks are waiting), or -1 once it
     *         has stopped (it then never runs again)
     */
    long step() {
        if (!running) {
            stopped.complete(null);
            return -1;
        }
        if (mdcTerm >= 0) {
            // a driver on shared threads (a node hosting groups) gives each step a fresh MDC
            MDC.put("term", Long.toString(mdcTerm));
        }
        try {
            iterate(inbox.poll());
        } catch (Throwable t) {
            LOG.error("the Raft loop failed; stopping the node", t);
            running = false;
            fatal.accept(t);
        }
        if (!running) {
            stopped.complete(null);
            return -1;
        }
        long now = clock.nanos();
        long wait = inbox.isEmpty() ? waitNanos(now) : 0;
        wakeAt = now + wait;
        return wait;
    }

    /**
     * After {@link #step()}: the local time at which the loop wants to run again, the moment the
     * step's answer was measured from. A driver keeps a wake-up already set for that very moment
     * instead of setting it again: a leader's iterations that handle heartbeat answers leave its
     * next deadline where it was.
     */
    long wakeAt() {
        return wakeAt;
    }

    /**
     * One iteration: runs {@code first} (if any) and the tasks queued behind it (a bounded number),
     * ticks the core when its deadline has passed, and hands on what the core produced.
     */
    private void iterate(Runnable first) {
        Runnable task = first;
        for (int n = 0; task != null && running; ) {
            task.run();
            if (++n >= MAX_TASKS_PER_ITERATION) {
                break;
            }
            task = inbox.poll();
        }
        if (!running) {
            return;
        }
        long now = clock.nanos();
        if (now >= core.nextDeadline() && !shuttingDown) {
            core.tick(now);
        }
        afterInput();
    }

    private long waitNanos(long now) {
        long deadline = Math.min(shuttingDown ? now + MAX_WAIT_NANOS : core.nextDeadline(), changes.nextDeadline());
        deadline = Math.min(deadline, transfers.nextDeadline());
        return Math.max(0, Math.min(MAX_WAIT_NANOS, deadline - now));
    }

    private void afterInput() {
        do {
            addNewPeers();
            for (Message m : core.takeUrgentMessages()) {
                send(m); // heartbeats, their answers and appends do not wait for a slow fsync
            }
            reads.answered(core.takeReadStates());   // nor do answers to reads
            LeadershipImpl open = dispatcher.open();
            if (open != null && open.isRevoked() && core.role() == Role.LEADER && core.term() == open.term()) {
                LOG.info("term {}: leadership was revoked ({}) outside the loop; stepping down", core.term(),
                        open.revokeReason());
                core.stepDown(open.revokeReason(), clock.nanos());
            }
            if (shuttingDown && core.role() == Role.LEADER) {
                LOG.info("term {}: won an election while shutting down; giving the leadership up at once", core.term());
                core.shutdown(clock.nanos());
            }
            while (inFlight == null && core.hasReady()) {
                Ready ready = core.ready();
                inFlight = ready;
                if (ready.clusterUuid() != null && !recordIdentity(ready.clusterUuid())) {
                    return;
                }
                for (Ready.SnapshotRequest request : ready.snapshotRequests()) {
                    snapshots.serve(request, transport.maxMessageBytesOf(request.peer()),
                            served -> post(() -> onServed(served)));
                }
                if (ready.nothingToPersist()) {
                    completeReady(ready, null);
                } else {
                    persist(ready);
                }
            }
            long now = clock.nanos();
            open = dispatcher.open();
            if (open != null && core.term() == open.term() && core.holdsLease(now)) {
                open.extendTo(core.leaseUntil());
            }
            trackLeadership();
            transfers.process(now);
            changes.process(now);
        } while (inFlight == null && core.hasReady());
        if (inFlight == null && !idleWaiters.isEmpty()) {
            idleWaiters.forEach(f -> f.complete(null));
            idleWaiters.clear();
        }
        dropOldPeers();
        removal.check();
        metrics.afterIteration(core.role(), core.term(), core.votedFor(), core.leader(), core.committedMembership());
        leaseUntil = core.role() == Role.LEADER ? core.leaseUntil() : Long.MIN_VALUE;
        if (view.differsFrom(core, config.nodeId())) {
            view = NodeView.of(core, config.nodeId());
        }
        publishLeaderChange(view);
        if (core.term() != mdcTerm) {
            mdcTerm = core.term();
            MDC.put("term", Long.toString(mdcTerm));
        }
    }

    /**
     * Records the cluster identity the core learnt from committed state, durably and before
     * anything of its Ready can compact the entry carrying it, then has the transport check
     * every connection against it. A store that recorded another one (a log of another cluster
     * in this node's directory), or a transport that knows another one, stops the node: false.
     */
    private boolean recordIdentity(java.util.UUID uuid) {
        String step = "record";
        try {
            store.recordClusterUuid(uuid);
            step = "check connections against";
            transport.learnClusterUuid(uuid);
        } catch (RuntimeException e) {
            LOG.error("term {}: cannot {} the cluster identity {}: {}; stopping the node", core.term(), step, uuid,
                    e.getMessage());
            running = false;
            fatal.accept(e);
            return false;
        }
        return true;
    }

    private void persist(Ready ready) {
        if (!ready.snapshotChunks().isEmpty() || ready.installSnapshot() != null) {
            snapshots.persist(ready).whenComplete((p, failure) -> post(() -> onPersisted(ready, p, failure)));
            return;
        }
        CompletableFuture<Void> durable;
        try {
            durable = store.persist(ready.hardState(), ready.entries());
        } catch (RuntimeException e) {
            durable = CompletableFuture.failedFuture(e);
        }
        durable.whenComplete((ok, failure) -> post(() -> onPersisted(ready, null, failure)));
    }

    private void onPersisted(Ready ready, SnapshotTransfer.Persisted persisted, Throwable failure) {
        if (ready != inFlight) {
            LOG.error("persistence completed for a Ready that is not in flight; ignoring");
            if (persisted != null) {
                SnapshotTransfer.closeQuietly(persisted.data());
            }
            return;
        }
        if (failure != null) {
            LOG.error("term {}: the log store failed to persist; stopping the node", core.term(), failure);
            running = false;
            fatal.accept(failure);
            return;
        }
        completeReady(ready, persisted);
    }

    /** The Ready's state is durable: deliver events, send, restore, apply, advance (see {@link Ready}). */
    private void completeReady(Ready ready, SnapshotTransfer.Persisted persisted) {
        long now = clock.nanos();
        inFlight = null;
        addNewPeers();
        for (LeadershipEvent event : ready.events()) {
            LeadershipEvent out = gate.filter(event, core, now);
            if (out instanceof LeadershipEvent.Elected e) {
                dispatcher.elected(e.term(), Math.max(e.leaseUntil(), core.leaseUntil()), core.commitIndex());
            } else if (out instanceof LeadershipEvent.Revoked r) {
                dispatcher.revoked(r.term(), r.reason());
            } else if (event instanceof LeadershipEvent.Elected e) {
                LOG.info("term {}: the lease ran out before elected could be delivered; not delivering it", e.term());
            }
        }
        for (Message m : ready.messages()) {
            if (m instanceof Message.TimeoutNow) {
                // The old leader's revoked callback returns before the target may campaign.
                dispatcher.afterQueuedCallbacks(() -> post(() -> send(m)));
            } else {
                send(m);
            }
        }
        if (persisted != null && persisted.installed() != null) {
            Ready.SnapshotPoint p = persisted.installed();
            applier.restore(p.index(), p.term(), persisted.data(),
                    p.membership() != null ? p.membership() : core.membershipAt(p.index()));
        }
        if (!ready.committed().isEmpty()) {
            // recorded before the apply thread can complete the futures: whoever sees a future
            // complete finds its commit in the timer
            commitTimes.committed(ready.committed().get(ready.committed().size() - 1).index(), now,
                    metrics.commitLatency);
        }
        applier.apply(ready.committed(), witness);
        reads.answered(ready.reads());
        core.advance(ready, now);
    }

    /** A chunk read on the snapshot thread (or the news that the snapshot is gone) for the core. */
    private void onServed(SnapshotTransfer.Served served) {
        Ready.SnapshotRequest r = served.request();
        long now = clock.nanos();
        if (served.available()) {
            core.snapshotChunk(r.peer(), r.index(), r.term(), r.offset(), served.data(), served.last(),
                    served.configuration(), now);
            return;
        }
        // Only for the request the transfer still waits on: a stale answer must not disturb a newer transfer.
        Progress pr = core.progress(r.peer());
        if (pr != null && pr.mode() == Progress.Mode.SNAPSHOT
                && pr.snapshotState() == Progress.SnapshotState.REQUESTED && pr.snapshotIndex() == r.index()
                && pr.snapshotTerm() == r.term() && pr.snapshotOffset() == r.offset()) {
            core.snapshotUnavailable(r.peer(), now);
        }
    }

    private void send(Message m) {
        long now = clock.nanos();
        if (m instanceof Message.Heartbeat h) {
            stats.sent(h.to(), h.term(), h.round(), now);
        }
        try {
            transport.send(m);
        } catch (RuntimeException e) {
            LOG.warn("the transport refused to queue {} to {}: {}", m.getClass().getSimpleName(), m.to(), e.toString());
        }
    }

    private void onMessageOnLoop(Message m) {
        long now = clock.nanos();
        stats.heard(m.from(), now);
        if (m instanceof Message.Append || m instanceof Message.Heartbeat || m instanceof Message.InstallSnapshot) {
            removal.leaderHeard(now);
            leaderContact = now;
        }
        if (m instanceof Message.HeartbeatResponse r) {
            // the answer to a heartbeat of ours (same term and round) whether or not we still lead:
            // a leader that just handed over must not count its last heartbeats' answers as lost
            long rtt = stats.answered(r.from(), r.term(), r.round(), now);
            if (rtt >= 0) {
                metrics.heartbeatAnswered(r.from(), rtt);
            }
        }
        core.step(m, now);
    }

    // ------------------------------------------------------------------ bookkeeping

    // ------------------------------------------------------------------ configuration

    /**
     * The configuration may have changed: connects to new members before anything is sent to
     * them. Members that left are dropped by {@link #dropOldPeers} after the iteration's sends (the
     * leader's last heartbeat tells a removed node that its removal committed, see {@link RemovalDetector}).
     */
    private void addNewPeers() {
        Membership latest = core.membership();
        Membership committed = core.committedMembership();
        if (latest == syncedLatest && committed == syncedCommitted) {
            return;
        }
        Map<String, String> union = new LinkedHashMap<>(transportPeers);
        union.putAll(wantedPeers(committed, latest));
        if (!union.equals(transportPeers)) {
            updatePeers(union);
        }
        witness = isWitness(config, latest);
    }

    private void dropOldPeers() {
        Membership latest = core.membership();
        Membership committed = core.committedMembership();
        if (latest == syncedLatest && committed == syncedCommitted) {
            return;
        }
        Map<String, String> wanted = wantedPeers(committed, latest);
        if (!wanted.equals(transportPeers)) {
            updatePeers(wanted);
        }
        syncedLatest = latest;
        syncedCommitted = committed;
    }

    /**
     * The peers of the configurations in use; while the latest configuration this node has does
     * not list it (it joins, and replays configuration entries older than its own addition, which
     * need not list the leader that feeds it), also the members it was started with.
     */
    private Map<String, String> wantedPeers(Membership committed, Membership latest) {
        return latest.contains(config.nodeId()) ? Configurations.peerAddresses(config.nodeId(), committed, latest)
                : Configurations.peerAddresses(config.nodeId(), Configurations.bootstrap(config), committed, latest);
    }

    private void updatePeers(Map<String, String> peers) {
        try {
            transport.updatePeers(peers);
        } catch (RuntimeException e) {
            LOG.error("term {}: the transport refused the peers {} of configuration {}: {}", core.term(), peers,
                    core.membership(), e.toString());
        }
        transportPeers = Map.copyOf(peers);
        stats.setPeers(peers.keySet());
        metrics.setPeers(peers.keySet(), stats, clock);
    }

    /** Hands a change of the known leader or term to the leader-change listeners (loop thread; rare). */
    private void publishLeaderChange(NodeView v) {
        if (v.term() != publishedTerm || !java.util.Objects.equals(v.leader(), publishedLeader)) {
            publishedTerm = v.term();
            publishedLeader = v.leader();
            dispatcher.leaderChanged(publishedTerm, publishedLeader);
        }
    }

    private void trackLeadership() {
        boolean leader = core.role() == Role.LEADER;
        if (leaderTerm != -1 && (!leader || core.term() != leaderTerm)) {
            applier.leadershipLost(core.commitIndex(), "the leadership of term " + leaderTerm + " was lost");
            leaderTerm = -1;
            commitTimes.clear();
        }
        if (leader) {
            leaderTerm = core.term();
        }
    }

    /** Application futures complete on the apply thread, never on the loop (their stages may be slow). */
    private void fail(CompletableFuture<?> future, Throwable failure) {
        applier.complete(() -> future.completeExceptionally(failure));
    }

    private NotLeaderException notLeader() {
        String leader = core.leader();
        if (leader == null || leader.equals(config.nodeId())) {
            return new NotLeaderException(config.nodeId(), null, null);
        }
        return new NotLeaderException(config.nodeId(), leader, addressOf(leader, core.membership(), config));
    }

    /** The address of {@code id} in {@code latest}, else in the start-up configuration; {@code null} if unknown. */
    static String addressOf(String id, Membership latest, RaftConfig config) {
        return latest.member(id).map(Membership.Member::address).filter(a -> !a.isBlank())
                .orElse(config.member(id).map(RaftConfig.Member::address).orElse(null));
    }
}
