package io.haraft.examples;

import io.haraft.LeadershipListener;
import io.haraft.Leadership;
import io.haraft.NodeStatus;
import io.haraft.RaftNode;
import io.haraft.RevokeReason;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Heartbeat reliability probe: measures the links between nodes for N seconds with the library's
 * own heartbeat statistics (not ping), as an operator checks links before clustering over them.
 * It starts the members on loopback in this JVM and hands leadership round each of them, so every
 * node measures its links to the others as leader; then prints, per link, the answered share and
 * the round trip p50/p99/max, and a verdict against a 99.9% threshold. The last line is
 * {@code probe: links=<n> worst_answered=<share> verdict=<PASS|FAIL>}.
 *
 * <p>Usage: {@code probe [seconds] [nodes]} (defaults 6 and 3).
 */
public final class LinkProbe {
    static final double THRESHOLD = 0.999;

    private LinkProbe() {
    }

    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 6;
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        List<NodeStatus.PeerStats> links = probe(Duration.ofSeconds(seconds), n, true);
        double worst = links.stream().mapToDouble(NodeStatus.PeerStats::reliability).min().orElse(0);
        boolean pass = !links.isEmpty() && worst >= THRESHOLD;
        System.out.printf("probe: links=%d worst_answered=%.4f verdict=%s%n", links.size(), worst, pass ? "PASS" : "FAIL");
        System.exit(pass ? 0 : 1);
    }

    /** Measures every node's links to the others, {@code total / n} as leader each. */
    public static List<NodeStatus.PeerStats> probe(Duration total, int n, boolean print) throws Exception {
        List<String> ids = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
            ids.add("n" + i);
        }
        List<NodeStatus.PeerStats> out = new ArrayList<>();
        LeadershipListener quiet = new LeadershipListener() {
            @Override
            public void elected(Leadership l) {
            }

            @Override
            public void revoked(Leadership l, RevokeReason why) {
            }
        };
        try (InJvmCluster cluster = new InJvmCluster(ids, id -> quiet)) {
            Map<String, RaftNode> nodes = cluster.nodes();
            long slice = total.toMillis() / n;
            for (String id : ids) {
                String leader = cluster.awaitLeader(Duration.ofSeconds(30));
                if (!leader.equals(id)) {
                    nodes.get(leader).transferLeadership(id).get();
                    cluster.awaitLeader(Duration.ofSeconds(30));
                }
                Thread.sleep(slice);   // the window fills with heartbeats sent every 100 ms
                NodeStatus s = nodes.get(id).status();
                if (!s.isLeader()) {
                    continue; // lost leadership meanwhile: no trustworthy window for this node
                }
                for (NodeStatus.PeerStats p : s.peers()) {
                    out.add(p);
                    if (print) {
                        System.out.printf("probe: %s->%s answered %d/%d (%.2f%%) rtt p50=%.2f ms p99=%.2f ms max=%.2f ms %s%n",
                                id, p.peerId(), p.heartbeatsAnswered(), p.heartbeatsSent(), 100 * p.reliability(),
                                p.rttP50().toNanos() / 1e6, p.rttP99().toNanos() / 1e6, p.rttMax().toNanos() / 1e6,
                                p.reliability() >= THRESHOLD ? "ok" : "BELOW 99.9%");
                    }
                }
            }
        }
        return out;
    }
}
