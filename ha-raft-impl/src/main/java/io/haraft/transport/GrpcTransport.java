package io.haraft.transport;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.channel.ConnectTimeoutException;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.haraft.TlsConfig;
import io.haraft.core.Message;
import io.haraft.transport.proto.ConnectionHeader;
import io.haraft.transport.proto.Member;
import io.haraft.transport.proto.Members;
import io.haraft.transport.proto.RaftMessage;
import io.haraft.transport.proto.RaftTransportGrpc;
import io.haraft.transport.proto.ServerFrame;
import io.haraft.transport.proto.Welcome;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import javax.net.ssl.SSLException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Collectors;

/**
 * The production {@link Transport}: gRPC over HTTP/2 (Netty, shaded), protobuf messages from
 * {@code raft.proto}, optional mutual TLS.
 *
 * <p><b>Guarantees</b> (on top of the {@link Transport} contract):
 * <ul>
 *   <li><b>One ordered stream per peer.</b> Messages to one peer travel, in {@link #send} order, on
 *       one client-to-server gRPC stream opened by this node. Inbound streams are opened by the
 *       peers; this node never sends its messages on a stream a peer opened.</li>
 *   <li><b>Never blocks the caller.</b> {@link #send} encodes nothing and touches no socket: it
 *       appends to the peer's bounded queue ({@link GrpcTransportConfig#sendQueueCapacity()}) and
 *       returns. When the queue is full the <em>oldest</em> queued message is dropped: newer
 *       messages carry newer terms, commit indexes and heartbeat rounds, which are what keeps a
 *       lease alive, and Raft repairs the gap left by a dropped append on the next round. Messages
 *       wait in the queue while the peer is unreachable and are sent once a stream is accepted.</li>
 *   <li><b>Checked identity.</b> Every stream carries a {@code ConnectionHeader} (cluster id, sender
 *       id, receiver id) as request metadata. The receiver refuses, with {@code PERMISSION_DENIED}
 *       and a WARN log naming the mismatch, a stream whose cluster id differs, whose receiver is not
 *       this node, or whose sender is not a current peer (unless a peer vouches for it, see
 *       "Guests"), before any message of it is read.
 *       On an accepted stream, a message whose {@code from}/{@code to} differ from the header, or
 *       that cannot be decoded, closes the stream ({@code INVALID_ARGUMENT}, WARN); nothing after it
 *       is delivered. The sender waits for the receiver's {@code Welcome} before writing, so
 *       messages are not lost into a stream about to be refused.</li>
 *   <li><b>Bounded messages.</b> A message larger than {@code maxMessageBytes} is dropped by the
 *       sender (WARN), and a larger one arriving from a differently configured peer is refused by
 *       gRPC ({@code RESOURCE_EXHAUSTED}); the stream is then re-opened like after any failure.</li>
 *   <li><b>Reconnection.</b> After a stream that had been accepted breaks, the next attempt starts
 *       at once (so that a crashed peer is seen to be gone as soon as possible); after a failed
 *       attempt the wait doubles from {@code reconnectBackoffMin} up to {@code reconnectBackoffMax},
 *       with 20 % jitter. Every attempt uses a fresh channel and therefore a fresh TCP connection.</li>
 *   <li><b>Refused connections.</b> {@link Listener#onConnectionRefused} is called once per attempt
 *       whose TCP connect was refused (see "Refused-connection detection" below), and never for a
 *       timeout, a TLS failure, a refused stream or a broken connection.</li>
 *   <li><b>Mutual TLS</b> when configured: both sides present certificates and require the other's
 *       to chain to the configured trust certificates; client certificates are required.</li>
 *   <li><b>Changing peers.</b> The peers start as {@link GrpcTransportConfig#peers()} and follow
 *       the cluster's configuration through {@link #updatePeers}: a new peer is connected to and its
 *       streams are accepted from then on; a peer that left has its link closed (after writing
 *       what is queued for it, on an accepted stream) and its streams refused. A node whose stream
 *       a peer refused for that reason hears of it through {@link Listener#onRejectedAsNonMember}.</li>
 *   <li><b>Guests: only a node a member vouches for.</b> On every stream it accepts, a node
 *       writes back its current peers ({@code Members} frames: right after the {@code Welcome} and
 *       again whenever {@link #updatePeers} changes them). A stream from a sender that this node's
 *       configuration does not list is accepted only if one of this node's current peers lists
 *       that sender in its latest {@code Members} frame on the stream this node opened to it (so
 *       the peer was reached at the address of this node's own configuration and answered as that
 *       node), and only if this node's configuration never dropped the sender. Such a guest is
 *       answered at the address the vouching peer gives (never at one the guest claims); its
 *       first message must be a leader's (append, heartbeat, snapshot chunk), anything else
 *       closes the stream like an unknown sender's ({@code PERMISSION_DENIED}, WARN), and it
 *       is refused again as soon as no current peer lists it. Every other sender is refused before
 *       any of its messages is read. So a node that was away while members changed is still
 *       reached by a leader added meanwhile (the members it knows list that leader), while a
 *       stranger that merely knows the cluster id can deliver nothing, in particular no
 *       higher-term heartbeat that would depose a healthy leader.</li>
 * </ul>
 *
 * <p><b>Refused-connection detection.</b> An attempt's stream fails with {@code UNAVAILABLE} when
 * the TCP connection cannot be made. Netty reports {@code ECONNREFUSED} as a
 * {@link ConnectException} (Netty's {@code AnnotatedConnectException} subclass) with the errno text
 * "Connection refused", which gRPC keeps as the cause of the status. A failure counts as refused
 * when its cause chain holds a {@code ConnectException} that is not Netty's
 * {@link ConnectTimeoutException} and whose message says "refused". Because each attempt uses a
 * new channel, the cause is that attempt's own connect, never a cached one. The errno text is the
 * English C-library text; under a locale that translates it the fast path simply never fires and
 * failover falls back to election timeouts (a safe failure).
 *
 * <p><b>Threads.</b> All methods are thread-safe. Network I/O, gRPC callbacks and delivery to the
 * {@link Listener} run on the transport's own I/O thread {@code haraft-transport-<node>-io-1}
 * (Netty's epoll, or NIO where epoll is missing; nodes in one JVM do not share it), so a message
 * reaches the listener without a thread hand-off. {@link #send} writes to the stream on the
 * caller's thread when the stream is free (no hand-off either) and otherwise leaves it to a small
 * pool named {@code haraft-transport-<node>-<n>}; reconnect timers run on one thread named
 * {@code haraft-transport-<node>-timer}. Messages from one peer are delivered in order, one at a
 * time. Every transport thread carries the MDC keys {@code cluster} and {@code node}. Nothing in
 * this class sleeps.
 *
 * <pre>{@code
 * GrpcTransport transport = GrpcTransport.create(GrpcTransportConfig.from(raftConfig));
 * transport.start(listener);          // binds, then connects to every peer
 * transport.send(new Message.Heartbeat("n1", "n2", term, commit, round));
 * transport.close();                  // stops listening, flushes what it can, closes streams
 * }</pre>
 *
 * <p><b>Limits.</b> A peer is authenticated as a cluster member (trusted certificate, cluster id)
 * but its certificate is not tied to its node id: any holder of a trusted certificate (or, without
 * TLS, any process that can reach the port) may claim any node id that a member lists, and is then
 * treated as that node, higher terms included. Vouching narrows who can be a guest; it does not
 * authenticate anyone. Messages queued for an unreachable peer are kept (up to the queue bound)
 * and sent late; Raft tolerates stale messages. Listener callbacks must not block: a blocked
 * callback stalls the peer's stream and, if all pool threads block, the transport.
 */
