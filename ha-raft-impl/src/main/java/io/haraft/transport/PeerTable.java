package io.haraft.transport;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who a {@link GrpcTransport} talks to: the current peers, the guests (senders the configuration
 * does not list that a current peer vouches for), the peers dropped from the configuration, and
 * the {@link PeerLink} that carries this node's messages to each of them.
 *
 * <p><b>Guarantees.</b> There is exactly one open link per current peer and per linked guest, at
 * the peer's configured address or, for a guest, at the address its voucher gave. A link whose
 * peer left or whose address changed is taken out at once (so that nothing more is queued on it)
 * and then closed; {@link #closeAll} still returns it, for the transport's close to wait for. A
 * guest is only ever a node that a current peer lists on the stream this node opened to that
 * peer, and that this node's configuration never dropped; a node dropped from the configuration
 * stays refused until it is listed again. Links are connected only once the table is
 * {@linkplain #connectAll started}, and none is made after {@link #markClosed}.
 *
 * <p><b>Threads.</b> Thread-safe. The peers and links are read without a lock; every change takes
 * the table's lock, which is taken after the transport's lifecycle lock, never before it.
 * Links are closed outside it.
 */
final class PeerTable {
    private static final Logger log = LoggerFactory.getLogger(GrpcTransport.class);

    private final GrpcTransport transport;
    private final String selfId;
    private final Object lock = new Object();
    private boolean started;                                                 // guarded by lock
    private boolean closed;                                                  // guarded by lock
    private final Map<String, PeerLink> links = new ConcurrentHashMap<>();   // written under lock
    private final List<PeerLink> retired = new ArrayList<>();                // guarded by lock
    private volatile Map<String, String> peers;                              // the current peers
    /**
     * Senders the configuration does not list, not known to be removed, that a current peer lists
     * among its own peers: admitted with the address that peer gives (a member added while this
     * node was away).
     */
    private final Map<String, String> guests = new ConcurrentHashMap<>();    // written under lock
    /** What each peer last announced as its own peers, on the stream this node opened to it. */
    private final Map<String, Map<String, String>> announced = new ConcurrentHashMap<>();
    /** Ids that were peers and were dropped by {@link #update}: their streams stay refused. */
    private final Set<String> removedPeers = ConcurrentHashMap.newKeySet();  // written under lock

    PeerTable(GrpcTransport transport, String selfId, Map<String, String> initialPeers) {
        this.transport = transport;
        this.selfId = selfId;
        this.peers = initialPeers;
        initialPeers.forEach((peer, address) -> links.put(peer, new PeerLink(transport, peer, address)));
    }

    /** The current peers: node id to {@code host:port}. */
    Map<String, String> peers() {
        return peers;
    }

    /** The link to {@code id} (a peer or a linked guest), or null. */
    PeerLink link(String id) {
        return links.get(id);
    }

    /** The open links (a live view). */
    Collection<PeerLink> links() {
        return links.values();
    }

    /** Connects every link, and from now on every link made. */
    void connectAll() {
        synchronized (lock) {
            started = true;
            for (PeerLink link : links.values()) {
                link.connect();
            }
        }
    }

    /** From now on no link is made and no peer or guest changes. */
    void markClosed() {
        synchronized (lock) {
            closed = true;
        }
    }

    /** Every link made, open or retired, for the transport's close. */
    List<PeerLink> closeAll() {
        synchronized (lock) {
            closed = true;
            List<PeerLink> all = new ArrayList<>(links.values());
            all.addAll(retired);
            return all;
        }
    }

    /**
     * Replaces the peers by {@code newPeers} (checked, and no longer changed by the caller), making links to new peers and
     * taking out the links of peers that left or moved, then drops guests no peer vouches for
     * any more. Returns false, changing nothing, if the peers are the same or the table is closed.
     */
    boolean update(Map<String, String> newPeers) {
        List<PeerLink> toClose = new ArrayList<>();
        synchronized (lock) {
            if (newPeers.equals(peers) || closed) {
                return false;
            }
            for (String id : peers.keySet()) {
                if (!newPeers.containsKey(id)) {
                    removedPeers.add(id);
                }
            }
            removedPeers.removeAll(newPeers.keySet());
            guests.keySet().removeAll(newPeers.keySet());
            guests.keySet().removeAll(removedPeers);
            for (Map.Entry<String, PeerLink> e : links.entrySet()) {
                String address = newPeers.getOrDefault(e.getKey(), guests.get(e.getKey()));
                if (address == null || !address.equals(e.getValue().address)) {
                    toClose.add(e.getValue());
                }
            }
            for (PeerLink link : toClose) {
                links.remove(link.peerId, link);
                retired.add(link);
            }
            List<PeerLink> toConnect = new ArrayList<>();
            newPeers.forEach((id, address) -> {
                if (!links.containsKey(id)) {
                    PeerLink link = new PeerLink(transport, id, address);
                    links.put(id, link);
                    toConnect.add(link);
                }
            });
            log.info("Peers of node {} are now {} (was {})", selfId, newPeers, peers);
            peers = Collections.unmodifiableMap(newPeers);
            if (started) {
                toConnect.forEach(PeerLink::connect);
            }
        }
        toClose.forEach(PeerLink::close);
        dropUnvouchedGuests();
        return true;
    }

    /**
     * Records the peers {@code peer} announced on the stream this node opened to it (immutable);
     * the caller then drops the guests no peer vouches for any more ({@link #dropUnvouchedGuests}).
     */
    void announced(String peer, Map<String, String> itsPeers) {
        announced.put(peer, itsPeers);
    }

    /** A node the configuration does not list, vouched for by {@code voucher}, a current peer. */
    private record Vouch(String voucher, String address) { }

    /**
     * The current peer (if any) that lists {@code id} among its own peers, and the address it
     * gives; null if none does. Only peers this node connected to itself, at the addresses of its
     * own configuration, and that answered as the node it meant to reach, are heard.
     */
    private Vouch vouch(String id) {
        Map<String, String> current = peers;
        for (Map.Entry<String, Map<String, String>> e : announced.entrySet()) {
            String address = e.getValue().get(id);
            if (address != null && current.containsKey(e.getKey())) {
                return new Vouch(e.getKey(), address);
            }
        }
        return null;
    }

    /**
     * Admits {@code id}, which the configuration does not list, as a guest, if a current peer
     * vouches for it (lists it among its own peers with a usable address) and it was never
     * dropped from this node's configuration. It is answered at the address that peer gives, not at
     * one it claims itself. A node that was away while members changed may be fed by a leader added
     * meanwhile this way; any other stranger is refused, whatever it sends.
     */
    boolean admitGuest(String id) {
        if (removedPeers.contains(id) || id.equals(selfId)) {
            return false;
        }
        Vouch v = vouch(id);
        if (v == null) {
            return false;
        }
        try {
            GrpcTransportConfig.parseAddress(id, v.address());
        } catch (IllegalArgumentException e) {
            return false;
        }
        synchronized (lock) {
            if (closed || removedPeers.contains(id) || peers.containsKey(id)) {
                return peers.containsKey(id);
            }
            guests.put(id, v.address());
        }
        log.info("Accepting a stream from {}, which the configuration of node {} does not list (peers {}): peer {}"
                + " lists it at {}", id, selfId, peers.keySet(), v.voucher(), v.address());
        return true;
    }

    /** Drops the guests that no current peer vouches for any more (it left their configuration). */
    void dropUnvouchedGuests() {
        for (String id : List.copyOf(guests.keySet())) {
            if (vouch(id) == null) {
                log.info("No peer of node {} lists {} any more; its streams are refused from now on", selfId, id);
                dropGuest(id);
            }
        }
    }

    /**
     * A guest sent a leader's message: from now on this node answers it at its address, until the
     * configuration lists it (or drops it for good).
     */
    void linkGuest(String id) {
        PeerLink stale = null;
        boolean made = false;
        String address;
        synchronized (lock) {
            address = guests.get(id);
            if (address == null || closed || peers.containsKey(id)) {
                return;
            }
            PeerLink link = links.get(id);
            if (link == null || !link.address.equals(address)) {
                if (link != null) {
                    links.remove(id, link);
                    retired.add(link);
                    stale = link;
                }
                link = new PeerLink(transport, id, address);
                links.put(id, link);
                made = true;
                if (started) {
                    link.connect();
                }
            }
        }
        if (stale != null) {
            stale.close();
        }
        if (made) {
            log.info("Answering {} at {}: the configuration this node knows does not list it (peers {}), but it"
                    + " sends a leader's messages (a member added while this node was away)", id, address,
                    peers.keySet());
        }
    }

    /** A guest sent something other than a leader's message, or lost its voucher: refused like any stranger. */
    void dropGuest(String id) {
        PeerLink link = null;
        synchronized (lock) {
            guests.remove(id);
            if (!peers.containsKey(id)) {
                link = links.get(id);
                if (link != null) {
                    links.remove(id, link);
                    retired.add(link);
                }
            }
        }
        if (link != null) {
            link.close();
        }
    }

    /** Whether {@code id} is a guest: not in the configuration, vouched for by a current peer. */
    boolean isGuest(String id) {
        return guests.containsKey(id);
    }

    /** Where {@code id} is reached: its configured address, or the one its voucher gave; null if unknown. */
    String addressOf(String id) {
        String address = peers.get(id);
        return address != null ? address : guests.get(id);
    }
}
