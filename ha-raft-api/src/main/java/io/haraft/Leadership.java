package io.haraft;

import java.time.Duration;

/**
 * One leadership of this node: the period, within one term, during which it is the leader and
 * holds a lease.
 *
 * <p><b>Guarantees.</b>
 * <ul>
 *   <li>While {@link #isValid()} returns {@code true}, no other node can have been elected: the
 *       lease is renewed by majority acknowledgements of heartbeats and is shortened by the
 *       configured clock-drift bound, and a node that acknowledged a heartbeat refuses to vote for
 *       another candidate for one election timeout afterwards (leader stickiness), so no majority
 *       can elect a new leader before the lease ends.</li>
 *   <li>Validity only ever goes from {@code true} to {@code false}, never back: a lease is never
 *       re-acquired within the same term. The next leadership of any node is a new object with a
 *       strictly larger {@link #token()}.</li>
 *   <li>The lease is measured on this node's monotonic clock only, never on wall time.</li>
 *   <li>Instances are safe to use from any thread; every method is non-blocking and cheap (no
 *       I/O, no locks shared with the Raft loop). No method returns {@code null}.</li>
 * </ul>
 *
 * <pre>{@code
 * public void elected(Leadership leadership) {
 *     this.leadership = leadership;
 * }
 * ...
 * FencingToken token = leadership.checkValid();          // throws once the lease is gone
 * jdbc.update("UPDATE job SET owner = ?, fence = ? WHERE id = ? AND fence <= ?",
 *             me, token.value(), id, token.value());
 * }</pre>
 *
 * <p><b>Limits: process pauses.</b> A pause of this process (a GC, SIGSTOP, a frozen VM) can
 * start right after {@link #isValid()} or {@link #checkValid()} returned, and last longer than
 * the lease. When the process resumes, the code after the check runs as if it were still leader,
 * while another node may already be. No lease can prevent that. Therefore: check validity
 * immediately before each action inside the process, and make every write to a shared resource
 * outside the process carry the {@link #token()}, so that the resource can refuse writes from an
 * older leadership. The lease protects decisions; the token protects writes.
 *
 * <p>Implementations are provided by the runtime; applications do not implement this interface
 * (except as test doubles).
 */
public interface Leadership {

    /** The fencing token of this leadership; equal to {@link #term()} as a token. */
    FencingToken token();

    /** The Raft term of this leadership, {@code >= 1}. */
    long term();

    /** The id of the node holding this leadership (this node). */
    String nodeId();

    /**
     * The name of the Raft group this leadership belongs to: the name given to
     * {@link RaftGroups#newGroup}, or {@link GroupNames#DEFAULT} for a node built with
     * {@link RaftNode.Builder#build()}. Constant for the leadership; tokens of different groups are
     * unrelated.
     */
    default String group() {
        return GroupNames.DEFAULT;
    }

    /**
     * Returns whether this leadership still holds its lease at the moment of the call.
     *
     * <p>{@code false} once the lease has run out or the leadership was revoked for any reason,
     * and forever after. See the class documentation for why a {@code true} answer can be stale
     * by the time the caller acts on it.
     */
    boolean isValid();

    /**
     * Returns how much longer the lease lasts if it is not renewed: positive while valid,
     * {@link Duration#ZERO} once the leadership is no longer valid.
     */
    Duration remainingLease();

    /**
     * Returns the token if the lease is still valid, and throws otherwise.
     *
     * @return {@link #token()}, for convenient use in a fenced write
     * @throws LeaseExpiredException if the lease has ended; its message names the token and how
     *                               long ago the lease ended
     */
    FencingToken checkValid();
}