public final class GrpcTransport implements Transport {

    private static final Logger log = LoggerFactory.getLogger(GrpcTransport.class);

    /** The request metadata key of the {@link ConnectionHeader}: {@code haraft.v1.ConnectionHeader-bin}. */
    static final Metadata.Key<ConnectionHeader> HEADER_KEY =
            ProtoUtils.keyForProto(ConnectionHeader.getDefaultInstance());
    static final int PROTOCOL_VERSION = 1;
    private static final Context.Key<String> SENDER = Context.key("haraft-sender");
    private static final Duration CLOSE_GRACE = Duration.ofMillis(500);
    /** How a refusal of a stream from a node that is not a current member starts. */
    static final String UNKNOWN_SENDER = "unknown sender: ";

    private enum State { NEW, STARTED, CLOSED }

    private final GrpcTransportConfig config;
    private final Object lifecycle = new Object();
    private State state = State.NEW;                 // guarded by lifecycle
    private volatile Listener listener;
    // Set once in start (under lifecycle); volatile so that any thread sees them afterwards.
    private volatile Server server;
    private volatile ExecutorService pool;
    private volatile EventLoops io;
    private volatile ScheduledThreadPoolExecutor timer;
    private final Map<String, PeerLink> links = new ConcurrentHashMap<>();   // written under lifecycle
    private final List<PeerLink> retired = new ArrayList<>();                // guarded by lifecycle
    private volatile Map<String, String> peers;                              // the current peers
    /**
     * Senders the configuration does not list, not known to be removed, that a current peer lists
     * among its own peers: admitted with the address that peer gives (a member added while this
     * node was away).
     */
    private final Map<String, String> guests = new ConcurrentHashMap<>();    // written under lifecycle
    /** What each peer last announced as its own peers, on the stream this node opened to it. */
    private final Map<String, Map<String, String>> announced = new ConcurrentHashMap<>();
    /** The open inbound streams, told (with a Members frame) whenever this node's peers change. */
    private final Set<Inbound> inbound = ConcurrentHashMap.newKeySet();
    /** Ids that were peers and were dropped by {@link #updatePeers}: their streams stay refused. */
    private final java.util.Set<String> removedPeers = ConcurrentHashMap.newKeySet();   // written under lifecycle
    private volatile SslContext clientSsl;

    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong received = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong oversized = new AtomicLong();
    private final AtomicLong rejected = new AtomicLong();
    private final AtomicLong failedAttempts = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();

    private GrpcTransport(GrpcTransportConfig config) {
        this.config = Objects.requireNonNull(config, "config");
        this.peers = config.peers();
        config.peers().forEach((peer, address) -> links.put(peer, new PeerLink(peer, address)));
    }

    /** A transport that does nothing until {@link #start}. */
    public static GrpcTransport create(GrpcTransportConfig config) {
        return new GrpcTransport(config);
    }

    /** This transport's settings. */
    public GrpcTransportConfig config() {
        return config;
    }

