package io.haraft.transport;

import java.util.Set;

/**
 * A snapshot of a {@link GrpcTransport}'s counters since it started.
 *
 * <p><b>Guarantees.</b> Immutable; {@code connectedPeers} is an unmodifiable copy. Each counter is
 * read atomically but the snapshot as a whole is not: counters read a moment apart may disagree by
 * the messages that moved in between. Counters only grow.
 *
 * @param messagesSent        messages written to an outbound stream
 * @param messagesReceived    messages delivered to the listener
 * @param messagesDropped     outbound messages dropped: queue full, too large, unknown peer, after close, or naming a
 *                            Raft group for a peer that reads no groups (an older version)
 * @param oversizedDropped    of those, messages larger than this node's or the peer's {@code maxMessageBytes}
 *                            (an append split to fit counts only if an entry alone did not fit)
 * @param streamsRejected     inbound streams refused (cluster id, sender, receiver, certificate or a bad message)
 * @param failedAttempts      outbound stream attempts that failed or ended, for any reason
 * @param connectionsRefused  of those, attempts whose TCP connection the peer's host refused
 * @param connectedPeers      peers to which an outbound stream is currently accepted
 */
public record TransportStats(long messagesSent, long messagesReceived, long messagesDropped, long oversizedDropped,
                             long streamsRejected, long failedAttempts, long connectionsRefused, Set<String> connectedPeers) {
    public TransportStats {
        connectedPeers = Set.copyOf(connectedPeers);
    }
}
