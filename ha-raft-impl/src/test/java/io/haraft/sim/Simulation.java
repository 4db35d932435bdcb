package io.haraft.sim;

import io.haraft.core.ClusterIdentity;
import io.haraft.core.CoreConfig;
import io.haraft.core.HardState;
import io.haraft.core.LeadershipEvent;
import io.haraft.core.LeadershipGate;
import io.haraft.core.MembershipChangeRefused;
import io.haraft.core.Message;
import io.haraft.core.RaftCore;
import io.haraft.core.Ready;
import io.haraft.core.Role;
import io.haraft.core.log.Entry;
import io.haraft.core.log.RaftLog;
import io.haraft.core.quorum.Membership;
import io.haraft.core.read.ReadState;
import io.haraft.storage.FileRaftStorage;
import io.haraft.storage.MemoryRaftStorage;
import io.haraft.storage.RaftStorage;
import io.haraft.storage.Snapshot;
import io.haraft.storage.SnapshotMeta;
import io.haraft.storage.SnapshotWriter;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;

/**
 * One deterministic simulated history: N nodes run the real {@link RaftCore}; a simulated network,
 * simulated clocks with drift, crashes that lose unsynced writes, and pauses are driven by one
 * seed and a fault schedule. Every invariant is checked after every step; the run stops at the
 * first violation.
 *
 * <p>Invariants: (a) at most one leader per term; (b) every delivered {@code elected} token is
 * greater than every token delivered before it; (c) no two nodes hold a valid lease at the same
 * real instant; (d) committed entries are never lost or changed, every new leader holds all of
 * them, and every node applies the same sequence; (e) log matching over the durable logs;
 * (f) once faults stop, a leader is elected and commits a new entry within a bound, and then every
 * member applies every entry committed by then within that bound again; (g) no two elections of one
 * term were won with disjoint sets of votes, and every election was won with a majority of the
 * winner's configuration; (h) a snapshot a node receives is stored and installed with the
 * configuration in force at its index (whether its leader served its latest snapshot or the one
 * before it); (r) clients read through the core (read index and lease reads, also right after an
 * election) and the answer's index covers every write acknowledged before the read started (the
 * client history: a write is acknowledged when the node it was proposed at applies it), and (d)
 * every entry committed by then; a lease read is never decided after a newer leader reported
 * {@code elected}; (u) a node knows no cluster identity, or the one carried by the committed entry
 * at index 1, also after restarts and snapshot installs (it learns it only from committed state).
 *
 * <p>With {@link SimOptions.Timing#MIXED} or {@link SimOptions.Timing#ROLLING} nodes run with different election timeouts and
 * heartbeat intervals, and the schedule restarts them with new ones (rolling changes, node by
 * node, and single nodes): invariant (c) must hold whatever each node is configured with.
 *
 * <p>With {@link SimOptions#membership()} the leader also changes the configuration (adds a node as
 * learner, promotes it, removes a member, itself included) at random, mixed with every fault; every
 * invariant above judges each node by the configuration in its own log. A witness node (see
 * {@link SimOptions#witness()}) stores entries without payloads: log matching compares it by index,
 * term and kind, and it applies nothing.
 *
 * <p>Each node runs a tiny deterministic state machine (applied index, a running hash of the
 * applied entries' data, the last few commands); its state after applying index i must equal the
 * cluster-wide expected state at i, also right after it was restored from a snapshot. Every
 * {@link SimOptions#snapshotEvery()} applied entries a node snapshots it and compacts its log; the
 * store keeps only the snapshot and the log after it, so a node that fell behind a compacted leader
 * catches up through a snapshot streamed in {@link SimOptions#chunkBytes()}-byte chunks, each written
 * into the store as it arrives. A node that restarts behind the snapshot of every other node must
 * catch up through one: applying the next entry without installing a snapshot is a violation.
 *
 * <p>Each node keeps its durable state in a store with the {@link RaftStorage} contract, and a
 * restart starts the node from what its store holds. By default that is a
 * {@link MemoryRaftStorage}: a Ready is written and synced when its fsync completes, and a crash
 * ({@link MemoryRaftStorage#crash()}) loses the Ready still in flight. With a file root, it is a
 * {@link FileRaftStorage} on real files over {@link CrashableFileIO}: a crash loses all, part or
 * none of the writes made since the last durable point, possibly tearing one, and the restarted
 * node recovers from its files, which must hold everything that was reported durable.
 */
final class Simulation {
    private static final long MS = SimOptions.MS;
    private static final boolean TRACE = Boolean.getBoolean("sim.trace");

    private enum Type { DELIVER, TIMER, FSYNC, REFUSED, CLIENT, READ, FAULT, END_FAULT, SERVE_SNAPSHOT }

    /** How many recent commands the state machine keeps (they pad its snapshot to several chunks). */
    private static final int RECENT = 6;

    private static final class Event {
        final long time;
        final long seq;
        final Type type;
        final int node;
        final Message msg;
        final long gen;
        final Fault fault;
        final Ready.SnapshotRequest request;

        Event(long time, long seq, Type type, int node, Message msg, long gen, Fault fault,
              Ready.SnapshotRequest request) {
            this.time = time;
            this.seq = seq;
            this.type = type;
            this.node = node;
            this.msg = msg;
            this.gen = gen;
            this.fault = fault;
            this.request = request;
        }
    }

    /**
     * A state-machine snapshot: the state after applying every entry up to {@code index}, and the
     * configuration stored with it ({@code null} if none).
     */
    private record Snap(long index, long term, byte[] state, Membership membership) { }

    /**
     * Hashes of the prefixes of a node's stored log, for log matching: the hash of the prefix up to
     * {@code base} (the store's snapshot point), then one per entry after it.
     */
    private static final class LogHashes {
        long base;
        long baseHash;
        final ArrayList<Long> hashes = new ArrayList<>();

        long lastIndex() {
            return base + hashes.size();
        }

        long at(long index) {
            return index == base ? baseHash : hashes.get((int) (index - base - 1));
        }

        /** Drops entries from {@code index} on. */
        void truncateFrom(long index) {
            while (lastIndex() >= index) {
                hashes.remove(hashes.size() - 1);
            }
        }

        /** Appends {@code e}; returns the hash of the prefix ending with it. */
        long append(Entry e) {
            long prev = hashes.isEmpty() ? baseHash : hashes.get(hashes.size() - 1);
            long h = mix(prev * 31 + e.forWitness().hashCode());
            hashes.add(h);
            return h;
        }

        /** Drops entries up to {@code index}, which must be in the log; it becomes the snapshot point. */
        void dropPrefix(long index) {
            long h = at(index);
            hashes.subList(0, (int) (index - base)).clear();
            base = index;
            baseHash = h;
        }

        /** An empty log after a snapshot at {@code index} whose prefix hash is {@code hash}. */
        void reset(long index, long hash) {
            hashes.clear();
            base = index;
            baseHash = hash;
        }
    }

    /** What a store holds, read through the {@link RaftStorage} interface. */
    private record Image(HardState hardState, long snapIndex, long snapTerm, byte[] snapData, long firstIndex,
                         List<Entry> entries) {
        static Image of(RaftStorage s) throws IOException {
            Snapshot snap = s.latestSnapshot().orElse(null);
            byte[] data = null;
            if (snap != null) {
                try (InputStream in = snap.open()) {
                    data = in.readAllBytes();
                }
            }
            long first = s.firstIndex();
            long last = s.lastIndex();
            return new Image(s.hardState(), first - 1, s.term(first - 1), data, first,
                    last >= first ? s.entries(first, last + 1, Long.MAX_VALUE) : List.of());
        }

        long lastIndex() {
            return firstIndex + entries.size() - 1;
        }

        Entry at(long index) {
            return index >= firstIndex && index <= lastIndex() ? entries.get((int) (index - firstIndex)) : null;
        }
    }

    /** The tiny replicated state machine of a node. */
    private static final class StateMachine {
        long index;
        long term;
        long hash;
        final ArrayDeque<byte[]> recent = new ArrayDeque<>();

        void apply(Entry e) {
            byte[] data = e.data();
            index = e.index();
            term = e.term();
            hash = nextHash(hash, data);
            if (e.kind() == Entry.Kind.COMMAND) {
                recent.addLast(data);
                if (recent.size() > RECENT) {
                    recent.removeFirst();
                }
            }
        }

        byte[] encode() {
            int size = 8 + 8 + 8 + 4;
            for (byte[] r : recent) {
                size += 4 + r.length;
            }
            ByteBuffer b = ByteBuffer.allocate(size).putLong(index).putLong(term).putLong(hash).putInt(recent.size());
            for (byte[] r : recent) {
                b.putInt(r.length).put(r);
            }
            return b.array();
        }

        static StateMachine decode(byte[] bytes) {
            StateMachine sm = new StateMachine();
            if (bytes == null) {
                return sm;
            }
            ByteBuffer b = ByteBuffer.wrap(bytes);
            sm.index = b.getLong();
            sm.term = b.getLong();
            sm.hash = b.getLong();
            int n = b.getInt();
            for (int i = 0; i < n; i++) {
                byte[] r = new byte[b.getInt()];
                b.get(r);
                sm.recent.addLast(r);
            }
            if (b.hasRemaining()) {
                throw new IllegalStateException("snapshot has " + b.remaining() + " trailing bytes");
            }
            return sm;
        }

        static long nextHash(long hash, byte[] data) {
            return mix(hash * 31 + Arrays.hashCode(data));
        }
    }

