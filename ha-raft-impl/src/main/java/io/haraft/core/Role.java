package io.haraft.core;

/**
 * The role of a node in its current term, as its {@link RaftCore} sees it ({@link RaftCore#role()}).
 * Only {@link #LEADER} may append entries and send leader messages, and at most one node is
 * leader of a given term. A node's role is read on the core's thread; the runtime publishes a
 * copy for other threads.
 */
public enum Role {
    /** Follows the leader of its term (if it knows one) and answers messages; the starting role. */
    FOLLOWER,
    /**
     * Asks the voters whether it could win an election (pre-vote), without raising its term, so a
     * node cut off from the cluster never disturbs a healthy leader when it comes back.
     */
    PRE_CANDIDATE,
    /** Has raised its term, voted for itself and asks the voters for their votes. */
    CANDIDATE,
    /**
     * Won the election of its term: replicates the log and holds the lease. Its leadership is
     * reported to the application only once the term's first entry commits (see {@link LeadershipEvent}).
     */
    LEADER
}
