package io.haraft.transport;

import io.haraft.core.Message;
import io.haraft.core.log.Entry;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;

/**
 * Helpers for tests that run transports over real loopback sockets: free ports, waiting on a
 * condition with a deadline, a recording {@link Transport.Listener}, log capture, and one message
 * of every type. Published in the test-jar for the runtime's integration tests.
 */
public final class TransportTesting {

    /** How long a test waits for something that should happen within milliseconds. */
    public static final Duration PATIENCE = Duration.ofSeconds(10);

    private TransportTesting() {
    }

    private static final java.util.Set<Integer> HANDED_OUT = new java.util.HashSet<>();

    /**
     * A loopback port that was free a moment ago (bound, then released), not handed out before by
     * this JVM, and below the range the OS takes the local ports of outgoing connections from
     * (32768 and up on Linux): a node restarted on its port must not find it taken by a connection
     * made while it was down, as a port from {@code new ServerSocket(0)} can be.
     */
    public static synchronized int freePort() {
        int port = java.util.concurrent.ThreadLocalRandom.current().ints(15000, 32001).limit(1000)
                .filter(p -> !HANDED_OUT.contains(p) && bindable(p)).findFirst()
                .orElseThrow(() -> new UncheckedIOException(new IOException("no free loopback port in 15000..32000")));
        HANDED_OUT.add(port);
        return port;
    }

    private static boolean bindable(int port) {
        try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            return s.isBound();
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Node {@code self} of cluster "orders" listening on loopback {@code port}, with {@code peer} at
     * loopback {@code peerPort}, messages of at most {@code maxMessageBytes} and quick reconnects.
     */
    public static GrpcTransportConfig orders(String self, int port, String peer, int peerPort, int maxMessageBytes) {
        return GrpcTransportConfig.builder().clusterId("orders").selfId(self).listenAddress(loopback(port))
                .peer(peer, address(peerPort)).maxMessageBytes(maxMessageBytes)
                .reconnectBackoff(Duration.ofMillis(20), Duration.ofMillis(200)).build();
    }

    public static InetSocketAddress loopback(int port) {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
    }

    public static String address(int port) {
        return "127.0.0.1:" + port;
    }

    /**
     * Waits until {@code condition} holds, polling every few milliseconds, and fails with
     * {@code what} if it still does not hold after {@code timeout}.
     */
    public static void awaitTrue(String what, Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("timed out after " + timeout.toMillis() + " ms waiting until " + what);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
        }
    }

    public static void awaitTrue(String what, BooleanSupplier condition) {
        awaitTrue(what, PATIENCE, condition);
    }

    /** One message of every type from {@code from} to {@code to}, with entries of both kinds. */
    public static List<Message> everyMessageType(String from, String to, long term) {
        byte[] binary = new byte[300];
        for (int i = 0; i < binary.length; i++) {
            binary[i] = (byte) (i * 7);
        }
        return List.of(
                new Message.PreVote(from, to, term, 41, 7),
                new Message.PreVoteResponse(from, to, term, true),
                new Message.Vote(from, to, term, 41, 7, true),
                new Message.VoteResponse(from, to, term, false),
                new Message.Append(from, to, term, 40, 7,
                        List.of(Entry.noop(41, term), Entry.command(42, term, binary)), 39, 17),
                new Message.AppendResponse(from, to, term, false, 40, 35, 6, 17),
                new Message.Heartbeat(from, to, term, 42, 18),
                new Message.HeartbeatResponse(from, to, term, 18),
                new Message.TimeoutNow(from, to, term));
    }

    /** Records everything a transport hands over; thread-safe. */
    public static final class RecordingListener implements Transport.Listener {
        private final List<Message> messages = new CopyOnWriteArrayList<>();
        private final Map<String, AtomicInteger> refused = new ConcurrentHashMap<>();

        @Override
        public void onMessage(Message message) {
            messages.add(message);
        }

        @Override
        public void onConnectionRefused(String peerId) {
            refused.computeIfAbsent(peerId, k -> new AtomicInteger()).incrementAndGet();
        }

        @Override
        public void onRejectedAsNonMember(String peerId) {
            rejectedAsNonMember.add(peerId);
        }

