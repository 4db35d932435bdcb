package io.haraft.runtime;

import io.haraft.core.Message;
import io.haraft.transport.Transport;

import java.util.Collection;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An in-JVM network for runtime tests: a hub that hands messages from one {@link LocalTransport}
 * to another, on the receiver's own delivery thread (in order per receiver). It can drop messages
 * between chosen nodes (partitions) or delay them on one link, and it refuses connections to a node whose transport is closed
 * or never started, as a real network does when nothing listens: a send to such a node, and the
 * closing of a node's transport (the peers' streams break and their reconnects are refused), make
 * the senders' listeners see {@code onConnectionRefused}.
 */
final class LocalNetwork {
    private final Map<String, LocalTransport> listening = new ConcurrentHashMap<>();
    private final Set<String> droppedLinks = ConcurrentHashMap.newKeySet();
    private final Map<String, Long> delayNanos = new ConcurrentHashMap<>();
    private final AtomicLong inDelay = new AtomicLong();
    private final ScheduledExecutorService delayer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "local-network-delay");
        t.setDaemon(true);
        return t;
    });
    final AtomicLong delivered = new AtomicLong();
    final AtomicLong dropped = new AtomicLong();

    LocalTransport transport(String nodeId) {
        return new LocalTransport(nodeId);
    }

    /** Drops every message between {@code node} and each of {@code others}, both ways. */
    void isolate(String node, Collection<String> others) {
        for (String o : others) {
            if (!o.equals(node)) {
                droppedLinks.add(node + "->" + o);
                droppedLinks.add(o + "->" + node);
            }
        }
    }

    /** Drops every message from {@code from} to {@code to}; the other direction still delivers. */
    void dropOneWay(String from, String to) {
        droppedLinks.add(from + "->" + to);
    }

    /** Delivers everything again. */
    void heal() {
        droppedLinks.clear();
    }

    /** Delivers every later message from {@code from} to {@code to} {@code delay} late (in order). */
    void delay(String from, String to, java.time.Duration delay) {
        delayNanos.put(from + "->" + to, delay.toNanos());
    }

    /** How many delayed messages are not delivered yet. */
    long inDelay() {
        return inDelay.get();
    }

    private void route(Message m, LocalTransport from) {
        if (droppedLinks.contains(m.from() + "->" + m.to())) {
            dropped.incrementAndGet();
            return;
        }
        LocalTransport to = listening.get(m.to());
        if (to == null) {
            from.refused(m.to());
            return;
        }
        delivered.incrementAndGet();
        Long delay = delayNanos.get(m.from() + "->" + m.to());
        if (delay == null) {
            to.receive(m);
            return;
        }
        inDelay.incrementAndGet();
        delayer.schedule(() -> {
            to.receive(m);
            inDelay.decrementAndGet();
        }, delay, TimeUnit.NANOSECONDS);
    }

    /** One node's end of the hub. */
    final class LocalTransport implements Transport {
        private final String nodeId;
        private final ExecutorService delivery;
        private volatile Listener listener;
        private volatile boolean closed;

        private LocalTransport(String nodeId) {
            this.nodeId = nodeId;
            this.delivery = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "local-transport-" + nodeId);
                t.setDaemon(true);
                return t;
            });
        }

        @Override
        public void start(Listener l) {
            this.listener = l;
            LocalTransport old = listening.put(nodeId, this);
            if (old != null && old != this) {
                throw new IllegalStateException(nodeId + " is already listening");
            }
        }

        @Override
        public void send(Message message) {
            if (!closed && listener != null) {
                route(message, this);
            }
        }

        void receive(Message m) {
            run(() -> listener.onMessage(m));
        }

        void refused(String peer) {
            run(() -> listener.onConnectionRefused(peer));
        }

        private void run(Runnable r) {
            if (closed) {
                return;
            }
            try {
                delivery.execute(() -> {
                    if (!closed) {
                        r.run();
                    }
                });
            } catch (RejectedExecutionException e) {
                // closed concurrently
            }
        }

        @Override
        public void close() {
            if (closed) {
                return;
            }
            closed = true;
            listening.remove(nodeId, this);
            delivery.shutdownNow();
            for (LocalTransport other : listening.values()) {
                other.refused(nodeId);
            }
        }
    }
}
