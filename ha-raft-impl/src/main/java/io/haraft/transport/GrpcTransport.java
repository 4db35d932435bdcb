package io.haraft.transport;

import io.grpc.Metadata;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.protobuf.ProtoUtils;
import io.haraft.core.Message;
import io.haraft.transport.proto.ConnectionHeader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
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
 *   <li><b>Checked cluster incarnation.</b> Once a node knows its cluster identity (a random UUID
 *       chosen when the cluster was bootstrapped, see {@link #learnClusterUuid}), its headers and
 *       Welcomes carry it, and a stream between two nodes that know different ones is refused
 *       ({@code PERMISSION_DENIED} on the server, the client closes on the Welcome), with a
 *       rate-limited WARN naming both: two clusters share the cluster id, and one node runs on the
 *       other's data directory. The rule and why it covers streams opened before the identity was
 *       known are in {@code IdentityCheck}.</li>
 *   <li><b>Bounded messages, negotiated.</b> Each side tells the other the largest message it
 *       accepts (its {@code maxMessageBytes}): the sender in its {@code ConnectionHeader}, the receiver
 *       in its {@code Welcome}. A sender never writes a message larger than the smaller of its own
 *       limit and the receiver's: an append of several entries is split into consecutive appends
 *       that fit (see {@code AppendSplitter}), and a message that cannot fit (one entry too large) is
 *       dropped and counted, with one WARN per peer and minute. The node refuses such commands at
 *       {@code submit} in the first place ({@link #maxMessageBytesOf}). A larger message arriving
 *       anyway (from an older or hostile sender) is refused by gRPC, which resets the stream; the
 *       refusal is logged like hostile traffic.</li>
 *   <li><b>Reconnection.</b> After a stream that had been accepted breaks, the next attempt starts
 *       at once (so that a crashed peer is seen to be gone as soon as possible); after a failed
 *       attempt the wait doubles from {@code reconnectBackoffMin} up to {@code reconnectBackoffMax},
 *       with 20 % jitter. Every attempt uses a fresh channel and therefore a fresh TCP connection.</li>
 *   <li><b>Refused connections.</b> {@link Listener#onConnectionRefused} is called once per attempt
 *       whose TCP connect was refused (see "Refused-connection detection" below), and never for a
 *       timeout, a TLS failure, a refused stream or a broken connection.</li>
 *   <li><b>Mutual TLS</b> when configured: both sides present certificates and require the other's
 *       to chain to the configured trust certificates; client certificates are required. The files
 *       are parsed and the private key is checked against the certificate at {@link #start}.</li>
 *   <li><b>Certificates bound to node ids.</b> With TLS, a stream is accepted only if the client's
 *       certificate speaks for the node id its header claims, and a sender writes only once the
 *       server's certificate speaks for the node it dialled (the rule is in
 *       {@code CertificateBinding}: a subject alternative name equal to the node id, or, for a
 *       certificate that names no member's id, one equal to the member's configured host). A
 *       mismatch is refused ({@code PERMISSION_DENIED} on the server; the client cancels) with a WARN
 *       naming the claimed id and the certificate's names.</li>
 *   <li><b>Hostile traffic.</b> Whatever is refused (bytes that are not HTTP/2, an HTTP/1.1
 *       request, a failed TLS handshake, a bad header, a malformed or oversized message) is logged
 *       as one WARN line per remote address, kind and minute, with the count of those not logged;
 *       the multi-line {@code java.util.logging} reports of gRPC and Netty about this transport's
 *       connections are kept out of the application's log (see {@code ConnectionGate}). A message
 *       that is not a valid {@code RaftMessage} closes its stream with {@code INVALID_ARGUMENT}. A
 *       connection that has not finished its TLS handshake and HTTP/2 preface within
 *       {@value #HANDSHAKE_TIMEOUT_SECONDS} seconds (a few bytes and then silence) is closed, and
 *       reported like any other refusal.</li>
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
 * {@code ConnectTimeoutException} and whose message says "refused". Because each attempt uses a
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
 * <p>Inside, this class holds the lifecycle and routes {@link #send}; the jobs are elsewhere in the
 * package: listening ({@code TransportServer}, behind {@code ConnectionGate}), the threads
 * ({@code TransportThreads}), peers, guests and their links ({@code PeerTable}, {@code PeerLink}),
 * accepted streams ({@code InboundStreams}) and negotiated sizes ({@code MessageLimits}).
 *
 * <pre>{@code
 * GrpcTransport transport = GrpcTransport.create(GrpcTransportConfig.from(raftConfig));
 * transport.start(listener);          // binds, then connects to every peer
 * transport.send(new Message.Heartbeat("n1", "n2", term, commit, round));
 * transport.close();                  // stops listening, flushes what it can, closes streams
 * }</pre>
 *
 * <p><b>Limits.</b> Without TLS nothing is authenticated: any process that can reach the port may
 * claim any node id that a member lists, and is then treated as that node, higher terms included.
 * With TLS, a certificate that names only hosts speaks for every member configured on that host.
 * Vouching narrows who can be a guest; it does not authenticate anyone. Messages queued for an
 * unreachable peer are kept (up to the queue bound) and sent late; Raft tolerates stale messages.
 * Listener callbacks must not block: a blocked callback stalls the peer's stream and, if all pool
 * threads block, the transport.
 */
public final class GrpcTransport implements Transport {

    private static final Logger log = LoggerFactory.getLogger(GrpcTransport.class);

    /** The request metadata key of the {@link ConnectionHeader}: {@code haraft.v1.ConnectionHeader-bin}. */
    static final Metadata.Key<ConnectionHeader> HEADER_KEY =
            ProtoUtils.keyForProto(ConnectionHeader.getDefaultInstance());
    static final int PROTOCOL_VERSION = 1;
    private static final Duration CLOSE_GRACE = Duration.ofMillis(500);
    /**
     * How long an accepted connection may take to finish its TLS handshake and HTTP/2 preface
     * (gRPC's own default is 120 s, which lets a client that sends a byte and stalls hold a
     * connection that long). A peer's real handshake takes milliseconds, even on a busy machine.
     */
    static final long HANDSHAKE_TIMEOUT_SECONDS = 10;
    /** How a refusal of a stream from a node that is not a current member starts. */
    static final String UNKNOWN_SENDER = "unknown sender: ";

    private enum State { NEW, STARTED, CLOSED }

    final GrpcTransportConfig config;
    private final Object lifecycle = new Object();
    private State state = State.NEW;                 // guarded by lifecycle
    private volatile Listener listener;
    private final TransportServer server;
    /** Set once in start (under lifecycle); volatile so that any thread sees it afterwards. */
    private volatile TransportThreads threads;
    /** The peers, the guests and the link to each. */
    final PeerTable peerTable;
    /** The largest message each peer said it accepts, and so the largest this node sends it. */
    final MessageLimits limits;
    private final RefusalLog refusals = new RefusalLog(log, RefusalLog.DEFAULT_INTERVAL, System::nanoTime);
    private final InboundStreams inboundStreams = new InboundStreams(this, refusals);
    private final ConnectionGate gate = new ConnectionGate(log, refusals);
    private volatile SslContext clientSsl;
    /** The cluster identity this node knows, and the check of a peer's. */
    final IdentityCheck identity;

    final AtomicLong sent = new AtomicLong();
    /** Frames written to outbound streams: a batch frame counts once, however many messages it holds. */
    final AtomicLong frames = new AtomicLong();
    /** How long a periodic message may wait for others to the same peer (0: never waits). */
    private volatile long lingerNanos;
    final AtomicLong received = new AtomicLong();
    /** Whether this node is drained: every message it writes says so. */
    private volatile boolean drained;
    /** Per sender of a checked message: when it was last heard from, and whether it said it is drained. */
    private final Map<String, Heard> heard = new java.util.concurrent.ConcurrentHashMap<>();

    private record Heard(long atNanos, boolean drained, boolean refusedSince) { }
    final AtomicLong dropped = new AtomicLong();
    final AtomicLong oversized = new AtomicLong();
    final AtomicLong rejected = new AtomicLong();
    final AtomicLong failedAttempts = new AtomicLong();
    final AtomicLong refused = new AtomicLong();
    /** Messages dropped because they named a group that this node does not host. */
    final AtomicLong unknownGroup = new AtomicLong();

    private GrpcTransport(GrpcTransportConfig config) {
        this.config = Objects.requireNonNull(config, "config");
        this.identity = new IdentityCheck(config.clusterId());
        this.server = new TransportServer(config);
        this.limits = new MessageLimits(config.maxMessageBytes());
        this.peerTable = new PeerTable(this, config.selfId(), config.peers());
    }

    /** A transport that does nothing until {@link #start}. */
    public static GrpcTransport create(GrpcTransportConfig config) {
        return new GrpcTransport(config);
    }

    ExecutorService pool() {
        return threads.pool;
    }

    ScheduledThreadPoolExecutor timer() {
        return threads.timer;
    }

    EventLoops io() {
        return threads.io;
    }

    SslContext clientSsl() {
        return clientSsl;
    }

    Listener listener() {
        return listener;
    }

    /** This transport's settings. */
    public GrpcTransportConfig config() {
        return config;
    }

    /**
     * Binds the listen address, then opens a stream to every peer.
     *
     * @throws IllegalStateException if called twice or after {@link #close}
     * @throws io.haraft.RaftConfigException if the TLS files cannot be parsed or the private key does
     *                               not belong to the certificate (the message names the files)
     * @throws UncheckedIOException  if the address cannot be bound (the message names the address,
     *                               the reason and what to do); the transport is then closed
     */
    @Override
    public void start(Listener listener) {
        Objects.requireNonNull(listener, "listener");
        synchronized (lifecycle) {
            if (state != State.NEW) {
                throw new IllegalStateException("transport of " + config.selfId() + " is " + state
                        + "; a transport starts once");
            }
            TlsSetup.Contexts tls;
            try {
                tls = config.tls().map(c -> TlsSetup.load(c, config.selfId(), server.listenHost())).orElse(null);
            } catch (RuntimeException e) {
                markClosed();
                throw e;
            }
            state = State.STARTED;
            this.listener = listener;
            ConnectionGate.install();
            threads = new TransportThreads(config.clusterId(), config.selfId(), gate);
            try {
                clientSsl = tls == null ? null : tls.client();
                server.start(threads.io, gate, inboundStreams.service(), tls == null ? null : tls.server());
            } catch (RuntimeException e) {
                markClosed();
                closeQuietly();
                throw e;
            }
            log.info("Node {} of cluster {} listening on {}{}; peers {}", config.selfId(), config.clusterId(),
                    localAddress(), config.tls().isPresent() ? " with mutual TLS" : " (plain TCP)", peerTable.peers());
            peerTable.connectAll();
        }
    }

    /**
     * Queues {@code message} for {@code message.to()} and returns at once. Dropped with a WARN when
     * {@code to} is not a peer or {@code from} is not this node, and silently (counted) before
     * start or after close.
     */
    @Override
    public void send(Message message) {
        send(null, message);
    }

    /**
     * Queues {@code message} of Raft group {@code group} ({@code null} for the default group, sent
     * without a group name) for {@code message.to()}, as {@link #send(Message)} does. Messages to
     * one peer keep their order whatever their group: all groups share one stream per peer.
     */
    public void send(String group, Message message) {
        Objects.requireNonNull(message, "message");
        PeerLink link = peerTable.link(message.to());
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
        link.enqueue(group, message);
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
        if (peerTable.update(copy)) {
            inboundStreams.peersChanged();
        }
    }

    /** The current peers: node id to {@code host:port}. */
    public Map<String, String> peers() {
        return peerTable.peers();
    }

    /**
     * The address this transport listens on, with the actual port when the configured port was 0.
     *
     * @throws IllegalStateException before {@link #start}
     */
    public InetSocketAddress localAddress() {
        return server.localAddress();
    }

    /**
     * What this node last heard from a peer: how long ago, whether the peer said it is drained, and
     * whether a connection to it was refused since (its process is gone, though it was heard lately).
     */
    public record PeerSignal(Duration silence, boolean drained, boolean refusedSince) {
        /** Heard {@code silence} ago, no connection refused since. */
        public PeerSignal(Duration silence, boolean drained) {
            this(silence, drained, false);
        }
    }

    /** Says on every message this node writes from now on whether it is drained. */
    public void setDrained(boolean drained) {
        this.drained = drained;
    }

    /** Whether this node says it is drained. */
    public boolean drained() {
        return drained;
    }

    /** What this node last heard from {@code peer}, if it ever received a checked message from it. */
    public Optional<PeerSignal> lastHeard(String peer) {
        Heard h = heard.get(peer);
        return h == null ? Optional.empty()
                : Optional.of(new PeerSignal(Duration.ofNanos(Math.max(0, System.nanoTime() - h.atNanos())), h.drained(),
                        h.refusedSince()));
    }

    /** Called for every checked inbound message. */
    void heardFrom(String sender, boolean senderDrained) {
        heard.put(sender, new Heard(System.nanoTime(), senderDrained, false));
    }

    /** Called when a connection to {@code peer} was refused: it was not heard from since. */
    void refusedBy(String peer) {
        heard.computeIfPresent(peer, (id, h) -> new Heard(h.atNanos(), h.drained(), true));
    }

    /**
     * Coalesces periodic messages: from now on a heartbeat or an answer to one, to a peer that said
     * it accepts batch frames, waits up to {@code linger} in the peer's queue, so that the heartbeats
     * (and answers) of many groups produced within that window travel as one batch frame. Any other
     * message (an append, a vote, a snapshot chunk...) is written at once, with whatever waits
     * ahead of it, so it never waits for a linger. Only the packaging and the timing change: each
     * message keeps its content, and messages to one peer keep their order. {@link Duration#ZERO}
     * (the default) writes every message as soon as the stream is free. Used by a node hosting many
     * groups, whose groups produce their heartbeats together.
     *
     * @throws IllegalArgumentException if {@code linger} is negative
     */
    public void coalescePeriodic(Duration linger) {
        if (linger.isNegative()) {
            throw new IllegalArgumentException("linger must not be negative: " + linger);
        }
        lingerNanos = linger.toNanos();
    }

    long lingerNanos() {
        return lingerNanos;
    }

    /**
     * How many frames this node wrote to its outbound streams since it started: a batch frame
     * counts once, however many messages it carries ({@link TransportStats#messagesSent()} counts
     * the messages).
     */
    public long framesSent() {
        return frames.get();
    }

    /** How many received messages named a Raft group this node does not host (and were dropped). */
    public long unknownGroupMessages() {
        return unknownGroup.get();
    }

    /** A snapshot of the counters. */
    public TransportStats stats() {
        Set<String> connected = peerTable.links().stream().filter(PeerLink::isConnected)
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
            markClosed();
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

    /** Under the lifecycle lock: closed for good, and so is the peer table (no link is made any more). */
    private void markClosed() {
        state = State.CLOSED;
        peerTable.markClosed();
    }

    private void closeQuietly() {
        long deadline = System.nanoTime() + CLOSE_GRACE.toNanos();
        server.shutdown(deadline);
        List<PeerLink> all = peerTable.closeAll();
        for (PeerLink link : all) {
            link.close();
        }
        for (PeerLink link : all) {
            link.awaitClosed(deadline);
        }
        if (threads != null) {
            threads.close(deadline);
        }
    }

    interface Await {
        boolean await(long timeout, TimeUnit unit) throws InterruptedException;
    }

    static void awaitUntil(long deadline, Await await) {
        try {
            await.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Where this node accepts streams, as peers dial it; empty if it listens on a wildcard address. */
    String advertisedAddress() {
        return server.advertisedAddress();
    }

    static String shown(String untrusted) {
        return shown(untrusted, 64);
    }

    /** Untrusted text made printable on one line and cut to {@code max} characters. */
    static String shown(String untrusted, int max) {
        String s = untrusted.length() > max ? untrusted.substring(0, max) + "..." : untrusted;
        return s.replaceAll("[^\\x20-\\x7e]", "?");
    }

    /**
     * Learns this node's cluster identity: from now on every new stream carries it, and open
     * streams whose other end named another one are closed (see {@link IdentityCheck}).
     */
    @Override
    public void learnClusterUuid(java.util.UUID uuid) {
        if (!identity.learn(uuid)) {
            return;
        }
        log.info("Node {} of cluster {} belongs to cluster incarnation {}; streams of another incarnation are refused",
                config.selfId(), config.clusterId(), uuid);
        inboundStreams.identityLearnt();
        for (PeerLink link : peerTable.links()) {
            link.identityLearnt();
        }
    }

    /** The cluster identity this transport checks peers against, once known (see {@link #learnClusterUuid}). */
    public Optional<java.util.UUID> clusterUuid() {
        return Optional.ofNullable(identity.known());
    }

    /** The limit {@code peer} announced, if it has (see {@link Transport#maxMessageBytesOf}). */
    @Override
    public OptionalInt maxMessageBytesOf(String peer) {
        return limits.announced(peer);
    }
}
