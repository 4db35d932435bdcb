package io.haraft.transport;

import io.haraft.RaftConfig;
import io.haraft.TlsConfig;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The settings of one {@link GrpcTransport}.
 *
 * <p><b>Guarantees.</b> Every instance is valid: the constructor checks every value and throws an
 * {@link IllegalArgumentException} that names the setting and the allowed range. Immutable and
 * safe to share; {@code peers} is an unmodifiable copy in the given order; no component is
 * {@code null}. Nothing is bound, resolved or read from disk here (the {@link TlsConfig} itself
 * already checked that its files are readable).
 *
 * <pre>{@code
 * GrpcTransportConfig config = GrpcTransportConfig.builder()
 *     .clusterId("orders").selfId("n1")
 *     .listenAddress(new InetSocketAddress("10.0.0.1", 7001))
 *     .peer("n2", "10.0.0.2:7001").peer("n3", "10.0.0.3:7001")
 *     .tls(new TlsConfig(chain, key, trust))              // optional: mutual TLS
 *     .build();
 * // or, for a node: GrpcTransportConfig.from(raftConfig)
 * }</pre>
 *
 * <p><b>Limits.</b> Peer addresses are {@code host:port} ({@code [v6]:port} for IPv6 literals) and
 * are resolved when a connection is made, so a DNS change is picked up at the next reconnect. With
 * TLS, a peer's certificate must be valid for the host name or IP address written here, and must
 * speak for the peer's node id (see {@link io.haraft.TlsConfig}).
 *
 * @param clusterId         the cluster's name; sent and checked on every stream
 * @param selfId            this node's id; sent as the sender of every outbound stream
 * @param peers             every other node at start: id to {@code host:port}; never contains
 *                          {@code selfId}; {@link GrpcTransport#updatePeers} changes them later
 * @param listenAddress     where this node accepts streams (port 0 picks a free port)
 * @param tls               mutual TLS for both directions, or empty for plain TCP
 * @param maxMessageBytes   the largest serialised message accepted, and sent (a peer that accepts
 *                          less, as it says when it connects, is sent at most its own limit), in
 *                          [{@link RaftConfig#MIN_MAX_MESSAGE_BYTES}, {@link RaftConfig#MAX_MAX_MESSAGE_BYTES}]
 * @param reconnectBackoffMin the wait after the first failed attempt to (re)connect to a peer
 * @param reconnectBackoffMax the longest wait between attempts; waits double up to it
 * @param connectTimeout    how long one TCP connection attempt may take
 * @param sendQueueCapacity how many messages may wait for one peer before the oldest are dropped
 */
public record GrpcTransportConfig(
        String clusterId,
        String selfId,
        Map<String, String> peers,
        InetSocketAddress listenAddress,
        Optional<TlsConfig> tls,
        int maxMessageBytes,
        Duration reconnectBackoffMin,
        Duration reconnectBackoffMax,
        Duration connectTimeout,
        int sendQueueCapacity) {

    /** Default {@code maxMessageBytes}: 4 MiB, as {@link RaftConfig#DEFAULT_MAX_MESSAGE_BYTES}. */
    public static final int DEFAULT_MAX_MESSAGE_BYTES = RaftConfig.DEFAULT_MAX_MESSAGE_BYTES;
    /** Default first reconnect wait: 50 ms. */
    public static final Duration DEFAULT_RECONNECT_BACKOFF_MIN = Duration.ofMillis(50);
    /** Default longest reconnect wait: 2 s. */
    public static final Duration DEFAULT_RECONNECT_BACKOFF_MAX = Duration.ofSeconds(2);
    /** Default connect timeout: 1 s. */
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(1);
    /** Default per-peer queue: 4096 messages. */
    public static final int DEFAULT_SEND_QUEUE_CAPACITY = 4096;

    /**
     * Validates and copies.
     *
     * @throws IllegalArgumentException if a value is out of range; the message names it
     * @throws NullPointerException     if a component is {@code null}
     */
    public GrpcTransportConfig {
        requireNonBlank("clusterId", clusterId);
        requireNonBlank("selfId", selfId);
        Objects.requireNonNull(peers, "peers");
        Map<String, String> copy = new LinkedHashMap<>();
        peers.forEach((id, address) -> {
            requireNonBlank("peer id", id);
            if (id.equals(selfId)) {
                throw new IllegalArgumentException("peers must not contain this node's own id '" + selfId
                        + "'; give its address as listenAddress instead");
            }
            parseAddress(id, address);
            copy.put(id, address);
        });
        peers = java.util.Collections.unmodifiableMap(copy);
        Objects.requireNonNull(listenAddress, "listenAddress");
        Objects.requireNonNull(tls, "tls (use Optional.empty() for plain TCP)");
        if (maxMessageBytes < RaftConfig.MIN_MAX_MESSAGE_BYTES || maxMessageBytes > RaftConfig.MAX_MAX_MESSAGE_BYTES) {
            throw new IllegalArgumentException("maxMessageBytes " + maxMessageBytes + " is outside ["
                    + RaftConfig.MIN_MAX_MESSAGE_BYTES + ", " + RaftConfig.MAX_MAX_MESSAGE_BYTES + "]");
        }
        requirePositive("reconnectBackoffMin", reconnectBackoffMin);
        requirePositive("reconnectBackoffMax", reconnectBackoffMax);
        if (reconnectBackoffMax.compareTo(reconnectBackoffMin) < 0) {
            throw new IllegalArgumentException("reconnectBackoffMax " + reconnectBackoffMax
                    + " is shorter than reconnectBackoffMin " + reconnectBackoffMin);
        }
        requirePositive("connectTimeout", connectTimeout);
        if (connectTimeout.toMillis() < 1 || connectTimeout.toMillis() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("connectTimeout " + connectTimeout + " must be between 1 ms and 24 days");
        }
        if (sendQueueCapacity < 1) {
            throw new IllegalArgumentException("sendQueueCapacity must be at least 1, got " + sendQueueCapacity);
        }
    }

    /** A builder with every default set; {@code clusterId}, {@code selfId} and the listen address are required. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The transport settings of a node: cluster, node, peers (the bootstrap members), TLS and
     * message size from {@code config}; this node listens on its own member address; reconnect
     * waits grow to half the election timeout and one connection attempt lasts at most one election
     * timeout (at least 100 ms, at most the 1 s default); other values are defaults. The runtime then keeps the peers in step with the configuration in its log.
     */
    public static GrpcTransportConfig from(RaftConfig config) {
        // A link that comes back (a port or a partition healed) must be usable well within an
        // election timeout: waits between attempts grow only to half of it, and one attempt whose
        // SYN was lost gives up after one election timeout (instead of the kernel's 1 s retransmit).
        Duration election = config.electionTimeout();
        Duration backoffMax = election.dividedBy(2).compareTo(DEFAULT_RECONNECT_BACKOFF_MIN) > 0
                ? election.dividedBy(2) : DEFAULT_RECONNECT_BACKOFF_MIN;
        Duration connect = election.compareTo(Duration.ofMillis(100)) > 0 ? election : Duration.ofMillis(100);
        Builder b = builder()
                .clusterId(config.clusterId())
                .selfId(config.nodeId())
                .listenAddress(new InetSocketAddress(config.self().host(), config.self().port()))
                .maxMessageBytes(config.maxMessageBytes())
                .reconnectBackoff(DEFAULT_RECONNECT_BACKOFF_MIN, backoffMax)
                .connectTimeout(connect.compareTo(DEFAULT_CONNECT_TIMEOUT) < 0 ? connect : DEFAULT_CONNECT_TIMEOUT);
        config.peers().forEach(m -> b.peer(m.id(), hostPort(m.host(), m.port())));
        config.tls().ifPresent(b::tls);
        return b.build();
    }

    /** The address of {@code peerId} as an unresolved socket address. */
    InetSocketAddress peerAddress(String peerId) {
        String address = peers.get(peerId);
        if (address == null) {
            throw new IllegalArgumentException("unknown peer " + peerId);
        }
        return parseAddress(peerId, address);
    }

    static String hostPort(String host, int port) {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }

    static InetSocketAddress parseAddress(String peerId, String address) {
        if (address == null || address.isBlank()) {
            throw new IllegalArgumentException("address of peer '" + peerId + "' is missing; use host:port");
        }
        int colon = address.lastIndexOf(':');
        String host = colon > 0 ? address.substring(0, colon) : "";
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(address.substring(colon + 1));
        } catch (NumberFormatException e) {
            port = -1;
        }
        if (host.isEmpty() || port < 1 || port > 65535) {
            throw new IllegalArgumentException("address '" + address + "' of peer '" + peerId
                    + "' is not host:port with a port in [1, 65535] (IPv6: [addr]:port)");
        }
        return InetSocketAddress.createUnresolved(host, port);
    }

    private static void requireNonBlank(String name, String value) {
        Objects.requireNonNull(value, name);
        if (value.isBlank()) {
            throw new IllegalArgumentException(name + " must not be blank");
        }
    }

    private static void requirePositive(String name, Duration value) {
        Objects.requireNonNull(value, name);
        if (value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException(name + " must be positive, got " + value);
        }
    }

    /** Mutable, single-threaded builder; {@link #build()} validates. */
    public static final class Builder {
        private String clusterId;
        private String selfId;
        private final Map<String, String> peers = new LinkedHashMap<>();
        private InetSocketAddress listenAddress;
        private TlsConfig tls;
        private int maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES;
        private Duration reconnectBackoffMin = DEFAULT_RECONNECT_BACKOFF_MIN;
        private Duration reconnectBackoffMax = DEFAULT_RECONNECT_BACKOFF_MAX;
        private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
        private int sendQueueCapacity = DEFAULT_SEND_QUEUE_CAPACITY;

        private Builder() {
        }

        public Builder clusterId(String clusterId) {
            this.clusterId = clusterId;
            return this;
        }

        public Builder selfId(String selfId) {
            this.selfId = selfId;
            return this;
        }

        /** Adds or replaces one peer; {@code address} is {@code host:port}. */
        public Builder peer(String id, String address) {
            peers.put(Objects.requireNonNull(id, "peer id"), address);
            return this;
        }

        /** Replaces all peers. */
        public Builder peers(Map<String, String> peers) {
            this.peers.clear();
            this.peers.putAll(peers);
            return this;
        }

        public Builder listenAddress(InetSocketAddress listenAddress) {
            this.listenAddress = listenAddress;
            return this;
        }

        /** Enables mutual TLS; {@code null} turns it off again. */
        public Builder tls(TlsConfig tls) {
            this.tls = tls;
            return this;
        }

        public Builder maxMessageBytes(int maxMessageBytes) {
            this.maxMessageBytes = maxMessageBytes;
            return this;
        }

        public Builder reconnectBackoff(Duration min, Duration max) {
            this.reconnectBackoffMin = min;
            this.reconnectBackoffMax = max;
            return this;
        }

        public Builder connectTimeout(Duration connectTimeout) {
            this.connectTimeout = connectTimeout;
            return this;
        }

        public Builder sendQueueCapacity(int sendQueueCapacity) {
            this.sendQueueCapacity = sendQueueCapacity;
            return this;
        }

        /**
         * Validates and builds.
         *
         * @throws IllegalArgumentException if a value is invalid
         * @throws NullPointerException     if a required value is missing
         */
        public GrpcTransportConfig build() {
            return new GrpcTransportConfig(clusterId, selfId, peers, listenAddress, Optional.ofNullable(tls),
                    maxMessageBytes, reconnectBackoffMin, reconnectBackoffMax, connectTimeout, sendQueueCapacity);
        }
    }
}
