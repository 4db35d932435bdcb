package io.haraft.transport;

import io.haraft.core.Message;

import java.util.Map;

/**
 * Carries core {@link Message}s between the nodes of one cluster.
 *
 * <p>Contract:
 * <ul>
 *   <li>{@link #send} never blocks the caller (the node loop) and may drop a message (queue full,
 *       peer down): Raft tolerates loss. Messages to one peer are sent in order.</li>
 *   <li>Inbound messages are handed to {@link Listener#onMessage} on a transport thread, only after
 *       the sender's cluster id and node id were checked: messages from another cluster or an
 *       unknown node are rejected and logged, never delivered.</li>
 *   <li>{@link Listener#onConnectionRefused} is called when this node's own attempt to connect to
 *       a peer is refused (nothing listens at its address: its process is gone). Used for the
 *       fast-failover path; never called on a timeout or another error.</li>
 *   <li>{@link #close} stops listening first and then drops outbound streams; a node closes its
 *       transport only after it has revoked its own leadership.</li>
 *   <li>The peers change with the cluster's configuration: {@link #updatePeers} gives the new set.
 *       Messages to, and streams from, a node that is not among the current peers are refused.</li>
 * </ul>
 *
 * <pre>{@code
 * transport.start(listener);
 * transport.updatePeers(Map.of("n2", "10.0.0.2:7001", "n4", "10.0.0.4:7001"));   // n3 left, n4 joined
 * }</pre>
 */
public interface Transport extends AutoCloseable {

    /** Receives what arrives. Implementations must be fast and must not block. */
    interface Listener {
        void onMessage(Message message);

        void onConnectionRefused(String peerId);

        /**
         * {@code peerId} refused this node's stream because this node is not a member of the
         * configuration that peer knows (it was removed, or it was not added yet). The default
         * ignores it.
         */
        default void onRejectedAsNonMember(String peerId) {
        }
    }

    /** Starts listening and connecting. */
    void start(Listener listener);

    /** Queues {@code message} for {@code message.to()}. */
    void send(Message message);

    /**
     * Replaces the set of peers (node id to {@code host:port}, this node excluded): connects to the
     * new ones, reconnects to those whose address changed, and closes the links to those no
     * longer listed after flushing what is queued for them. May be called before or after
     * {@link #start}, from any thread. Transports that route by node id alone may ignore it (the
     * default does nothing).
     *
     * @throws IllegalArgumentException if the map names this node or an address is malformed
     */
    default void updatePeers(Map<String, String> peers) {
    }

    /** Stops listening, then closes every connection. Idempotent. */
    @Override
    void close();
}
