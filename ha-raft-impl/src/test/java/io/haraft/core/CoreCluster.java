package io.haraft.core;

import io.haraft.core.log.Entry;
import io.haraft.core.log.RaftLog;
import io.haraft.core.read.ReadState;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Predicate;

/**
 * A small synchronous harness for core unit tests: N cores sharing one manual clock, Readies
 * processed at once (persist, send, record events, advance), messages kept in a queue that tests
 * deliver explicitly or drop with a filter.
 *
 * <p>Snapshots: {@link #compact} gives a node a snapshot and compacts its core; snapshot requests
 * are served at once from a node's latest snapshot in {@link #chunkBytes}-byte chunks (unless
 * {@link #serveSnapshots} is off, or {@link #unavailable} says so); received chunks are
 * assembled and installed snapshots recorded in {@link #installed}.
 */
final class CoreCluster {
    static final long MS = 1_000_000L;

    final Map<String, RaftCore> cores = new LinkedHashMap<>();
    final Map<String, List<LeadershipEvent>> events = new HashMap<>();
    final Map<String, List<Entry>> applied = new HashMap<>();
    final Map<String, List<ReadState>> reads = new HashMap<>();
    /** Each node's hard state as last persisted (for {@link #restart}). */
    final Map<String, HardState> hardStates = new HashMap<>();
    /** The logger each node's core gets at its next {@link #add} (none unless set). */
    final Map<String, org.slf4j.Logger> loggers = new HashMap<>();
    final List<Message> inFlight = new ArrayList<>();
    /** Every message handed out by any core, in order, dropped or not. */
    final List<Message> sent = new ArrayList<>();
    final Map<String, Snapshot> snapshots = new HashMap<>();
    final Map<String, ByteArrayOutputStream> receiving = new HashMap<>();
    final Map<String, List<Snapshot>> installed = new HashMap<>();
    final List<Ready.SnapshotRequest> requests = new ArrayList<>();
    int chunkBytes = 8;
    boolean serveSnapshots = true;
    Predicate<Ready.SnapshotRequest> unavailable = r -> false;
    final List<String> ids;
    long now = 1_000 * MS;
    Predicate<Message> drop = m -> false;
    /** The cluster identities each node's Readies reported learnt, in order. */
    final Map<String, List<java.util.UUID>> identitiesLearnt = new HashMap<>();

    /** Applied to every node's core configuration, at start and at every {@link #add}. */
    private final java.util.function.UnaryOperator<CoreConfig> tune;
    /**
     * Applied after {@link #tune} to the named node's configuration at every {@link #add}: nodes
     * configured differently (e.g. other timings). Tests may change it between restarts.
     */
    final Map<String, java.util.function.UnaryOperator<CoreConfig>> perNode = new HashMap<>();

    CoreCluster(int n) {
        this(n, PlantedBugs.NONE, 64);
    }

    /** {@code n} nodes whose configurations are changed by {@code tune} (e.g. the fast-failover switch). */
    CoreCluster(int n, java.util.function.UnaryOperator<CoreConfig> tune) {
        this(n, PlantedBugs.NONE, 64, tune);
    }

    CoreCluster(int n, PlantedBugs bugs, int maxBatch) {
        this(n, bugs, maxBatch, java.util.function.UnaryOperator.identity());
    }

    /** {@code n} nodes, each configured by {@code perNode} (by id; identity for ids it lacks). */
    CoreCluster(int n, PlantedBugs bugs, Map<String, java.util.function.UnaryOperator<CoreConfig>> perNode) {
        this(n, bugs, 64, java.util.function.UnaryOperator.identity(), perNode);
    }

    private CoreCluster(int n, PlantedBugs bugs, int maxBatch, java.util.function.UnaryOperator<CoreConfig> tune) {
        this(n, bugs, maxBatch, tune, Map.of());
    }