    private final class Node {
        final int index;
        final String id;
        final SimClock clock;
        /** This node's disk: a {@link MemoryRaftStorage}, or a {@link FileRaftStorage} on real files. */
        RaftStorage storage;
        /** Under a file store: the file layer whose unsynced changes a crash rolls back. */
        CrashableFileIO files;
        final LogHashes hashes = new LogHashes();
        /** The snapshot being received from a leader, chunk by chunk, straight into the store. */
        SnapshotWriter receiving;
        /** The last write handed to the store, until it is durable. */
        CompletableFuture<Void> persisting;
        long recvIndex;
        long recvTerm;
        boolean recvComplete;
        /** File store, from a crash to the restart: what was reported durable, and all that was written. */
        Image durableAtCrash;
        Image writtenAtCrash;
        /**
         * After a restart behind the snapshot of every other node (so no node can send it the next
         * entry): its last index then; -1 otherwise. Cleared when a snapshot is installed.
         */
        long behindEverySnapshot = -1;
        RaftCore core;
        LeadershipGate gate;
        boolean up = true;
        /** Stopped for good by the operator once its removal committed ({@link Fault.Kind#RETIRE}): never restarts. */
        boolean retired;
        int downBy = -1;
        boolean paused;
        int pausedBy = -1;
        final List<Event> held = new ArrayList<>();
        /** Client writes proposed at this node since it (re)started and not yet applied: index -> command. */
        final java.util.TreeMap<Long, String> proposed = new java.util.TreeMap<>();
        Ready pending;
        long timerGen;
        long timerAt = Long.MAX_VALUE;
        long checkedCommit;
        long applied;
        StateMachine sm = new StateMachine();
        /** Snapshots this node can serve: its latest, and the one before if {@link SimOptions#servePrevious()}. */
        Snap latestSnap;
        Snap previousSnap;
        /** While {@code now} is before this, the node's fsyncs take up to {@link #slowDiskMaxNanos}. */
        long slowDiskUntil;
        long slowDiskMaxNanos;
        boolean installedSinceRestart;
        /** On files: a crash fault waiting for this node's next write in flight. */
        Fault crashAtNextWrite;
        /** A crash fault waiting for this node's next write to be durable, before it sends anything. */
        Fault crashAfterPersist;
        /** This node takes a snapshot as soon as it has applied anything past its latest one. */
        boolean snapshotSoon;
        long leaderTermChecked;
        long firstCommitTerm;
        int incarnation;
        final boolean witness;
        /** This node's heartbeat interval and minimum election timeout, ns: used at its next (re)start. */
        long heartbeat;
        long election;

        Node(int index, SimClock clock, boolean witness) {
            this.index = index;
            this.id = "n" + index;
            this.clock = clock;
            this.witness = witness;
        }

        long localNow() {
            return clock.local(now);
        }
    }

    private final long seed;
    private final SimOptions opt;
    private final List<Fault> schedule;
    private final SplittableRandom rnd;
    private final PriorityQueue<Event> queue = new PriorityQueue<>((a, b) ->
            a.time != b.time ? Long.compare(a.time, b.time) : Long.compare(a.seq, b.seq));
    private final List<Node> nodes = new ArrayList<>();
    private final List<String> ids = new ArrayList<>();
    private long seqNo;
    private long now;
    private long steps;
    private String violation;

    // network faults in force
    private final Map<Integer, Fault> activeBlocks = new HashMap<>();
    private final Map<Integer, Fault> activeLossy = new HashMap<>();
    private final Map<Integer, Fault> activeSlow = new HashMap<>();
    private boolean healed;
    /**
     * Fast failover: per sender and peer, the real time before which a refused connection is not
     * reported again, and how many were reported since the peer went down. Like the transport, a
     * sender retries a refused peer with a backoff (doubling from 50 ms, up to half an election
     * timeout), not on every message.
     */
    private final long[][] refusedNotBefore;
    private final int[][] refusals;
    private long quietUntil;
    private Fault crashOnCommit;
    /** Armed faults that wait for their moment: a leader's commit, a candidate's vote, a snapshot transfer. */
    private Fault isolateOnCommit;
    private Fault crashCandidate;
    private Fault snapshotOnTransfer;
    private Fault reconfigureOnElection;
    private Fault reconfigureNow;
    private Fault partitionOnElection;
    private int lastIsolatedLeader = -1;
    private Node crashNow;
    private long healedAt;

    // invariant state
    private final Map<Long, String> leaderOfTerm = new HashMap<>();
    /** (g) per term, the votes each election of that term was won with. */
    private final Map<Long, Map<String, Set<String>>> electionsOfTerm = new HashMap<>();
    private int membershipChanges;
    private int membershipRefusals;
    private int witnessElections;
    private final Map<String, Integer> counters = new java.util.TreeMap<>();
    private long maxTokenDelivered;
    private int elections;
    private final ArrayList<Entry> committed = new ArrayList<>();
    /** For each committed entry, the term of the node that first reported it committed. */
    private final ArrayList<Long> committedInTerm = new ArrayList<>();
    private final Map<Long, Map<Long, Long>> prefixByIndexTerm = new HashMap<>();
    /** Hash of the committed chain's prefix up to each index, and the state hash after applying it. */
    private final ArrayList<Long> committedPrefix = new ArrayList<>();
    private final ArrayList<Long> committedStateHash = new ArrayList<>();
    private int snapshotInstalls;
    private int restartInstalls;
    private int restarts;
    private long clientCounter;
    private long nextReadId = 1;
    /**
     * A client read in flight: where and how it was asked, and the client history when it started:
     * the highest index of a write acknowledged before it (its proposer applied it, which is when
     * the runtime completes the write's future) and how many entries were committed cluster-wide.
     */
    private record ReadAsk(Node node, long term, boolean lease, long acknowledgedFloor, long committedFloor) {
        String kind() {
            return lease ? "lease read" : "read index";
        }
    }

    private final Map<Long, ReadAsk> readsAsked = new HashMap<>();
    /** The highest index of a client write acknowledged so far (see {@link ReadAsk}). */
    private long acknowledgedWrites;
    private boolean servedAfterHeal;
    private long catchUpTarget = -1;
    private long catchUpBy;

    /** Where each node keeps a real {@link FileRaftStorage}, or {@code null} for {@link MemoryRaftStorage}. */
    private final Path fileRoot;
    /** Log segment size of the file stores: small, so that segments roll and are deleted often. */
    static final long FILE_SEGMENT_BYTES = 4096;
    /** Chooses what a crash keeps of a file store's unsynced writes (apart from {@link #rnd}). */
    private final SplittableRandom diskRnd;

    Simulation(long seed, SimOptions opt, List<Fault> schedule) {
        this(seed, opt, schedule, null);
    }

    /**
     * A history whose nodes keep their state in a real {@link FileRaftStorage} each, in a directory
     * under {@code fileRoot} (when not {@code null}), over {@link CrashableFileIO}: a crash loses
     * some or all of the writes not yet reported durable (torn part-way, or not), and the node
     * restarts from what its files then hold, through the store's recovery. Without
     * {@code fileRoot} each node has a {@link MemoryRaftStorage}, and a crash keeps its durable state.
     */
    Simulation(long seed, SimOptions opt, List<Fault> schedule, Path fileRoot) {
        this.fileRoot = fileRoot;
        this.seed = seed;
        this.opt = opt;
        this.schedule = schedule;
        this.rnd = new SplittableRandom(seed);
        this.diskRnd = new SplittableRandom(seed * 0xD1B54A32D192ED03L + 5);
        this.refusedNotBefore = new long[opt.nodes()][opt.nodes()];
        this.refusals = new int[opt.nodes()][opt.nodes()];
        for (int i = 0; i < opt.nodes(); i++) {
            ids.add("n" + i);
        }
        for (int i = 0; i < opt.nodes(); i++) {
            double rate = 1 + opt.driftBound() * rnd.nextDouble(-1, 1);
            long offset = rnd.nextLong(1L << 40);
            Node n = new Node(i, new SimClock(0, offset, rate), opt.witness() && i == opt.nodes() - 1);
            n.heartbeat = opt.heartbeat();
            n.election = opt.election();
            nodes.add(n);
        }
        if (opt.timing() == SimOptions.Timing.MIXED) {
            // half the seeds start with a different timing on every node; the others only diverge
            // through the schedule's changes
            SplittableRandom timing = new SplittableRandom(seed * 0x5DEECE66DL + 11);
            boolean differ = timing.nextBoolean();
            for (Node n : nodes) {
                if (differ) {
                    long[] e = SimOptions.ELECTION_TIMEOUTS_MS;
                    long[] d = SimOptions.HEARTBEAT_DIVISORS;
                    n.election = e[timing.nextInt(e.length)] * MS;
                    n.heartbeat = Math.max(MS, n.election / d[timing.nextInt(d.length)]);
                }
            }
        }
    }

    /** The default schedule for a seed. */
    static List<Fault> defaultSchedule(long seed, SimOptions opt) {
        if (opt.palette() == Fault.Palette.REPLACEMENTS) {
            return Fault.generateReplacements(seed, opt.election());
        }
        if (opt.membership() && opt.palette() == Fault.Palette.CHURN && opt.voters() == 4) {
            return Fault.generateMembershipChurn(seed, opt.nodes(), opt.election(), 600_000 * MS);
        }
        if (opt.timing() == SimOptions.Timing.ROLLING) {
            return Fault.generateRollingChange(seed, opt.nodes(), opt.election());
        }
        return Fault.generate(seed, opt.nodes(), opt.election(), 600_000 * MS, opt.palette(), opt.membership(),
                opt.timing() == SimOptions.Timing.MIXED);
    }

