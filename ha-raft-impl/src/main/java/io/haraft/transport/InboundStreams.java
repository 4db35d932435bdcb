package io.haraft.transport;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
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

import javax.net.ssl.SSLSession;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.SocketAddress;
import java.security.cert.X509Certificate;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The receiving side of a {@link GrpcTransport}: checks the header (and, with TLS, the
 * certificate) of every inbound stream, then decodes, checks and delivers its messages, and writes
 * back the Welcome and Members frames. Refusals are logged through the transport's
 * {@link RefusalLog}, once per remote address and interval.
 */
final class InboundStreams {
    private static final Logger log = LoggerFactory.getLogger(GrpcTransport.class);
    private static final Context.Key<String> SENDER = Context.key("haraft-sender");
    private static final Context.Key<SocketAddress> REMOTE = Context.key("haraft-remote");
    private static final Context.Key<com.google.protobuf.ByteString> IDENTITY = Context.key("haraft-identity");

    private final GrpcTransport t;
    private final RefusalLog refusals;
    /** The open inbound streams, told (with a Members frame) whenever this node's peers change. */
    private final Set<Inbound> open = java.util.concurrent.ConcurrentHashMap.newKeySet();

    InboundStreams(GrpcTransport t, RefusalLog refusals) {
        this.t = t;
        this.refusals = refusals;
    }

    /** A received message, or why it could not be parsed: a broken message never throws inside gRPC. */
    record Incoming(RaftMessage message, String problem) { }

    /** Parses what a peer wrote without ever throwing, so a malformed message gets INVALID_ARGUMENT. */
    private static final MethodDescriptor.Marshaller<Incoming> INCOMING = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(Incoming value) {
            throw new UnsupportedOperationException("the server side only parses");
        }

