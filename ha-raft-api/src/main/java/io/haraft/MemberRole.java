package io.haraft;

/**
 * What a member does in the cluster. Shown by {@link NodeStatus#members()}, given to a node at
 * start-up through {@link RaftConfig.Member#role()}, and changed while the cluster runs with
 * {@link RaftNode#addLearner}, {@link RaftNode#addWitness}, {@link RaftNode#promote} and
 * {@link RaftNode#removeMember}.
 *
 * <pre>{@code
 * RaftNode.builder()
 *     .member("n1", "10.0.0.1:7001").member("n2", "10.0.0.2:7001")   // MemberRole.VOTER
 *     .witness("w1", "10.0.0.9:7001");                               // MemberRole.WITNESS
 * }</pre>
 *
 * <p><b>Limits.</b> A member's kind (data node or witness) is fixed: a learner is promoted to a
 * voter, a witness learner to a witness, never one to the other.
 */
public enum MemberRole {
    /** Votes, counts for commit, stores the log and the state machine, and can lead. */
    VOTER,
    /**
     * Receives the log and snapshots but neither votes nor counts for commit: a node that joins
     * (or a read replica). Promoted to {@link #VOTER} once it has caught up.
     */
    LEARNER,
    /**
     * Votes and counts for commit but never leads, and stores only the term, its vote and the
     * (index, term) of log entries, never their payloads or state-machine snapshots. Two data
     * voters and one witness survive the failure of any one of the three.
     */
    WITNESS,
    /** A witness that is joining and does not vote yet; promoted to {@link #WITNESS}. */
    WITNESS_LEARNER;

    /** Whether members of this role vote and count for commit ({@link #VOTER} and {@link #WITNESS}). */
    public boolean votes() {
        return this == VOTER || this == WITNESS;
    }

    /** Whether members of this role are witnesses ({@link #WITNESS} and {@link #WITNESS_LEARNER}). */
    public boolean isWitness() {
        return this == WITNESS || this == WITNESS_LEARNER;
    }

    /** Whether members of this role are learners, that is not voting yet. */
    public boolean isLearner() {
        return this == LEARNER || this == WITNESS_LEARNER;
    }
}