    SimResult run() {
        for (Node n : nodes) {
            startNode(n);
        }
        for (Fault f : schedule) {
            push(f.at(), Type.FAULT, f.node(), null, 0, f);
        }
        push(rnd.nextLong(10 * MS, 60 * MS), Type.CLIENT, 0, null, 0, null);
        long maxSteps = (long) opt.faultSteps() * 50 + 200_000;
        while (violation == null && !queue.isEmpty()) {
            if (!healed && steps >= opt.faultSteps()) {
                healAll();
            }
            if (healed && servedAfterHeal) {
                // (f) then every node catches up, through a snapshot if its leader compacted the log
                if (catchUpTarget < 0) {
                    catchUpTarget = committed.size();
                    catchUpBy = now + opt.livenessBound();
                }
                if (nodes.stream().allMatch(n -> !mustCatchUp(n) || n.applied >= catchUpTarget)) {
                    break;
                }
                if (now > catchUpBy) {
                    Node behind = nodes.stream().filter(n -> mustCatchUp(n) && n.applied < catchUpTarget).findFirst()
                            .orElseThrow();
                    fail("(f) liveness: " + behind.id + " applied only " + behind.applied + " of " + catchUpTarget
                            + " committed entries within " + opt.livenessBound() / MS + " ms after a leader served again");
                    break;
                }
            }
            if (healed && now - healedAt > opt.livenessBound()) {
                fail("(f) liveness: within " + opt.livenessBound() / MS + " ms after faults stopped, "
                        + (servedAfterHeal ? "not every node caught up with the leader's log while idle"
                        : "no leader was elected and committed a new entry"));
                break;
            }
            if (steps > maxSteps) {
                fail("simulation did not settle within " + maxSteps + " steps");
                break;
            }
            Event e = queue.poll();
            now = e.time;
            if (TRACE) {
                trace(e);
            }
            try {
                if (process(e)) {
                    steps++;
                    checkInvariants(e.node);
                    crashIfTriggered();
                    crashWritersIfDue();
                    if (reconfigureNow != null && violation == null && !healed) {
                        Fault f = reconfigureNow;
                        reconfigureNow = null;
                        count("reconfigurations_on_election");
                        reconfigure(f);
                    }
                }
            } catch (RuntimeException ex) {
                fail("exception at step " + steps + ": " + ex);
            }
        }
        for (Node n : nodes) {
            if (n.storage != null && n.files != null) {
                n.storage.close();
            }
        }
        String finalVoters = nodes.stream().filter(n -> n.up && n.core != null && n.core.role() == Role.LEADER)
                .map(n -> n.core.membership().toString()).findFirst().orElse("-");
        return new SimResult(seed, steps, violation, schedule, elections, committed.size(), now, snapshotInstalls,
                restartInstalls, restarts, membershipChanges, membershipRefusals, finalVoters, witnessElections,
                counters);
    }

    // ------------------------------------------------------------------ events

    private void push(long time, Type type, int node, Message msg, long gen, Fault fault) {
        queue.add(new Event(time, seqNo++, type, node, msg, gen, fault, null));
    }

    private void pushRequest(long time, int node, Ready.SnapshotRequest request, long gen) {
        queue.add(new Event(time, seqNo++, Type.SERVE_SNAPSHOT, node, null, gen, null, request));
    }

    /** @return whether the event was a step (not a stale or held one) */
    private boolean process(Event e) {
        switch (e.type) {
            case FAULT -> {
                if (!healed) {
                    startFault(e.fault);
                }
                return true;
            }
            case END_FAULT -> {
                endFault(e);
                return true;
            }
            case CLIENT -> {
                clientPropose();
                push(now + rnd.nextLong(5 * MS, 60 * MS), Type.CLIENT, 0, null, 0, null);
                return true;
            }
            default -> {
                Node n = nodes.get(e.node);
                if (!n.up) {
                    return false;
                }
                if (n.paused) {
                    if (e.type != Type.TIMER) {
                        n.held.add(e);
                    }
                    return false;
                }
                return processNodeEvent(n, e);
            }
        }
    }

    private boolean processNodeEvent(Node n, Event e) {
        switch (e.type) {
            case DELIVER -> {
                if (blocked(Integer.parseInt(e.msg.from().substring(1)), n.index)) {
                    return false;
                }
                n.core.step(e.msg, n.localNow());
            }
            case TIMER -> {
                if (e.gen != n.timerGen) {
                    return false;
                }
                n.timerAt = Long.MAX_VALUE;
                n.core.tick(n.localNow());
            }
            case FSYNC -> {
                if (e.gen != n.incarnation || n.pending == null) {
                    return false;
                }
                completeReady(n);
            }
            case READ -> clientRead(n);
            case REFUSED -> {
                Node peer = nodes.get((int) e.gen);
                if (peer.up) {
                    return false;
                }
                n.core.peerUnreachable(peer.id, n.localNow());
            }
            case SERVE_SNAPSHOT -> {
                if (e.gen != n.incarnation) {
                    return false;
                }
                serveSnapshot(n, e.request);
            }
            default -> throw new IllegalStateException(e.type.toString());
        }
        if (n.up) { // a fault may have crashed it between its write and its sends
            afterInput(n);
        }
        return true;
    }

    private void afterInput(Node n) {
        for (Message m : n.core.takeUrgentMessages()) {
            send(n, m);
        }
        if (rnd.nextInt(4) != 0) {
            // the runtime takes read answers after every input; otherwise they come with the Ready
            for (ReadState rs : n.core.takeReadStates()) {
                checkRead(n, rs, true);
            }
        }
        if (n.pending == null && n.core.hasReady()) {
            n.pending = n.core.ready();
            if (!n.pending.snapshotRequests().isEmpty() && snapshotOnTransfer != null && !healed
                    && n.core.role() == Role.LEADER) {
                // the leader compacts again while the transfer it starts is in flight
                snapshotOnTransfer = null;
                n.snapshotSoon = true;
                count("snapshots_during_a_transfer");
            }
            for (Ready.SnapshotRequest req : n.pending.snapshotRequests()) {
                // the runtime reads the chunk from its snapshot file: any time, before or after advance
                pushRequest(now + rnd.nextLong(20_000, 400_000), n.index, req, n.incarnation);
            }
            long fsync = n.pending.nothingToPersist() ? rnd.nextLong(10_000, 50_000) : rnd.nextLong(100_000, 1_000 * 1000);
            if (!n.pending.nothingToPersist() && n.slowDiskUntil > now) {
                fsync = rnd.nextLong(fsync, n.slowDiskMaxNanos); // a stalled disk: fsync takes up to that long
            }
            push(now + fsync, Type.FSYNC, n.index, null, n.incarnation, null);
        }
        long deadline = n.clock.realAt(n.core.nextDeadline());
        if (deadline < now) {
            deadline = now;
        }
        if (deadline != n.timerAt) {
            n.timerAt = deadline;
            n.timerGen++;
            push(deadline, Type.TIMER, n.index, null, n.timerGen, null);
        }
    }

    /** The Ready's state is durable now: persist, send, apply, deliver, advance. */
    private void completeReady(Node n) {
        Ready r = n.pending;
        n.pending = null;
        if (!persist(n, r)) {
            return;
        }
        if (crashBeforeSending(n, r)) {
            return;
        }
        for (Message m : r.messages()) {
            send(n, m);
        }
        if (r.installSnapshot() != null && n.witness) {
            count("witness_snapshot_installs");
            n.applied = r.installSnapshot().index(); // a witness has no state machine
        } else if (r.installSnapshot() != null) {
            // restore the state machine from the snapshot just made the store's base (read back from it)
            n.sm = StateMachine.decode(n.latestSnap.state());
            n.applied = n.sm.index;
            n.proposed.headMap(n.applied, true).clear(); // not applied here: their futures fail, unacknowledged
            if (!checkState(n, "restored from the snapshot it received")) {
                return;
            }
        }
        for (Entry e : r.committed()) {
            if (e.index() != n.applied + 1) {
                fail("(d) " + n.id + " applied index " + e.index() + " after " + n.applied);
                return;
            }
            if (e.index() > committed.size() || !committedAs(n, (int) e.index() - 1).equals(e)) {
                fail("(d) " + n.id + " applied " + e + " which differs from the committed entry at that index");
                return;
            }
            if (n.behindEverySnapshot >= 0 && e.index() > n.behindEverySnapshot) {
                fail("(storage) " + n.id + " restarted with its log ending at " + n.behindEverySnapshot
                        + ", below every other node's snapshot, yet applied " + e + " without installing a snapshot");
                return;
            }
            n.applied = e.index();
            if (n.witness) {
                continue; // a witness applies nothing
            }
            acknowledgeIfProposedHere(n, e);
            n.sm.apply(e);
            if (!checkState(n, "after applying " + e)) {
                return;
            }
            String data = new String(e.data(), StandardCharsets.UTF_8);
            if (healed && data.startsWith("after-heal")) {
                servedAfterHeal = true;
            }
        }
        for (ReadState rs : r.reads()) {
            checkRead(n, rs, false);
        }
        long local = n.localNow();
        for (LeadershipEvent ev : r.events()) {
            LeadershipEvent out = n.gate.filter(ev, n.core, local);
            if (out instanceof LeadershipEvent.Elected el) {
                if (el.term() <= maxTokenDelivered) {
                    fail("(b) " + n.id + " delivered token " + el.term() + " after token " + maxTokenDelivered
                            + " had been delivered");
                    return;
                }
                maxTokenDelivered = el.term();
                elections++;
            }
        }
        n.core.advance(r, local);
        boolean due = n.applied - n.hashes.base >= opt.snapshotEvery() || (n.snapshotSoon && n.applied > n.hashes.base);
        if (due && n.applied <= n.core.log().stableIndex()) {
            n.snapshotSoon = false;
            takeSnapshot(n, local);
        }
    }

    /**
     * Crashes {@code n} if a fault waits for this moment: its write {@code r} is durable and none
     * of the messages that depend on it has left. A candidate crashes once its vote for itself is
     * durable ({@link Fault.Kind#CRASH_CANDIDATE}); a node armed by
     * {@link Fault.Kind#CRASH_AFTER_PERSIST} once a write of a term or vote (or of anything) is.
     */
    private boolean crashBeforeSending(Node n, Ready r) {
        if (healed || violation != null) {
            return false;
        }
        HardState hs = r.hardState();
        Fault f = null;
        if (crashCandidate != null && n.core.role() == Role.CANDIDATE && hs != null && n.id.equals(hs.votedFor())) {
            f = crashCandidate;
            crashCandidate = null;
            count("candidates_crashed_after_voting_for_themselves");
        } else if (n.crashAfterPersist != null && (hs != null || (n.crashAfterPersist.value() >= 0.5
                && !r.entries().isEmpty()))) {
            f = n.crashAfterPersist;
            count("crashes_between_a_durable_write_and_its_sends");
        }
        if (f == null) {
            return false;
        }
        crashFor(n, f, f.duration());
        return true;
    }

    /**
     * The operator stops {@code n} for good, as a removed node must be: only once the newest
     * leader's committed configuration no longer lists it (otherwise the removal did not happen and
     * the operator keeps it).
     */
    private void retire(Node n) {
        Node l = newestLeader();
        if (l == null || l.core.committedMembership().contains(n.id)) {
            count("retire_skipped_still_a_member");
            return;
        }
        if (n.up) {
            crash(n);
        }
        n.retired = true;
        n.downBy = -2;
        count("retired_nodes");
    }

