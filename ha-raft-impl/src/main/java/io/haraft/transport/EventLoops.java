package io.haraft.transport;

import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.ServerChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.nio.NioEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioServerSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;

/**
 * The one network I/O thread of a transport, for its server and all its outbound channels: native
 * epoll where Netty has it, Java NIO elsewhere. gRPC callbacks run on it directly, so a received
 * message reaches the node's queue without a hand-off to another thread; its thread carries the
 * node's MDC keys like every other transport thread, and nodes in one JVM do not share it.
 */
final class EventLoops {
    private final boolean epoll = Epoll.isAvailable();
    private final EventLoopGroup group;

    @SuppressWarnings("deprecation") // the event loop group classes that grpc-netty-shaded exposes
    EventLoops(ThreadFactory threads) {
        group = epoll ? new EpollEventLoopGroup(1, threads) : new NioEventLoopGroup(1, threads);
    }

    EventLoopGroup group() {
        return group;
    }

    Class<? extends ServerChannel> serverChannel() {
        return epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    }

    /** A new, unregistered server channel of the kind this thread runs. */
    ServerChannel newServerChannel() {
        return epoll ? new EpollServerSocketChannel() : new NioServerSocketChannel();
    }

    Class<? extends Channel> clientChannel() {
        return epoll ? EpollSocketChannel.class : NioSocketChannel.class;
    }

    /** Stops the thread once the channels on it are closed, waiting until {@code deadline} (nanoTime). */
    void close(long deadline) {
        group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS)
                .awaitUninterruptibly(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    }
}
