package io.haraft;

/**
 * Receives changes of the leader known to this node, on every node (followers, learners and
 * witnesses too, not only the leader): use it to route requests to the leader or to show who leads.
 * Register one with {@link RaftNode#addLeaderChangeListener}.
 *
 * <p><b>Guarantees.</b>
 * <ul>
 *   <li><b>Order.</b> Changes arrive in the order the node saw them: terms never decrease, and two
 *       successive changes always differ (in the term, in the leader, or in both). Within one term
 *       a node knows at most one leader: it may lose track of it (the leader stepped down, its
 *       connection was refused, this node started to probe for an election) and learn of it
 *       again, but never names another.</li>
 *   <li><b>First call.</b> A listener added to a running node first receives the node's current
 *       knowledge (if the node has published any), then every later change.</li>
 *   <li><b>Threads.</b> Calls for one listener come one at a time, each seeing the effects of the
 *       one before it, on the executor given when it was added, else on the node's callback thread
 *       (shared with the {@link LeadershipListener}s that have no executor of their own). A slow
 *       listener never delays heartbeats, elections or the lease, and one on its own executor
 *       delays no other listener.</li>
 *   <li><b>Exceptions.</b> An exception thrown by the listener is logged and does not stop later
 *       calls.</li>
 * </ul>
 *
 * <pre>{@code
 * node.addLeaderChangeListener(change -> log.info("now {}", change));   // "now leader n2 in term 7"
 * }</pre>
 *
 * <p><b>Limits.</b> A notification, not a guarantee: a change is delivered after the node saw it,
 * and may be out of date by then. On the leader itself, the change naming it arrives when it wins
 * the election, which can be before {@link LeadershipListener#elected} (that waits until the
 * leader's first entry of its term commits). Intermediate states that the node held only briefly
 * may be skipped; the latest state is always delivered.
 */
@FunctionalInterface
public interface LeaderChangeListener {

    /**
     * The leader or the term this node knows has changed.
     *
     * @param change the node's new knowledge; never {@code null}
     */
    void leaderChanged(LeaderChange change);
}
