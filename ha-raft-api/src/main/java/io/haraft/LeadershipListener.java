package io.haraft;

/**
 * Receives this node's leadership transitions.
 *
 * <p><b>Guarantees.</b>
 * <ul>
 *   <li><b>Order.</b> For one node, calls strictly alternate: {@code elected}, {@code revoked},
 *       {@code elected}, ... starting with {@code elected}. Each {@code revoked} receives the same
 *       {@link Leadership} object as the {@code elected} before it. Tokens of successive
 *       {@code elected} calls strictly increase.</li>
 *   <li><b>Timing.</b> {@code elected} is called only after the leader's first entry of its term
 *       has committed, so the leader knows the commit index. {@code revoked} is called as soon as
 *       the leadership ends, including when the lease runs out while the Raft loop is busy.
 *       If the node shuts down while leader, {@code revoked} with
 *       {@link RevokeReason#SHUT_DOWN} (or {@link RevokeReason#LEADERSHIP_TRANSFERRED}) is the
 *       last call.</li>
 *   <li><b>Never dropped.</b> Every transition is delivered, even if the callback is slow: they
 *       are queued. A queued {@code elected} is still delivered when its leadership has already
 *       ended; the {@code revoked} follows right after. Check {@link Leadership#isValid()} before
 *       acting on it. This holds across {@link RaftNode#close()} too: close waits up to 10 s
 *       for a blocked callback to return; if it is still blocked then, close logs an ERROR naming
 *       the blocked callback and its thread, and returns, and the transitions queued behind it
 *       (the last one always a {@code revoked}) are delivered, in order, on the same callback
 *       thread once it returns. The leadership is invalid before close returns either way. Only
 *       the end of the process (a crash, or the JVM exiting while a callback blocks) ends
 *       deliveries.</li>
 *   <li><b>Threads.</b> All calls of one listener come one at a time, each seeing the effects of
 *       the one before, so an implementation needs no locking for its own transitions: from the
 *       node's dedicated callback thread, or from the executor given to
 *       {@link RaftNode#addListener(LeadershipListener, java.util.concurrent.Executor)}. Neither is
 *       the Raft loop: a callback that blocks (for seconds, even) delays later callbacks of the
 *       same thread but never heartbeats, elections or the lease, and a listener on an executor
 *       of its own delays no other listener.</li>
 *   <li><b>Several listeners.</b> A node takes any number ({@link RaftNode#addListener}); every
 *       guarantee here holds for each of them on its own. One added while the node leads starts
 *       with {@code elected} of the current leadership.</li>
 *   <li><b>Exceptions.</b> An exception thrown by a callback is logged (with the node id and
 *       term) and does not stop later deliveries. It does not change the node's role.</li>
 * </ul>
 *
 * <pre>{@code
 * .listener(new LeadershipListener() {
 *     public void elected(Leadership l) { worker.start(l); }        // worker calls l.checkValid()
 *     public void revoked(Leadership l, RevokeReason why) { worker.stop(); }
 * })
 * }</pre>
 *
 * <p><b>Limits.</b> A callback is a notification, not a lock: by the time {@code elected} runs,
 * the leadership may be gone already, and between a lease running out and {@code revoked}
 * running there is always some delay. Decisions must use {@link Leadership#checkValid()}, and
 * external writes must carry the {@link FencingToken}.
 */
public interface LeadershipListener {

    /**
     * This node has become leader. Called on the callback thread.
     *
     * @param leadership the new leadership; never {@code null}
     */
    void elected(Leadership leadership);

    /**
     * This node's leadership has ended. Called on the callback thread, after the matching
     * {@link #elected}.
     *
     * @param leadership the leadership that ended (the same object {@code elected} received)
     * @param reason     why it ended; never {@code null}
     */
    void revoked(Leadership leadership, RevokeReason reason);
}
