package io.haraft.bench.node;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftGroupMemberId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.DivisionInfo;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.TimeDuration;

/**
 * Apache Ratis 3.1.3: RaftServer over gRPC, segmented log with fsync (unsafe and async flush off,
 * the defaults, set explicitly), a state machine that only records the applied index.
 *
 * <p>Timeouts: with {@code el=0} Ratis keeps its documented defaults
 * ({@code raft.server.rpc.timeout.min/max} = 150/300 ms); otherwise min = el and max = 2 el, like
 * HA-Raft's [el, 2 el) randomisation. Ratis has no heartbeat setting: its leader sends heartbeats
 * at half the minimum timeout.
 *
 * <p>Ready to serve = {@code StateMachine.notifyLeaderReady()}, which Ratis calls once the new
 * leader's first entry of its term is applied.
 *
 * <p>Node options ({@link NodeArgs#options()}), for the throughput load only:
 * <ul>
 *   <li>{@code path=client} (default): a {@link RaftClient} created once in this JVM, its async API,
 *       over gRPC on loopback to this very server; {@code path=server}: the in-process request path
 *       of an embedding application, {@link RaftServer#submitClientRequestAsync}, no RPC for the
 *       request.</li>
 *   <li>{@code leader=set}: the client is built with this node's id as its leader (the load only runs
 *       on the leader); default {@code unset}: the client finds the leader itself.</li>
 *   <li>{@code tuning=shipped} (default), {@code tuned} or knob names: {@link RatisTuning}.</li>
 * </ul>
 */
final class RatisNode implements SystemNode {

    private static final RaftGroupId GROUP_ID =
            RaftGroupId.valueOf(UUID.nameUUIDFromBytes("ha-raft-bench".getBytes(StandardCharsets.UTF_8)));

    private RaftServer server;
    private RaftGroup group;
    private RaftPeerId self;
    private RaftProperties properties;
    private volatile RaftClient client;
    private RaftClient admin;
    private boolean serverPath;
    private boolean leaderSet;
    private final ClientId inProcessClientId = ClientId.randomId();
    private final AtomicLong callIds = new AtomicLong();

    @Override
    public void start(NodeArgs a) throws Exception {
        self = RaftPeerId.valueOf(a.id());
        List<RaftPeer> peers = peers(a);
        group = RaftGroup.valueOf(GROUP_ID, peers);
        properties = properties(a);
        serverPath = a.options().getOrDefault("path", "client").equals("server");
        leaderSet = a.options().getOrDefault("leader", "unset").equals("set");
        boolean formatted = new File(a.dataDir().toFile(), GROUP_ID.getUuid().toString()).isDirectory();
        StateMachine sm = new StateMachine();
        server = RaftServer.newBuilder()
                .setServerId(self)
                .setGroup(group)
                .setProperties(properties)
                .setStateMachine(sm)
                .setOption(formatted ? RaftStorage.StartupOption.RECOVER : RaftStorage.StartupOption.FORMAT)
                .build();
        server.start();
        // Created up front, as an application would keep it, so a handover does not pay for it.
        admin = newClient();
    }

    /** The members as Ratis peers, in order. */
    static List<RaftPeer> peers(NodeArgs a) {
        List<RaftPeer> peers = new ArrayList<>();
        for (Map.Entry<String, String> m : a.members().entrySet()) {
            peers.add(RaftPeer.newBuilder().setId(m.getKey()).setAddress(m.getValue()).build());
        }
        return peers;
    }

    /**
     * This node's Ratis properties: its storage directory and port, log fsync-safe (unsafe and async
     * flush off), the timeouts from {@code el}, and the tuning knobs of {@code x.tuning}.
     */
    static RaftProperties properties(NodeArgs a) {
        RaftProperties properties = new RaftProperties();
        RaftServerConfigKeys.setStorageDir(properties, List.of(a.dataDir().toFile()));
        GrpcConfigKeys.Server.setPort(properties, NodeArgs.port(a.address()));
        RaftServerConfigKeys.Log.setUnsafeFlushEnabled(properties, false);
        RaftServerConfigKeys.Log.setAsyncFlushEnabled(properties, false);
        if (a.electionMs() > 0) {
            RaftServerConfigKeys.Rpc.setTimeoutMin(properties,
                    TimeDuration.valueOf(a.electionMs(), TimeUnit.MILLISECONDS));
            RaftServerConfigKeys.Rpc.setTimeoutMax(properties,
                    TimeDuration.valueOf(2L * a.electionMs(), TimeUnit.MILLISECONDS));
        }
        RaftClientConfigKeys.Async.setOutstandingRequestsMax(properties, 4096);
        RatisTuning.apply(properties, RatisTuning.knobs(a.options().getOrDefault("tuning", "shipped")));
        return properties;
    }

