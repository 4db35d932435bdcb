package io.haraft.runtime;

import io.haraft.NodeStatus;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Per-peer heartbeat statistics over a sliding window of the last {@value #WINDOW} heartbeats:
 * round-trip times (from sending a Heartbeat to receiving the HeartbeatResponse of the same term
 * and round) and the share answered. A heartbeat younger than {@code undecidedNanos} that has no
 * answer yet is left out of the counts: it may still be answered.
 *
 * <p>Besides the window, each peer has two counters since the node started, for measurements
 * longer than the window: each heartbeat is counted once, when its outcome is decided: answered
 * (at the answer), or lost (found unanswered at least {@code undecidedNanos} old by a snapshot, or
 * pushed out of the window unanswered). A late answer to a heartbeat already counted as lost
 * changes the window but not the counters.
 *
 * <p>Written by the loop thread, read by {@code status()} callers; one short lock. The peers follow
 * the cluster's configuration ({@link #setPeers}).
 */
final class HeartbeatStats {
    static final int WINDOW = 128;

    private static final class Peer {
        final long[] term = new long[WINDOW];
        final long[] round = new long[WINDOW];
        final long[] sentAt = new long[WINDOW];
        final long[] rtt = new long[WINDOW];   // -1 = not answered
        final boolean[] decided = new boolean[WINDOW];   // counted in the totals
        int next;
        int count;
        long totalSent;
        long totalAnswered;
        long lastHeard = Long.MIN_VALUE;
    }

    private final Map<String, Peer> peers = new LinkedHashMap<>();
    private final long undecidedNanos;

    HeartbeatStats(List<String> peerIds, long undecidedNanos) {
        for (String p : peerIds) {
            peers.put(p, new Peer());
        }
        this.undecidedNanos = undecidedNanos;
    }

    /** The peers changed with the configuration: keeps the windows of those that stay, in the new order. */
    synchronized void setPeers(Collection<String> peerIds) {
        Map<String, Peer> next = new LinkedHashMap<>();
        for (String p : peerIds) {
            Peer known = peers.get(p);
            next.put(p, known != null ? known : new Peer());
        }
        peers.clear();
        peers.putAll(next);
    }

    synchronized void sent(String peer, long term, long round, long now) {
        Peer p = peers.get(peer);
        if (p == null) {
            return;
        }
        int i = p.next;
        if (p.count == WINDOW && !p.decided[i]) {
            p.totalSent++;   // pushed out unanswered: lost
        }
        p.decided[i] = false;
        p.term[i] = term;
        p.round[i] = round;
        p.sentAt[i] = now;
        p.rtt[i] = -1;
        p.next = (i + 1) % WINDOW;
        p.count = Math.min(WINDOW, p.count + 1);
    }

    /**
     * The answer to the heartbeat of {@code term} and {@code round} arrived from {@code peer}.
     *
     * @return its round trip in nanoseconds, or -1 if it answers no heartbeat in the window or
     *         one answered before
     */
    synchronized long answered(String peer, long term, long round, long now) {
        Peer p = peers.get(peer);
        if (p == null) {
            return -1;
        }
        for (int k = 1; k <= p.count; k++) {
            int i = Math.floorMod(p.next - k, WINDOW);
            if (p.term[i] == term && p.round[i] == round) {
                long first = -1;
                if (p.rtt[i] < 0) {
                    p.rtt[i] = Math.max(0, now - p.sentAt[i]);
                    first = p.rtt[i];
                }
                if (!p.decided[i]) {
                    p.decided[i] = true;
                    p.totalSent++;
                    p.totalAnswered++;
                }
                return first;
            }
        }
        return -1;
    }

    /**
     * The share of the heartbeats to {@code peer} in the window that it answered, counted as
     * {@link #snapshot} counts them (one younger than the undecided time without an answer is left
     * out); {@link Double#NaN} if none counts (this node sent none: it does not lead) or the peer
     * is unknown.
     */
    synchronized double answeredShare(String peer, long now) {
        Peer p = peers.get(peer);
        if (p == null) {
            return Double.NaN;
        }
        int sent = 0;
        int answered = 0;
        for (int k = 1; k <= p.count; k++) {
            int i = Math.floorMod(p.next - k, WINDOW);
            if (p.rtt[i] >= 0) {
                answered++;
                sent++;
            } else if (now - p.sentAt[i] >= undecidedNanos) {
                sent++;
            }
        }
        return sent == 0 ? Double.NaN : (double) answered / sent;
    }

    synchronized void heard(String peer, long now) {
        Peer p = peers.get(peer);
        if (p != null) {
            p.lastHeard = now;
        }
    }

    /** Whether {@code peer} was heard from at most {@code withinNanos} before {@code now}. */
    synchronized boolean heardWithin(String peer, long withinNanos, long now) {
        Peer p = peers.get(peer);
        return p != null && p.lastHeard != Long.MIN_VALUE && now - p.lastHeard <= withinNanos;
    }

    synchronized List<NodeStatus.PeerStats> snapshot(long now) {
        List<NodeStatus.PeerStats> out = new ArrayList<>(peers.size());
        for (Map.Entry<String, Peer> e : peers.entrySet()) {
            Peer p = e.getValue();
            long[] rtts = new long[p.count];
            int answered = 0;
            int sent = 0;
            for (int k = 1; k <= p.count; k++) {
                int i = Math.floorMod(p.next - k, WINDOW);
                if (p.rtt[i] >= 0) {
                    rtts[answered++] = p.rtt[i];
                    sent++;
                } else if (now - p.sentAt[i] >= undecidedNanos) {
                    sent++;
                }
                if (!p.decided[i] && now - p.sentAt[i] >= undecidedNanos) {
                    p.decided[i] = true;   // unanswered for too long: lost
                    p.totalSent++;
                }
            }
            long[] sorted = Arrays.copyOf(rtts, answered);
            Arrays.sort(sorted);
            Optional<Duration> lastContact = p.lastHeard == Long.MIN_VALUE
                    ? Optional.empty() : Optional.of(Duration.ofNanos(Math.max(0, now - p.lastHeard)));
            out.add(new NodeStatus.PeerStats(e.getKey(), percentile(sorted, 0.50), percentile(sorted, 0.99),
                    percentile(sorted, 1.0), sent, answered, lastContact, p.totalSent, p.totalAnswered));
        }
        return out;
    }

    private static Duration percentile(long[] sorted, double q) {
        if (sorted.length == 0) {
            return Duration.ZERO;
        }
        int rank = (int) Math.ceil(q * sorted.length) - 1;
        return Duration.ofNanos(sorted[Math.max(0, Math.min(sorted.length - 1, rank))]);
    }
}
