package io.haraft;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * The application's replicated state, implemented by the application and driven by the node
 * (a service provider interface).
 *
 * <p><b>Contract: threads.</b> All three methods are called by one dedicated apply thread per
 * node, one call at a time, never concurrently with each other, and never on the Raft loop or the
 * listener thread. They may block (for I/O, say): that delays later applies and the completion of
 * {@link RaftNode#submit} futures, but not heartbeats, elections or leases. Reads that your own
 * threads make of the state run concurrently with {@code apply}; synchronize them yourself.
 *
 * <p><b>Contract: determinism.</b> Every node applies the same commands in the same order, so
 * {@code apply} must be deterministic: its effect and result may depend only on the current state
 * and the entry (its data, index and term), never on wall time, randomness, local files, the
 * network or which node runs it. Otherwise the replicas diverge silently.
 *
 * <p><b>Contract: restarts.</b> The state is rebuilt at every start: the node first calls
 * {@link #restore} with its latest snapshot, if it has one, and then {@link #apply} for every later
 * committed entry. So the state machine must start empty and keep its state where
 * {@code snapshot} can see it. (If you keep the state durable yourself, remember the last applied
 * index with it and ignore entries at or below it.) Each committed command is applied exactly once
 * per run, in increasing index order; indexes may have gaps, because internal entries (a new
 * leader's empty entry) are not passed on.
 *
 * <p><b>Contract: failures.</b> Do not throw for a command you consider invalid: encode the
 * rejection in the returned result, which every node computes identically. If a method throws
 * anyway, the node cannot know whether the state was partly changed, so it stops safely: it logs
 * the error, revokes its leadership if it has one ({@link RevokeReason#SHUT_DOWN}), fails pending
 * {@code submit} futures and closes. Restarting it replays the same entry, so fix the code first.
 *
 * <pre>{@code
 * final class Counter implements StateMachine {
 *     private long value;                                // guarded by this
 *     public synchronized byte[] apply(Committed entry) {
 *         value += ByteBuffer.wrap(entry.data()).getLong();
 *         return ByteBuffer.allocate(8).putLong(value).array();
 *     }
 *     public synchronized void snapshot(OutputStream out) throws IOException {
 *         new DataOutputStream(out).writeLong(value);
 *     }
 *     public synchronized void restore(InputStream in) throws IOException {
 *         value = new DataInputStream(in).readLong();
 *     }
 * }
 * }</pre>
 *
 * <p><b>Limits.</b> Snapshots are taken on the apply thread, so a large state delays applies
 * while it is written; keep snapshots compact. There is no read method: reads go through your own
 * code after {@link RaftNode#readIndex()} or inside {@link RaftNode#leaseRead}.
 */
public interface StateMachine {

    /**
     * Applies one committed command.
     *
     * @param entry the committed entry: its {@link Committed#data() data} is the command as
     *              submitted; never {@code null}
     * @return the result, handed to the {@link RaftNode#submit} future on the node that accepted
     *         the command (and discarded on the others); {@code null} is treated as empty
     */
    byte[] apply(Committed entry);

    /**
     * Writes the whole current state, as of the last applied entry, to {@code out}.
     * Do not close {@code out}. When this method returns, the bytes written are the snapshot;
     * the node makes them durable and may then discard the log entries the snapshot covers.
     *
     * @throws IOException if the state cannot be written; the node then stops (see the class
     *                     documentation)
     */
    void snapshot(OutputStream out) throws IOException;

    /**
     * Replaces the whole current state by the snapshot in {@code in}, which a {@link #snapshot}
     * call on this or another node wrote. Called at start-up and when a lagging node receives a
     * snapshot from the leader. Do not close {@code in}.
     *
     * @throws IOException if the snapshot cannot be read; the node then stops
     */
    void restore(InputStream in) throws IOException;
}
