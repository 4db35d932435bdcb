package io.haraft.transport;

import com.google.protobuf.ByteString;
import io.haraft.core.ClusterIdentity;

import java.util.UUID;

/**
 * The cluster identity ({@link ClusterIdentity}: a random UUID chosen when the cluster was
 * bootstrapped) that one transport knows, and the check of the identity a peer presents in its
 * stream header ({@code ConnectionHeader.cluster_uuid}) or its {@code Welcome}.
 *
 * <p><b>Rule.</b> A stream is refused when both ends know an identity and the two differ; a side
 * that knows none (a node with a new, empty data directory) accepts, and learns the identity
 * through the log. Two clusters with the same cluster id and node ids therefore never exchange a
 * message once their nodes know their identities, so a node started on a data directory of the
 * other cluster can neither vote nor lead, nor replicate its log or snapshot onto this cluster.
 *
 * <p><b>Streams opened before an identity was known.</b> A node learns its identity once, while
 * it runs ({@link #learn}). It then closes every accepted inbound stream whose header named
 * another identity, and every outbound stream whose receiver's {@code Welcome} named another one
 * ({@link #learn} publishes the identity before that scan, and the header check reads it after
 * registering the stream, so a stream accepted concurrently is either checked against it or found
 * by the scan). New streams carry the identity from then on. So every stream between two nodes
 * that know different identities is refused, except one opened while neither end knew any: both
 * then had empty logs or never committed index 1, and they learn their identities from whatever
 * they replicate; two such nodes learn different ones only if each was fed by a leader of a
 * different cluster at the same time. Streams are not reopened when the identity is learnt (that
 * would cut every stream of a new cluster at its first commit, costing its first lease).
 *
 * <p>Thread-safe: the identity is a volatile field written once.
 */
final class IdentityCheck {
    private final String clusterId;
    private volatile UUID known;

    IdentityCheck(String clusterId) {
        this.clusterId = clusterId;
    }

    /** The identity this node knows, or null. */
    UUID known() {
        return known;
    }

    /** Learns the identity; true if it was unknown before (the caller then re-checks open streams). */
    synchronized boolean learn(UUID id) {
        if (id == null || id.equals(known)) {
            return false;
        }
        if (known != null) {
            // a store refuses a second identity; a default group re-created with an empty store could
            // learn another one (RaftGroups refuses to delete its data while the node runs)
            throw new IllegalStateException("cluster identity " + known + " is known; refusing to change it to " + id);
        }
        known = id;
        return true;
    }

    /** What to put into a header or a Welcome: 16 bytes, or empty when unknown. */
    ByteString wire() {
        return wire(known);
    }

    static ByteString wire(UUID id) {
        return id == null ? ByteString.EMPTY : ByteString.copyFrom(ClusterIdentity.encode(id));
    }

    /**
     * Why a stream from {@code sender} whose header carries {@code theirs} must be refused, or
     * null. The text starts with a fixed kind (for the rate-limited log) and says what to do.
     */
    String inboundProblem(String sender, ByteString theirs) {
        return problem("the sender '" + GrpcTransport.shown(sender) + "'", theirs);
    }

    /** Why the Welcome of {@code peer} carrying {@code theirs} must be refused, or null. */
    String welcomeProblem(String peer, ByteString theirs) {
        return problem("node '" + peer + "'", theirs);
    }

    /** Whether a header identity accepted earlier conflicts with the one known now. */
    boolean conflicts(ByteString theirs) {
        UUID mine = known;
        return mine != null && theirs.size() == ClusterIdentity.BYTES && !mine.equals(decode(theirs));
    }

    private String problem(String who, ByteString theirs) {
        if (theirs.isEmpty()) {
            return null;
        }
        if (theirs.size() != ClusterIdentity.BYTES) {
            return "malformed cluster identity (" + theirs.size() + " bytes, not " + ClusterIdentity.BYTES + ")";
        }
        UUID mine = known;
        UUID other = decode(theirs);
        if (mine == null || mine.equals(other)) {
            return null;
        }
        return mismatch(who, other, mine);
    }

    /** The refusal text for a peer of identity {@code other} seen by a node of identity {@code mine}. */
    String mismatch(String who, UUID other, UUID mine) {
        return "cluster identity mismatch: " + who + " belongs to cluster incarnation " + other
                + ", this node to incarnation " + mine + " (both named '" + clusterId + "'): one of the two nodes runs"
                + " on a data directory of another cluster with the same name and node ids. On that node (the one"
                + " whose incarnation the other members do not share), stop it, move its data directory away, and"
                + " replace it under a new node id with an empty directory";
    }

    private static UUID decode(ByteString b) {
        return ClusterIdentity.decode(b.toByteArray());
    }
}
