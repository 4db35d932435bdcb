package io.haraft.runtime;

import io.haraft.GroupNames;
import io.haraft.core.Message;
import io.haraft.transport.GrpcTransport;
import io.haraft.transport.Transport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.Set;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The one {@link Transport.Listener} of a node hosting many Raft groups: hands each inbound
 * message to the loop of the group it names, and gives every group a {@link Transport} of its own
 * ({@link #transportOf}) over the node's one shared transport.
 *
 * <p><b>Guarantees.</b> A message without a group name goes to the group named
 * {@link GroupNames#DEFAULT}. A message for a group not registered here is not taken (the
 * transport drops and counts it, with a rate-limited WARN), and nothing else changes; except for a
 * group the node was given before it started ({@link #expect}) and that has not started yet: its
 * messages are dropped quietly (Raft sends again), so a restarting node does not warn about its
 * own groups. A refused
 * connection or a refusal as non-member concerns the peer, so every group hears it. Thread-safe;
 * never blocks.
 */
final class GroupRouter implements Transport.Listener {
    private static final Logger LOG = LoggerFactory.getLogger(GroupRouter.class);
    private final Map<String, Transport.Listener> groups = new ConcurrentHashMap<>();
    /** Groups created before the node started, not registered yet: their messages are dropped quietly. */
    private final Set<String> expected = ConcurrentHashMap.newKeySet();

    /** Group {@code group} will register when the node starts; until then its messages are dropped without a WARN. */
    void expect(String group) {
        expected.add(group);
    }

    /** Group {@code group} was removed before it registered. */
    void forget(String group) {
        expected.remove(group);
    }

    @Override
    public void onMessage(Message message) {
        onMessage("", message);
    }

    @Override
    public boolean onMessage(String group, Message message) {
        String name = group.isEmpty() ? GroupNames.DEFAULT : group;
        Transport.Listener l = groups.get(name);
        if (l == null) {
            if (expected.contains(name)) {
                LOG.debug("group {} is not started yet; dropped {}", name, message);
                return true;
            }
            return false;
        }
        l.onMessage(message);
        return true;
    }

    @Override
    public void onConnectionRefused(String peerId) {
        groups.values().forEach(l -> l.onConnectionRefused(peerId));
    }

    @Override
    public void onRejectedAsNonMember(String peerId) {
        groups.values().forEach(l -> l.onRejectedAsNonMember(peerId));
    }

    /** Group {@code group}'s transport: sends through {@code shared}, receives what names the group. */
    Transport transportOf(String group, GrpcTransport shared) {
        return new GroupTransport(group, shared);
    }

    /** A group's view of the node's shared transport; closing it unregisters the group only. */
    private final class GroupTransport implements Transport {
        private final String group;
        private final String wireGroup;   // null for the default group: sent without a name
        private final GrpcTransport shared;
        private volatile Listener listener;

        GroupTransport(String group, GrpcTransport shared) {
            this.group = group;
            this.wireGroup = GroupNames.DEFAULT.equals(group) ? null : group;
            this.shared = shared;
        }

        @Override
        public void start(Listener l) {
            listener = l;
            if (groups.putIfAbsent(group, l) != null) {
                throw new IllegalStateException("group " + group + " is registered twice on the transport");
            }
            expected.remove(group);
        }

        @Override
        public void send(Message message) {
            shared.send(wireGroup, message);
        }

        @Override
        public void updatePeers(Map<String, String> peers) {
            // Every group has the node's members (groups refuse membership changes): the shared
            // transport keeps the node's peers.
            if (!peers.equals(shared.peers())) {
                LOG.warn("group {}: ignored a change of peers to {}; the groups of a node share its peers {}",
                        group, peers, shared.peers());
            }
        }

        @Override
        public OptionalInt maxMessageBytesOf(String peer) {
            return shared.maxMessageBytesOf(peer);
        }

        @Override
        public void learnClusterUuid(java.util.UUID uuid) {
            // Each group has an identity of its own, but a connection carries one: only the default
            // group's is checked per connection.
            if (wireGroup == null) {
                shared.learnClusterUuid(uuid);
            }
        }

        @Override
        public void close() {
            Listener l = listener;
            if (l != null) {
                groups.remove(group, l);
            }
        }
    }
}
