package io.haraft.bench.node;

import io.haraft.Leadership;
import io.haraft.LeadershipListener;
import io.haraft.NodeStatus;
import io.haraft.RaftNode;
import io.haraft.RevokeReason;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * HA-Raft through its public API only ({@link RaftNode#builder()}; the implementation comes from
 * {@code ServiceLoader}). Ready to serve = the {@code elected} callback, which HA-Raft delivers
 * once the leader's first entry of its term is committed. Graceful stop = {@code close()}, which
 * transfers leadership first.
 */
final class HaRaftNode implements SystemNode {

    private RaftNode node;

    @Override
    public void start(NodeArgs a) {
        node = builder(a).listener(new LeadershipListener() {
            @Override
            public void elected(Leadership l) {
                Events.ready(l.term());
            }

            @Override
            public void revoked(Leadership l, RevokeReason why) {
            }
        }).build();
        node.start();
    }

    /** A builder with this node's id, members, data directory, timeouts and fast path. */
    static RaftNode.Builder builder(NodeArgs a) {
        RaftNode.Builder b = RaftNode.builder()
                .clusterId("bench")
                .nodeId(a.id())
                .dataDir(a.dataDir())
                .fastFailoverOnRefusedConnection(a.fastPath());
        for (Map.Entry<String, String> m : a.members().entrySet()) {
            b.member(m.getKey(), m.getValue());
        }
        if (a.heartbeatMs() > 0) {
            b.heartbeatInterval(Duration.ofMillis(a.heartbeatMs()));
        }
        if (a.electionMs() > 0) {
            b.electionTimeout(Duration.ofMillis(a.electionMs()));
        }
        return b;
    }

    @Override
    public String view() {
        NodeStatus s = node.status();
        return s.leaderId().orElse("-") + " " + s.term();
    }

    @Override
    public void stopGracefully() {
        node.close();
    }

    @Override
    public CompletableFuture<?> submit(byte[] payload) {
        return node.submit(payload);
    }
}