    private CoreCluster(int n, PlantedBugs bugs, int maxBatch, java.util.function.UnaryOperator<CoreConfig> tune,
                        Map<String, java.util.function.UnaryOperator<CoreConfig>> perNode) {
        this.tune = tune;
        this.perNode.putAll(perNode);
        ids = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
            ids.add("n" + i);
        }
        for (String id : ids) {
            add(id, bugs, maxBatch, HardState.INITIAL, RaftLog.empty());
        }
    }

    /** Replaces a node's core, as if it restarted with this durable state. */
    void add(String id, PlantedBugs bugs, int maxBatch, HardState hs, RaftLog log) {
        add(id, io.haraft.core.quorum.Membership.ofVoters(ids), bugs, maxBatch, hs, log);
    }

    /** Starts (or restarts) {@code id} with {@code bootstrap} as its configuration until its log has one. */
    void add(String id, io.haraft.core.quorum.Membership bootstrap, PlantedBugs bugs, int maxBatch, HardState hs,
             RaftLog log) {
        CoreConfig cfg = tune.apply(CoreConfig.defaults(ids.get(0), ids).withMembership(bootstrap).withNodeId(id)
                .withBatching(maxBatch, 1 << 20, maxBatch == 1 ? 1 : 64));
        cfg = perNode.getOrDefault(id, java.util.function.UnaryOperator.identity()).apply(cfg);
        cores.put(id, bugs.newCore(cfg, hs, log, now, new SplittableRandom(id.hashCode()), loggers.get(id)));
        events.put(id, new ArrayList<>());
        applied.put(id, new ArrayList<>());
        reads.put(id, new ArrayList<>());
        receiving.put(id, new ByteArrayOutputStream());
        installed.put(id, new ArrayList<>());
    }

    /**
     * Restarts {@code id} from what it persisted: its last hard state and its log (which must not
     * be compacted), with its configuration as {@link #perNode} now says.
     */
    void restart(String id) {
        RaftCore before = core(id);
        add(id, PlantedBugs.NONE, 64, hardStates.getOrDefault(id, HardState.INITIAL),
                new RaftLog(0, 0, before.log().range(1, before.log().stableIndex())));
    }

    /**
     * A node's state-machine snapshot: its bytes stand for the state after applying up to
     * {@code index}; {@code membership} is the configuration stored with it.
     */
    record Snapshot(long index, long term, byte[] data, io.haraft.core.quorum.Membership membership) { }

    /** Gives {@code id} a snapshot at {@code index} ({@code size} bytes) and compacts its log up to it. */
    void compact(String id, long index, int size) {
        byte[] data = new byte[size];
        for (int i = 0; i < size; i++) {
            data[i] = (byte) (index * 31 + i);
        }
        snapshots.put(id, new Snapshot(index, core(id).log().term(index), data, core(id).membershipAt(index)));
        core(id).compact(index, now);
    }

    /** Serves one snapshot request as the runtime would: one chunk of the latest snapshot. */
    void serve(String id, Ready.SnapshotRequest r) {
        Snapshot snap = snapshots.get(id);
        if (snap == null || snap.index() != r.index() || snap.term() != r.term() || unavailable.test(r)) {
            core(id).snapshotUnavailable(r.peer(), now);
            return;
        }
        int from = (int) r.offset();
        int to = Math.min(snap.data().length, from + chunkBytes);
        core(id).snapshotChunk(r.peer(), r.index(), r.term(), r.offset(),
                Arrays.copyOfRange(snap.data(), from, to), to == snap.data().length, snap.membership(), now);
    }

    RaftCore core(String id) {
        return cores.get(id);
    }

    /** Moves the shared clock without ticking anybody. */
    void elapse(long nanos) {
        now += nanos;
    }

    /** Ticks every core at the current time and processes their output. */
    void tickAll() {
        for (RaftCore c : cores.values()) {
            c.tick(now);
        }
        flush();
    }

    void tick(String id) {
        core(id).tick(now);
        flush();
    }

    /** Processes every pending Ready: persistence is instantaneous. */
    void flush() {
        boolean again = true;
        while (again) {
            again = false;
            for (Map.Entry<String, RaftCore> e : cores.entrySet()) {
                RaftCore c = e.getValue();
                if (c.hasReady()) {
                    Ready r = c.ready();
                    String id = e.getKey();
                    for (Ready.SnapshotChunk chunk : r.snapshotChunks()) {
                        if (chunk.offset() == 0) {
                            receiving.get(id).reset();
                        }
                        receiving.get(id).writeBytes(chunk.data());
                    }
                    if (r.installSnapshot() != null) {
                        Snapshot snap = new Snapshot(r.installSnapshot().index(), r.installSnapshot().term(),
                                receiving.get(id).toByteArray(), r.installSnapshot().membership());
                        snapshots.put(id, snap);
                        installed.get(id).add(snap);
                    }
                    if (r.hardState() != null) {
                        hardStates.put(id, r.hardState());
                    }
                    if (r.clusterUuid() != null) {
                        identitiesLearnt.computeIfAbsent(id, k -> new ArrayList<>()).add(r.clusterUuid());
                    }
                    sent.addAll(r.messages());
                    for (Message m : r.messages()) {
                        if (!drop.test(m)) {
                            inFlight.add(m);
                        }
                    }
                    applied.get(e.getKey()).addAll(r.committed());
                    events.get(e.getKey()).addAll(r.events());
                    reads.get(e.getKey()).addAll(r.reads());
                    c.advance(r, now);
                    requests.addAll(r.snapshotRequests());
                    if (serveSnapshots) {
                        for (Ready.SnapshotRequest req : r.snapshotRequests()) {
                            serve(id, req);
                        }
                        requests.clear();
                    }
                    again = true;
                }
            }
        }
    }

    /** Delivers queued messages (and those they cause) until none is left. */
    void deliverAll() {
        int guard = 0;
        flush();
        while (!inFlight.isEmpty()) {
            if (++guard > 100_000) {
                throw new IllegalStateException("messages never settle");
            }
            Message m = inFlight.remove(0);
            if (drop.test(m)) {
                continue;
            }
            core(m.to()).step(m, now);
            flush();
        }
    }

    /** Delivers only messages matching {@code which}, leaving the rest queued. */
    void deliverOnly(Predicate<Message> which) {
        flush();
        boolean progress = true;
        while (progress) {
            progress = false;
            for (int i = 0; i < inFlight.size(); i++) {
                Message m = inFlight.get(i);
                if (which.test(m)) {
                    inFlight.remove(i);
                    core(m.to()).step(m, now);
                    flush();
                    progress = true;
                    break;
                }
            }
        }
    }

    /** Lets {@code id} time out and win an election, others having been silent for 2E. */
    void elect(String id) {
        elapse(2 * CoreConfig.defaults(ids.get(0), ids).electionTimeoutNanos() + 1);
        tick(id);
        deliverAll();
        if (core(id).role() != Role.LEADER) {
            throw new IllegalStateException(id + " did not win: " + core(id));
        }
    }

    /**
     * Lets {@code id} time out and win an election, delivering only the election's messages: it
     * leads, but the first entry of its term is not committed yet.
     */
    void electWithoutCommit(String id) {
        elapse(2 * CoreConfig.defaults(ids.get(0), ids).electionTimeoutNanos() + 1);
        tick(id);
        deliverOnly(m -> m instanceof Message.PreVote || m instanceof Message.PreVoteResponse
                || m instanceof Message.Vote || m instanceof Message.VoteResponse);
        if (core(id).role() != Role.LEADER) {
            throw new IllegalStateException(id + " did not win: " + core(id));
        }
    }

    /** Advances time in heartbeat steps, ticking everyone and delivering everything. */
    void run(long nanos) {
        long end = now + nanos;
        while (now < end) {
            elapse(Math.min(10 * MS, end - now));
            tickAll();
            deliverAll();
        }
    }

    List<String> leaders() {
        return cores.values().stream().filter(c -> c.role() == Role.LEADER).map(RaftCore::id).toList();
    }

    static Predicate<Message> isolate(String id) {
        return m -> m.from().equals(id) || m.to().equals(id);
    }
}
