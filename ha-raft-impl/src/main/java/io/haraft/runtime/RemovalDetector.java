package io.haraft.runtime;

import io.haraft.RaftConfig;
import io.haraft.core.RaftCore;
import io.haraft.core.Role;
import io.haraft.core.quorum.Membership;
import io.haraft.transport.Transport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashSet;
import java.util.Set;

/**
 * Decides when a node has learned that it was removed from its cluster, and then stops it (once).
 * Loop thread only: {@link NodeLoop} reports what it hears and asks after every iteration.
 *
 * <p>Removed means: the committed configuration lacks this node, after this node had been a
 * member. A node that joins catches up through log entries older than its own addition, whose
 * configurations do not list it yet; it is a member once a committed configuration in its log (or
 * snapshot) lists it. A founding member (a voter or witness in its start-up configuration) is one
 * from the start.
 *
 * <p>The leader tells a removed node that its removal committed with one last heartbeat, whose
 * commit index is capped at what that node acknowledged: if the removal committed before that
 * node acknowledged it (or even received it), it never hears of the commit. So a member that
 * heard from no leader for {@value #ORPHAN_TIMEOUTS} election timeouts also stops when its
 * latest configuration (stored, maybe not committed) leaves it out, or when a majority of the
 * voters of that configuration refused its streams as a non-member
 * ({@link Transport.Listener#onRejectedAsNonMember}): either its removal committed, or it is
 * cut off from a cluster that is removing it. Stopping is always safe; a node whose removal was
 * in fact undone would be contacted by a leader within an election timeout. A leader never stops
 * this way (it hears from no leader but itself).
 */
final class RemovalDetector {
    /** The log of {@link NodeLoop}, which these messages have always been written to. */
    private static final Logger LOG = LoggerFactory.getLogger(NodeLoop.class);
    /**
     * How many election timeouts without a leader a node left out of its latest configuration waits
     * before it stops: long enough for it to win an election first when it is the one node able to
     * commit its own removal (it then hands over).
     */
    static final int ORPHAN_TIMEOUTS = 5;

    private final RaftConfig config;
    private final RaftCore core;
    private final MonotonicClock clock;
    private final long electionTimeoutNanos;
    private final Runnable onRemoved;
    private boolean memberConfirmed;
    private boolean removed;
    private long lastLeaderMessage;                 // when a leader's append, heartbeat or snapshot arrived
    private final Set<String> rejectedBy = new HashSet<>();   // peers that refused us as a non-member since

    /**
     * @param onRemoved called once (on the loop thread) when this node learns that it was removed
     *                  from the cluster: the node stops itself
     */
    RemovalDetector(RaftConfig config, RaftCore core, MonotonicClock clock, long electionTimeoutNanos,
                    Runnable onRemoved) {
        this.config = config;
        this.core = core;
        this.clock = clock;
        this.electionTimeoutNanos = electionTimeoutNanos;
        this.onRemoved = onRemoved;
        this.memberConfirmed = config.self().role().votes();
        this.lastLeaderMessage = clock.nanos();
    }

    /** A leader's append, heartbeat or snapshot arrived at {@code now}. */
    void leaderHeard(long now) {
        lastLeaderMessage = now;
        rejectedBy.clear();
    }

    /** {@code peerId} refused this node's streams as a non-member. */
    void rejectedBy(String peerId) {
        rejectedBy.add(peerId);
    }

    /** Stops the node (once) if it has learned that it was removed; see the class comment. */
    void check() {
        if (removed) {
            return;
        }
        if (!memberConfirmed) {
            Membership stored = core.log().membershipAt(core.commitIndex());
            memberConfirmed = stored != null && stored.contains(config.nodeId());
        }
        if (!memberConfirmed) {
            return;
        }
        long silent = clock.nanos() - lastLeaderMessage;
        if (core.isRemoved()) {
            removed = true;
            LOG.warn("term {}: node {} was removed from cluster {}: the committed configuration {} does not list it;"
                    + " it stops now and must not be restarted with this data directory as a member",
                    core.term(), config.nodeId(), config.clusterId(), core.committedMembership());
            onRemoved.run();
        } else if (core.role() != Role.LEADER && silent > ORPHAN_TIMEOUTS * electionTimeoutNanos
                && (!core.membership().contains(config.nodeId()) || core.membership().quorum().isMajority(rejectedBy))) {
            removed = true;
            LOG.warn("term {}: node {} stops: no leader has contacted it for {} ms, and {}; its removal from cluster {}"
                    + " has committed (the leader did not tell it) or it is cut off from a cluster that removes it",
                    core.term(), config.nodeId(), silent / 1_000_000, core.membership().contains(config.nodeId())
                            ? "the peers " + rejectedBy + " refuse it as a non-member"
                            : "its latest configuration " + core.membership() + " (log index "
                                    + core.log().latestMembershipIndex() + ") leaves it out", config.clusterId());
            onRemoved.run();
        }
    }
}