    private DivisionInfo info() throws Exception {
        return server.getDivision(GROUP_ID).getInfo();
    }

    @Override
    public String view() {
        try {
            DivisionInfo i = info();
            RaftPeerId leader = i.getLeaderId();
            return (leader == null ? "-" : leader.toString()) + " " + i.getCurrentTerm();
        } catch (Exception e) {
            return "- 0";
        }
    }

    @Override
    public void stopGracefully() throws Exception {
        if (info().isLeader()) {
            // Ratis's graceful handover: transfer leadership to a follower, then close.
            RaftPeerId target = group.getPeers().stream().map(RaftPeer::getId)
                    .filter(id -> !id.equals(self)).findFirst().orElseThrow();
            try {
                admin.admin().transferLeadership(target, 3_000);
            } catch (Exception e) {
                System.err.println("transferLeadership failed, closing anyway: " + e);
            }
        }
        RaftClient c = client;
        if (c != null) {
            c.close();
        }
        admin.close();
        server.close();
    }

    private RaftClient newClient() {
        return RaftClient.newBuilder().setProperties(properties).setRaftGroup(group).build();
    }

    @Override
    public CompletableFuture<?> submit(byte[] payload) {
        if (serverPath) {
            return submitInProcess(payload);
        }
        RaftClient c = client;
        if (c == null) {
            synchronized (this) {
                c = client;
                if (c == null) {
                    c = leaderSet
                            ? RaftClient.newBuilder().setProperties(properties).setRaftGroup(group).setLeaderId(self).build()
                            : newClient();
                    client = c;
                }
            }
        }
        return c.async().send(Message.valueOf(ByteString.copyFrom(payload)));
    }

    /** A write request handed to this server object directly, as an embedding application can. */
    private CompletableFuture<?> submitInProcess(byte[] payload) {
        return submitInProcess(server, inProcessClientId, self, GROUP_ID, callIds.incrementAndGet(), payload);
    }

    /** A write request of {@code group} handed to {@code server} directly (no RPC for the request). */
    static CompletableFuture<?> submitInProcess(RaftServer server, ClientId clientId, RaftPeerId self, RaftGroupId group,
                                                long callId, byte[] payload) {
        try {
            RaftClientRequest req = RaftClientRequest.newBuilder().setClientId(clientId).setServerId(self)
                    .setGroupId(group).setCallId(callId)
                    .setMessage(Message.valueOf(ByteString.copyFrom(payload)))
                    .setType(RaftClientRequest.writeRequestType()).build();
            return server.submitClientRequestAsync(req).thenApply(reply -> {
                if (!reply.isSuccess()) {
                    throw new CompletionException(reply.getException());
                }
                return reply;
            });
        } catch (IOException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** A state machine that only records the applied index. */
    abstract static class AppliedIndexMachine extends BaseStateMachine {

        @Override
        public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
            LogEntryProto entry = trx.getLogEntry();
            updateLastAppliedTermIndex(entry.getTerm(), entry.getIndex());
            return CompletableFuture.completedFuture(Message.EMPTY);
        }
    }

    private final class StateMachine extends AppliedIndexMachine {

        @Override
        public void notifyLeaderChanged(RaftGroupMemberId member, RaftPeerId leader) {
            if (self.equals(leader)) {
                try {
                    Events.leader(info().getCurrentTerm());
                } catch (Exception e) {
                    System.err.println("notifyLeaderChanged: " + e);
                }
            }
        }

        @Override
        public void notifyLeaderReady() {
            try {
                Events.ready(info().getCurrentTerm());
            } catch (Exception e) {
                System.err.println("notifyLeaderReady: " + e);
            }
        }
    }
}
