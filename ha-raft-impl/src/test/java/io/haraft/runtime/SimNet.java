package io.haraft.runtime;

import io.haraft.core.Message;
import io.haraft.transport.Transport;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;

/**
 * The simulated network between the whole-node simulator's nodes: delivers each message as an event
 * of the receiver's host after a latency drawn from the seed, in order per link (as one TCP stream
 * does), drops messages on cut links, and answers a send to a node that does not listen (crashed or
 * closed) with a refused connection for the sender, as a real network does when nothing listens.
 */
public final class SimNet {
    private final SimWorld world;
    private final LongSupplier latency;
    private final Map<String, Node> listening = new HashMap<>();
    private final Set<String> cut = new HashSet<>();
    private final Map<String, Long> lastDelivery = new HashMap<>();
    private long delivered;
    private long dropped;

    public SimNet(SimWorld world, LongSupplier latency) {
        this.world = world;
        this.latency = latency;
    }

    private record Node(SimWorld.Host host, Transport.Listener listener) {
    }

    /** Drops every message from {@code from} to {@code to} until {@link #heal}. */
    public void cut(String from, String to) {
        cut.add(from + "->" + to);
    }

    public void heal() {
        cut.clear();
    }

    public long delivered() {
        return delivered;
    }

    public long dropped() {
        return dropped;
    }

    Transport transport(String id, SimWorld.Host host) {
        return new Transport() {
            private boolean open;

            @Override
            public void start(Listener listener) {
                open = true;
                listening.put(id, new Node(host, listener));
            }

            @Override
            public void send(Message m) {
                if (open) {
                    route(host, m);
                }
            }

            @Override
            public void close() {
                if (open) {
                    open = false;
                    listening.remove(id);
                }
            }
        };
    }

    /** A crashed node stops listening (its transport is never closed by itself). */
    void crashed(String id) {
        listening.remove(id);
    }

    private void route(SimWorld.Host fromHost, Message m) {
        String link = m.from() + "->" + m.to();
        if (cut.contains(link)) {
            dropped++;
            return;
        }
        Node from = listening.get(m.from());
        Node to = listening.get(m.to());
        long at = world.now() + latency.getAsLong();
        if (to == null) {
            if (from != null) {
                world.at(at, fromHost, () -> from.listener().onConnectionRefused(m.to()));
            }
            return;
        }
        at = Math.max(at, lastDelivery.getOrDefault(link, 0L));
        lastDelivery.put(link, at);
        world.at(at, to.host(), () -> {
            if (listening.get(m.to()) == to && !cut.contains(link)) {
                delivered++;
                to.listener().onMessage(m);
            } else {
                dropped++;
            }
        });
    }
}
