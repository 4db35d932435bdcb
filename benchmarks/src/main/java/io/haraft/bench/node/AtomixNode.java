package io.haraft.bench.node;

import io.atomix.cluster.AtomixCluster;
import io.atomix.cluster.MemberId;
import io.atomix.cluster.Node;
import io.atomix.cluster.discovery.BootstrapDiscoveryProvider;
import io.atomix.primitive.PrimitiveType;
import io.atomix.primitive.PrimitiveTypeRegistry;
import io.atomix.primitive.operation.PrimitiveOperation;
import io.atomix.primitive.partition.PartitionId;
import io.atomix.primitive.service.ServiceConfig;
import io.atomix.primitive.session.SessionClient;
import io.atomix.protocols.raft.RaftClient;
import io.atomix.protocols.raft.RaftServer;
import io.atomix.protocols.raft.cluster.RaftMember;
import io.atomix.protocols.raft.impl.DefaultRaftServer;
import io.atomix.protocols.raft.impl.RaftContext;
import io.atomix.protocols.raft.partition.impl.RaftClientCommunicator;
import io.atomix.protocols.raft.partition.impl.RaftNamespaces;
import io.atomix.protocols.raft.partition.impl.RaftServerCommunicator;
import io.atomix.protocols.raft.storage.RaftStorage;
import io.atomix.storage.StorageLevel;
import io.atomix.utils.serializer.Serializer;
import java.lang.reflect.Field;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Atomix 3.1.12: the standalone {@code RaftServer} (atomix-raft) over Atomix's own Netty messaging
 * ({@code AtomixCluster} with bootstrap discovery), disk storage.
 *
 * <p>Timeouts: with {@code el=0} the builder's documented defaults (election 750 ms, heartbeat
 * 250 ms); otherwise {@code withElectionTimeout(el)} and {@code withHeartbeatInterval(hb)}.
 *
 * <p>fsync: {@code RaftStorage.withFlushOnCommit()} is set, but Atomix 3.1.12 does not pass it on to
 * its journal ({@code RaftLog.Builder.build()} drops it), so as shipped the log is never fsynced.
 * This node forces the journal's {@code flushOnCommit} field to true by reflection; the journal
 * then fsyncs when the commit index advances (after the commit, not before the acknowledgement).
 *
 * <p>Ready to serve = leader, and the commit index has reached the last log index it had when it
 * became leader (Atomix appends an initialize entry on election), polled every millisecond.
 */
final class AtomixNode implements SystemNode {

    private AtomixCluster cluster;
    private RaftServer server;
    private RaftContext context;
    private List<MemberId> members;
    private MemberId localId;
    private volatile SessionClient session;
    private final Serializer commandSerializer = Serializer.using(AtomixPrimitive.TYPE.namespace());

    @Override
    public void start(NodeArgs a) throws Exception {
        List<Node> nodes = new ArrayList<>();
        List<MemberId> ids = new ArrayList<>();
        for (Map.Entry<String, String> m : a.members().entrySet()) {
            nodes.add(Node.builder().withId(m.getKey()).withAddress(m.getValue()).build());
            ids.add(MemberId.from(m.getKey()));
        }
        cluster = AtomixCluster.builder()
                .withClusterId("bench")
                .withMemberId(a.id())
                .withAddress(NodeArgs.host(a.address()), NodeArgs.port(a.address()))
                .withMembershipProvider(BootstrapDiscoveryProvider.builder().withNodes(nodes).build())
                .build();
        cluster.start().join();
        members = ids;
        localId = MemberId.from(a.id());

        RaftStorage storage = RaftStorage.builder()
                .withDirectory(a.dataDir().toFile())
                .withStorageLevel(StorageLevel.DISK)
                .withNamespace(RaftNamespaces.RAFT_STORAGE)
                .withFlushOnCommit()
                .build();
        RaftServer.Builder b = RaftServer.builder(MemberId.from(a.id()))
                .withName("bench")
                .withMembershipService(cluster.getMembershipService())
                .withProtocol(new RaftServerCommunicator("bench",
                        Serializer.using(RaftNamespaces.RAFT_PROTOCOL), cluster.getCommunicationService()))
                .withStorage(storage)
                .withPrimitiveTypes(new Primitives());
        if (a.electionMs() > 0) {
            b.withElectionTimeout(Duration.ofMillis(a.electionMs()));
        }
        if (a.heartbeatMs() > 0) {
            b.withHeartbeatInterval(Duration.ofMillis(a.heartbeatMs()));
        }
        server = b.build();
        context = (RaftContext) field(DefaultRaftServer.class, "context").get(server);
        forceFsync(context);
        server.addRoleChangeListener(role -> {
            if (role == RaftServer.Role.LEADER) {
                long term = context.getTerm();
                long last = context.getLogWriter().getLastIndex();
                Events.leader(term);
                Thread t = new Thread(() -> awaitReady(term, last), "bench-ready");
                t.setDaemon(true);
                t.start();
            }
        });
        server.bootstrap(ids).join();
    }

    private void awaitReady(long term, long index) {
        while (server.isLeader() && context.getTerm() == term) {
            if (context.getCommitIndex() >= index) {
                Events.ready(term);
                return;
            }
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private static void forceFsync(RaftContext context) throws ReflectiveOperationException {
        Object log = context.getLog();
        Object journal = field(log.getClass(), "journal").get(log);
        field(journal.getClass(), "flushOnCommit").setBoolean(journal, true);
    }

    private static Field field(Class<?> type, String name) throws NoSuchFieldException {
        for (Class<?> c = type; c != null; c = c.getSuperclass()) {
            try {
                Field f = c.getDeclaredField(name);
                f.setAccessible(true);
                return f;
            } catch (NoSuchFieldException e) {
                // look in the superclass
            }
        }
        throw new NoSuchFieldException(type.getName() + "." + name);
    }

    @Override
    public String view() {
        RaftMember leader = context.getLeader();
        return (leader == null ? "-" : leader.memberId().id()) + " " + context.getTerm();
    }

    @Override
    public void stopGracefully() {
        // Atomix 3 has no leadership transfer: shutdown() stops the server, the others time out.
        server.shutdown().join();
        cluster.stop().join();
    }

    @Override
    public CompletableFuture<?> submit(byte[] payload) {
        SessionClient s = session;
        if (s == null) {
            synchronized (this) {
                s = session;
                if (s == null) {
                    s = openSession();
                    session = s;
                }
            }
        }
        return s.execute(PrimitiveOperation.operation(AtomixPrimitive.PUT, commandSerializer.encode(payload)));
    }

    /** Atomix's client path: a RaftClient in this JVM, over the same messaging, and one session. */
    private SessionClient openSession() {
        RaftClient client = RaftClient.builder(members)
                .withMemberId(localId)
                .withPartitionId(PartitionId.from("bench", 1))
                .withProtocol(new RaftClientCommunicator("bench",
                        Serializer.using(RaftNamespaces.RAFT_PROTOCOL), cluster.getCommunicationService()))
                .build();
        client.connect(members).join();
        return client.sessionBuilder("bench", AtomixPrimitive.TYPE, new ServiceConfig()).build().connect().join();
    }

    private static final class Primitives implements PrimitiveTypeRegistry {
        @Override
        public Collection<PrimitiveType> getPrimitiveTypes() {
            return List.of(AtomixPrimitive.TYPE);
        }

        @Override
        public PrimitiveType getPrimitiveType(String typeName) {
            return AtomixPrimitive.TYPE.name().equals(typeName) ? AtomixPrimitive.TYPE : null;
        }
    }
}
