package io.haraft.transport;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.channel.ConnectTimeoutException;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.MetadataUtils;
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

import javax.net.ssl.SSLException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.HashSet;
import java.util.Set;
import java.security.cert.X509Certificate;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;

/** Everything about the outbound stream to one peer. */
final class PeerLink {
    private static final Logger log = LoggerFactory.getLogger(GrpcTransport.class);

    private final GrpcTransport t;
    final String peerId;
    final String address;

    private final Object queueLock = new Object();
    private final ArrayDeque<Outbound> queue = new ArrayDeque<>();     // guarded by queueLock
    private boolean overflowReported;                                  // guarded by queueLock
    private final OncePerInterval oversizeReports = new OncePerInterval();
    private final OncePerInterval groupReports = new OncePerInterval();

    private final ReentrantLock streamLock = new ReentrantLock();
    private Attempt current;              // guarded by streamLock; the live attempt or null
    private ScheduledFuture<?> retry;     // guarded by streamLock
    private int failures;                 // guarded by streamLock; consecutive failed attempts
    private volatile boolean closed;      // written under streamLock; read without it in enqueue
    private volatile String lastWelcomeProblem;  // the last refusal of a Welcome that was logged
    private String lastProblem;           // guarded by streamLock; to log a repeated kind of failure once
    private volatile boolean connected;   // the current attempt was welcomed
    private volatile boolean batching;    // ...and its Welcome said the peer accepts batch frames
    private final AtomicBoolean flushScheduled = new AtomicBoolean();
    private final AtomicBoolean drainScheduled = new AtomicBoolean();
    private final List<ManagedChannel> closing = new ArrayList<>();   // guarded by streamLock

    PeerLink(GrpcTransport t, String peerId, String address) {
        this.t = t;
        this.peerId = peerId;
        this.address = address;
    }

    boolean isConnected() {
        return connected;
    }

    /** A queued message and the group it belongs to ({@code null}: the default group, sent without a name). */
    private record Outbound(String group, Message message) {
    }

    void enqueue(String group, Message message) {
        if (closed) {
            t.dropped.incrementAndGet();
            return;
        }
        int overflow = 0;
        boolean report = false;
        synchronized (queueLock) {
            queue.addLast(new Outbound(group, message));
            while (queue.size() > t.config.sendQueueCapacity()) {
                queue.pollFirst();
                overflow++;
            }
            if (overflow > 0 && !overflowReported) {
                overflowReported = true;
                report = true;
            }
        }
        if (overflow > 0) {
            t.dropped.addAndGet(overflow);
            if (report) {
                log.warn("Send queue to {} is full ({} messages, peer {}): dropping the oldest until it drains",
                        peerId, t.config.sendQueueCapacity(), connected ? "slow" : "unreachable");
            }
        }
        if (connected) {
            long linger = t.lingerNanos();
            if (batching && linger > 0 && isPeriodic(message)) {
                flushAfter(linger);   // waits for the other groups' heartbeats (or answers)
            } else {
                drainNowOrLater();    // with whatever waits ahead of it
            }
        }
    }

    /** Heartbeats and their answers: what a node sends every heartbeat interval anyway. */
    static boolean isPeriodic(Message m) {
        return m instanceof Message.Heartbeat || m instanceof Message.HeartbeatResponse;
    }

    /** Writes what is queued {@code nanos} from now, unless a flush is already due. */
    private void flushAfter(long nanos) {
        if (flushScheduled.compareAndSet(false, true)) {
            try {
                t.timer().schedule(() -> {
                    flushScheduled.set(false);
                    drain();
                }, nanos, TimeUnit.NANOSECONDS);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                flushScheduled.set(false);   // closing
            }
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
                t.pool().execute(this::drain);
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
            if (a.batches) {
                if (!writeOneFrame(a)) {
                    return;
                }
                continue;
            }
            Outbound m = poll();
            if (m == null) {
                return;
            }
            write(a, m);
        }
    }