    /**
     * Binds the listen address, then opens a stream to every peer.
     *
     * @throws IllegalStateException if called twice or after {@link #close}
     * @throws UncheckedIOException  if the address cannot be bound or the TLS files cannot be parsed;
     *                               the transport is then closed
     */
    @Override
    public void start(Listener listener) {
        Objects.requireNonNull(listener, "listener");
        synchronized (lifecycle) {
            if (state != State.NEW) {
                throw new IllegalStateException("transport of " + config.selfId() + " is " + state
                        + "; a transport starts once");
            }
            state = State.STARTED;
            this.listener = listener;
            io = new EventLoops(threads("haraft-transport-" + config.selfId() + "-io-", true));
            pool = Executors.newFixedThreadPool(Math.max(2, Math.min(4, Runtime.getRuntime().availableProcessors())),
                    threads("haraft-transport-" + config.selfId() + "-", true));
            timer = new ScheduledThreadPoolExecutor(1, threads("haraft-transport-" + config.selfId() + "-timer", false));
            timer.setRemoveOnCancelPolicy(true);
            try {
                clientSsl = config.tls().isPresent() ? clientSslContext(config.tls().get()) : null;
                server = buildServer().start();
            } catch (IOException e) {
                state = State.CLOSED;
                closeQuietly();
                throw new UncheckedIOException("cannot listen on " + config.listenAddress() + " for node "
                        + config.selfId() + ": " + e.getMessage(), e);
            } catch (RuntimeException e) {
                state = State.CLOSED;
                closeQuietly();
                throw e;
            }
            log.info("Node {} of cluster {} listening on {}{}; peers {}", config.selfId(), config.clusterId(),
                    localAddress(), config.tls().isPresent() ? " with mutual TLS" : " (plain TCP)", peers);
            for (PeerLink link : links.values()) {
                link.connect();
            }
        }
    }

    /**
     * Queues {@code message} for {@code message.to()} and returns at once. Dropped with a WARN when
     * {@code to} is not a peer or {@code from} is not this node, and silently (counted) before
     * start or after close.
     */
    @Override
    public void send(Message message) {
        Objects.requireNonNull(message, "message");
        PeerLink link = links.get(message.to());
        if (link == null) {
            dropped.incrementAndGet();
            log.warn("Dropped {}: '{}' is not a peer of node {}", message.getClass().getSimpleName(),
                    message.to(), config.selfId());
            return;
        }
        if (!config.selfId().equals(message.from())) {
            dropped.incrementAndGet();
            log.warn("Dropped {} to {}: its sender '{}' is not this node {}", message.getClass().getSimpleName(),
                    message.to(), message.from(), config.selfId());
            return;
        }
        link.enqueue(message);
    }

    /**
     * Replaces the peers (see the class comment). Links to new peers are connected at once if the
     * transport is started; a link whose address changed is replaced; links to peers no longer
     * listed are closed, after writing what is queued for them if their stream is accepted.
     *
     * @throws IllegalArgumentException if {@code newPeers} names this node or an address is not
     *                                  {@code host:port}
     */
    @Override
    public void updatePeers(Map<String, String> newPeers) {
        Map<String, String> copy = new LinkedHashMap<>();
        newPeers.forEach((id, address) -> {
            if (id.equals(config.selfId())) {
                throw new IllegalArgumentException("peers must not contain this node's own id '" + id + "'");
            }
            GrpcTransportConfig.parseAddress(id, address);
            copy.put(id, address);
        });
        List<PeerLink> toConnect = new ArrayList<>();
        List<PeerLink> toClose = new ArrayList<>();
        synchronized (lifecycle) {
            if (copy.equals(peers) || state == State.CLOSED) {
                return;
            }
            for (String id : peers.keySet()) {
                if (!copy.containsKey(id)) {
                    removedPeers.add(id);
                }
            }
            removedPeers.removeAll(copy.keySet());
            guests.keySet().removeAll(copy.keySet());
            guests.keySet().removeAll(removedPeers);
            for (Map.Entry<String, PeerLink> e : links.entrySet()) {
                String address = copy.getOrDefault(e.getKey(), guests.get(e.getKey()));
                if (address == null || !address.equals(e.getValue().address)) {
                    toClose.add(e.getValue());
                }
            }
            for (PeerLink link : toClose) {
                links.remove(link.peerId, link);
                retired.add(link);
            }
            copy.forEach((id, address) -> {
                if (!links.containsKey(id)) {
                    PeerLink link = new PeerLink(id, address);
                    links.put(id, link);
                    toConnect.add(link);
                }
            });
            log.info("Peers of node {} are now {} (was {})", config.selfId(), copy, peers);
            peers = Collections.unmodifiableMap(copy);
            if (state == State.STARTED) {
                toConnect.forEach(PeerLink::connect);
            }
        }
        toClose.forEach(PeerLink::close);
        dropUnvouchedGuests();
        for (Inbound in : inbound) {
            in.sendMembers();
        }
    }

    /** The current peers: node id to {@code host:port}. */
    public Map<String, String> peers() {
        return peers;
    }

    /**
     * The address this transport listens on, with the actual port when the configured port was 0.
     *
     * @throws IllegalStateException before {@link #start}
     */
    public InetSocketAddress localAddress() {
        Server s = server;
        if (s == null) {
            throw new IllegalStateException("transport of " + config.selfId() + " is not started");
        }
        for (SocketAddress a : s.getListenSockets()) {
            if (a instanceof InetSocketAddress inet) {
                return inet;
            }
        }
        return config.listenAddress();
    }

