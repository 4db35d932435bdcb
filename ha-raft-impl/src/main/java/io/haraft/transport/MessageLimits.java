package io.haraft.transport;

import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The message sizes a {@link GrpcTransport} negotiated: the largest message each peer said it
 * accepts (in its {@code ConnectionHeader} or {@code Welcome}), and from that the largest one this
 * node writes to it.
 *
 * <p><b>Guarantees.</b> {@link #sendLimit} never exceeds this node's own {@code maxMessageBytes},
 * nor the last limit the peer announced; a peer that announced none (an older peer) gets this
 * node's own. A peer's limit is logged once per change: at INFO when it is below this node's, as
 * appends to it are then split and larger commands refused.
 *
 * <p><b>Threads.</b> Thread-safe; called from the I/O thread and the senders' threads.
 */
final class MessageLimits {
    private static final Logger log = LoggerFactory.getLogger(GrpcTransport.class);

    private final int own;
    private final Map<String, Integer> theirs = new ConcurrentHashMap<>();

    /** @param own this node's {@code maxMessageBytes} */
    MessageLimits(int own) {
        this.own = own;
    }

    /** Records the largest message {@code peer} accepts, as it said; 0 (an older peer) says nothing. */
    void learn(String peer, int maxMessageBytes) {
        if (maxMessageBytes > 0) {
            Integer before = theirs.put(peer, maxMessageBytes);
            if (before == null || before != maxMessageBytes) {
                if (maxMessageBytes < own) {
                    log.info("Peer {} accepts messages of at most {} bytes, less than this node's maxMessageBytes {}:"
                            + " appends to it are split to fit, and commands larger than it allows are refused",
                            peer, maxMessageBytes, own);
                } else {
                    log.debug("Peer {} accepts messages of at most {} bytes", peer, maxMessageBytes);
                }
            }
        }
    }

    /**
     * The largest serialised message this node sends to {@code peer}: the smaller of this node's
     * {@code maxMessageBytes} and the peer's, as far as the peer told it.
     */
    int sendLimit(String peer) {
        Integer limit = theirs.get(peer);
        return limit == null ? own : Math.min(limit, own);
    }

    /** The limit {@code peer} announced, if it has (see {@link Transport#maxMessageBytesOf}). */
    OptionalInt announced(String peer) {
        Integer limit = theirs.get(peer);
        return limit == null ? OptionalInt.empty() : OptionalInt.of(limit);
    }
}