    /** Crashes {@code n} on behalf of fault {@code f}; it restarts {@code downFor} later. */
    private void crashFor(Node n, Fault f, long downFor) {
        crash(n);
        n.downBy = f.id();
        push(now + downFor, Type.END_FAULT, n.index, null, 0, f);
    }

    /** (d) The node's state machine equals the cluster-wide expected state at its applied index. */
    private boolean checkState(Node n, String when) {
        long i = n.sm.index;
        if (i != n.applied || i > committed.size()) {
            fail("(d) state machine of " + n.id + " is at index " + i + " " + when + ", expected " + n.applied
                    + " (" + committed.size() + " committed)");
            return false;
        }
        long expected = i == 0 ? 0 : committedStateHash.get((int) i - 1);
        if (n.sm.hash != expected || (i > 0 && n.sm.term != committed.get((int) i - 1).term())) {
            fail("(d) state machine of " + n.id + " differs from the committed state at index " + i + " " + when);
            return false;
        }
        return true;
    }

    /** Snapshots the state machine (durable at once), keeps only the log after it, and compacts the core. */
    private void takeSnapshot(Node n, long local) {
        LogHashes h = n.hashes;
        long index = n.applied;
        if (index > h.lastIndex()) {
            fail("(e) " + n.id + " applied " + index + " but its store ends at " + h.lastIndex());
            return;
        }
        if (h.at(index) != committedPrefix.get((int) index - 1)) {
            fail("(e) " + n.id + " snapshots at " + index + " a log prefix that differs from the committed one");
            return;
        }
        long term = committed.get((int) index - 1).term();
        byte[] state = n.witness ? new byte[0] : n.sm.encode();
        Membership configuration = n.core.membershipAt(index);
        try {
            n.storage.writeSnapshot(new SnapshotMeta(index, term, configuration), out -> out.write(state));
        } catch (IOException | RuntimeException e) {
            fail("(storage) " + n.id + ": the store refused snapshot " + index + ": " + e);
            return;
        }
        checkpoint(n, "snapshot " + index); // writeSnapshot returned, and the core now relies on it
        h.dropPrefix(index);
        if (!storeMatches(n, "after taking snapshot " + index)) {
            return;
        }
        n.previousSnap = n.latestSnap;
        n.latestSnap = new Snap(index, term, state, configuration);
        n.core.compact(index, local);
    }

    /** The runtime serves one chunk of a snapshot it still has, or says it has it no longer. */
    private void serveSnapshot(Node n, Ready.SnapshotRequest req) {
        Snap snap = null;
        for (Snap c : opt.servePrevious() ? new Snap[] {n.latestSnap, n.previousSnap} : new Snap[] {n.latestSnap}) {
            if (c != null && c.index() == req.index() && c.term() == req.term()) {
                snap = c;
            }
        }
        long local = n.localNow();
        if (snap == null || req.offset() > snap.state().length) {
            n.core.snapshotUnavailable(req.peer(), local);
            return;
        }
        int from = (int) req.offset();
        int to = Math.min(snap.state().length, from + opt.chunkBytes());
        n.core.snapshotChunk(req.peer(), req.index(), req.term(), req.offset(),
                Arrays.copyOfRange(snap.state(), from, to), to == snap.state().length, snap.membership(), local);
    }

    /**
     * Writes what {@code r} asks to make durable to the node's store and waits until it is durable
     * (for a file store, everything written since is then kept by a crash). Returns false after a
     * violation.
     */
    private boolean persist(Node n, Ready r) {
        try {
            if (!write(n, r, true)) {
                return false;
            }
            makeDurable(n, n.persisting);
        } catch (IOException | RuntimeException e) {
            fail("(storage) " + n.id + ": the store refused a write: " + e);
            return false;
        }
        return violation == null;
    }

    /** Waits until {@code f} (a write to the node's store) is durable; a file store's journal is then cleared. */
    private void makeDurable(Node n, CompletableFuture<Void> f) {
        if (n.storage instanceof MemoryRaftStorage m) {
            m.sync();
        }
        if (f != null) {
            f.join();
        }
        checkpoint(n, "a write");
    }

    /** A file store reported everything written so far durable: a crash now keeps it, and it must really be durable. */
    private void checkpoint(Node n, String what) {
        String notDurable = n.files == null ? null : n.files.checkpoint();
        if (notDurable != null) {
            fail("(storage) " + n.id + ": the file store reported " + what + " durable, but " + notDurable);
        }
    }

    /**
     * Hands the store what {@code r} asks to make durable, in the order {@link Ready} prescribes:
     * the hard state, the snapshot chunks (written into the snapshot being received as they come),
     * the install, the entries. The last write's future is left in {@link Node#persisting}.
     * {@code acked}: the node will act on it (false when a crash interrupts the write).
     */
    private boolean write(Node n, Ready r, boolean acked) throws IOException {
        RaftStorage st = n.storage;
        if (r.clusterUuid() != null) {
            st.recordClusterUuid(r.clusterUuid()); // first, durably: before anything can compact index 1
            count(r.installSnapshot() != null ? "identity_learnt_with_a_snapshot" : "identity_learnt_at_commit");
        }
        HardState hs = r.hardState();
        n.persisting = null;
        if (hs != null && hs.term() < st.hardState().term()) {
            fail("term went backwards on " + n.id);
            return false;
        }
        if (!r.snapshotChunks().isEmpty() || r.installSnapshot() != null) {
            if (hs != null) {
                makeDurable(n, st.persist(hs, List.of())); // durable before the snapshot, as the runtime does
                hs = null;
            }
            for (Ready.SnapshotChunk c : r.snapshotChunks()) {
                if (!receive(n, c)) {
                    return false;
                }
            }
            if (r.installSnapshot() != null && !installSnapshot(n, r.installSnapshot(), acked)) {
                return false;
            }
        }
        if (!r.entries().isEmpty()) {
            LogHashes h = n.hashes;
            long from = r.entries().get(0).index();
            if (from > h.lastIndex() + 1 || from <= h.base) {
                fail("(e) " + n.id + " was asked to persist entries from " + from + " to a log holding "
                        + (h.base + 1) + ".." + h.lastIndex());
                return false;
            }
            h.truncateFrom(from);
            for (Entry e : r.entries()) {
                long hash = h.append(e);
                Long known = prefixByIndexTerm.computeIfAbsent(e.index(), k -> new HashMap<>()).putIfAbsent(e.term(), hash);
                if (known != null && known != hash) {
                    fail("(e) log matching: " + n.id + " has entry " + e.index() + "@" + e.term()
                            + " with a prefix that differs from another node's");
                    return false;
                }
            }
        }
        if (hs != null || !r.entries().isEmpty()) {
            n.persisting = st.persist(hs, r.entries());
        }
        return storeMatches(n, "after persisting " + r.entries().size() + " entries");
    }

    /** The store's log spans what the simulator expects. */
    private boolean storeMatches(Node n, String when) {
        RaftStorage st = n.storage;
        if (st.firstIndex() != n.hashes.base + 1 || st.lastIndex() != n.hashes.lastIndex()) {
            fail("(storage) " + n.id + " " + when + ": the store holds " + st.firstIndex() + ".." + st.lastIndex()
                    + " instead of " + (n.hashes.base + 1) + ".." + n.hashes.lastIndex());
            return false;
        }
        return true;
    }

    /** Writes one chunk of a snapshot from the leader into the store; offset 0 starts a new snapshot. */
    private boolean receive(Node n, Ready.SnapshotChunk c) throws IOException {
        if (c.offset() == 0) {
            discardReceiving(n);
            // as the runtime does: the store records the configuration the leader sent with the first chunk
            n.receiving = n.storage.beginSnapshot(new SnapshotMeta(c.index(), c.term(),
                    Optional.ofNullable(c.membership())));
            n.recvIndex = c.index();
            n.recvTerm = c.term();
            n.recvComplete = false;
        } else if (n.receiving == null || n.recvIndex != c.index() || n.recvTerm != c.term()
                || n.receiving.bytesWritten() != c.offset() || n.recvComplete) {
            fail(n.id + " was asked to persist chunk " + c + " that does not continue the snapshot received so far ("
                    + n.recvIndex + "@" + n.recvTerm + ", " + (n.receiving == null ? 0 : n.receiving.bytesWritten())
                    + " bytes)");
            return false;
        }
        n.receiving.write(c.data(), 0, c.size());
        n.recvComplete = c.last();
        return true;
    }

    private static void discardReceiving(Node n) throws IOException {
        SnapshotWriter w = n.receiving;
        n.receiving = null;
        if (w != null) {
            w.close();
        }
    }

    /** Makes the snapshot just received the store's base (the store compacts or drops its log). */
    private boolean installSnapshot(Node n, Ready.SnapshotPoint p, boolean acked) throws IOException {
        RaftStorage st = n.storage;
        if (n.receiving == null || !n.recvComplete || n.recvIndex != p.index() || n.recvTerm != p.term()) {
            fail(n.id + " was asked to install snapshot " + p + " but holds " + (n.recvComplete ? "" : "part of ")
                    + n.recvIndex + "@" + n.recvTerm);
            return false;
        }
        if (p.index() > committed.size() || committed.get((int) p.index() - 1).term() != p.term()) {
            fail("(d) " + n.id + " installs snapshot " + p.index() + "@" + p.term()
                    + ", which is not the committed entry at that index");
            return false;
        }
        if (p.index() <= n.hashes.base) {
            fail(n.id + " installs snapshot " + p + " older than its own at " + n.hashes.base);
            return false;
        }
        long prefix = committedPrefix.get((int) p.index() - 1);
        if (p.index() <= st.lastIndex() && st.term(p.index()) == p.term()) {
            if (n.hashes.at(p.index()) != prefix) {
                fail("(e) log matching: " + n.id + " holds " + p.index() + "@" + p.term()
                        + " with a prefix that differs from the committed one");
                return false;
            }
            n.hashes.dropPrefix(p.index());
        } else {
            n.hashes.reset(p.index(), prefix);
        }
        Snapshot installed = n.receiving.commit();
        n.receiving = null;
        n.recvComplete = false;
        if (!recordsCommittedConfiguration(n, installed.meta(), p.membership())) {
            return false;
        }
        if (!storeMatches(n, "after installing snapshot " + p.index() + "@" + p.term())) {
            return false;
        }
        if (!acked) {
            return true; // a crash interrupts it: the node never acts on it
        }
        byte[] data;
        try (InputStream in = installed.open()) {
            data = in.readAllBytes();
        }
        n.previousSnap = n.latestSnap;
        n.latestSnap = new Snap(p.index(), p.term(), data, installed.meta().membership().orElse(null));
        snapshotInstalls++;
        if (n.incarnation > 0 && !n.installedSinceRestart) {
            restartInstalls++;
        }
        n.installedSinceRestart = true;
        if (n.behindEverySnapshot >= 0) {
            count("restarts_behind_every_snapshot_caught_up_through_one");
            n.behindEverySnapshot = -1;
        }
        return true;
    }

