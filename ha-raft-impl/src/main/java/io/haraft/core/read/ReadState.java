package io.haraft.core.read;

/**
 * The answer to a read request ({@link io.haraft.core.RaftCore#readIndex} or
 * {@link io.haraft.core.RaftCore#leaseRead}). Immutable. Each request the core accepted gets
 * exactly one answer. A successful answer means this node was leader, with its term's first entry
 * committed, at a moment after the request was made: confirmed by a heartbeat round that a
 * majority acknowledged (read index), or by its lease (lease read). Serving the read from the
 * state machine once it has applied {@link #index()} is then linearizable.
 *
 * @param requestId the caller's id for the request
 * @param index     the commit index the read must wait for, or {@code -1} if leadership was lost
 *                  before the read could be confirmed (the caller should retry on the leader)
 */
public record ReadState(long requestId, long index) {
    /** Whether leadership was lost before the read was confirmed: nothing may be served. */
    public boolean failed() {
        return index < 0;
    }
}