        /** The peers that refused this node's stream because it is not a member they know, in order. */
        public final List<String> rejectedAsNonMember = new CopyOnWriteArrayList<>();

        public List<Message> messages() {
            return List.copyOf(messages);
        }

        public List<Message> from(String sender) {
            return messages.stream().filter(m -> m.from().equals(sender)).toList();
        }

        public boolean received(Predicate<Message> which) {
            return messages.stream().anyMatch(which);
        }

        public Message awaitMessage(String what, Predicate<Message> which) {
            awaitTrue(what, () -> received(which));
            return messages.stream().filter(which).findFirst().orElseThrow();
        }

        public int refusedCount(String peerId) {
            AtomicInteger n = refused.get(peerId);
            return n == null ? 0 : n.get();
        }
    }

    /**
     * Copies what is written to {@code System.err} (where slf4j-simple logs) while open, and still
     * writes it through.
     */
    public static final class LogCapture implements AutoCloseable {
        private final PrintStream original = System.err;
        private final ByteArrayOutputStream copy = new ByteArrayOutputStream();

        public LogCapture() {
            OutputStream tee = new OutputStream() {
                @Override
                public void write(int b) {
                    synchronized (copy) {
                        copy.write(b);
                    }
                    original.write(b);
                }

                @Override
                public void write(byte[] b, int off, int len) {
                    synchronized (copy) {
                        copy.write(b, off, len);
                    }
                    original.write(b, off, len);
                }
            };
            System.setErr(new PrintStream(tee, true, StandardCharsets.UTF_8));
        }

        public List<String> lines() {
            String text;
            synchronized (copy) {
                text = copy.toString(StandardCharsets.UTF_8);
            }
            return new ArrayList<>(text.lines().toList());
        }

        public boolean contains(String level, String fragment) {
            return lines().stream().anyMatch(l -> l.contains(level) && l.contains(fragment));
        }

        @Override
        public void close() {
            System.err.flush();
            System.setErr(original);
        }
    }

    private static final io.grpc.MethodDescriptor.Marshaller<byte[]> BYTES = new io.grpc.MethodDescriptor.Marshaller<>() {
        @Override
        public java.io.InputStream stream(byte[] value) {
            return new java.io.ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(java.io.InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }
    };

    /**
     * Opens a stream to the transport listening on loopback {@code port} as node {@code sender} of
     * {@code clusterId} would (a valid header naming {@code receiver}), writes each of
     * {@code payloads} as one gRPC message, half-closes, and returns the status the receiver ends
     * the stream with (OK if it took everything).
     */
    public static io.grpc.Status rawStream(int port, String clusterId, String sender, String receiver,
                                           byte[]... payloads) {
        io.grpc.ManagedChannel channel = io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder
                .forAddress("127.0.0.1", port).usePlaintext().build();
        try {
            io.grpc.MethodDescriptor<byte[], byte[]> method = io.haraft.transport.proto.RaftTransportGrpc
                    .getConnectMethod().toBuilder(BYTES, BYTES).build();
            io.grpc.ClientCall<byte[], byte[]> call = channel.newCall(method, io.grpc.CallOptions.DEFAULT);
            java.util.concurrent.CompletableFuture<io.grpc.Status> closed = new java.util.concurrent.CompletableFuture<>();
            io.grpc.Metadata headers = new io.grpc.Metadata();
            headers.put(GrpcTransport.HEADER_KEY, io.haraft.transport.proto.ConnectionHeader.newBuilder()
                    .setClusterId(clusterId).setSenderId(sender).setReceiverId(receiver)
                    .setProtocolVersion(GrpcTransport.PROTOCOL_VERSION).build());
            call.start(new io.grpc.ClientCall.Listener<>() {
                @Override
                public void onClose(io.grpc.Status status, io.grpc.Metadata trailers) {
                    closed.complete(status);
                }
            }, headers);
            call.request(Integer.MAX_VALUE);
            for (byte[] payload : payloads) {
                call.sendMessage(payload);
            }
            call.halfClose();
            return closed.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            throw new AssertionError("no answer from the node on port " + port, e);
        } finally {
            channel.shutdownNow();
        }
    }
}