    /**
     * Invariant (h): a snapshot received from a leader is stored with the configuration in force at
     * its index (that of the last committed CONFIG entry at or before it, else the bootstrap voters),
     * and the core installs it with that configuration, so that the node uses the right one now and
     * after a restart, whichever snapshot the leader served.
     */
    private boolean recordsCommittedConfiguration(Node n, SnapshotMeta meta, Membership installed) {
        Membership expected = null;
        for (int i = (int) meta.lastIndex() - 1; i >= 0 && expected == null; i--) {
            Entry e = committed.get(i);
            if (e.kind() == Entry.Kind.CONFIG) {
                expected = e.membership();
            }
        }
        String inForce = expected != null ? expected.toString() : "the bootstrap voters " + ids.subList(0, opt.voters());
        Membership stored = meta.membership().orElse(null);
        if (!inForceAt(expected, stored)) {
            fail("(h) " + n.id + " stored snapshot " + meta.lastIndex() + "@" + meta.lastTerm() + " with configuration "
                    + stored + ", but " + inForce + " was in force at that index");
            return false;
        }
        if (!inForceAt(expected, installed)) {
            fail("(h) " + n.id + " installed snapshot " + meta.lastIndex() + "@" + meta.lastTerm()
                    + " with configuration " + installed + ", but " + inForce + " was in force at that index");
            return false;
        }
        return true;
    }

    /** Whether {@code m} is {@code expected}, or, if that is {@code null}, has the bootstrap voters. */
    private boolean inForceAt(Membership expected, Membership m) {
        return expected != null ? expected.equals(m) : m != null && m.voters().equals(ids.subList(0, opt.voters()));
    }

