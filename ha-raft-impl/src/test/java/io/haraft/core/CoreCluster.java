package io.haraft.core;

import io.haraft.core.log.Entry;
import io.haraft.core.log.RaftLog;

import java.util.ArrayList;
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
 */
final class CoreCluster {
    static final long MS = 1_000_000L;

    final Map<String, RaftCore> cores = new LinkedHashMap<>();
    final Map<String, List<LeadershipEvent>> events = new HashMap<>();
    final Map<String, List<Entry>> applied = new HashMap<>();
    final Map<String, List<Ready.ReadState>> reads = new HashMap<>();
    final List<Message> inFlight = new ArrayList<>();
    final List<String> ids;
    long now = 1_000 * MS;
    Predicate<Message> drop = m -> false;

    CoreCluster(int n) {
        this(n, PlantedBugs.NONE, 64);
    }

    CoreCluster(int n, PlantedBugs bugs, int maxBatch) {
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
        CoreConfig cfg = CoreConfig.defaults(id, ids).withBatching(maxBatch, 1 << 20, maxBatch == 1 ? 1 : 64);
        cores.put(id, bugs.newCore(cfg, hs, log, now, new SplittableRandom(id.hashCode()), null));
        events.put(id, new ArrayList<>());
        applied.put(id, new ArrayList<>());
        reads.put(id, new ArrayList<>());
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
                    for (Message m : r.messages()) {
                        if (!drop.test(m)) {
                            inFlight.add(m);
                        }
                    }
                    applied.get(e.getKey()).addAll(r.committed());
                    events.get(e.getKey()).addAll(r.events());
                    reads.get(e.getKey()).addAll(r.reads());
                    c.advance(r, now);
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
        elapse(2 * CoreConfig.defaults(id, ids).electionTimeoutNanos() + 1);
        tick(id);
        deliverAll();
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
