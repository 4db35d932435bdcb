package io.haraft.transport;

import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandler;
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
 * Keeps what gRPC and Netty log about the connections of a transport out of the application's
 * {@code java.util.logging} output, and turns it into one line per remote address and interval.
 *
 * <p>gRPC and Netty report a connection that fails (bytes that are not HTTP/2, an HTTP/1.1
 * request, a failed TLS handshake, a broken protocol) through {@code java.util.logging}, each with
 * a multi-line stack trace. A transport's network I/O runs on its own {@link IoThread}; every
 * accepted connection gets a {@link Gate} at the head of its pipeline that records, while it
 * handles an event, which remote address the thread is working for. A filter on the few gRPC and
 * Netty loggers that report connection failures drops the records logged on a transport's I/O
 * thread and hands them to that transport instead, which logs them through slf4j, rate-limited
 * per address ({@link RefusalLog}). Records logged on any other thread (the application's own
 * gRPC servers and clients) pass to the filter that was there before, unchanged.
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

    private ConnectionGate() {
    }

    /** Where a transport's I/O thread hands the records it swallowed. */
    interface Sink {
        /** A gRPC or Netty record about the connection from {@code remote} (null if not known). */
        void libraryLog(LogRecord record, SocketAddress remote);
    }

    /** The I/O thread of one transport: it knows its transport and the connection it serves now. */
    static final class IoThread extends Thread {
        final Sink sink;
        SocketAddress remote;   // this thread only

        IoThread(Runnable r, String name, Sink sink) {
            super(r, name);
            this.sink = sink;
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
                    io.sink.libraryLog(record, io.remote);
                } catch (RuntimeException e) {
                    // never let reporting break the I/O thread
                }
                return false;
            }
            return previous == null || previous.isLoggable(record);
        }
    }

    /**
     * A server channel whose accepted connections each get a {@link Gate} first in their pipeline.
     */
    static ServerChannel serverChannel(Supplier<ServerChannel> plain) {
        ServerChannel channel = plain.get();
        channel.pipeline().addLast("haraft-accept", ACCEPTOR);
        return channel;
    }

    private static final ChannelHandler ACCEPTOR = new Acceptor();

    @ChannelHandler.Sharable
    private static final class Acceptor extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof Channel child) {
                child.pipeline().addFirst("haraft-gate", new Gate(child.remoteAddress()));
            }
            ctx.fireChannelRead(msg);
        }
    }

    /** Marks the I/O thread as working for one remote address while an event of its connection runs. */
    static final class Gate extends ChannelInboundHandlerAdapter {
        private final SocketAddress remote;

        Gate(SocketAddress remote) {
            this.remote = remote;
        }

        private interface Event {
            void fire() throws Exception;
        }

        /** Runs {@code event} with the I/O thread marked as working for this connection's remote address. */
        private void within(Event event) throws Exception {
            IoThread io = Thread.currentThread() instanceof IoThread t ? t : null;
            SocketAddress before = io == null ? null : io.remote;
            if (io != null) {
                io.remote = remote;
            }
            try {
                event.fire();
            } finally {
                if (io != null) {
                    io.remote = before;
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
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
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
    static String summary(LogRecord record) {
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

    /** Whether a record is worth a refusal line (gRPC logs broken connections at INFO and above). */
    static boolean notable(LogRecord record) {
        return record.getLevel().intValue() >= Level.INFO.intValue();
    }
}
