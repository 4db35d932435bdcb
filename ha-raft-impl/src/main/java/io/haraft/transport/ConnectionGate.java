package io.haraft.transport;

import io.grpc.Attributes;
import io.grpc.Grpc;
import io.grpc.ServerTransportFilter;
import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelInboundHandlerAdapter;
import io.grpc.netty.shaded.io.netty.channel.ServerChannel;

import java.net.SocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import java.util.logging.Filter;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Keeps what gRPC and Netty log about the connections of one transport out of the application's
 * {@code java.util.logging} output, and turns refused connections into one slf4j line per remote
 * address and interval ({@link RefusalLog}).
 *
 * <p>gRPC and Netty report a connection that fails (bytes that are not HTTP/2, an HTTP/1.1
 * request, a message over the size limit, a broken protocol) through {@code java.util.logging},
 * each with a multi-line stack trace. A transport's network I/O runs on its own {@link IoThread};
 * every accepted connection gets a {@link Gate} at the head of its pipeline that records, while it
 * handles an event of that connection, which connection the thread is working for. A filter on
 * the few gRPC and Netty loggers that report connection failures ({@link #LOGGERS}, installed once
 * per JVM) drops the records logged on a transport's I/O thread and hands them to that transport's
 * gate keeper instead. Records logged on any other thread (the application's own gRPC servers and
 * clients) go to the filter that was there before, unchanged; levels and handlers are not touched.
 *
 * <p>A connection that sent bytes and closed before its HTTP/2 session was up (TLS handshakes
 * that fail are reported by gRPC below the default log level) is reported too; one that sent
 * nothing (a port probe) is not.
 */
final class ConnectionGate {

    /** The loggers gRPC and Netty (as shaded into grpc-netty-shaded) report connection failures to. */
    static final List<String> LOGGERS = List.of(
            "io.grpc.netty.shaded.io.grpc.netty.NettyServerTransport.connections",
            "io.grpc.netty.shaded.io.grpc.netty.NettyServerTransport",
            "io.grpc.netty.shaded.io.grpc.netty.NettyServerHandler",
            "io.grpc.netty.shaded.io.grpc.netty.NettyServerStream",
            "io.grpc.netty.shaded.io.grpc.netty.NettyClientHandler",
            "io.grpc.netty.shaded.io.grpc.netty.ProtocolNegotiators",
            "io.grpc.netty.shaded.io.grpc.netty.Utils",
            "io.grpc.netty.shaded.io.netty.channel.DefaultChannelPipeline",
            "io.grpc.netty.shaded.io.netty.channel.AbstractChannelHandlerContext",
            "io.grpc.netty.shaded.io.netty.handler.ssl.SslHandler",
            "io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2ConnectionHandler",
            "io.grpc.netty.shaded.io.netty.handler.codec.http2.DefaultHttp2ConnectionDecoder",
            "io.grpc.netty.shaded.io.netty.util.concurrent.DefaultPromise",
            "io.grpc.internal.ServerImpl",
            "io.grpc.internal.SerializingExecutor");

    /** Strong references: java.util.logging forgets a logger (and its filter) nobody holds. */
    private static final Map<String, Logger> FILTERED = new ConcurrentHashMap<>();

    private final org.slf4j.Logger slf4j;
    private final RefusalLog refusals;
    /** The gate of each open accepted connection, by remote address (to learn when its HTTP/2 session is up). */
    private final Map<SocketAddress, Gate> open = new ConcurrentHashMap<>();

    ConnectionGate(org.slf4j.Logger slf4j, RefusalLog refusals) {
        this.slf4j = slf4j;
        this.refusals = refusals;
    }

    /** The I/O thread of one transport: it knows its gate keeper and the connection it serves now. */
    static final class IoThread extends Thread {
        final ConnectionGate owner;
        Gate current;   // this thread only

        IoThread(Runnable r, String name, ConnectionGate owner) {
            super(r, name);
            this.owner = owner;
        }
    }

    /** Installs the filter on the loggers of {@link #LOGGERS} once per JVM (idempotent, thread-safe). */
    static void install() {
        for (String name : LOGGERS) {
            FILTERED.computeIfAbsent(name, n -> {
                Logger logger = Logger.getLogger(n);
                logger.setFilter(new SwallowOnIoThreads(logger.getFilter()));
                return logger;
            });
        }
    }

    private static final class SwallowOnIoThreads implements Filter {
        private final Filter previous;

        SwallowOnIoThreads(Filter previous) {
            this.previous = previous;
        }

        @Override
        public boolean isLoggable(LogRecord record) {
            if (Thread.currentThread() instanceof IoThread io) {
                try {
                    io.owner.libraryLog(record, io.current);
                } catch (RuntimeException e) {
                    // never let reporting break the I/O thread
                }
                return false;
            }
            return previous == null || previous.isLoggable(record);
        }
    }

    /** A server channel whose accepted connections each get a {@link Gate} first in their pipeline. */
    ServerChannel serverChannel(Supplier<ServerChannel> plain) {
        ServerChannel channel = plain.get();
        channel.pipeline().addLast("haraft-accept", new Acceptor());
        return channel;
    }

    /** Tells the gate of a connection whose HTTP/2 session is up (TLS included): its closing is no refusal. */
    ServerTransportFilter readiness() {
        return new ServerTransportFilter() {
            @Override
            public Attributes transportReady(Attributes attributes) {
                SocketAddress remote = attributes.get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
                Gate g = remote == null ? null : open.get(remote);
                if (g != null) {
                    g.ready = true;
                }
                return attributes;
            }
        };
    }

    /** A gRPC or Netty record logged on this transport's I/O thread: one rate-limited line instead of a trace. */
    private void libraryLog(LogRecord record, Gate gate) {
        if (gate != null && record.getLevel().intValue() >= Level.INFO.intValue()) {
            gate.reported = true;
            refusals.refused("a connection", gate.remote, summary(record));
        } else {
            slf4j.debug("{}: {}", record.getLoggerName(), summary(record));
        }
    }

    private final class Acceptor extends ChannelInboundHandlerAdapter {
        @Override
        public boolean isSharable() {
            return true;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof Channel child) {
                child.pipeline().addFirst("haraft-gate", new Gate(child.remoteAddress()));
            }
            ctx.fireChannelRead(msg);
        }
    }

    /** Marks the I/O thread as working for one connection while an event of that connection runs. */
    final class Gate extends ChannelInboundHandlerAdapter {
        final SocketAddress remote;
        volatile boolean ready;     // its HTTP/2 session is up
        boolean sawBytes;           // I/O thread only
        boolean reported;           // I/O thread only: a refusal was reported for it

        Gate(SocketAddress remote) {
            this.remote = remote;
            if (remote != null) {
                open.put(remote, this);
            }
        }

        private interface Event {
            void fire() throws Exception;
        }

        /** Runs {@code event} with the I/O thread marked as working for this connection. */
        private void within(Event event) throws Exception {
            IoThread io = Thread.currentThread() instanceof IoThread t ? t : null;
            Gate before = io == null ? null : io.current;
            if (io != null) {
                io.current = this;
            }
            try {
                event.fire();
            } finally {
                if (io != null) {
                    io.current = before;
                }
            }
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) throws Exception {
            within(() -> super.channelActive(ctx));
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            within(() -> super.channelInactive(ctx));
            if (remote != null) {
                open.remove(remote, this);
            }
            if (sawBytes && !ready && !reported) {
                refusals.refused("a connection", remote, "closed before an HTTP/2 session was established (a"
                        + " failed TLS handshake: an untrusted, missing or expired certificate, or plain text to a"
                        + " TLS port)");
            }
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
            sawBytes = true;
            within(() -> super.channelRead(ctx, msg));
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
            within(() -> super.channelReadComplete(ctx));
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
            within(() -> super.userEventTriggered(ctx, evt));
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) throws Exception {
            within(() -> super.exceptionCaught(ctx, cause));
        }
    }

    /** One line for a record: its message and the innermost exception's type and message. */
    private static String summary(LogRecord record) {
        StringBuilder s = new StringBuilder(String.valueOf(record.getMessage()));
        Throwable t = record.getThrown();
        if (t != null) {
            Throwable root = t;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            String text = String.valueOf(root.getMessage());
            int hex = text.indexOf(". Hex dump");
            if (hex > 0) {
                text = text.substring(0, hex);
            }
            s.append(": ").append(root.getClass().getSimpleName()).append(": ").append(text);
        }
        return GrpcTransport.shown(s.toString(), 300);
    }
}