    /**
     * Writes one frame: the longest run of queued periodic messages (heartbeats and their answers)
     * that fits in one frame, as a batch frame (or the message itself if alone); or, if the first
     * queued message is anything else (an append, a vote, a snapshot chunk...), that message alone
     * through {@link #write} (split or dropped if too large), exactly as without batching, so that
     * replication traffic is framed, flow-controlled and delivered as before. One frame at a time,
     * so that the stream's readiness is asked before each and what the peer cannot take yet stays
     * in the bounded queue. False if nothing was queued.
     */
    private boolean writeOneFrame(Attempt a) {   // holds streamLock
        int limit = t.limits.sendLimit(peerId);
        RaftMessage envelope = RaftMessage.newBuilder().setFrom(t.config.selfId()).setTo(peerId).build();
        List<RaftMessage> batch = new ArrayList<>();
        int bytes = envelope.getSerializedSize();
        while (true) {
            Outbound out;
            synchronized (queueLock) {
                out = queue.peekFirst();
                if (out == null) {
                    overflowReported = false;
                    break;
                }
            }
            if (out.group() != null && !a.groups) {
                synchronized (queueLock) {
                    if (queue.peekFirst() != out) {
                        continue;   // dropped meanwhile (the queue overflowed)
                    }
                    queue.pollFirst();
                }
                groupDropped(out);
                continue;
            }
            if (!isPeriodic(out.message())) {
                if (!batch.isEmpty()) {
                    break;   // the batch first, then this one alone
                }
                synchronized (queueLock) {
                    if (queue.peekFirst() != out) {
                        continue;   // dropped meanwhile (the queue overflowed)
                    }
                    queue.pollFirst();
                }
                write(a, out);
                return true;
            }
            RaftMessage wire = MessageCodec.encode(out.message(), out.group(), t.drained());
            int cost = com.google.protobuf.CodedOutputStream.computeMessageSize(BATCH_FIELD, wire);
            if (bytes + cost > limit && !batch.isEmpty()) {
                break;   // the next frame's
            }
            synchronized (queueLock) {
                if (queue.peekFirst() != out) {
                    continue;   // dropped meanwhile (the queue overflowed)
                }
                queue.pollFirst();
            }
            if (bytes + cost > limit) {
                write(a, out);   // alone: split or dropped
                return true;
            }
            batch.add(wire);
            bytes += cost;
        }
        writeFrame(a, envelope, batch);
        return !batch.isEmpty();
    }

    private static final int BATCH_FIELD = RaftMessage.BATCH_FIELD_NUMBER;

    /** Writes {@code batch}: nothing if empty, the message itself if alone, else one batch frame. */
    private void writeFrame(Attempt a, RaftMessage envelope, List<RaftMessage> batch) {
        if (batch.isEmpty()) {
            return;
        }
        // counted before the write: whoever sees the frame arrive sees it counted
        t.frames.incrementAndGet();
        t.sent.addAndGet(batch.size());
        a.requests.onNext(batch.size() == 1 ? batch.get(0) : envelope.toBuilder().addAllBatch(batch).build());
    }

    private Outbound poll() {
        synchronized (queueLock) {
            Outbound m = queue.pollFirst();
            if (m == null) {
                overflowReported = false;
            }
            return m;
        }
    }

    private void write(Attempt a, Outbound out) {   // holds streamLock
        if (out.group() != null && !a.groups) {
            groupDropped(out);
            return;
        }
        int limit = t.limits.sendLimit(peerId);
        Message m = out.message();
        RaftMessage wire = MessageCodec.encode(m, out.group(), t.drained());
        int size = wire.getSerializedSize();
        if (size <= limit) {
            t.sent.incrementAndGet();
            t.frames.incrementAndGet();
            a.requests.onNext(wire);
            return;
        }
        List<Message> pieces = m instanceof Message.Append append ? AppendSplitter.split(append, limit) : List.of();
        int written = 0;
        for (Message piece : pieces) {
            t.sent.incrementAndGet();
            t.frames.incrementAndGet();
            a.requests.onNext(MessageCodec.encode(piece, out.group(), t.drained()));
            written += piece instanceof Message.Append p ? p.entries().size() : 0;
        }
        if (m instanceof Message.Append append && written == append.entries().size()) {
            return;
        }
        t.dropped.incrementAndGet();
        t.oversized.incrementAndGet();
        oversizedDropped(m, size, limit, written);
    }

    /**
     * Drops a message of a named group for a peer whose Welcome did not say it reads groups (an
     * older node would take it for its own group's, with another group's terms and log), and says
     * so once per interval with the count since.
     */
    private void groupDropped(Outbound out) {
        t.dropped.incrementAndGet();
        long suppressed = groupReports.due(System.nanoTime());
        if (suppressed < 0) {
            return;
        }
        log.warn("Dropped {} of group '{}' to {}: that node runs a version that hosts a single group and would"
                + " take it for its own group's; {} more dropped in the last {} s. Upgrade {} (every member of a"
                + " cluster hosting groups must be able to host them)", out.message().getClass().getSimpleName(),
                out.group(), peerId, suppressed, RefusalLog.DEFAULT_INTERVAL.toSeconds(), peerId);
    }

