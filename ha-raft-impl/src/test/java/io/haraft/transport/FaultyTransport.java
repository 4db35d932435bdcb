package io.haraft.transport;

import io.haraft.core.Message;

import java.util.Collection;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link Transport} decorator that drops messages between chosen nodes: one-way drops,
 * symmetric partitions, isolation of a node. Test code only: it lives in the test sources (and the
 * test-jar), so no default build or configuration can reach it.
 *
 * <p>Every node of a test wraps its real transport with the same {@link Faults} plan; the plan
 * is then changed while the cluster runs:
 * <pre>{@code
 * FaultyTransport.Faults faults = new FaultyTransport.Faults();
 * Transport t1 = new FaultyTransport(GrpcTransport.create(config1), faults);   // likewise n2, n3
 * faults.partition(Set.of("n1"), Set.of("n2", "n3"));   // n1 cut off, both directions
 * faults.dropOneWay("n2", "n3");                         // n2 -> n3 lost, n3 -> n2 delivered
 * faults.heal();                                         // everything flows again
 * }</pre>
 *
 * <p><b>Guarantees.</b> A message whose (from, to) link is blocked when it is sent is not handed
 * to the wrapped transport; one that arrives while its link is blocked is not handed to the
 * listener (so a partition holds even if only one side is wrapped). Connections stay up: a
 * partition made here looks like loss, not like a refused connection, and
 * {@link Transport.Listener#onConnectionRefused} passes through untouched. Thread-safe; a change
 * of the plan applies to the next message sent or received on any thread.
 */
public final class FaultyTransport implements Transport {

    /** Which directed links drop messages. Shared by all the nodes of one test. Thread-safe. */
    public static final class Faults {
        private record Link(String from, String to) { }

        private final Set<Link> blocked = ConcurrentHashMap.newKeySet();

        /** Messages from {@code from} to {@code to} are dropped; the other direction is untouched. */
        public Faults dropOneWay(String from, String to) {
            blocked.add(new Link(from, to));
            return this;
        }

        /** Messages between any node of {@code side} and any node of {@code other} are dropped, both ways. */
        public Faults partition(Collection<String> side, Collection<String> other) {
            for (String a : side) {
                for (String b : other) {
                    if (!a.equals(b)) {
                        blocked.add(new Link(a, b));
                        blocked.add(new Link(b, a));
                    }
                }
            }
            return this;
        }

        /** Cuts {@code node} off from every node of {@code everyone}, both ways. */
        public Faults isolate(String node, Collection<String> everyone) {
            return partition(Set.of(node), everyone);
        }

        /** Lets messages from {@code from} to {@code to} through again. */
        public Faults restoreOneWay(String from, String to) {
            blocked.remove(new Link(from, to));
            return this;
        }

        /** Removes every fault. */
        public Faults heal() {
            blocked.clear();
            return this;
        }

        public boolean blocks(String from, String to) {
            return !blocked.isEmpty() && blocked.contains(new Link(from, to));
        }
    }

    private final Transport delegate;
    private final Faults faults;
    private final AtomicLong droppedOutbound = new AtomicLong();
    private final AtomicLong droppedInbound = new AtomicLong();

    public FaultyTransport(Transport delegate, Faults faults) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
        this.faults = Objects.requireNonNull(faults, "faults");
    }

    /** The wrapped transport, e.g. to read a {@link GrpcTransport}'s address or stats. */
    public Transport delegate() {
        return delegate;
    }

    public Faults faults() {
        return faults;
    }

    @Override
    public void start(Listener listener) {
        Objects.requireNonNull(listener, "listener");
        delegate.start(new Listener() {
            @Override
            public void onMessage(Message message) {
                if (faults.blocks(message.from(), message.to())) {
                    droppedInbound.incrementAndGet();
                    return;
                }
                listener.onMessage(message);
            }

            @Override
            public void onConnectionRefused(String peerId) {
                listener.onConnectionRefused(peerId);
            }

            @Override
            public void onRejectedAsNonMember(String peerId) {
                listener.onRejectedAsNonMember(peerId);
            }
        });
    }

    @Override
    public void send(Message message) {
        if (faults.blocks(message.from(), message.to())) {
            droppedOutbound.incrementAndGet();
            return;
        }
        delegate.send(message);
    }

    /** Messages this wrapper dropped on the way out. */
    public long droppedOutbound() {
        return droppedOutbound.get();
    }

    /** Messages this wrapper dropped on the way in (sent by an unwrapped peer across a fault). */
    public long droppedInbound() {
        return droppedInbound.get();
    }

    @Override
    public void updatePeers(java.util.Map<String, String> peers) {
        delegate.updatePeers(peers);
    }

    @Override
    public java.util.OptionalInt maxMessageBytesOf(String peer) {
        return delegate.maxMessageBytesOf(peer);
    }

    @Override
    public void learnClusterUuid(java.util.UUID uuid) {
        delegate.learnClusterUuid(uuid);
    }

    @Override
    public void close() {
        delegate.close();
    }
}
