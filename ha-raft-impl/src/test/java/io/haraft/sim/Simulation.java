package io.haraft.sim;

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
import io.haraft.storage.FileRaftStorage;
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
import java.util.PriorityQueue;
import java.util.Set;
import java.util.SplittableRandom;

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
 * winner's configuration.
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
 * catches up through a snapshot streamed in {@link SimOptions#chunkBytes()}-byte chunks.
 */
final class Simulation {
    private static final long MS = SimOptions.MS;
    private static final boolean TRACE = Boolean.getBoolean("sim.trace");

    private enum Type { DELIVER, TIMER, FSYNC, REFUSED, CLIENT, FAULT, END_FAULT, SERVE_SNAPSHOT }

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

    /** A state-machine snapshot: the state after applying every entry up to {@code index}. */
    private record Snap(long index, long term, byte[] state) { }

    /**
     * What survives a crash: the durable hard state, the latest snapshot, the log after it (with
     * the hash of each entry's prefix, for log matching), and a snapshot being received.
     */
    private static final class Store {
        HardState hardState = HardState.INITIAL;
        Snap snap = new Snap(0, 0, null);
        Membership snapMembership;
        long snapPrefixHash;
        final ArrayList<Entry> entries = new ArrayList<>();
        final ArrayList<Long> prefixHash = new ArrayList<>();
        long recvIndex;
        long recvTerm;
        boolean recvComplete;
        final java.io.ByteArrayOutputStream recv = new java.io.ByteArrayOutputStream();

        long lastIndex() {
            return snap.index() + entries.size();
        }

        long termAt(long index) {
            if (index == snap.index()) {
                return snap.term();
            }
            return index > snap.index() && index <= lastIndex() ? entries.get((int) (index - snap.index() - 1)).term() : -1;
        }

        long prefixHashAt(long index) {
            return index == snap.index() ? snapPrefixHash : prefixHash.get((int) (index - snap.index() - 1));
        }

        /** Drops entries from {@code index} on. */
        void truncateFrom(long index) {
            while (lastIndex() >= index) {
                entries.remove(entries.size() - 1);
                prefixHash.remove(prefixHash.size() - 1);
            }
        }

        /** Drops entries up to {@code index}, which must be in the log; it becomes the snapshot point. */
        void dropPrefix(long index) {
            int n = (int) (index - snap.index());
            entries.subList(0, n).clear();
            prefixHash.subList(0, n).clear();
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
        final Store store = new Store();
        RaftCore core;
        LeadershipGate gate;
        boolean up = true;
        int downBy = -1;
        boolean paused;
        int pausedBy = -1;
        final List<Event> held = new ArrayList<>();
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
        /** The real file store mirroring this node's durable state, when the run uses files. */
        RaftStorage file;
        boolean installedSinceRestart;
        long leaderTermChecked;
        long firstCommitTerm;
        int incarnation;
        final boolean witness;

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
    private long quietUntil;
    private Fault crashOnCommit;
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
    /** Read requests in flight: id -> entries committed cluster-wide when it was asked. */
    private final Map<Long, Long> readsAsked = new HashMap<>();
    private boolean servedAfterHeal;
    private long catchUpTarget = -1;
    private long catchUpBy;

    /** Where each node keeps a real {@link FileRaftStorage}, or {@code null} for memory only. */
    private final Path fileRoot;

    Simulation(long seed, SimOptions opt, List<Fault> schedule) {
        this(seed, opt, schedule, null);
    }

    /**
     * A history whose nodes also keep their durable state in a real {@link FileRaftStorage} under
     * {@code fileRoot}: every durable write is mirrored there (with its fsync), and at every restart
     * the node's state is recovered from the files and must equal what was reported durable.
     */
    Simulation(long seed, SimOptions opt, List<Fault> schedule, Path fileRoot) {
        this.fileRoot = fileRoot;
        this.seed = seed;
        this.opt = opt;
        this.schedule = schedule;
        this.rnd = new SplittableRandom(seed);
        for (int i = 0; i < opt.nodes(); i++) {
            ids.add("n" + i);
        }
        for (int i = 0; i < opt.nodes(); i++) {
            double rate = 1 + opt.driftBound() * rnd.nextDouble(-1, 1);
            long offset = rnd.nextLong(1L << 40);
            Node n = new Node(i, new SimClock(0, offset, rate), opt.witness() && i == opt.nodes() - 1);
            nodes.add(n);
        }
    }

    /** The default schedule for a seed. */
    static List<Fault> defaultSchedule(long seed, SimOptions opt) {
        if (opt.membership() && opt.churn() && opt.voters() == 4) {
            return Fault.generateMembershipChurn(seed, opt.nodes(), opt.election(), 600_000 * MS);
        }
        return Fault.generate(seed, opt.nodes(), opt.election(), 600_000 * MS, opt.churn(), opt.membership());
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
            if (n.file != null) {
                n.file.close();
                n.file = null;
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
        afterInput(n);
        return true;
    }

    private void afterInput(Node n) {
        for (Message m : n.core.takeUrgentMessages()) {
            send(n, m);
        }
        if (n.pending == null && n.core.hasReady()) {
            n.pending = n.core.ready();
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
        persist(n, r);
        if (violation != null) {
            return;
        }
        for (Message m : r.messages()) {
            send(n, m);
        }
        if (r.installSnapshot() != null && n.witness) {
            count("witness_snapshot_installs");
            n.applied = r.installSnapshot().index(); // a witness has no state machine
        } else if (r.installSnapshot() != null) {
            // restore the state machine from the snapshot just made the store's base
            n.sm = StateMachine.decode(n.store.snap.state());
            n.applied = n.sm.index;
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
            n.applied = e.index();
            if (n.witness) {
                continue; // a witness applies nothing
            }
            n.sm.apply(e);
            if (!checkState(n, "after applying " + e)) {
                return;
            }
            String data = new String(e.data(), StandardCharsets.UTF_8);
            if (healed && data.startsWith("after-heal")) {
                servedAfterHeal = true;
            }
        }
        for (Ready.ReadState rs : r.reads()) {
            Long floor = readsAsked.remove(rs.requestId());
            if (floor == null) {
                fail("read " + rs.requestId() + " answered twice or never asked");
                return;
            }
            if (!rs.failed() && rs.index() < floor) {
                fail("(d) linearizable read on " + n.id + " at index " + rs.index() + " would miss "
                        + (floor - rs.index()) + " entries committed before it was asked");
                return;
            }
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
        if (n.applied - n.store.snap.index() >= opt.snapshotEvery() && n.applied <= n.core.log().stableIndex()) {
            takeSnapshot(n, local);
        }
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
        Store s = n.store;
        long index = n.applied;
        if (index > s.lastIndex()) {
            fail("(e) " + n.id + " applied " + index + " but its store ends at " + s.lastIndex());
            return;
        }
        if (s.prefixHashAt(index) != committedPrefix.get((int) index - 1)) {
            fail("(e) " + n.id + " snapshots at " + index + " a log prefix that differs from the committed one");
            return;
        }
        long prefix = s.prefixHashAt(index);
        s.dropPrefix(index);
        s.snap = new Snap(index, committed.get((int) index - 1).term(), n.witness ? new byte[0] : n.sm.encode());
        s.snapPrefixHash = prefix;
        n.previousSnap = n.latestSnap;
        n.latestSnap = s.snap;
        if (n.file != null) {
            byte[] state = s.snap.state();
            try {
                n.file.writeSnapshot(new SnapshotMeta(index, s.snap.term(), ids), out -> out.write(state));
            } catch (IOException | RuntimeException e) {
                fail("(storage) " + n.id + ": the file store refused snapshot " + index + ": " + e);
                return;
            }
        }
        s.snapMembership = n.core.membershipAt(index);
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
                Arrays.copyOfRange(snap.state(), from, to), to == snap.state().length, local);
    }

    private void persist(Node n, Ready r) {
        persistInMemory(n, r);
        if (n.file != null && violation == null) {
            mirror(n, r);
        }
    }

    /** Writes what {@code r} made durable to the node's real file store, and waits for its fsync. */
    private void mirror(Node n, Ready r) {
        try {
            if (r.hardState() != null) {
                n.file.persist(r.hardState(), List.of()).join();
            }
            if (r.installSnapshot() != null) {
                Snap snap = n.store.snap;
                try (SnapshotWriter w = n.file.beginSnapshot(new SnapshotMeta(snap.index(), snap.term(), ids))) {
                    w.write(snap.state(), 0, snap.state().length);
                    w.commit();
                }
            }
            if (!r.entries().isEmpty()) {
                n.file.persist(null, r.entries()).join();
            }
        } catch (IOException | RuntimeException e) {
            fail("(storage) " + n.id + ": the file store refused a write: " + e);
        }
    }

    /** Opens (or reopens after a crash) the node's file store; its recovered state must equal the durable state. */
    private void openFileStore(Node n) {
        try {
            n.file = FileRaftStorage.open(fileRoot.resolve(n.id));
            Store s = n.store;
            RaftStorage f = n.file;
            String diff = null;
            if (!f.hardState().equals(s.hardState)) {
                diff = "hard state " + f.hardState() + " instead of " + s.hardState;
            } else if (f.firstIndex() != s.snap.index() + 1 || f.lastIndex() != s.lastIndex()) {
                diff = "log " + f.firstIndex() + ".." + f.lastIndex() + " instead of " + (s.snap.index() + 1) + ".."
                        + s.lastIndex();
            } else if (s.snap.index() > 0) {
                Snapshot snap = f.latestSnapshot().orElse(null);
                if (snap == null || snap.meta().lastIndex() != s.snap.index() || snap.meta().lastTerm() != s.snap.term()) {
                    diff = "snapshot " + (snap == null ? "none" : snap.meta()) + " instead of " + s.snap.index() + "@"
                            + s.snap.term();
                } else {
                    try (InputStream in = snap.open()) {
                        if (!Arrays.equals(in.readAllBytes(), s.snap.state())) {
                            diff = "snapshot data differs";
                        }
                    }
                }
            }
            if (diff == null && s.lastIndex() > s.snap.index()
                    && !f.entries(f.firstIndex(), f.lastIndex() + 1, Long.MAX_VALUE).equals(s.entries)) {
                diff = "log entries differ";
            }
            if (diff != null) {
                fail("(storage) " + n.id + " recovered from its files with " + diff);
            }
        } catch (IOException | RuntimeException e) {
            fail("(storage) " + n.id + " could not reopen its file store: " + e);
        }
    }

    private void persistInMemory(Node n, Ready r) {
        Store s = n.store;
        if (r.hardState() != null) {
            if (r.hardState().term() < s.hardState.term()) {
                fail("term went backwards on " + n.id);
            }
            s.hardState = r.hardState();
        }
        for (Ready.SnapshotChunk c : r.snapshotChunks()) {
            if (c.offset() == 0) {
                s.recv.reset();
                s.recvIndex = c.index();
                s.recvTerm = c.term();
                s.recvComplete = false;
            } else if (s.recvIndex != c.index() || s.recvTerm != c.term() || s.recv.size() != c.offset()
                    || s.recvComplete) {
                fail(n.id + " was asked to persist chunk " + c + " that does not continue the snapshot received so far ("
                        + s.recvIndex + "@" + s.recvTerm + ", " + s.recv.size() + " bytes)");
                return;
            }
            s.recv.writeBytes(c.data());
            s.recvComplete = c.last();
        }
        if (r.installSnapshot() != null && !installSnapshot(n, r.installSnapshot())) {
            return;
        }
        if (r.entries().isEmpty()) {
            return;
        }
        long from = r.entries().get(0).index();
        if (from > s.lastIndex() + 1 || from <= s.snap.index()) {
            fail("(e) " + n.id + " was asked to persist entries from " + from + " to a log holding "
                    + (s.snap.index() + 1) + ".." + s.lastIndex());
            return;
        }
        s.truncateFrom(from);
        for (Entry e : r.entries()) {
            long prev = s.prefixHash.isEmpty() ? s.snapPrefixHash : s.prefixHash.get(s.prefixHash.size() - 1);
            long h = mix(prev * 31 + e.forWitness().hashCode());
            s.entries.add(e);
            s.prefixHash.add(h);
            Long known = prefixByIndexTerm.computeIfAbsent(e.index(), k -> new HashMap<>()).putIfAbsent(e.term(), h);
            if (known != null && known != h) {
                fail("(e) log matching: " + n.id + " has entry " + e.index() + "@" + e.term()
                        + " with a prefix that differs from another node's");
                return;
            }
        }
    }

    /** Makes the snapshot just received the store's base. */
    private boolean installSnapshot(Node n, Ready.SnapshotPoint p) {
        Store s = n.store;
        if (!s.recvComplete || s.recvIndex != p.index() || s.recvTerm != p.term()) {
            fail(n.id + " was asked to install snapshot " + p + " but holds " + (s.recvComplete ? "" : "part of ")
                    + s.recvIndex + "@" + s.recvTerm);
            return false;
        }
        if (p.index() > committed.size() || committed.get((int) p.index() - 1).term() != p.term()) {
            fail("(d) " + n.id + " installs snapshot " + p.index() + "@" + p.term()
                    + ", which is not the committed entry at that index");
            return false;
        }
        if (p.index() <= s.snap.index()) {
            fail(n.id + " installs snapshot " + p + " older than its own at " + s.snap.index());
            return false;
        }
        long prefix = committedPrefix.get((int) p.index() - 1);
        if (s.termAt(p.index()) == p.term()) {
            if (s.prefixHashAt(p.index()) != prefix) {
                fail("(e) log matching: " + n.id + " holds " + p.index() + "@" + p.term()
                        + " with a prefix that differs from the committed one");
                return false;
            }
            s.dropPrefix(p.index());
        } else {
            s.entries.clear();
            s.prefixHash.clear();
        }
        s.snap = new Snap(p.index(), p.term(), s.recv.toByteArray());
        s.snapMembership = p.membership();
        s.snapPrefixHash = prefix;
        s.recv.reset();
        s.recvComplete = false;
        n.previousSnap = n.latestSnap;
        n.latestSnap = s.snap;
        snapshotInstalls++;
        if (n.incarnation > 0 && !n.installedSinceRestart) {
            restartInstalls++;
        }
        n.installedSinceRestart = true;
        return true;
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
            if (opt.fastFailover()) {
                push(now + rnd.nextLong(50_000, 500_000), Type.REFUSED, from.index, null, to, null);
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
            long id = nextReadId++;
            if (n.core.readIndex(id, n.localNow())) {
                readsAsked.put(id, (long) committed.size());
            }
            afterInput(n);
            checkInvariants(n.index);
            return;
        }
        String data = (healed ? "after-heal-" : "c-") + (clientCounter++);
        n.core.propose(data.getBytes(StandardCharsets.UTF_8), n.localNow());
        afterInput(n);
        checkInvariants(n.index);
    }

    // ------------------------------------------------------------------ faults

    private void startNode(Node n) {
        if (fileRoot != null) {
            openFileStore(n);
        }
        Store s = n.store;
        List<Entry> durable = new ArrayList<>(s.entries);
        n.core = opt.bugs().newCore(coreConfig(n), s.hardState,
                new RaftLog(s.snap.index(), s.snap.term(), s.snapMembership, durable),
                n.localNow(), new SplittableRandom(seed * 1_000_003L + n.index * 7919L + n.incarnation), null);
        n.gate = new LeadershipGate();
        n.up = true;
        n.downBy = -1;
        // restart = the durable snapshot restored into the state machine, then the log after it
        n.sm = n.witness ? new StateMachine() : StateMachine.decode(s.snap.state());
        if (n.witness) {
            n.sm.index = s.snap.index();
        }
        n.applied = s.snap.index();
        n.checkedCommit = 0;
        n.latestSnap = s.snap.index() > 0 ? s.snap : null;
        n.previousSnap = null;
        n.installedSinceRestart = false;
        if (n.sm.index != s.snap.index()) {
            fail(n.id + " restarted from a snapshot at " + s.snap.index() + " whose state is at " + n.sm.index);
        }
        if (!n.witness) {
            checkState(n, "restored from its snapshot at restart");
        }
        n.leaderTermChecked = 0;
        n.pending = null;
        n.timerAt = Long.MAX_VALUE;
        afterInput(n);
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
        return new CoreConfig(n.id, m, opt.heartbeat(), opt.election(), opt.driftBound(), opt.maxBatchEntries(),
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
        Node l = null;
        for (Node c : nodes) {
            // the newest leader: a deposed one may not know yet
            if (c.up && !c.paused && c.core.role() == Role.LEADER && (l == null || c.core.term() > l.core.term())) {
                l = c;
            }
        }
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
                if (n != null && n.up) {
                    crash(n);
                    n.downBy = f.id();
                    push(now + f.duration(), Type.END_FAULT, n.index, null, 0, f);
                }
            }
            case CRASH_AFTER_COMMIT -> crashOnCommit = f;
            case RECONFIGURE_ON_ELECTION -> reconfigureOnElection = f;
            case PARTITION_ON_ELECTION -> partitionOnElection = f;
            case SLOW_DISK -> {
                n.slowDiskUntil = now + f.duration();
                n.slowDiskMaxNanos = (long) (f.value() * MS);
            }
            case ISOLATE_LEADER -> {
                for (Node l : nodes) {
                    if (l.up && l.core.role() == Role.LEADER) {
                        lastIsolatedLeader = l.index;
                        Fault p = new Fault(f.id(), f.at(), Fault.Kind.PARTITION, l.index, 1 << l.index, f.duration(), 0);
                        activeBlocks.put(f.id(), p);
                        push(now + f.duration(), Type.END_FAULT, l.index, null, 0, p);
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

    private void endFault(Event e) {
        Fault f = e.fault;
        Node n = f.node() >= 0 ? nodes.get(f.node()) : null;
        switch (f.kind()) {
            case CRASH, CRASH_LEADER, CRASH_AFTER_COMMIT -> {
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
            case PARTITION, ONE_WAY, CUT -> activeBlocks.remove(f.id());
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
            crash(n);
            n.downBy = f.id();
            push(now + f.duration(), Type.END_FAULT, n.index, null, 0, f);
        }
        crashNow = null;
    }

    private void crash(Node n) {
        if (n.file != null) {
            n.file.close(); // everything mirrored was already durable; the process just dies
            n.file = null;
        }
        n.up = false;
        n.paused = false;
        n.held.clear();
        n.pending = null;
        n.core = null;
        n.incarnation++;
        n.timerGen++;
        if (opt.fastFailover()) {
            for (Node o : nodes) {
                if (o != n) {
                    push(now + rnd.nextLong(100_000, 2 * MS), Type.REFUSED, o.index, null, n.index, null);
                }
            }
        }
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
        reconfigureOnElection = null;
        reconfigureNow = null;
        partitionOnElection = null;
        for (Node n : nodes) {
            n.slowDiskUntil = 0;
        }
        for (Node n : nodes) {
            if (!n.up) {
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
    }
}