    /** A snapshot of the counters. */
    public TransportStats stats() {
        Set<String> connected = links.values().stream().filter(PeerLink::isConnected)
                .map(l -> l.peerId).collect(Collectors.toUnmodifiableSet());
        return new TransportStats(sent.get(), received.get(), dropped.get(), oversized.get(), rejected.get(),
                failedAttempts.get(), refused.get(), connected);
    }

    /**
     * Stops listening (every inbound stream is cancelled and the port is closed), then writes what is
     * queued on accepted outbound streams, half-closes them and shuts the channels down, waiting at
     * most about half a second for them. Idempotent; never throws.
     */
    @Override
    public void close() {
        synchronized (lifecycle) {
            if (state == State.CLOSED) {
                return;
            }
            boolean started = state == State.STARTED;
            state = State.CLOSED;
            if (!started) {
                return;
            }
        }
        // Not under the lifecycle lock: gRPC callbacks run on the I/O thread and may take that lock
        // (a guest being admitted), while shutting the server down waits for the I/O thread.
        // Every path that takes the lock sees CLOSED from here on and adds nothing.
        closeQuietly();
        log.info("Transport of node {} closed", config.selfId());
    }

    private void closeQuietly() {
        long deadline = System.nanoTime() + CLOSE_GRACE.toNanos();
        if (server != null) {
            server.shutdownNow();
            awaitUntil(deadline, server::awaitTermination);
        }
        List<PeerLink> all;
        synchronized (lifecycle) {
            all = new ArrayList<>(links.values());
            all.addAll(retired);
        }
        for (PeerLink link : all) {
            link.close();
        }
        for (PeerLink link : all) {
            link.awaitClosed(deadline);
        }
        if (timer != null) {
            timer.shutdownNow();
        }
        if (pool != null) {
            pool.shutdown();
            awaitUntil(deadline, pool::awaitTermination);
            pool.shutdownNow();
        }
        if (io != null) {
            io.close(deadline);
        }
    }

    private interface Await {
        boolean await(long timeout, TimeUnit unit) throws InterruptedException;
    }

