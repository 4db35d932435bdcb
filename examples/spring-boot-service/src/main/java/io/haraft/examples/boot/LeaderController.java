package io.haraft.examples.boot;

import io.haraft.Leadership;
import io.haraft.NodeStatus;
import io.haraft.RaftNode;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

import java.util.List;
import java.util.Optional;

/**
 * {@code GET /leader}: who leads, as this node sees it, and what this node did as leader.
 *
 * <pre>{@code
 * {"nodeId":"n1","leaderId":"n2","term":3,"leader":false,"token":null,"jobRunning":false,"granted":[2]}
 * }</pre>
 */
@RestController
public class LeaderController {

    private final RaftNode node;
    private final LeaderTicks ticks;

    LeaderController(RaftNode node, LeaderTicks ticks) {
        this.node = node;
        this.ticks = ticks;
    }

    /**
     * This node's view.
     *
     * @param nodeId     this node
     * @param leaderId   the leader this node knows of in its current term; {@code null} if none
     * @param term       this node's current term
     * @param leader     whether this node holds a valid leadership now
     * @param token      the fencing token of that leadership; {@code null} when not leader
     * @param jobRunning whether the leader-only job runs on this node now
     * @param granted    the tokens of every leadership this node was granted since it started
     */
    public record LeaderView(String nodeId, String leaderId, long term, boolean leader, Long token,
                             boolean jobRunning, List<Long> granted) {
    }

    /** Returns this node's view of the leadership. */
    @GetMapping("/leader")
    public LeaderView leader() {
        List<Long> granted = ticks.grantedTokens();
        boolean jobRunning = ticks.isRunning();
        Optional<Leadership> leadership = node.leadership();
        NodeStatus status = node.status();
        return new LeaderView(status.nodeId(), status.leaderId().orElse(null), status.term(), leadership.isPresent(),
                leadership.map(l -> l.token().value()).orElse(null), jobRunning, granted);
    }
}