    private void count(String what) {
        counters.merge(what, 1, Integer::sum);
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    private void send(Node from, Message m) {
        int to = Integer.parseInt(m.to().substring(1));
        Node dest = nodes.get(to);
        if (!dest.up) {
            if (opt.fastFailover() && now >= refusedNotBefore[from.index][to]) {
                refuse(from, dest, rnd.nextLong(50_000, 500_000));
            }
            return;
        }
        double loss = 0;
        for (Fault f : activeLossy.values()) {
            loss = Math.max(loss, f.value());
        }
        double maxDelayMs = 2;
        for (Fault f : activeSlow.values()) {
            maxDelayMs = Math.max(maxDelayMs, f.value());
        }
        int copies = 1;
        if (loss > 0) {
            if (rnd.nextDouble() < loss) {
                copies = 0;
            } else if (rnd.nextDouble() < loss / 2) {
                copies = 2;
            }
        }
        for (int i = 0; i < copies; i++) {
            long delay = rnd.nextLong(50_000, (long) (maxDelayMs * MS) + 50_001);
            push(now + delay, Type.DELIVER, to, m, 0, null);
        }
    }

    /** {@code from}'s next connection attempt to {@code to}, which is down, is refused {@code after} from now. */
    private void refuse(Node from, Node to, long after) {
        push(now + after, Type.REFUSED, from.index, null, to.index, null);
        long backoff = Math.min(50 * MS << Math.min(refusals[from.index][to.index], 10), Math.max(50 * MS, from.election / 2));
        refusals[from.index][to.index]++;
        refusedNotBefore[from.index][to.index] = now + after + (long) (backoff * rnd.nextDouble(0.8, 1.2));
    }

    private boolean blocked(int from, int to) {
        for (Fault f : activeBlocks.values()) {
            if (f.kind() == Fault.Kind.ONE_WAY) {
                if (f.node() == from && f.other() == to) {
                    return true;
                }
            } else if (f.kind() == Fault.Kind.CUT) {
                if ((f.node() == from && f.other() == to) || (f.node() == to && f.other() == from)) {
                    return true;
                }
            } else if (((f.other() >> from) & 1) != ((f.other() >> to) & 1)) {
                return true;
            }
        }
        return false;
    }

    private void clientPropose() {
        if (now < quietUntil || (healed && servedAfterHeal)) {
            return; // once served after the heal, the cluster goes idle: followers must still catch up
        }
        List<Node> leaders = new ArrayList<>();
        for (Node n : nodes) {
            if (n.up && !n.paused && n.core.role() == Role.LEADER) {
                leaders.add(n);
            }
        }
        if (leaders.isEmpty()) {
            return;
        }
        Node n = leaders.get(rnd.nextInt(leaders.size()));
        if (rnd.nextInt(4) == 0) {
            clientRead(n);
            afterInput(n);
            checkInvariants(n.index);
            return;
        }
        String data = (healed ? "after-heal-" : "c-") + (clientCounter++);
        long index = n.core.propose(data.getBytes(StandardCharsets.UTF_8), n.localNow());
        if (index > 0) {
            n.proposed.put(index, data);
        }
        afterInput(n);
        checkInvariants(n.index);
    }

    /** A client write is acknowledged when the node it was proposed at applies it. */
    private void acknowledgeIfProposedHere(Node n, Entry e) {
        String proposed = n.proposed.remove(e.index());
        if (proposed != null && proposed.equals(new String(e.data(), StandardCharsets.UTF_8))) {
            acknowledgedWrites = Math.max(acknowledgedWrites, e.index());
            count("writes_acknowledged");
        }
    }

    /**
     * A client asks {@code n}, which it believes leads, for a read: a read index or a lease read,
     * at random. A node that does not lead refuses, and the client would retry elsewhere.
     */
    private void clientRead(Node n) {
        if (n.core.role() != Role.LEADER) {
            return;
        }
        long id = nextReadId++;
        boolean lease = rnd.nextBoolean();
        boolean accepted = lease ? n.core.leaseRead(id, n.localNow()) : n.core.readIndex(id, n.localNow());
        count((lease ? "lease_reads" : "index_reads") + (accepted ? "_asked" : "_refused"));
        if (accepted) {
            readsAsked.put(id, new ReadAsk(n, n.core.term(), lease, acknowledgedWrites, committed.size()));
        }
    }

    /**
     * A read's answer: (r) served at an index that covers every write acknowledged before the read
     * started, and (d) every entry committed by then; (r) a lease read, decided just now, only while
     * no newer leader has reported {@code elected}.
     */
    private void checkRead(Node n, ReadState rs, boolean decidedNow) {
        ReadAsk ask = readsAsked.remove(rs.requestId());
        if (ask == null || ask.node() != n) {
            fail("(r) read " + rs.requestId() + " answered twice, by another node, or never asked");
            return;
        }
        if (rs.failed()) {
            count("reads_failed");
            return;
        }
        count(ask.lease() ? "lease_reads_served" : "index_reads_served");
        if (rs.index() < ask.acknowledgedFloor()) {
            fail("(r) " + ask.kind() + " on " + n.id + " (term " + ask.term() + ") at index " + rs.index()
                    + " misses the write acknowledged at index " + ask.acknowledgedFloor() + " before it started");
        } else if (rs.index() < ask.committedFloor()) {
            fail("(d) " + ask.kind() + " on " + n.id + " (term " + ask.term() + ") at index " + rs.index()
                    + " misses " + (ask.committedFloor() - rs.index()) + " entries committed before it started");
        } else if (ask.lease() && decidedNow && maxTokenDelivered > ask.term()) {
            fail("(r) lease read on " + n.id + " served in term " + ask.term() + " after a leader of term "
                    + maxTokenDelivered + " reported elected");
        }
    }

    // ------------------------------------------------------------------ faults

    /** Starts (or restarts) a node from what its store holds. */
    private void startNode(Node n) {
        if (n.retired) {
            return;
        }
        Image disk;
        try {
            disk = openStore(n);
        } catch (IOException | RuntimeException e) {
            fail("(storage) " + n.id + " could not " + (n.incarnation > 0 ? "restart from" : "open") + " its "
                    + (fileRoot != null ? "files" : "store") + ": " + e);
            return;
        }
        if (disk == null) {
            return;
        }
        long snapIndex = disk.snapIndex();
        if (snapIndex > committed.size() || (snapIndex > 0 && committed.get((int) snapIndex - 1).term() != disk.snapTerm())) {
            fail("(d) " + n.id + " restarted from snapshot " + snapIndex + "@" + disk.snapTerm()
                    + ", which is not the committed entry at that index");
            return;
        }
        n.hashes.reset(snapIndex, snapIndex == 0 ? 0 : committedPrefix.get((int) snapIndex - 1));
        for (Entry e : disk.entries()) {
            long hash = n.hashes.append(e);
            Long known = prefixByIndexTerm.computeIfAbsent(e.index(), k -> new HashMap<>()).putIfAbsent(e.term(), hash);
            if (known != null && known != hash) {
                fail("(e) log matching: " + n.id + " restarted with entry " + e.index() + "@" + e.term()
                        + " whose prefix differs from another node's");
                return;
            }
        }
        Snapshot snap = n.storage.latestSnapshot().orElse(null);
        Membership snapMembership = snap == null ? null : snap.meta().membership().orElse(null);
        n.core = opt.bugs().newCore(coreConfig(n), disk.hardState(),
                new RaftLog(snapIndex, disk.snapTerm(), snapMembership, new ArrayList<>(disk.entries())),
                n.localNow(), new SplittableRandom(seed * 1_000_003L + n.index * 7919L + n.incarnation), null);
        // the recorded identity, and a candidate of this incarnation in case it bootstraps the cluster
        n.core.bootstrapIdentity(n.storage.clusterUuid().orElse(null),
                new java.util.UUID(seed, n.index * 1_000_000L + n.incarnation));
        n.gate = new LeadershipGate();
        n.up = true;
        n.downBy = -1;
        // restart = the durable snapshot restored into the state machine, then the log after it
        n.sm = n.witness ? new StateMachine() : StateMachine.decode(disk.snapData());
        if (n.witness) {
            n.sm.index = snapIndex;
        }
        n.applied = snapIndex;
        n.checkedCommit = 0;
        n.latestSnap = snapIndex > 0 ? new Snap(snapIndex, disk.snapTerm(), disk.snapData(), snapMembership) : null;
        n.previousSnap = null;
        n.installedSinceRestart = false;
        if (n.sm.index != snapIndex) {
            fail(n.id + " restarted from a snapshot at " + snapIndex + " whose state is at " + n.sm.index);
        }
        if (!n.witness) {
            checkState(n, "restored from its snapshot at restart");
        }
        n.behindEverySnapshot = -1;
        if (n.incarnation > 0 && !n.witness) {
            // every other node compacted past this node's log: only a snapshot can bring it back
            long others = Long.MAX_VALUE;
            for (Node o : nodes) {
                if (o != n && !o.witness) {
                    others = Math.min(others, o.latestSnap == null ? 0 : o.latestSnap.index());
                }
            }
            if (disk.lastIndex() < others) {
                n.behindEverySnapshot = disk.lastIndex();
                count("restarts_behind_every_snapshot");
            }
        }
        n.leaderTermChecked = 0;
        n.pending = null;
        n.timerAt = Long.MAX_VALUE;
        afterInput(n);
    }

    /**
     * Opens the node's store as a (re)started process finds it and reads what it holds; {@code null}
     * after a violation. A file store is opened through its recovery, which must find everything
     * that was reported durable before the crash, and nothing that was never written.
     */
    private Image openStore(Node n) throws IOException {
        if (fileRoot == null) {
            if (n.storage == null) {
                n.storage = MemoryRaftStorage.createManualSync();
            }
            return Image.of(n.storage);
        }
        n.files = new CrashableFileIO();
        n.storage = FileRaftStorage.open(fileRoot.resolve(n.id),
                FileRaftStorage.Options.defaults().withSegmentSize(FILE_SEGMENT_BYTES).withFileIO(n.files));
        checkpoint(n, "what recovery repaired"); // a cut tail, a raised term, deleted files
        Image disk = Image.of(n.storage);
        if (n.durableAtCrash != null) {
            String diff = recoveryDiff(disk, n.durableAtCrash, n.writtenAtCrash);
            n.durableAtCrash = null;
            n.writtenAtCrash = null;
            if (diff != null) {
                fail("(storage) " + n.id + " recovered from its files with " + diff);
                return null;
            }
        }
        return disk;
    }

    /**
     * Why the state {@code got} recovered after a crash is not one a crash may leave, or
     * {@code null}: it must hold everything in {@code durable} (reported durable), except what the
     * interrupted writes replaced, and nothing that is in neither {@code durable} nor {@code written}.
     */
    private static String recoveryDiff(Image got, Image durable, Image written) {
        HardState hs = got.hardState();
        HardState d = durable.hardState();
        if (hs.term() < d.term()) {
            return "term " + hs.term() + " below the durable term " + d.term();
        }
        if (hs.term() == d.term() && d.votedFor() != null && !d.votedFor().equals(hs.votedFor())) {
            return "vote " + hs.votedFor() + " in term " + hs.term() + " instead of the durable vote " + d.votedFor();
        }
        if (hs.term() > written.hardState().term()) {
            return "term " + hs.term() + " above any term written (" + written.hardState().term() + ")";
        }
        if (hs.stickiness() != d.stickiness() && hs.stickiness() != written.hardState().stickiness()) {
            return "promised stickiness " + hs.stickiness() + " ns, neither the durable " + d.stickiness()
                    + " nor the written " + written.hardState().stickiness();
        }
        Image base = got.snapIndex() == durable.snapIndex() ? durable : got.snapIndex() == written.snapIndex() ? written : null;
        if (base == null) {
            return "snapshot at " + got.snapIndex() + ", neither the durable one at " + durable.snapIndex()
                    + " nor the one written at " + written.snapIndex();
        }
        if (got.snapTerm() != base.snapTerm() || !Arrays.equals(got.snapData(), base.snapData())) {
            return "snapshot " + got.snapIndex() + " whose term or data differ from what was written";
        }
        for (long i = got.firstIndex(); i <= got.lastIndex(); i++) {
            Entry e = got.at(i);
            if (!e.equals(durable.at(i)) && !e.equals(written.at(i))) {
                return "entry " + e + ", which was never written at that index";
            }
        }
        // Durable entries survive unless the interrupted writes replaced them (a snapshot installed
        // over them, a conflicting suffix overwritten from some index on).
        long replacedFrom = Long.MAX_VALUE;
        if (written.snapIndex() == got.snapIndex()) {
            for (long i = got.snapIndex() + 1; i <= durable.lastIndex(); i++) {
                if (!durable.at(i).equals(written.at(i))) {
                    replacedFrom = i;
                    break;
                }
            }
        }
        long floor = Math.max(got.snapIndex(), Math.min(durable.lastIndex(), replacedFrom - 1));
        if (got.lastIndex() < floor) {
            return "log " + got.firstIndex() + ".." + got.lastIndex() + ", missing entries up to " + floor
                    + " that were reported durable";
        }
        return null;
    }

    /**
     * The bootstrap configuration: the first {@link SimOptions#voters()} nodes vote; a node outside
     * them starts as a joining learner (a witness learner if it is the witness) that knows them.
     */
    private CoreConfig coreConfig(Node n) {
        Membership m = Membership.ofVoters(ids.subList(0, opt.voters()));
        if (n.index >= opt.voters()) {
            m = m.withMember(new Membership.Member(n.id, "", n.witness ? Membership.Role.WITNESS_LEARNER
                    : Membership.Role.LEARNER));
        }
        return new CoreConfig(n.id, m, n.heartbeat, n.election, opt.driftBound(), opt.maxBatchEntries(),
                64 * 1024, opt.maxInflight(), opt.fastFailover(), 20);
    }

    /** The committed entry at position {@code i} as node {@code n} stores it. */
    private Entry committedAs(Node n, int i) {
        Entry e = committed.get(i);
        return n.witness ? e.forWitness() : e;
    }

    /** Whether {@code n} must hold every committed entry at the end: it is a member of the final configuration. */
    private boolean mustCatchUp(Node n) {
        for (Node l : nodes) {
            if (l.up && l.core.role() == Role.LEADER) {
                return l.core.committedMembership().contains(n.id);
            }
        }
        return n.index < opt.voters();
    }

    /** Cuts {@code leader} off from every other node for {@code f}'s duration. */
    private void isolate(Node leader, Fault f) {
        lastIsolatedLeader = leader.index;
        Fault p = new Fault(f.id(), f.at(), Fault.Kind.PARTITION, leader.index, 1 << leader.index, f.duration(), 0);
        activeBlocks.put(f.id(), p);
        push(now + f.duration(), Type.END_FAULT, leader.index, null, 0, p);
    }

    /** The up, unpaused leader of the highest term, or {@code null}. */
    private Node newestLeader() {
        Node l = null;
        for (Node c : nodes) {
            // the newest leader: a deposed one may not know yet
            if (c.up && !c.paused && c.core.role() == Role.LEADER && (l == null || c.core.term() > l.core.term())) {
                l = c;
            }
        }
        return l;
    }

    /** Cuts {@code leader} and the first other voter of its configuration off from every other node. */
    private void partitionWithOneFollower(Node leader, Fault f) {
        int mask = 1 << leader.index;
        for (String v : leader.core.membership().voters()) {
            int i = Integer.parseInt(v.substring(1));
            if (i != leader.index && i != lastIsolatedLeader) {
                mask |= 1 << i;
                break;
            }
        }
        Fault p = new Fault(f.id(), f.at(), Fault.Kind.PARTITION, leader.index, mask, f.duration(), 0);
        activeBlocks.put(f.id(), p);
        push(now + f.duration(), Type.END_FAULT, leader.index, null, 0, p);
    }

    /** {@link Fault#value()} of a reconfiguration that adds or promotes a node. */
    static final double GROW = Fault.GROW;
    /** {@link Fault#value()} of a reconfiguration that removes a voter. */
    static final double SHRINK = Fault.SHRINK;

    /**
     * The newest leader changes the configuration concerning node {@code f.node()}: adds it as a
     * learner, promotes it or removes it, whichever its role calls for ({@code value} below 0.7
     * promotes a learner rather than removing it). With {@link #GROW} or {@link #SHRINK} it adds or
     * promotes (removes) the first node from {@code f.node()} on that does not vote (votes).
     */
    private void reconfigure(Fault f) {
        Node l = newestLeader();
        if (l == null) {
            return;
        }
        Membership m = l.core.membership();
        if (f.node() < 0 && lastIsolatedLeader < 0) {
            return;
        }
        Node target = nodes.get(f.node() < 0 ? lastIsolatedLeader : f.node());
        boolean grow = f.value() == GROW || (m.isVoter(target.id) && m.voters().size() <= 3 && f.value() != SHRINK);
        if (grow || (f.value() == SHRINK && !m.isVoter(target.id))) {
            // grow: the target or the next node that does not vote; shrink: the target or the next voter
            for (int i = 0; i < nodes.size(); i++) {
                Node o = nodes.get((f.node() + i) % nodes.size());
                if (m.isVoter(o.id) != grow) {
                    target = o;
                    break;
                }
            }
        }
        Membership next;
        Membership.Member member = m.member(target.id).orElse(null);
        if (member == null) {
            next = m.withMember(new Membership.Member(target.id, "", target.witness ? Membership.Role.WITNESS_LEARNER
                    : Membership.Role.LEARNER));
        } else if (!member.role().votes() && (grow || f.value() < 0.7)) {
            next = m.withRole(target.id, member.role().promoted());
        } else {
            try {
                next = m.without(target.id);
            } catch (IllegalArgumentException e) {
                return; // it would leave no voter that can lead
            }
        }
        try {
            long at = l.core.changeMembership(next, l.localNow());
            membershipChanges++;
            count(at < 0 ? "leader_removals_by_handover" : member == null ? "learners_added"
                    : !member.role().votes() && next.isVoter(target.id) ? "promotions" : "removals");
            if (TRACE) {
                System.out.println("   reconfigure by " + l.id + " t" + l.core.term() + ": " + m + " -> " + next);
            }
        } catch (MembershipChangeRefused e) {
            if (TRACE) {
                System.out.println("   reconfigure by " + l.id + " refused: " + e.getMessage());
            }
            membershipRefusals++;
            count("refused_" + e.reason().name().toLowerCase(java.util.Locale.ROOT));
        }
        afterInput(l);
        checkInvariants(l.index);
    }

    private void startFault(Fault f) {
        Node n = f.node() >= 0 ? nodes.get(f.node()) : null;
        switch (f.kind()) {
            case CRASH, CRASH_LEADER -> {
                if (f.kind() == Fault.Kind.CRASH_LEADER) {
                    n = null;
                    for (Node l : nodes) {
                        if (l.up && l.core.role() == Role.LEADER) {
                            n = l;
                        }
                    }
                }
                if (n != null && n.up && fileRoot != null && f.id() % 2 == 0 && !writing(n)) {
                    // on files, half the crashes wait for the node's next write in flight: power
                    // lost while it is not yet durable, the case recovery exists for
                    n.crashAtNextWrite = f;
                } else if (n != null && n.up) {
                    crashFor(n, f, f.duration());
                }
            }
            case CRASH_AFTER_COMMIT -> crashOnCommit = f;
            case ISOLATE_AFTER_COMMIT -> isolateOnCommit = f;
            case CRASH_CANDIDATE -> crashCandidate = f;
            case SNAPSHOT_DURING_TRANSFER -> snapshotOnTransfer = f;
            case CRASH_AFTER_PERSIST -> {
                if (n.up) {
                    n.crashAfterPersist = f;
                }
            }
            case CUT_FROM_LEADER -> {
                // the leader loses its link with one follower; the others still hear both
                Node l = newestLeader();
                if (l != null) {
                    List<String> followers = new ArrayList<>(l.core.membership().voters());
                    followers.remove(l.id);
                    if (!followers.isEmpty()) {
                        int to = Integer.parseInt(followers.get(f.node() % followers.size()).substring(1));
                        Fault cut = new Fault(f.id(), f.at(), Fault.Kind.CUT, l.index, to, f.duration(), 0);
                        activeBlocks.put(f.id(), cut);
                        push(now + f.duration(), Type.END_FAULT, l.index, null, 0, cut);
                        if (f.value() < 0.7) {
                            // while no client writes: the follower cut off stays as up to date as the others
                            quietUntil = Math.max(quietUntil, now + f.duration());
                        }
                    }
                }
            }
            case PAUSE_ACROSS_LEASE_END -> {
                Node l = newestLeader();
                if (l != null && !l.paused && l.core.holdsLease(l.localNow())) {
                    long leaseEnd = l.clock.realAt(l.core.leaseUntil());
                    l.paused = true;
                    l.pausedBy = f.id();
                    count("leaders_paused_across_their_lease_end");
                    push(Math.max(now, leaseEnd) + f.duration(), Type.END_FAULT, l.index, null, 0, f);
                }
            }
            case SLOW_FAILOVER -> {
                Fault slow = new Fault(f.id(), f.at(), Fault.Kind.SLOW, f.node(), 0, f.duration(), f.value());
                activeSlow.put(f.id(), slow);
                push(now + f.duration(), Type.END_FAULT, f.node(), null, 0, slow);
                Node l = newestLeader();
                if (l != null) {
                    crashFor(l, f, f.duration() / 2);
                }
            }
            case RETIME -> {
                // an operator restarts a node with a new timing (one step of a rolling change)
                n = n != null ? n : nextToRetime(f);
                if (n == null) {
                    return; // every node runs with this timing already
                }
                n.heartbeat = f.other() * MS;
                n.election = (long) f.value() * MS;
                count("retimed_nodes");
                if (n.up) {
                    crashFor(n, f, f.duration());
                }
            }
            case RECONFIGURE_ON_ELECTION -> reconfigureOnElection = f;
            case PARTITION_ON_ELECTION -> partitionOnElection = f;
            case SLOW_DISK -> {
                n.slowDiskUntil = now + f.duration();
                n.slowDiskMaxNanos = (long) (f.value() * MS);
            }
            case ISOLATE_LEADER -> {
                for (Node l : nodes) {
                    if (l.up && l.core.role() == Role.LEADER) {
                        isolate(l, f);
                        break;
                    }
                }
            }
            case QUIET -> quietUntil = Math.max(quietUntil, now + f.duration());
            case PAUSE -> {
                if (n.up && !n.paused) {
                    n.paused = true;
                    n.pausedBy = f.id();
                    push(now + f.duration(), Type.END_FAULT, f.node(), null, 0, f);
                }
            }
            case PARTITION, ONE_WAY, CUT -> {
                activeBlocks.put(f.id(), f);
                push(now + f.duration(), Type.END_FAULT, f.node(), null, 0, f);
            }
            case LOSSY -> {
                activeLossy.put(f.id(), f);
                push(now + f.duration(), Type.END_FAULT, f.node(), null, 0, f);
            }
            case SLOW -> {
                activeSlow.put(f.id(), f);
                push(now + f.duration(), Type.END_FAULT, f.node(), null, 0, f);
            }
            case CLOCK_RATE -> n.clock.setRate(now, 1 + opt.driftBound() * f.value());
            case RECONFIGURE -> reconfigure(f);
            case RETIRE -> retire(n);
            case TRANSFER -> {
                for (Node l : nodes) {
                    if (l.up && !l.paused && l.core.role() == Role.LEADER && l != n) {
                        l.core.transferLeadership(n.id, l.localNow());
                        afterInput(l);
                        checkInvariants(l.index);
                    }
                }
            }
            default -> throw new IllegalStateException();
        }
    }

    /**
     * The next node of a rolling change to {@code f}'s timing: one that does not run with it yet,
     * a follower that is up if any, then one that is down, the leader last.
     */
    private Node nextToRetime(Fault f) {
        Node best = null;
        int bestRank = Integer.MAX_VALUE;
        for (Node c : nodes) {
            if (c.heartbeat == f.other() * MS && c.election == (long) f.value() * MS) {
                continue;
            }
            int rank = !c.up ? 1 : c.core.role() == Role.LEADER ? 2 : 0;
            if (rank < bestRank) {
                best = c;
                bestRank = rank;
            }
        }
        return best;
    }

    private void endFault(Event e) {
        Fault f = e.fault;
        Node n = f.node() >= 0 ? nodes.get(f.node()) : null;
        switch (f.kind()) {
            case CRASH, CRASH_LEADER, CRASH_AFTER_COMMIT, RETIME, CRASH_AFTER_PERSIST, CRASH_CANDIDATE, SLOW_FAILOVER -> {
                n = nodes.get(e.node);
                if (!n.up && n.downBy == f.id()) {
                    restarts++;
                    startNode(n);
                }
            }
            case PAUSE -> {
                if (n.paused && n.pausedBy == f.id()) {
                    resume(n);
                }
            }
            case PAUSE_ACROSS_LEASE_END -> {
                n = nodes.get(e.node);
                if (n.paused && n.pausedBy == f.id()) {
                    resume(n);
                    // a client that knew it as leader asks it for a read the moment it wakes up
                    clientRead(n);
                    afterInput(n);
                }
            }
            case PARTITION, ONE_WAY, CUT, CUT_FROM_LEADER, ISOLATE_AFTER_COMMIT -> activeBlocks.remove(f.id());
            case LOSSY -> activeLossy.remove(f.id());
            case SLOW -> activeSlow.remove(f.id());
            default -> { }
        }
    }

    private void crashIfTriggered() {
        if (crashNow != null && violation == null && !healed) {
            Node n = crashNow;
            Fault f = crashOnCommit;
            crashNow = null;
            crashOnCommit = null;
            crashFor(n, f, f.duration());
        }
        crashNow = null;
    }

    /** Whether the node has a Ready in flight with something to make durable. */
    private static boolean writing(Node n) {
        return n.pending != null && !n.pending.nothingToPersist();
    }

    /** Crashes the nodes whose crash waits for a write in flight, once they have one. */
    private void crashWritersIfDue() {
        for (Node n : nodes) {
            Fault f = n.crashAtNextWrite;
            if (f == null || violation != null) {
                continue;
            }
            if (!n.up || healed) {
                n.crashAtNextWrite = null;
            } else if (writing(n)) {
                n.crashAtNextWrite = null;
                count("file_crashes_during_a_write");
                crashFor(n, f, f.duration());
            }
        }
    }

    private void crash(Node n) {
        if (n.files != null) {
            crashFiles(n);
        } else if (n.storage instanceof MemoryRaftStorage m) {
            n.storage = m.crash(); // what was durable: every Ready is synced before the node acts on it
        }
        n.receiving = null;
        n.recvComplete = false;
        n.crashAfterPersist = null;
        n.snapshotSoon = false;
        n.persisting = null;
        if (n.behindEverySnapshot >= 0) {
            count("restarts_behind_every_snapshot_crashed_again_first");
            n.behindEverySnapshot = -1;
        }
        n.up = false;
        n.paused = false;
        n.held.clear();
        n.proposed.clear(); // the process is gone: its pending writes are never acknowledged
        n.pending = null;
        n.core = null;
        n.incarnation++;
        n.timerGen++;
        if (opt.fastFailover()) {
            for (Node o : nodes) {
                if (o != n) {
                    // the stream breaks; the immediate reconnection attempt is refused
                    refusals[o.index][n.index] = 0;
                    refuse(o, n, rnd.nextLong(100_000, 2 * MS));
                }
            }
        }
    }

    /**
     * A node on files loses power. The Ready it was making durable, if any, has reached the files
     * in full (the runtime writes before it waits for the fsync); the crash keeps all, part or none
     * of what was written since the last durable point ({@link CrashableFileIO#crash}). The restart
     * then checks what recovery finds against both states ({@link #recoveryDiff}).
     */
    private void crashFiles(Node n) {
        try {
            n.durableAtCrash = Image.of(n.storage);
            Ready r = n.pending;
            if (r != null && !r.nothingToPersist() && violation == null && write(n, r, false)
                    && n.persisting != null) {
                n.persisting.join();
            }
            n.writtenAtCrash = Image.of(n.storage);
            n.storage.close(); // stops the store's threads in this JVM; it has nothing left to write
            CrashableFileIO.Outcome o = n.files.crash(diskRnd);
            if (o.journaled() > 0) {
                count(o.lostSomething() ? "file_crashes_losing_unsynced_writes" : "file_crashes_keeping_unsynced_writes");
            }
            if (o.tornBytes() > 0) {
                count("file_crashes_tearing_a_write");
            }
        } catch (IOException | RuntimeException e) {
            fail("(storage) " + n.id + ": crashing its file store failed: " + e);
        }
        n.storage = null;
        n.files = null;
    }

    private void resume(Node n) {
        n.paused = false;
        n.pausedBy = -1;
        for (Event e : n.held) {
            queue.add(new Event(now, seqNo++, e.type, e.node, e.msg, e.gen, e.fault, e.request));
        }
        n.held.clear();
        n.timerAt = Long.MAX_VALUE;
        afterInput(n);
    }

    private void healAll() {
        healed = true;
        healedAt = now;
        activeBlocks.clear();
        activeLossy.clear();
        activeSlow.clear();
        quietUntil = 0;
        crashOnCommit = null;
        isolateOnCommit = null;
        crashCandidate = null;
        snapshotOnTransfer = null;
        reconfigureOnElection = null;
        reconfigureNow = null;
        partitionOnElection = null;
        for (Node n : nodes) {
            n.slowDiskUntil = 0;
            n.crashAfterPersist = null;
        }
        for (Node n : nodes) {
            if (!n.up && !n.retired) {
                startNode(n);
            } else if (n.paused) {
                resume(n);
            }
        }
    }

    private void trace(Event e) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("%9.3fms #%d %s", now / 1e6, steps, e.type));
        if (e.msg != null) {
            sb.append(' ').append(e.msg);
        } else if (e.fault != null) {
            sb.append(' ').append(e.fault);
        } else {
            sb.append(" n").append(e.node);
        }
        sb.append("\n   ");
        for (Node n : nodes) {
            sb.append(n.id).append(n.up ? (n.paused ? "(paused)" : "") : "(down)");
            if (n.up) {
                sb.append('[').append(n.core.role()).append(" t").append(n.core.term()).append(" last=")
                        .append(n.core.lastIndex()).append(" commit=").append(n.core.commitIndex()).append(" lease=")
                        .append(n.core.holdsLease(n.localNow())).append("] ");
            }
        }
        System.out.println(sb);
    }

    // ------------------------------------------------------------------ invariants

    private void fail(String why) {
        if (violation == null) {
            violation = why + " (seed " + seed + ", step " + steps + ", t=" + now / MS + "ms)";
        }
    }

    private void checkInvariants(int touched) {
        if (violation != null) {
            return;
        }
        // After a FAULT or CLIENT step any node may have changed; checking all is cheap.
        for (Node n : nodes) {
            if (n.up) {
                checkNode(n);
            }
        }
        // (c) no two valid leases at one real instant
        Node holder = null;
        for (Node n : nodes) {
            if (n.up && n.core.holdsLease(n.localNow())) {
                if (holder != null) {
                    fail("(c) " + holder.id + " (term " + holder.core.term() + ") and " + n.id + " (term "
                            + n.core.term() + ") both hold a valid lease");
                    return;
                }
                holder = n;
            }
        }
    }

    /** Whether {@code log} holds committed entry {@code e}, itself or inside its snapshot. */
    private boolean holds(RaftLog log, Entry e) {
        long snap = log.snapshotIndex();
        if (e.index() > snap) {
            return log.term(e.index()) == e.term();
        }
        return snap <= committed.size() && committed.get((int) snap - 1).term() == log.snapshotTerm();
    }

    private void checkNode(Node n) {
        RaftCore c = n.core;
        if (c.role() == Role.LEADER) {
            // (g) no two disjoint majorities elect in one term; each election had a majority
            Map<String, Set<String>> ofTerm = electionsOfTerm.computeIfAbsent(c.term(), t -> new HashMap<>());
            if (!ofTerm.containsKey(n.id)) {
                Set<String> with = c.wonWith();
                if (!c.membership().quorum().isMajority(with)) {
                    fail("(g) " + n.id + " leads term " + c.term() + " with votes " + with
                            + ", not a majority of its configuration " + c.membership());
                    return;
                }
                for (Map.Entry<String, Set<String>> other : ofTerm.entrySet()) {
                    if (other.getValue().stream().noneMatch(with::contains)) {
                        fail("(g) two disjoint majorities elected in term " + c.term() + ": " + other.getKey() + " with "
                                + other.getValue() + " and " + n.id + " with " + with);
                        return;
                    }
                }
                ofTerm.put(n.id, with);
                if (!healed && rnd.nextBoolean()) {
                    // a client asks the new leader for a read at once, maybe before its first commit
                    push(now + rnd.nextLong(0, 2 * MS), Type.READ, n.index, null, 0, null);
                }
                if (reconfigureOnElection != null) {
                    reconfigureNow = reconfigureOnElection;
                    reconfigureOnElection = null;
                }
                if (partitionOnElection != null) {
                    partitionWithOneFollower(n, partitionOnElection);
                    partitionOnElection = null;
                }
                if (with.stream().anyMatch(v -> c.membership().isWitness(v))) {
                    witnessElections++;
                }
            }
            // (a) one leader per term
            String prev = leaderOfTerm.putIfAbsent(c.term(), n.id);
            if (prev != null && !prev.equals(n.id)) {
                fail("(a) two leaders in term " + c.term() + ": " + prev + " and " + n.id);
                return;
            }
            // (d) a new leader holds every committed entry
            if (n.leaderTermChecked != c.term()) {
                n.leaderTermChecked = c.term();
                for (int i = 0; i < committed.size(); i++) {
                    Entry e = committed.get(i);
                    if (committedInTerm.get(i) < c.term() && !holds(c.log(), e)) {
                        fail("(d) leader " + n.id + " of term " + c.term() + " lacks " + e + ", committed in term "
                                + committedInTerm.get(i));
                        return;
                    }
                }
            }
        }
        // (d) committed entries never change
        long commit = c.commitIndex();
        if (commit < n.checkedCommit) {
            fail("(d) commit index of " + n.id + " went back from " + n.checkedCommit + " to " + commit);
            return;
        }
        if (commit > n.checkedCommit && c.role() == Role.LEADER && isolateOnCommit != null && !healed) {
            // cut off right after a commit: no follower has learned of it yet
            isolate(n, isolateOnCommit);
            isolateOnCommit = null;
            count("leaders_cut_off_right_after_a_commit");
        }
        if (commit > n.checkedCommit && c.role() == Role.LEADER && n.firstCommitTerm != c.term()) {
            // the leader's first commit of its term: a favourite moment for a crash
            n.firstCommitTerm = c.term();
            if (crashOnCommit != null) {
                crashNow = n;
            }
        }
        long from = n.checkedCommit + 1;
        long snap = c.log().snapshotIndex();
        if (snap >= from && snap <= commit) {
            // entries up to the snapshot are gone from this log: the snapshot point must be committed
            if (snap > committed.size() || committed.get((int) snap - 1).term() != c.log().snapshotTerm()) {
                fail("(d) " + n.id + " holds snapshot " + snap + "@" + c.log().snapshotTerm()
                        + ", which is not the committed entry at that index");
                return;
            }
            from = snap + 1;
        }
        for (long i = from; i <= commit; i++) {
            Entry e = c.log().entry(i);
            if (i <= committed.size()) {
                if (!committedAs(n, (int) i - 1).equals(e)) {
                    fail("(d) " + n.id + " committed " + e + " but " + committed.get((int) i - 1)
                            + " was committed at that index before");
                    return;
                }
            } else if (n.witness) {
                // a witness holds no payloads; the leader reports the entry in this same step
                fail("(d) witness " + n.id + " knows " + e + " is committed before any data node does");
                return;
            } else {
                long prevPrefix = committedPrefix.isEmpty() ? 0 : committedPrefix.get(committedPrefix.size() - 1);
                long prevState = committedStateHash.isEmpty() ? 0 : committedStateHash.get(committedStateHash.size() - 1);
                committed.add(e);
                committedPrefix.add(mix(prevPrefix * 31 + e.forWitness().hashCode()));
                committedStateHash.add(StateMachine.nextHash(prevState, e.data()));
                committedInTerm.add(c.term());
                for (Node o : nodes) {
                    if (o.up && o.core.role() == Role.LEADER && o.core.term() > c.term()
                            && !holds(o.core.log(), e)) {
                        fail("(d) leader " + o.id + " of term " + o.core.term() + " lacks " + e
                                + ", committed in term " + c.term());
                        return;
                    }
                }
            }
        }
        n.checkedCommit = commit;
        // (u) one cluster identity: a node knows none, or the one the committed entry at index 1 carries
        java.util.UUID identity = c.clusterUuid();
        if (identity != null) {
            java.util.UUID agreed = committed.isEmpty() ? null : ClusterIdentity.of(committed.get(0));
            if (!identity.equals(agreed)) {
                fail("(u) " + n.id + " believes the cluster identity is " + identity + " but the committed entry at"
                        + " index 1 " + (committed.isEmpty() ? "does not exist yet" : "carries " + agreed));
            }
        }
    }
}
