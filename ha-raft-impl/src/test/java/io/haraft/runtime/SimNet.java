package io.haraft.runtime;

import io.haraft.core.Message;
import io.haraft.transport.Transport;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;

/**
 * The simulated network between the whole-node simulator's nodes: delivers each message as an event
 * of the receiver's host after a latency drawn from the seed, in order per link (as one TCP stream
 * does), drops messages on cut links, and answers a send to a node that does not listen (crashed or
 * closed) with a refused connection for the sender, as a real network does when nothing listens.
 *
 * <p>An endpoint may coalesce periodic messages as the production transport does for a node hosting
 * many groups ({@link Endpoint#coalescePeriodic}): a heartbeat or an answer to one waits up to the
 * linger (on the sender's clock) for others to the same peer, any other message to that peer
 * flushes what waits ahead of it, and what is flushed together travels as one batch: one latency,
 * delivered element by element in order, each to its own group.
 */
public final class SimNet {
    private final SimWorld world;
    private final LongSupplier latency;
    private final Map<String, Node> listening = new HashMap<>();
    private final Set<String> cut = new HashSet<>();
    private final Set<String> identityRefusers = new HashSet<>();
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

    /**
     * Cuts every link between {@code id} and the other nodes of {@code ids}, both ways, and heals
     * every cut {@code forNanos} later.
     */
    public void isolate(String id, java.util.List<String> ids, long forNanos) {
        for (String o : ids) {
            if (!o.equals(id)) {
                cut(id, o);
                cut(o, id);
            }
        }
        world.at(world.now() + forNanos, null, this::heal);
    }

    public void heal() {
        cut.clear();
    }

    /**
     * Has the transport of node {@code id} refuse the cluster identity its node learns (as a
     * transport that knows another one does), from now on.
     */
    public void refuseIdentityOn(String id) {
        identityRefusers.add(id);
    }

    public long delivered() {
        return delivered;
    }

    public long dropped() {
        return dropped;
    }

    Transport transport(String id, SimWorld.Host host) {
        Endpoint e = endpoint(id, host);
        return new Transport() {
            @Override
            public void start(Listener listener) {
                e.start(listener);
            }

            @Override
            public void send(Message m) {
                e.send("", m);
            }

            @Override
            public void learnClusterUuid(java.util.UUID uuid) {
                if (identityRefusers.contains(id)) {
                    throw new IllegalStateException("cluster identity refused by the transport of " + id);
                }
            }

            @Override
            public void close() {
                e.close();
            }
        };
    }

    /**
     * A process's one connection to the net, shared by the Raft groups it hosts (as one socket is):
     * a send names its group ({@code ""}: none), and the receiver's listener gets
     * {@link Transport.Listener#onMessage(String, Message)}.
     */
    Endpoint endpoint(String id, SimWorld.Host host) {
        return new Endpoint(id, host);
    }

    /**
     * A listener of an {@link Endpoint} that is also told, with each message, whether its sender
     * said it is drained (as the production transport's envelope says).
     */
    interface DrainAware {
        void heard(String from, boolean senderDrained);
    }

    /** A message of a group, as queued by an endpoint. */
    private record Queued(String group, Message m) {
    }

    /** See {@link #endpoint}. */
    final class Endpoint {
        private final String id;
        private final SimWorld.Host host;
        private Node self;
        private boolean drained;
        private long lingerNanos;
        /** Planted bug: a batch's elements all go to the group of its first element. */
        boolean misroutesBatches;
        /** Periodic messages waiting for the linger, per receiver. */
        private final Map<String, List<Queued>> held = new HashMap<>();

        private Endpoint(String id, SimWorld.Host host) {
            this.id = id;
            this.host = host;
        }

        void start(Transport.Listener listener) {
            self = new Node(host, listener);
            listening.put(id, self);
        }

        void send(String group, Message m) {
            // a process that crashed or closed its transport sends nothing more
            if (!live()) {
                return;
            }
            if (lingerNanos > 0 && periodic(m)) {
                List<Queued> waiting = held.computeIfAbsent(m.to(), k -> new ArrayList<>());
                waiting.add(new Queued(group, m));
                if (waiting.size() == 1) {
                    Node flusher = self;
                    world.at(world.now() + host.toReal(lingerNanos), host, host.incarnation(), () -> {
                        if (self == flusher) {
                            flush(m.to());
                        }
                    });
                }
                return;
            }
            flush(m.to());   // what waits ahead of it goes first
            routeBatch(self, List.of(new Queued(group, m)), drained, false);   // a frame of its own
        }

        private boolean live() {
            return self != null && listening.get(id) == self;
        }

        private void flush(String to) {
            List<Queued> waiting = held.remove(to);
            if (waiting != null && live()) {
                routeBatch(self, waiting, drained, misroutesBatches);
            }
        }

        /**
         * From now on, heartbeats and their answers wait up to {@code linger} (local time) for
         * others to the same peer and travel with them as one batch.
         */
        void coalescePeriodic(long linger) {
            lingerNanos = linger;
        }

        /** Says on every message sent from now on whether this process is drained. */
        void setDrained(boolean on) {
            drained = on;
        }

        void close() {
            if (self != null) {
                listening.remove(id, self);
            }
        }
    }

    /** Heartbeats and their answers: what the production transport lets wait for a batch. */
    static boolean periodic(Message m) {
        return m instanceof Message.Heartbeat || m instanceof Message.HeartbeatResponse;
    }

    /** Sends {@code batch} (messages to one receiver) as one frame: one latency, delivered in order. */
    private void routeBatch(Node from, List<Queued> batch, boolean senderDrained, boolean misroutes) {
        Message first = batch.get(0).m();
        String link = first.from() + "->" + first.to();
        if (cut.contains(link)) {
            dropped += batch.size();
            return;
        }
        Node to = listening.get(first.to());
        long at = world.now() + latency.getAsLong();
        if (to == null) {
            world.at(at, from.host(), () -> {
                if (listening.get(first.from()) == from) {
                    from.listener().onConnectionRefused(first.to());
                }
            });
            return;
        }
        at = Math.max(at, lastDelivery.getOrDefault(link, 0L));
        lastDelivery.put(link, at);
        String firstGroup = batch.get(0).group();
        world.at(at, to.host(), () -> {
            for (Queued q : batch) {
                // the planted bug routes every element by the first one's group
                deliver(to, link, misroutes ? firstGroup : q.group(), q.m(), senderDrained);
            }
        });
    }

    private void deliver(Node to, String link, String group, Message m, boolean senderDrained) {
        if (listening.get(m.to()) == to && !cut.contains(link)) {
            delivered++;
            if (to.listener() instanceof DrainAware d) {
                d.heard(m.from(), senderDrained);
            }
            if (group.isEmpty()) {
                to.listener().onMessage(m);
            } else {
                to.listener().onMessage(group, m);
            }
        } else {
            dropped++;
        }
    }

    /** A crashed node stops listening (its transport is never closed by itself). */
    void crashed(String id) {
        listening.remove(id);
    }

}
