package io.haraft.transport;

import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The listening side of a {@link GrpcTransport}: the gRPC server on the configured listen address,
 * on the transport's I/O thread, behind its {@link ConnectionGate}.
 *
 * <p><b>Guarantees.</b> It accepts messages of at most the configured {@code maxMessageBytes} and
 * request metadata of at most 16 KiB; a connection that has not finished its TLS handshake and
 * HTTP/2 preface within {@link GrpcTransport#HANDSHAKE_TIMEOUT_SECONDS} seconds is closed. With a
 * server {@link SslContext}, every connection is mutual TLS. A failure to listen is reported with
 * the address, the reason and what to do ({@link #listenFailure}).
 *
 * <p><b>Threads.</b> {@link #start} and {@link #shutdown} are called by the transport's lifecycle,
 * at most once each; the addresses may be read from any thread once started.
 */
final class TransportServer {
    private final GrpcTransportConfig config;
    private volatile Server server;

    TransportServer(GrpcTransportConfig config) {
        this.config = config;
    }

    /**
     * Binds the listen address and starts serving {@code service}.
     *
     * @param ssl the server side of mutual TLS, or null for plain TCP
     * @throws UncheckedIOException if the address cannot be bound (the message says why and what to do)
     */
    void start(EventLoops io, ConnectionGate gate, ServerServiceDefinition service, SslContext ssl) {
        NettyServerBuilder b = NettyServerBuilder.forAddress(config.listenAddress())
                .bossEventLoopGroup(io.group()).workerEventLoopGroup(io.group())
                .channelFactory(() -> gate.serverChannel(io::newServerChannel))
                .addTransportFilter(gate.readiness())
                .directExecutor()   // callbacks only decode, check and queue: nothing blocks
                .maxInboundMessageSize(config.maxMessageBytes())
                .maxInboundMetadataSize(16 * 1024)
                .permitKeepAliveTime(5, TimeUnit.SECONDS)
                .permitKeepAliveWithoutCalls(true)
                .handshakeTimeout(GrpcTransport.HANDSHAKE_TIMEOUT_SECONDS, TimeUnit.SECONDS)
                .addService(service);
        if (ssl != null) {
            b.sslContext(ssl);
        }
        try {
            server = b.build().start();
        } catch (IOException e) {
            throw new UncheckedIOException(listenFailure(config.selfId(), config.listenAddress(), e), e);
        }
    }

    /** Stops listening and cancels every inbound stream, waiting until {@code deadline} (nanoTime). */
    void shutdown(long deadline) {
        Server s = server;
        if (s != null) {
            s.shutdownNow();
            GrpcTransport.awaitUntil(deadline, s::awaitTermination);
        }
    }

    /** See {@link GrpcTransport#localAddress}. */
    InetSocketAddress localAddress() {
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

    /** The host this node listens on, as its peers' certificates checks see it; null for a wildcard address. */
    String listenHost() {
        InetSocketAddress listen = config.listenAddress();
        return listen.getAddress() != null && listen.getAddress().isAnyLocalAddress() ? null : listen.getHostString();
    }

    /** Where this node accepts streams, as peers dial it; empty if it listens on a wildcard address. */
    String advertisedAddress() {
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

    /** The message of a failure to listen: which address, why, and what to do. */
    static String listenFailure(String node, InetSocketAddress address, IOException e) {
        String text = "";
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            text = String.valueOf(t.getMessage());
            if (t instanceof BindException || t.getCause() == null) {
                break;
            }
        }
        String lower = text.toLowerCase(Locale.ROOT);
        String host = address.getAddress() != null ? address.getAddress().getHostAddress() : address.getHostString();
        String where = GrpcTransportConfig.hostPort(host, address.getPort());
        if (lower.contains("in use")) {
            return "Node " + node + " cannot listen on " + where + ": the address is already in use (" + text + ")."
                    + " Another process, or another node given the same address, holds the port: stop it (ss -ltnp"
                    + " 'sport = :" + address.getPort() + "' shows which), or give node " + node
                    + " a free port in its member address.";
        }
        if (lower.contains("assign") || lower.contains("not available")) {
            return "Node " + node + " cannot listen on " + where + ": " + host
                    + " is not an address of this host (" + text + "). Give node " + node + " the address of an"
                    + " interface of this host in its member address (ip -brief address lists them).";
        }
        if (lower.contains("permission")) {
            return "Node " + node + " cannot listen on " + where + ": permission denied (" + text + "). Ports below"
                    + " 1024 need privileges (CAP_NET_BIND_SERVICE): use a port from 1024 up.";
        }
        return "Node " + node + " cannot listen on " + where + ": " + text + ". Check the member address of node "
                + node + ".";
    }
}
