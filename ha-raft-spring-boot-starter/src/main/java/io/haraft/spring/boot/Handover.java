package io.haraft.spring.boot;

import io.haraft.MemberRole;
import io.haraft.NodeStatus;
import io.haraft.RaftNode;
import java.time.Duration;
import java.util.Comparator;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Hands a leader's leadership to its most up-to-date voting peer. */
final class Handover {

    private static final Logger LOG = LoggerFactory.getLogger(Handover.class);

    private Handover() {
    }

    /**
     * Starts a handover if {@code node} leads and has a voting peer that can lead (not a witness):
     * to one it heard from within an election timeout if it can, the one with the shortest lag
     * among those. Completes when the peer leads. A node that does not lead, or has no such peer,
     * stays as it is.
     */
    static CompletableFuture<Void> toBestPeer(RaftNode node) {
        NodeStatus s = node.status();
        if (!s.isLeader()) {
            return CompletableFuture.completedFuture(null);
        }
        // Prefer a peer heard from within an election timeout (one that just stopped may still
        // look up to date), then the one with the shortest log lag.
        Duration recent = node.config().electionTimeout();
        Set<String> heard = s.peers().stream()
                .filter(p -> p.lastContact().map(d -> d.compareTo(recent) < 0).orElse(false))
                .map(NodeStatus.PeerStats::peerId).collect(Collectors.toSet());
        Optional<NodeStatus.MemberStatus> best = s.members().stream()
                .filter(m -> m.role() == MemberRole.VOTER && !m.id().equals(s.nodeId()))
                .min(Comparator.comparing((NodeStatus.MemberStatus m) -> !heard.contains(m.id()))
                        .thenComparingLong(m -> m.lag().orElse(Long.MAX_VALUE)));
        if (best.isEmpty()) {
            LOG.warn("Node {} keeps its leadership: no other voter can take it over", s.nodeId());
            return CompletableFuture.completedFuture(null);
        }
        String target = best.get().id();
        LOG.info("Node {} hands its leadership over to {}", s.nodeId(), target);
        return node.transferLeadership(target).whenComplete((ok, e) -> {
            if (e != null) {
                LOG.warn("Handover from {} to {} did not complete: {}", s.nodeId(), target, e.toString());
            }
        });
    }
}