        @Override
        public Incoming parse(InputStream stream) {
            try {
                return new Incoming(RaftMessage.parseFrom(stream), null);
            } catch (IOException e) {
                return new Incoming(null, "malformed message (not a RaftMessage protobuf: "
                        + GrpcTransport.shown(String.valueOf(e.getMessage()), 120) + ")");
            } catch (RuntimeException e) {
                return new Incoming(null, "malformed message (" + e.getClass().getSimpleName() + ")");
            }
        }
    };

    /** The service to register with the server: the header check, then the stream handler. */
    ServerServiceDefinition service() {
        MethodDescriptor<RaftMessage, ServerFrame> generated = RaftTransportGrpc.getConnectMethod();
        MethodDescriptor<Incoming, ServerFrame> method = generated.toBuilder(INCOMING, generated.getResponseMarshaller())
                .build();
        ServerServiceDefinition definition = ServerServiceDefinition.builder(RaftTransportGrpc.SERVICE_NAME)
                .addMethod(method, ServerCalls.asyncBidiStreamingCall(this::connect))
                .build();
        return ServerInterceptors.intercept(definition, new HeaderCheck());
    }

    /**
     * This node learnt its cluster identity: closes every accepted stream whose header carried
     * another one (see {@link IdentityCheck}).
     */
    void identityLearnt() {
        for (Inbound in : open) {
            in.refuseIfOtherIncarnation();
        }
    }

    /** Tells every open inbound stream this node's current peers. */
    void peersChanged() {
        for (Inbound in : open) {
            in.sendMembers();
        }
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
                header = headers.get(GrpcTransport.HEADER_KEY);
                problem = check(header);
                if (problem == null) {
                    problem = checkCertificate(header.getSenderId(), call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION));
                }
            } catch (RuntimeException e) {
                header = null;
                problem = "unreadable connection header (" + GrpcTransport.shown(String.valueOf(e.getMessage()), 120) + ")";
            }
            if (problem != null) {
                t.rejected.incrementAndGet();
                refusals.refused("a stream to node " + t.config.selfId(), remote, problem);
                call.close(Status.PERMISSION_DENIED.withDescription(problem), new Metadata());
                return new ServerCall.Listener<>() { };
            }
            t.limits.learn(header.getSenderId(), header.getMaxMessageBytes());
            log.debug("Accepted a stream from {} ({})", header.getSenderId(), remote);
            return Contexts.interceptCall(Context.current().withValues(SENDER, header.getSenderId(), REMOTE, remote,
                    IDENTITY, header.getClusterUuid()), call, headers, next);
        }

        private String check(ConnectionHeader h) {
            if (h == null) {
                return "no connection header (not an HA-Raft node of a compatible version)";
            }
            if (h.getProtocolVersion() != GrpcTransport.PROTOCOL_VERSION) {
                return "protocol version " + h.getProtocolVersion() + " is not " + GrpcTransport.PROTOCOL_VERSION;
            }
            String cluster = t.config.clusterId();
            if (!cluster.equals(h.getClusterId())) {
                return "cluster id mismatch: the sender '" + GrpcTransport.shown(h.getSenderId()) + "' belongs to cluster '"
                        + GrpcTransport.shown(h.getClusterId()) + "', this node to cluster '" + cluster + "'";
            }
            if (!t.config.selfId().equals(h.getReceiverId())) {
                return "receiver id mismatch: the stream is meant for node '" + GrpcTransport.shown(h.getReceiverId())
                        + "' but this is node '" + t.config.selfId() + "' (check the peer addresses)";
            }
            String incarnation = t.identity.inboundProblem(h.getSenderId(), h.getClusterUuid());
            if (incarnation != null) {
                return incarnation;
            }
            Map<String, String> current = t.peerTable.peers();
            if (!current.containsKey(h.getSenderId()) && !t.peerTable.isGuest(h.getSenderId()) && !t.peerTable.admitGuest(h.getSenderId())) {
                return GrpcTransport.UNKNOWN_SENDER + "'" + GrpcTransport.shown(h.getSenderId()) + "' is not a member of cluster '"
                        + cluster + "' in the configuration this node knows (peers " + current.keySet()
                        + "), and none of those peers lists it; a node removed from the cluster stays refused, and"
                        + " a node added since is accepted once this node has the new configuration or a peer it"
                        + " knows lists the new node";
            }
            return null;
        }

        /** With TLS: the client's certificate must speak for the node it claims to be (see {@link CertificateBinding}). */
        private String checkCertificate(String sender, SSLSession session) {
            if (t.config.tls().isEmpty()) {
                return null;
            }
            X509Certificate leaf = CertificateBinding.peerLeaf(session);
            if (leaf == null) {
                return "no client certificate on a TLS connection";
            }
            String address = t.peerTable.addressOf(sender);
            String host = address == null ? null : GrpcTransportConfig.parseAddress(sender, address).getHostString();
            Set<String> others = new HashSet<>(t.peerTable.peers().keySet());
            others.add(t.config.selfId());
            String problem = CertificateBinding.problem(leaf, sender, host, others);
            return problem == null ? null : "the sender claims to be node '" + GrpcTransport.shown(sender) + "' but "
                    + problem + "; issue each node a certificate with its node id as a subject alternative name"
                    + " (DNS:<node id>)";
        }
    }

    /** A new accepted stream: welcome the sender, then deliver its messages. */
    private StreamObserver<Incoming> connect(StreamObserver<ServerFrame> frames) {
        String sender = SENDER.get();
        SocketAddress remote = REMOTE.get();
        Inbound responses = new Inbound((ServerCallStreamObserver<ServerFrame>) frames, sender, remote, IDENTITY.get());
        responses.welcome();
        return new StreamObserver<>() {
            private boolean failed;   // gRPC calls one stream's observer serially

            @Override
            public void onNext(Incoming incoming) {
                if (failed || responses.isClosed()) {
                    return;   // refused (another cluster incarnation) or ended: deliver nothing more
                }
                String refusal = deliver(sender, remote, incoming);
                if (refusal != null) {
                    failed = true;
                    t.rejected.incrementAndGet();
                    Status status = refusal.startsWith(GrpcTransport.UNKNOWN_SENDER)
                            ? Status.PERMISSION_DENIED : Status.INVALID_ARGUMENT;
                    refusals.refused("a message from '" + sender + "' (stream closed)", remote, refusal);
                    responses.fail(status.withDescription(refusal));
                }
            }

            @Override
            public void onError(Throwable e) {
                responses.ended();
                log.debug("Stream from {} ended: {}", sender, Status.fromThrowable(e));
            }

            @Override
            public void onCompleted() {
                responses.complete();
            }
        };
    }

    /**
     * Delivers one frame of {@code sender}'s stream: a message, or a batch of them each delivered as
     * if it had arrived alone (in order; stops at the first that closes the stream); returns why the
     * stream must close instead, or null.
     */
    private String deliver(String sender, SocketAddress remote, Incoming incoming) {
        RaftMessage frame = incoming.message();
        if (frame == null || frame.getBatchCount() == 0) {
            return deliverOne(sender, remote, incoming);
        }
        if (frame.getBodyCase() != RaftMessage.BodyCase.BODY_NOT_SET || !frame.getGroup().isEmpty()
                || !sender.equals(frame.getFrom()) || !t.config.selfId().equals(frame.getTo())) {
            return "malformed batch: a batch frame from '" + GrpcTransport.shown(frame.getFrom()) + "' to '"
                    + GrpcTransport.shown(frame.getTo()) + "' on the stream from '" + sender + "' to '"
                    + t.config.selfId() + "' must name them and carry no body or group of its own";
        }
        for (RaftMessage element : frame.getBatchList()) {
            if (element.getBatchCount() > 0) {
                return "malformed batch: a batch inside a batch";
            }
            String refusal = deliverOne(sender, remote, new Incoming(element, null));
            if (refusal != null) {
                return refusal;
            }
        }
        return null;
    }

    /** Delivers one message of {@code sender}'s stream; returns why the stream must close instead, or null. */
    private String deliverOne(String sender, SocketAddress remote, Incoming incoming) {
        Map<String, String> peers = t.peerTable.peers();
        if (!peers.containsKey(sender) && !t.peerTable.isGuest(sender)) {
            // removed from the configuration since its stream was accepted
            return GrpcTransport.UNKNOWN_SENDER + "'" + sender + "' is no longer a member of cluster '"
                    + t.config.clusterId() + "' in the configuration this node knows (peers " + peers.keySet() + ")";
        }
        if (incoming.problem() != null) {
            return incoming.problem();
        }
        Message message;
        try {
            message = MessageCodec.decode(incoming.message());
        } catch (MessageCodec.MalformedMessageException e) {
            return e.getMessage();
        }
        if (!sender.equals(message.from()) || !t.config.selfId().equals(message.to())) {
            return "message from '" + GrpcTransport.shown(message.from()) + "' to '" + GrpcTransport.shown(message.to())
                    + "' on the stream from '" + sender + "' to '" + t.config.selfId() + "'";
        }
        if (!peers.containsKey(sender) && !(message instanceof Message.Append
                || message instanceof Message.Heartbeat || message instanceof Message.InstallSnapshot)) {
            // a guest is admitted only to feed this node as its leader
            t.peerTable.dropGuest(sender);
            return GrpcTransport.UNKNOWN_SENDER + "'" + sender + "' is not a member of cluster '" + t.config.clusterId()
                    + "' in the configuration this node knows (peers " + peers.keySet() + "), and sent a "
                    + message.getClass().getSimpleName() + ", not a leader's message; check its id and this"
                    + " node's members (a node added since is accepted once this node has the new"
                    + " configuration)";
        }
        if (!peers.containsKey(sender)) {
            t.peerTable.linkGuest(sender);
        }
        t.received.incrementAndGet();
        t.heardFrom(sender, incoming.message().getSenderDrained());
        String group = incoming.message().getGroup();
        try {
            if (!t.listener().onMessage(group, message)) {
                t.unknownGroup.incrementAndGet();
                refusals.refused("a message from '" + sender + "'", remote, "no Raft group named '"
                        + GrpcTransport.shown(group) + "' is hosted on node " + t.config.selfId()
                        + "; dropped it (create the group on this node, or remove it on the sender)");
            }
        } catch (RuntimeException e) {
            log.error("Listener failed on {} from {}", message.getClass().getSimpleName(), sender, e);
        }
        return null;
    }

    /**
     * The server side of one inbound stream: what this node writes back (the Welcome, then Members
     * frames). Every write is under this object's lock, as gRPC observers are not thread-safe and
     * {@link GrpcTransport#updatePeers} writes from the caller's thread.
     */
    private final class Inbound {
        private final ServerCallStreamObserver<ServerFrame> responses;
        private final String sender;
        private final SocketAddress remote;
        private final com.google.protobuf.ByteString identity;   // the one in the sender's header
        private volatile boolean closed;   // written under this

        Inbound(ServerCallStreamObserver<ServerFrame> responses, String sender, SocketAddress remote,
                com.google.protobuf.ByteString identity) {
            this.responses = responses;
            this.sender = sender;
            this.remote = remote;
            this.identity = identity;
            responses.setOnCancelHandler(this::ended);
        }

        /**
         * The Welcome (with this node's message limit and identity), then this node's peers; from
         * now on, every change of them. Registered before the identity is checked again, so that a
         * stream accepted while this node learnt its identity is closed here or by the scan.
         */
        void welcome() {
            open.add(this);
            if (refuseIfOtherIncarnation()) {
                return;
            }
            write(ServerFrame.newBuilder().setWelcome(Welcome.newBuilder()
                    .setClusterId(t.config.clusterId()).setNodeId(t.config.selfId())
                    .setMaxMessageBytes(t.config.maxMessageBytes()).setClusterUuid(t.identity.wire())
                    .setAcceptsBatches(true).setAcceptsGroups(true)).build());
            sendMembers();
        }

        /** Closes this stream if its sender's identity differs from the one this node knows now. */
        boolean refuseIfOtherIncarnation() {
            if (!t.identity.conflicts(identity)) {
                return false;
            }
            String problem = t.identity.inboundProblem(sender, identity);
            t.rejected.incrementAndGet();
            refusals.refused("a stream to node " + t.config.selfId(), remote, problem);
            fail(Status.PERMISSION_DENIED.withDescription(problem));
            return true;
        }

        /** Writes this node's current peers (read under the lock, so a later write is never older). */
        synchronized void sendMembers() {
            Members.Builder m = Members.newBuilder();
            t.peerTable.peers().forEach((id, address) -> m.addMembers(Member.newBuilder().setId(id).setAddress(address)));
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

        boolean isClosed() {
            return closed;
        }

        synchronized void ended() {
            closed = true;
            open.remove(this);
        }
    }
}
