package io.haraft.transport;

import io.haraft.core.Message;

import java.util.Map;
import java.util.OptionalInt;

/**
 * Carries core {@link Message}s between the nodes of one cluster.
 *
 * <p>Contract:
 * <ul>
 *   <li>{@link #send} never blocks the caller (the node loop) and may drop a message (queue full,
 *       peer down): Raft tolerates loss. Messages to one peer are sent in order.</li>
 *   <li>Inbound messages are handed to {@link Listener#onMessage} on a transport thread, only after
 *       the sender's cluster id and node id were checked: messages from another cluster or an
 *       unknown node are rejected and logged, never delivered. A node this node's configuration
 *       does not list yet counts as known only if a current member vouches for it (see
 *       {@link GrpcTransport}, "Guests").</li>
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

    /**
     * Receives what a transport hands over: the node's side of the transport (in the runtime, the
     * node loop, which queues each call for its own thread).
     *
     * <p><b>Threads.</b> Called on the transport's threads: messages from one sender in the order
     * they were sent, one at a time; calls about different peers may run concurrently.
     * Implementations must be thread-safe, fast and must not block: a blocked call stalls that
     * peer's stream. A runtime exception thrown by a call is logged by the transport and the
     * message is lost (Raft tolerates that); later calls still come. Arguments are never null.
     */
    interface Listener {
        /**
         * A message whose sender's cluster id and node id were checked (see the contract of
         * {@link Transport}); its {@code to} is this node. Immutable; the listener may keep it.
         */
        void onMessage(Message message);

        /**
         * A message of Raft group {@code group}, checked like {@link #onMessage(Message)}; the
         * transport calls this method for every message. {@code group} is empty for a message
         * without a group name, which belongs to the default group
         * ({@link io.haraft.GroupNames#DEFAULT}). The default implementation is a node hosting one
         * group: it hands messages of the default group to {@link #onMessage(Message)} and takes
         * no other.
         *
         * @return whether this node hosts the group; if not, the transport drops the message (counted,
         *         with a rate-limited WARN) and keeps the stream open
         */
        default boolean onMessage(String group, Message message) {
            if (group.isEmpty() || group.equals(io.haraft.GroupNames.DEFAULT)) {
                onMessage(message);
                return true;
            }
            return false;
        }

        /**
         * This node's own attempt to connect to {@code peerId} was refused by its host: nothing
         * listens at that peer's address. Called once per refused attempt, never for a timeout, a
         * TLS failure, a refused stream or a broken connection. The basis of fast failover.
         */
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

    /**
     * The largest serialised message {@code peer} said it accepts (its {@code maxMessageBytes}), if
     * it has said so since this transport started; empty if it has not, or if the transport does
     * not learn peers' limits (the default). A node refuses commands that would not fit.
     */
    default OptionalInt maxMessageBytesOf(String peer) {
        return OptionalInt.empty();
    }

    /**
     * This node's cluster identity ({@link io.haraft.core.ClusterIdentity}), recorded at start or
     * learnt from committed state; called at most once with a non-null value that changes nothing
     * known (the same again is ignored). From then on every stream carries it and a peer that
     * presents another one is refused (both directions), including streams already open. May be
     * called before {@link #start}. Transports that check no identity may ignore it (the default).
     */
    default void learnClusterUuid(java.util.UUID uuid) {
    }

    /** Stops listening, then closes every connection. Idempotent. */
    @Override
    void close();
}