    /** Says once per interval (with the count since) that messages to this peer were too large. */
    private void oversizedDropped(Message m, int size, int limit, int writtenEntries) {
        long suppressed = oversizeReports.due(System.nanoTime());
        if (suppressed < 0) {
            return;
        }
        String what = m instanceof Message.Append a && writtenEntries > 0
                ? "the rest of an append (its entry " + a.entries().get(writtenEntries).index() + " alone does not fit)"
                : m.getClass().getSimpleName();
        log.warn("Dropped {} to {}: {} bytes exceed {} bytes, the most {} ({} of its own maxMessageBytes {} and"
                + " the peer's); {} more dropped in the last {} s. Raise maxMessageBytes on {} (or split commands)",
                what, peerId, size, limit, peerId, limit < t.config.maxMessageBytes() ? "below" : "within",
                t.config.maxMessageBytes(), suppressed, RefusalLog.DEFAULT_INTERVAL.toSeconds(), peerId);
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
                    .eventLoopGroup(t.io().group()).channelType(t.io().clientChannel())
                    .directExecutor()   // callbacks only take short locks and queue work
                    .maxInboundMessageSize(64 * 1024)
                    .withOption(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) t.config.connectTimeout().toMillis())
                    .keepAliveTime(10, TimeUnit.SECONDS)
                    .keepAliveTimeout(5, TimeUnit.SECONDS)
                    .keepAliveWithoutCalls(true)
                    .disableRetry();
            if (t.clientSsl() != null) {
                b.sslContext(t.clientSsl());
            } else {
                b.usePlaintext();
            }
            ManagedChannel channel = b.build();
            Metadata headers = new Metadata();
            headers.put(GrpcTransport.HEADER_KEY, ConnectionHeader.newBuilder()
                    .setClusterId(t.config.clusterId()).setSenderId(t.config.selfId()).setReceiverId(peerId)
                    .setSenderAddress(t.advertisedAddress())
                    .setMaxMessageBytes(t.config.maxMessageBytes())
                    .setClusterUuid(t.identity.wire())
                    .setProtocolVersion(GrpcTransport.PROTOCOL_VERSION).build());
            Attempt attempt = new Attempt(channel);
            current = attempt;
            RaftTransportGrpc.newStub(channel)
                    .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers), attempt.capture())
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
            if (!t.config.clusterId().equals(w.getClusterId()) || !peerId.equals(w.getNodeId())) {
                problem = "peer at " + address + " answered as node '" + GrpcTransport.shown(w.getNodeId())
                        + "' of cluster '" + GrpcTransport.shown(w.getClusterId()) + "', expected '" + peerId + "' of '"
                        + t.config.clusterId() + "'";
            } else {
                problem = t.identity.welcomeProblem(peerId, w.getClusterUuid());
                if (problem == null) {
                    problem = certificateProblem(a);
                }
            }
            if (problem == null) {
                t.limits.learn(peerId, w.getMaxMessageBytes());
                a.welcomeIdentity = w.getClusterUuid();
                a.batches = w.getAcceptsBatches();
                a.groups = w.getAcceptsGroups();
                a.welcomed = true;
                batching = a.batches;
                lastWelcomeProblem = null;
                connected = true;
                failures = 0;
                lastProblem = null;
            }
        } finally {
            streamLock.unlock();
        }
        if (problem != null) {
            refuseWelcome(a, problem);
            return;
        }
        log.info("Connected to {} at {}", peerId, address);
        scheduleDrain();
    }

    private void refuseWelcome(Attempt a, String problem) {
        if (!problem.equals(lastWelcomeProblem)) {   // said once until it changes or the link works
            lastWelcomeProblem = problem;
            log.warn("Closing the stream to {}: {}", peerId, problem);
        }
        a.requests.cancel(problem, null);
    }

    /**
     * With TLS: why the peer's certificate may not speak for {@code peerId} at the host dialled
     * (see {@link CertificateBinding}), or null.
     */
    private String certificateProblem(Attempt a) {
        if (t.config.tls().isEmpty()) {
            return null;
        }
        ClientCall<?, ?> call = a.call;
        X509Certificate leaf = call == null ? null
                : CertificateBinding.peerLeaf(call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION));
        if (leaf == null) {
            return "no server certificate on a TLS connection";
        }
        Set<String> others = new HashSet<>(t.peerTable.peers().keySet());
        others.add(t.config.selfId());
        String host = GrpcTransportConfig.parseAddress(peerId, address).getHostString();
        String problem = CertificateBinding.problem(leaf, peerId, host, others);
        return problem == null ? null : "the peer at " + address + " answered as node '" + peerId + "' but " + problem
                + "; issue each node a certificate with its node id as a subject alternative name (DNS:<node id>)";
    }

    /**
     * This node learnt its cluster identity: a stream whose receiver named another one in its
     * Welcome is closed (see {@link IdentityCheck}).
     */
    void identityLearnt() {
        Attempt a;
        String problem;
        streamLock.lock();
        try {
            a = current;
            if (a == null || !a.welcomed || closed || !t.identity.conflicts(a.welcomeIdentity)) {
                return;
            }
            problem = t.identity.welcomeProblem(peerId, a.welcomeIdentity);
        } finally {
            streamLock.unlock();
        }
        refuseWelcome(a, problem);
    }

    /** The peer told its own peers: it vouches for them (see "Guests"). */
    private void announced(Attempt a, Members members) {
        streamLock.lock();
        try {
            if (current != a || !a.welcomed || closed) {
                return;
            }
            Map<String, String> list = new LinkedHashMap<>();
            for (Member m : members.getMembersList()) {
                if (!m.getId().isEmpty() && !m.getId().equals(t.config.selfId())) {
                    list.put(m.getId(), m.getAddress());
                }
            }
            t.peerTable.announced(peerId, Collections.unmodifiableMap(list));
        } finally {
            streamLock.unlock();
        }
        t.peerTable.dropUnvouchedGuests();
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
            batching = false;
            t.failedAttempts.incrementAndGet();
            wasWelcomed = a.welcomed;
            a.channel.shutdownNow();
            if (closed) {
                return;
            }
            delayMillis = wasWelcomed ? 0 : backoffMillis(failures++, t.config.reconnectBackoffMin(),
                    t.config.reconnectBackoffMax(), ThreadLocalRandom.current().nextDouble());
            String problem = problemKind(status);
            logIt = wasWelcomed || !problem.equals(lastProblem);
            lastProblem = problem;
            retry = t.timer().schedule(this::connect, delayMillis, TimeUnit.MILLISECONDS);
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
            t.refused.incrementAndGet();
            t.refusedBy(peerId);
            try {
                t.listener().onConnectionRefused(peerId);
            } catch (RuntimeException e) {
                log.error("Listener failed on the refused connection to {}", peerId, e);
            }
        } else if (status.getCode() == Status.Code.PERMISSION_DENIED && status.getDescription() != null
                && status.getDescription().startsWith(GrpcTransport.UNKNOWN_SENDER)) {
            try {
                t.listener().onRejectedAsNonMember(peerId);
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
            batching = false;
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
                    if (a.batches) {
                        while (writeOneFrame(a)) {
                            // one frame after another until the queue is empty
                        }
                    } else {
                        for (Outbound m = poll(); m != null; m = poll()) {
                            write(a, m);
                        }
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
            t.dropped.addAndGet(queue.size());
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
            GrpcTransport.awaitUntil(deadline, c::awaitTermination);
            c.shutdownNow();
        }
    }

    /** When a kind of drop is due to be logged again: once per interval, with the count since. */
    private static final class OncePerInterval {
        private long reportedAt;   // guarded by this
        private long suppressed;   // guarded by this

        /** The drops not logged since the last line if one is due now (and counts it), else -1. */
        synchronized long due(long now) {
            if (reportedAt != 0 && now - reportedAt < RefusalLog.DEFAULT_INTERVAL.toNanos()) {
                suppressed++;
                return -1;
            }
            reportedAt = now;
            long s = suppressed;
            suppressed = 0;
            return s;
        }
    }

    /** One attempt: a fresh channel and the stream on it. */
    private final class Attempt implements ClientResponseObserver<RaftMessage, ServerFrame> {
        final ManagedChannel channel;
        volatile com.google.protobuf.ByteString welcomeIdentity = com.google.protobuf.ByteString.EMPTY;
        ClientCallStreamObserver<RaftMessage> requests;
        volatile ClientCall<?, ?> call;   // to read the TLS session of the connection
        volatile boolean welcomed;
        volatile boolean batches;   // the Welcome said the peer accepts batch frames
        volatile boolean groups;    // the Welcome said the peer reads the group of a message

        ClientInterceptor capture() {
            return new ClientInterceptor() {
                @Override
                public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options,
                                                             Channel next) {
                    ClientCall<Q, R> c = next.newCall(method, options);
                    call = c;
                    return c;
                }
            };
        }

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

    static boolean hasSslCause(Status status) {
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
}
