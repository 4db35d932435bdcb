package io.haraft.runtime;

import io.haraft.core.CoreConfig;
import io.haraft.core.HardState;
import io.haraft.core.Message;
import io.haraft.core.RaftCore;
import io.haraft.core.Ready;
import io.haraft.core.Role;
import io.haraft.core.log.RaftLog;
import io.haraft.transport.MessageCodec;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Runs the code of an election before the node needs it, so that a failover does not pay for a
 * cold JVM.
 *
 * <p>A node may follow for months and then lead within milliseconds; the first time a JVM runs the
 * candidate, vote, leader and transfer code (and encodes those message types), it loads and links
 * their classes and interprets them, which costs tens of milliseconds on every step of a failover
 * (measured in {@code benchmarks}: a graceful handover to a freshly started node took about 80 ms,
 * the same handover between warm nodes about 10 ms). At start-up, this class runs a throwaway
 * three-node cluster of pure {@link RaftCore}s in memory with a manual clock (the production core,
 * the same timing settings), through elections, commits, reads, leadership transfers and crashes
 * with the fast path, passing every message through the wire codec. It touches no file, socket or
 * clock of the node, and shares no state with it; it runs on its own low-priority thread and ends
 * by itself (a few hundred milliseconds of CPU at most).
 */
final class Warmup {
    private static final String[] IDS = {"warmup-1", "warmup-2", "warmup-3"};

    private final Map<String, RaftCore> cores = new LinkedHashMap<>();
    private final ArrayDeque<Message> wire = new ArrayDeque<>();
    private String down;
    private long now = 1_000_000_000L;
    private final long electionNanos;

    private Warmup(CoreConfig like) {
        this.electionNanos = like.electionTimeoutNanos();
        List<String> voters = List.of(IDS);
        for (String id : IDS) {
            CoreConfig cfg = CoreConfig.defaults(id, voters).withTimes(like.heartbeatNanos(), like.electionTimeoutNanos())
                    .withFastFailover(true);
            cores.put(id, new RaftCore(cfg, HardState.INITIAL, RaftLog.empty(), now, new SplittableRandom(id.hashCode()),
                    null));
        }
    }

    /** Starts the warm-up on a daemon thread of minimum priority; returns at once. */
    static Thread startInBackground(CoreConfig like, String clusterId, String nodeId, int rounds) {
        Thread t = new Thread(() -> {
            MDC.put("cluster", clusterId);
            MDC.put("node", nodeId);
            try {
                new Warmup(like).run(rounds);
            } catch (RuntimeException e) {
                // a warm-up that fails costs speed, never safety: it shares nothing with the node
                LoggerFactory.getLogger(Warmup.class).debug("warm-up of node {} ended early", nodeId, e);
            }
        }, "haraft-warmup-" + nodeId);
        t.setDaemon(true);
        t.setPriority(Thread.MIN_PRIORITY);
        t.start();
        return t;
    }

    /**
     * Runs {@code rounds} rounds of proposals, reads and a change of leader (three in four by
     * transfer, one in four by a crash seen as a refused connection).
     *
     * @return how many rounds ended with a new leader elected (all of them, unless a round stalled)
     */
    int run(int rounds) {
        String leader = awaitLeader();
        int changes = 0;
        for (int r = 0; r < rounds && leader != null; r++) {
            RaftCore l = cores.get(leader);
            for (int i = 0; i < 4; i++) {
                l.propose(new byte[] {(byte) r, (byte) i}, now);
            }
            l.readIndex(r, now);
            l.leaseRead(-1 - r, now);
            settle();
            String next = IDS[(indexOf(leader) + 1) % IDS.length];
            if (r % 4 == 3) {
                // a crash detected through a refused connection: the followers campaign at once
                down = leader;
                for (String id : IDS) {
                    if (!id.equals(leader)) {
                        cores.get(id).peerUnreachable(leader, now);
                    }
                }
                String survivor = awaitLeader();
                down = null; // back: it hears of the new term and repairs its log from the new leader
                leader = survivor;
            } else {
                l.transferLeadership(next, now);
                settle();
                leader = awaitLeader();
            }
            if (leader != null && !leader.equals(l.id())) {
                changes++;
            }
        }
        return changes;
    }

    /** For tests: a warm-up over cores configured like {@code like}. */
    static Warmup forTest(CoreConfig like) {
        return new Warmup(like);
    }

    /** The elected leader of the highest term among the live cores, once there is one. */
    private String awaitLeader() {
        long deadline = now + 50 * electionNanos;
        while (now < deadline) {
            settle();
            RaftCore best = null;
            for (RaftCore c : cores.values()) {
                if (!c.id().equals(down) && c.role() == Role.LEADER && c.isElected()
                        && (best == null || c.term() > best.term())) {
                    best = c;
                }
            }
            if (best != null) {
                return best.id();
            }
            long next = Long.MAX_VALUE;
            for (RaftCore c : cores.values()) {
                if (!c.id().equals(down)) {
                    next = Math.min(next, c.nextDeadline());
                }
            }
            now = Math.max(now + 1, Math.min(next, now + electionNanos));
            for (RaftCore c : cores.values()) {
                if (!c.id().equals(down) && now >= c.nextDeadline()) {
                    c.tick(now);
                }
            }
        }
        return null;
    }

    /** Delivers messages and processes Readies until nothing moves. */
    private void settle() {
        boolean moved = true;
        for (int guard = 0; moved && guard < 10_000; guard++) {
            moved = false;
            for (RaftCore c : cores.values()) {
                if (c.id().equals(down)) {
                    continue;
                }
                wire.addAll(c.takeUrgentMessages());
                while (c.hasReady()) {
                    Ready ready = c.ready();
                    wire.addAll(ready.messages());
                    c.advance(ready, now);
                    moved = true;
                }
            }
            List<Message> batch = new ArrayList<>(wire);
            wire.clear();
            for (Message m : batch) {
                moved = true;
                if (m.to().equals(down) || m.from().equals(down)) {
                    continue;
                }
                now += 50_000; // 50 µs a hop, so that leases and rounds see time pass
                cores.get(m.to()).step(MessageCodec.decode(MessageCodec.encode(m)), now);
            }
        }
    }

    private static int indexOf(String id) {
        for (int i = 0; i < IDS.length; i++) {
            if (IDS[i].equals(id)) {
                return i;
            }
        }
        return 0;
    }
}