    private static void awaitUntil(long deadline, Await await) {
        try {
            await.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Server side

    private Server buildServer() throws SSLException {
        NettyServerBuilder b = NettyServerBuilder.forAddress(config.listenAddress())
                .bossEventLoopGroup(io.group()).workerEventLoopGroup(io.group()).channelType(io.serverChannel())
                .directExecutor()   // callbacks only decode, check and queue: nothing blocks
                .maxInboundMessageSize(config.maxMessageBytes())
                .maxInboundMetadataSize(16 * 1024)
                .permitKeepAliveTime(5, TimeUnit.SECONDS)
                .permitKeepAliveWithoutCalls(true)
                .addService(ServerInterceptors.intercept(new InboundService(), new HeaderCheck()));
        if (config.tls().isPresent()) {
            TlsConfig tls = config.tls().get();
            b.sslContext(GrpcSslContexts.forServer(tls.certificateChain().toFile(), tls.privateKey().toFile())
                    .trustManager(tls.trustCertificates().toFile())
                    .clientAuth(ClientAuth.REQUIRE)
                    .build());
        }
        return b.build();
    }

    /** Checks the connection header of every inbound stream before the service sees it. */
    private final class HeaderCheck implements ServerInterceptor {
        @Override
        public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                           ServerCallHandler<Q, R> next) {
            SocketAddress remote = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
            ConnectionHeader header;
            String problem;
            try {
                header = headers.get(HEADER_KEY);
                problem = check(header);
            } catch (RuntimeException e) {
                header = null;
                problem = "unreadable connection header (" + e.getMessage() + ")";
            }
            if (problem != null) {
                rejected.incrementAndGet();
                log.warn("Refused a stream from {} to node {}: {}", remote, config.selfId(), problem);
                call.close(Status.PERMISSION_DENIED.withDescription(problem), new Metadata());
                return new ServerCall.Listener<>() { };
            }
            log.debug("Accepted a stream from {} ({})", header.getSenderId(), remote);
            return Contexts.interceptCall(Context.current().withValue(SENDER, header.getSenderId()),
                    call, headers, next);
        }

        private String check(ConnectionHeader h) {
            if (h == null) {
                return "no connection header (not an HA-Raft node of a compatible version)";
            }
            if (h.getProtocolVersion() != PROTOCOL_VERSION) {
                return "protocol version " + h.getProtocolVersion() + " is not " + PROTOCOL_VERSION;
            }
            if (!config.clusterId().equals(h.getClusterId())) {
                return "cluster id mismatch: the sender '" + shown(h.getSenderId()) + "' belongs to cluster '"
                        + shown(h.getClusterId()) + "', this node to cluster '" + config.clusterId() + "'";
            }
            if (!config.selfId().equals(h.getReceiverId())) {
                return "receiver id mismatch: the stream is meant for node '" + shown(h.getReceiverId())
                        + "' but this is node '" + config.selfId() + "' (check the peer addresses)";
            }
            Map<String, String> current = peers;
            if (!current.containsKey(h.getSenderId()) && !guests.containsKey(h.getSenderId())
                    && !admitGuest(h.getSenderId())) {
                return UNKNOWN_SENDER + "'" + shown(h.getSenderId()) + "' is not a member of cluster '"
                        + config.clusterId() + "' in the configuration this node knows (peers " + current.keySet()
                        + "), and none of those peers lists it; a node removed from the cluster stays refused, and"
                        + " a node added since is accepted once this node has the new configuration or a peer it"
                        + " knows lists the new node";
            }
            return null;
        }
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
    private boolean admitGuest(String id) {
        if (removedPeers.contains(id) || id.equals(config.selfId())) {
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
        synchronized (lifecycle) {
            if (state == State.CLOSED || removedPeers.contains(id) || peers.containsKey(id)) {
                return peers.containsKey(id);
            }
            guests.put(id, v.address());
        }
        log.info("Accepting a stream from {}, which the configuration of node {} does not list (peers {}): peer {}"
                + " lists it at {}", id, config.selfId(), peers.keySet(), v.voucher(), v.address());
        return true;
    }

    /** Drops the guests that no current peer vouches for any more (it left their configuration). */
    private void dropUnvouchedGuests() {
        for (String id : List.copyOf(guests.keySet())) {
            if (vouch(id) == null) {
                log.info("No peer of node {} lists {} any more; its streams are refused from now on",
                        config.selfId(), id);
                dropGuest(id);
            }
        }
    }

    /**
     * A guest sent a leader's message: from now on this node answers it at its address, until the
     * configuration lists it (or drops it for good).
     */
    private void linkGuest(String id) {
        PeerLink stale = null;
        boolean made = false;
        String address;
        synchronized (lifecycle) {
            address = guests.get(id);
            if (address == null || state == State.CLOSED || peers.containsKey(id)) {
                return;
            }
            PeerLink link = links.get(id);
            if (link == null || !link.address.equals(address)) {
                if (link != null) {
                    links.remove(id, link);
                    retired.add(link);
                    stale = link;
                }
                link = new PeerLink(id, address);
                links.put(id, link);
                made = true;
                if (state == State.STARTED) {
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
    private void dropGuest(String id) {
        PeerLink link = null;
        synchronized (lifecycle) {
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

    /** Where this node accepts streams, as peers dial it; empty if it listens on a wildcard address. */
    private String advertisedAddress() {
        InetSocketAddress listen = config.listenAddress();
        if (listen.getAddress() != null && listen.getAddress().isAnyLocalAddress()) {
            return "";
        }
        int port = listen.getPort();
        if (port == 0) {
            try {
                port = localAddress().getPort();
            } catch (RuntimeException e) {
                return "";
            }
        }
        String host = listen.getHostString();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }

    private static String shown(String untrusted) {
        String s = untrusted.length() > 64 ? untrusted.substring(0, 64) + "..." : untrusted;
        return s.replaceAll("[^\\x20-\\x7e]", "?");
    }

    /** Delivers the messages of accepted inbound streams. */
    private final class InboundService extends RaftTransportGrpc.RaftTransportImplBase {
        @Override
        public StreamObserver<RaftMessage> connect(StreamObserver<ServerFrame> frames) {
            String sender = SENDER.get();
            Inbound responses = new Inbound((ServerCallStreamObserver<ServerFrame>) frames);
            responses.welcome();
            return new StreamObserver<>() {
                private boolean failed;   // gRPC calls one stream's observer serially

                @Override
                public void onNext(RaftMessage wire) {
                    if (failed) {
                        return;
                    }
                    Message message;
                    String problem;
                    if (!peers.containsKey(sender) && !guests.containsKey(sender)) {
                        // removed from the configuration since its stream was accepted
                        failed = true;
                        rejected.incrementAndGet();
                        String why = UNKNOWN_SENDER + "'" + sender + "' is no longer a member of cluster '" + config.clusterId()
                                + "' in the configuration this node knows (peers " + peers.keySet() + ")";
                        log.warn("Closed the stream from {}: {}", sender, why);
                        responses.fail(Status.PERMISSION_DENIED.withDescription(why));
                        return;
                    }
                    try {
                        message = MessageCodec.decode(wire);
                        problem = !sender.equals(message.from()) || !config.selfId().equals(message.to())
                                ? "message from '" + shown(message.from()) + "' to '" + shown(message.to())
                                  + "' on the stream from '" + sender + "' to '" + config.selfId() + "'"
                                : null;
                    } catch (MessageCodec.MalformedMessageException e) {
                        message = null;
                        problem = e.getMessage();
                    }
                    if (problem != null) {
                        failed = true;
                        rejected.incrementAndGet();
                        log.warn("Closed the stream from {}: {}", sender, problem);
                        responses.fail(Status.INVALID_ARGUMENT.withDescription(problem));
                        return;
                    }
                    if (!peers.containsKey(sender) && !(message instanceof Message.Append
                            || message instanceof Message.Heartbeat || message instanceof Message.InstallSnapshot)) {
                        // a guest is admitted only to feed this node as its leader
                        failed = true;
                        rejected.incrementAndGet();
                        String why = UNKNOWN_SENDER + "'" + sender + "' is not a member of cluster '" + config.clusterId()
                                + "' in the configuration this node knows (peers " + peers.keySet() + "), and sent a "
                                + message.getClass().getSimpleName() + ", not a leader's message; check its id and this"
                                + " node's members (a node added since is accepted once this node has the new"
                                + " configuration)";
                        dropGuest(sender);
                        log.warn("Closed the stream from {}: {}", sender, why);
                        responses.fail(Status.PERMISSION_DENIED.withDescription(why));
                        return;
                    }
                    if (!peers.containsKey(sender)) {
                        linkGuest(sender);
                    }
                    received.incrementAndGet();
                    try {
                        listener.onMessage(message);
                    } catch (RuntimeException e) {
                        log.error("Listener failed on {} from {}", message.getClass().getSimpleName(), sender, e);
                    }
                }

                @Override
                public void onError(Throwable t) {
                    responses.ended();
                    log.debug("Stream from {} ended: {}", sender, Status.fromThrowable(t));
                }

                @Override
                public void onCompleted() {
                    responses.complete();
                }
            };
        }
    }

    /**
     * The server side of one inbound stream: what this node writes back (the Welcome, then Members
     * frames). Every write is under this object's lock, as gRPC observers are not thread-safe and
     * {@link #updatePeers} writes from the caller's thread.
     */
    private final class Inbound {
        private final ServerCallStreamObserver<ServerFrame> responses;
        private boolean closed;   // guarded by this

        Inbound(ServerCallStreamObserver<ServerFrame> responses) {
            this.responses = responses;
            responses.setOnCancelHandler(this::ended);
        }

        /** The Welcome, then this node's peers; from now on, every change of them. */
        void welcome() {
            inbound.add(this);
            write(ServerFrame.newBuilder().setWelcome(Welcome.newBuilder()
                    .setClusterId(config.clusterId()).setNodeId(config.selfId())).build());
            sendMembers();
        }

        /** Writes this node's current peers (read under the lock, so a later write is never older). */
        synchronized void sendMembers() {
            Members.Builder m = Members.newBuilder();
            peers.forEach((id, address) -> m.addMembers(Member.newBuilder().setId(id).setAddress(address)));
            write(ServerFrame.newBuilder().setMembers(m).build());
        }

        private synchronized void write(ServerFrame frame) {
            if (closed) {
                return;
            }
            try {
                responses.onNext(frame);
            } catch (RuntimeException e) {
                // the call ended meanwhile
                ended();
            }
        }

        synchronized void fail(Status status) {
            if (!closed) {
                ended();
                responses.onError(status.asRuntimeException());
            }
        }

        synchronized void complete() {
            if (!closed) {
                ended();
                responses.onCompleted();
            }
        }

        synchronized void ended() {
            closed = true;
            inbound.remove(this);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Client side

    private static SslContext clientSslContext(TlsConfig tls) throws SSLException {
        return GrpcSslContexts.forClient()
                .keyManager(tls.certificateChain().toFile(), tls.privateKey().toFile())
                .trustManager(tls.trustCertificates().toFile())
                .build();
    }

    /**
     * Whether {@code status} is the failure of a TCP connect that the peer's host refused (nothing
     * listens there). See the class comment.
     */
    static boolean isConnectionRefused(Status status) {
        if (status.getCode() != Status.Code.UNAVAILABLE) {
            return false;
        }
        for (Throwable t = status.getCause(); t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof ConnectException && !(t instanceof ConnectTimeoutException)) {
                String text = String.valueOf(t.getMessage()).toLowerCase(Locale.ROOT);
                if (text.contains("refused")) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * The wait before the next attempt to connect after {@code failedBefore} consecutive failed
     * attempts: {@code min * 2^failedBefore}, at most {@code max}, times a jitter factor in
     * [0.8, 1.2) drawn from {@code random01} (in [0, 1)); never more than {@code max}, never less than 1 ms.
     */
    static long backoffMillis(int failedBefore, Duration min, Duration max, double random01) {
        long lo = min.toMillis();
        long hi = max.toMillis();
        long base = failedBefore >= 30 || lo << failedBefore > hi ? hi : lo << failedBefore;
        double jitter = 0.8 + 0.4 * random01;
        return Math.max(1, Math.min(hi, (long) (base * jitter)));
    }

    /** Everything about the outbound stream to one peer. */
    private final class PeerLink {
        final String peerId;
        final String address;

        private final Object queueLock = new Object();
        private final ArrayDeque<Message> queue = new ArrayDeque<>();      // guarded by queueLock
        private boolean overflowReported;                                  // guarded by queueLock

        private final ReentrantLock streamLock = new ReentrantLock();
        private Attempt current;              // guarded by streamLock; the live attempt or null
        private ScheduledFuture<?> retry;     // guarded by streamLock
        private int failures;                 // guarded by streamLock; consecutive failed attempts
        private volatile boolean closed;      // written under streamLock; read without it in enqueue
        private String lastProblem;           // guarded by streamLock; to log a repeated kind of failure once
        private volatile boolean connected;   // the current attempt was welcomed
        private final AtomicBoolean drainScheduled = new AtomicBoolean();
        private final List<ManagedChannel> closing = new ArrayList<>();   // guarded by streamLock

        PeerLink(String peerId, String address) {
            this.peerId = peerId;
            this.address = address;
        }

        boolean isConnected() {
            return connected;
        }

        void enqueue(Message message) {
            if (closed) {
                dropped.incrementAndGet();
                return;
            }
            int overflow = 0;
            boolean report = false;
            synchronized (queueLock) {
                queue.addLast(message);
                while (queue.size() > config.sendQueueCapacity()) {
                    queue.pollFirst();
                    overflow++;
                }
                if (overflow > 0 && !overflowReported) {
                    overflowReported = true;
                    report = true;
                }
            }
            if (overflow > 0) {
                dropped.addAndGet(overflow);
                if (report) {
                    log.warn("Send queue to {} is full ({} messages, peer {}): dropping the oldest until it drains",
                            peerId, config.sendQueueCapacity(), connected ? "slow" : "unreachable");
                }
            }
            if (connected) {
                drainNowOrLater();
            }
        }

        /**
         * Writes what is queued on the caller's thread when the stream is free (a message costs no
         * hand-off to another thread before gRPC takes it), else leaves it to a pool thread.
         */
        private void drainNowOrLater() {
            if (streamLock.tryLock()) {
                try {
                    drainLocked();
                } finally {
                    streamLock.unlock();
                }
            } else {
                scheduleDrain();
            }
        }

        private void scheduleDrain() {
            if (drainScheduled.compareAndSet(false, true)) {
                try {
                    pool.execute(this::drain);
                } catch (java.util.concurrent.RejectedExecutionException e) {
                    drainScheduled.set(false);   // closing
                }
            }
        }

        /** Writes queued messages while the stream accepts them without buffering. */
        private void drain() {
            drainScheduled.set(false);
            streamLock.lock();
            try {
                drainLocked();
            } finally {
                streamLock.unlock();
            }
        }

        private void drainLocked() {
            Attempt a = current;
            while (a != null && a.welcomed && a.requests.isReady()) {
                Message m = poll();
                if (m == null) {
                    return;
                }
                write(a, m);
            }
        }

        private Message poll() {
            synchronized (queueLock) {
                Message m = queue.pollFirst();
                if (m == null) {
                    overflowReported = false;
                }
                return m;
            }
        }

        private void write(Attempt a, Message m) {   // holds streamLock
            RaftMessage wire = MessageCodec.encode(m);
            int size = wire.getSerializedSize();
            if (size > config.maxMessageBytes()) {
                dropped.incrementAndGet();
                oversized.incrementAndGet();
                log.warn("Dropped {} to {}: {} bytes exceed maxMessageBytes {}", m.getClass().getSimpleName(),
                        peerId, size, config.maxMessageBytes());
                return;
            }
            a.requests.onNext(wire);
            sent.incrementAndGet();
        }

        /** Starts a new attempt on a fresh channel. */
        void connect() {
            streamLock.lock();
            try {
                retry = null;
                if (closed) {
                    return;
                }
                InetSocketAddress target = GrpcTransportConfig.parseAddress(peerId, address);
                NettyChannelBuilder b = NettyChannelBuilder.forAddress(target.getHostString(), target.getPort())
                        .eventLoopGroup(io.group()).channelType(io.clientChannel())
                        .directExecutor()   // callbacks only take short locks and queue work
                        .maxInboundMessageSize(64 * 1024)
                        .withOption(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) config.connectTimeout().toMillis())
                        .keepAliveTime(10, TimeUnit.SECONDS)
                        .keepAliveTimeout(5, TimeUnit.SECONDS)
                        .keepAliveWithoutCalls(true)
                        .disableRetry();
                if (clientSsl != null) {
                    b.sslContext(clientSsl);
                } else {
                    b.usePlaintext();
                }
                ManagedChannel channel = b.build();
                Metadata headers = new Metadata();
                headers.put(HEADER_KEY, ConnectionHeader.newBuilder()
                        .setClusterId(config.clusterId()).setSenderId(config.selfId()).setReceiverId(peerId)
                        .setSenderAddress(advertisedAddress())
                        .setProtocolVersion(PROTOCOL_VERSION).build());
                Attempt attempt = new Attempt(channel);
                current = attempt;
                RaftTransportGrpc.newStub(channel)
                        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
                        .connect(attempt);
            } finally {
                streamLock.unlock();
            }
        }

        private void welcomed(Attempt a, Welcome w) {
            String problem = null;
            streamLock.lock();
            try {
                if (current != a) {
                    return;
                }
                if (!config.clusterId().equals(w.getClusterId()) || !peerId.equals(w.getNodeId())) {
                    problem = "peer at " + address + " answered as node '" + shown(w.getNodeId())
                            + "' of cluster '" + shown(w.getClusterId()) + "', expected '" + peerId + "' of '"
                            + config.clusterId() + "'";
                } else {
                    a.welcomed = true;
                    connected = true;
                    failures = 0;
                    lastProblem = null;
                }
            } finally {
                streamLock.unlock();
            }
            if (problem != null) {
                log.warn("Closing the stream to {}: {}", peerId, problem);
                a.requests.cancel(problem, null);
                return;
            }
            log.info("Connected to {} at {}", peerId, address);
            scheduleDrain();
        }

        /** The peer told its own peers: it vouches for them (see "Guests"). */
        private void announced(Attempt a, Members members) {
            synchronized (streamLock) {
                if (current != a || !a.welcomed || closed) {
                    return;
                }
                Map<String, String> list = new LinkedHashMap<>();
                for (Member m : members.getMembersList()) {
                    if (!m.getId().isEmpty() && !m.getId().equals(config.selfId())) {
                        list.put(m.getId(), m.getAddress());
                    }
                }
                announced.put(peerId, Collections.unmodifiableMap(list));
            }
            dropUnvouchedGuests();
        }

        private void failed(Attempt a, Status status) {
            boolean wasWelcomed;
            boolean isRefused = isConnectionRefused(status);
            boolean logIt;
            long delayMillis;
            streamLock.lock();
            try {
                if (current != a) {
                    return;
                }
                current = null;
                connected = false;
                failedAttempts.incrementAndGet();
                wasWelcomed = a.welcomed;
                a.channel.shutdownNow();
                if (closed) {
                    return;
                }
                delayMillis = wasWelcomed ? 0 : backoffMillis(failures++, config.reconnectBackoffMin(),
                        config.reconnectBackoffMax(), ThreadLocalRandom.current().nextDouble());
                String problem = problemKind(status);
                logIt = wasWelcomed || !problem.equals(lastProblem);
                lastProblem = problem;
                retry = timer.schedule(this::connect, delayMillis, TimeUnit.MILLISECONDS);
            } finally {
                streamLock.unlock();
            }
            if (logIt) {
                boolean misconfigured = status.getCode() == Status.Code.PERMISSION_DENIED
                        || status.getCode() == Status.Code.UNAUTHENTICATED || hasSslCause(status);
                String text = wasWelcomed ? "Stream to {} ended ({}); reconnecting"
                        : "Cannot connect to {} ({}); retrying with backoff";
                if (misconfigured) {
                    log.warn(text, peerId, describe(status));
                } else {
                    log.info(text, peerId, describe(status));
                }
            } else {
                log.debug("Attempt to connect to {} failed again: {}; next in {} ms", peerId, describe(status),
                        delayMillis);
            }
            if (isRefused) {
                refused.incrementAndGet();
                try {
                    listener.onConnectionRefused(peerId);
                } catch (RuntimeException e) {
                    log.error("Listener failed on the refused connection to {}", peerId, e);
                }
            } else if (status.getCode() == Status.Code.PERMISSION_DENIED && status.getDescription() != null
                    && status.getDescription().startsWith(UNKNOWN_SENDER)) {
                try {
                    listener.onRejectedAsNonMember(peerId);
                } catch (RuntimeException e) {
                    log.error("Listener failed on the refusal by {}", peerId, e);
                }
            }
        }

        void close() {
            Attempt a;
            streamLock.lock();
            try {
                if (closed) {
                    return;
                }
                closed = true;
                connected = false;
                if (retry != null) {
                    retry.cancel(false);
                    retry = null;
                }
                a = current;
                current = null;
                if (a != null) {
                    if (a.welcomed) {
                        // Flush what is queued (e.g. a TimeoutNow of a graceful handover); gRPC
                        // buffers beyond the flow-control window, the queue bounds how much.
                        for (Message m = poll(); m != null; m = poll()) {
                            write(a, m);
                        }
                        a.requests.onCompleted();
                        a.channel.shutdown();
                    } else {
                        a.requests.cancel("transport closed", null);
                        a.channel.shutdownNow();
                    }
                    closing.add(a.channel);
                }
            } finally {
                streamLock.unlock();
            }
            synchronized (queueLock) {
                dropped.addAndGet(queue.size());
                queue.clear();
            }
        }

        void awaitClosed(long deadline) {
            List<ManagedChannel> channels;
            streamLock.lock();
            try {
                channels = List.copyOf(closing);
            } finally {
                streamLock.unlock();
            }
            for (ManagedChannel c : channels) {
                awaitUntil(deadline, c::awaitTermination);
                c.shutdownNow();
            }
        }

        /** One attempt: a fresh channel and the stream on it. */
        private final class Attempt implements ClientResponseObserver<RaftMessage, ServerFrame> {
            final ManagedChannel channel;
            ClientCallStreamObserver<RaftMessage> requests;
            volatile boolean welcomed;

            Attempt(ManagedChannel channel) {
                this.channel = channel;
            }

            @Override
            public void beforeStart(ClientCallStreamObserver<RaftMessage> requests) {
                this.requests = requests;
                requests.setOnReadyHandler(PeerLink.this::scheduleDrain);
            }

            @Override
            public void onNext(ServerFrame frame) {
                if (frame.hasWelcome()) {
                    welcomed(this, frame.getWelcome());
                } else if (frame.hasMembers()) {
                    announced(this, frame.getMembers());
                }
            }

            @Override
            public void onError(Throwable t) {
                failed(this, Status.fromThrowable(t));
            }

            @Override
            public void onCompleted() {
                failed(this, Status.UNAVAILABLE.withDescription("the peer ended the stream"));
            }
        }
    }

    private static boolean hasSslCause(Status status) {
        for (Throwable t = status.getCause(); t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof javax.net.ssl.SSLException) {
                return true;
            }
        }
        return false;
    }

    /** What kind of failure: the status code and the innermost exception type, without details. */
    private static String problemKind(Status status) {
        Throwable root = status.getCause();
        while (root != null && root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return status.getCode() + (root == null ? "" : "/" + root.getClass().getName());
    }

    private static String describe(Status status) {
        StringBuilder s = new StringBuilder(status.getCode().name());
        if (status.getDescription() != null) {
            s.append(": ").append(status.getDescription());
        }
        if (status.getCause() != null) {
            Throwable root = status.getCause();
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            s.append(" [").append(root.getClass().getSimpleName()).append(": ").append(root.getMessage()).append(']');
        }
        return s.toString();
    }

    private ThreadFactory threads(String prefix, boolean numbered) {
        AtomicInteger n = new AtomicInteger();
        String cluster = config.clusterId();
        String node = config.selfId();
        return r -> {
            Thread t = new Thread(() -> {
                MDC.put("cluster", cluster);
                MDC.put("node", node);
                r.run();
            }, numbered ? prefix + n.incrementAndGet() : prefix);
            t.setDaemon(true);
            return t;
        };
    }
}
