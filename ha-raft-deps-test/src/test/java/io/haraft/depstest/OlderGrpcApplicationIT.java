package io.haraft.depstest;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.StringValue;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.haraft.Committed;
import io.haraft.Leadership;
import io.haraft.LeadershipListener;
import io.haraft.RaftNode;
import io.haraft.RevokeReason;
import io.haraft.StateMachine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * An application with its own, older protobuf-java and gRPC on the class path (the versions are
 * in the root POM: app.protobuf.version, app.grpc.version) runs its own gRPC service and a
 * three-node HA-Raft cluster (gRPC on loopback, files on disk) in one JVM, and replicates its own
 * protobuf messages through the cluster.
 */
class OlderGrpcApplicationIT {
    private static final MethodDescriptor<StringValue, StringValue> ECHO = MethodDescriptor.<StringValue, StringValue>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY)
            .setFullMethodName(MethodDescriptor.generateFullMethodName("app.Echo", "Echo"))
            .setRequestMarshaller(ProtoUtils.marshaller(StringValue.getDefaultInstance()))
            .setResponseMarshaller(ProtoUtils.marshaller(StringValue.getDefaultInstance()))
            .build();

    @Test
    void theApplicationSeesItsOwnProtobufAndGrpcAndNoneOfHaRafts() {
        assertThat(ImplJar.locationOf("com.google.protobuf.Message").getFileName().toString())
                .as("the jar the application's protobuf comes from")
                .isEqualTo("protobuf-java-" + System.getProperty("deps.app.protobuf.version") + ".jar");
        assertThat(ImplJar.locationOf("io.grpc.Server").getFileName().toString())
                .as("the jar the application's gRPC comes from")
                .isEqualTo("grpc-api-" + System.getProperty("deps.app.grpc.version") + ".jar");
        // HA-Raft's own gRPC transport and protobuf runtime are in its jar, under io.haraft.shaded
        assertThat(ImplJar.locationOf("io.haraft.shaded.io.grpc.Server")).isEqualTo(ImplJar.path());
        assertThat(ImplJar.locationOf("io.haraft.shaded.com.google.protobuf.Message")).isEqualTo(ImplJar.path());
        assertThat(ImplJar.locationOf("io.haraft.transport.proto.RaftMessage")).isEqualTo(ImplJar.path());
        // and nothing of them is visible under the original names
        assertThatThrownBy(() -> Class.forName("io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder"))
                .as("grpc-netty-shaded, which ha-raft-impl uses, on the application's class path")
                .isInstanceOf(ClassNotFoundException.class);
    }

    @Test
    void aThreeNodeClusterRunsNextToTheApplicationsOwnGrpcServer(@TempDir Path dir) throws Exception {
        String serverName = InProcessServerBuilder.generateName();
        Server appServer = InProcessServerBuilder.forName(serverName).directExecutor()
                .addService(ServerServiceDefinition.builder("app.Echo")
                        .addMethod(ECHO, ServerCalls.asyncUnaryCall((req, out) -> {
                            out.onNext(StringValue.of("echo " + req.getValue()));
                            out.onCompleted();
                        }))
                        .build())
                .build().start();
        ManagedChannel appChannel = InProcessChannelBuilder.forName(serverName).directExecutor().build();

        Map<String, String> members = new LinkedHashMap<>();
        for (String id : List.of("n1", "n2", "n3")) {
            members.put(id, "127.0.0.1:" + freePort());
        }
        Map<String, List<String>> applied = new ConcurrentHashMap<>();
        List<String> elected = new CopyOnWriteArrayList<>();
        Map<String, RaftNode> nodes = new LinkedHashMap<>();
        try {
            assertThat(ClientCalls.blockingUnaryCall(appChannel, ECHO, io.grpc.CallOptions.DEFAULT, StringValue.of("before")).getValue())
                    .isEqualTo("echo before");
            for (String id : members.keySet()) {
                applied.put(id, new CopyOnWriteArrayList<>());
                RaftNode.Builder b = RaftNode.builder().clusterId("deps-test").nodeId(id).dataDir(dir.resolve(id))
                        .stateMachine(new AppStateMachine(applied.get(id)))
                        .listener(new LeadershipListener() {
                            @Override
                            public void elected(Leadership l) {
                                elected.add(id);
                            }

                            @Override
                            public void revoked(Leadership l, RevokeReason why) {
                            }
                        });
                members.forEach(b::member);
                nodes.put(id, b.build());
            }
            nodes.values().forEach(RaftNode::start);
            Await.until(() -> !elected.isEmpty(), () -> "a leader among " + members);

            // the application replicates its own (protobuf 3) messages; retried if leadership moved
            List<String> commands = List.of("alpha", "beta", "gamma");
            for (String command : commands) {
                submitOnALeader(nodes, elected, StringValue.of(command).toByteArray());
            }
            for (String id : members.keySet()) {
                Await.until(() -> applied.get(id).containsAll(commands), () -> id + " applied " + commands + "; applied: " + applied);
            }
            // the transport keeps the stack traces gRPC logs for hostile connections out of the log
            // with a filter on gRPC's loggers: on those of its relocated gRPC, not the application's
            for (String logger : List.of("io.grpc.netty.shaded.io.grpc.netty.NettyServerHandler", "io.grpc.internal.ServerImpl")) {
                String relocated = "io.haraft.shaded." + logger;
                assertThat(ImplJar.locationOf(relocated)).isEqualTo(ImplJar.path());
                assertThat(java.util.logging.Logger.getLogger(relocated).getFilter()).as("filter on " + relocated).isNotNull();
                assertThat(java.util.logging.Logger.getLogger(logger).getFilter()).as("filter on " + logger).isNull();
            }
            assertThat(ClientCalls.blockingUnaryCall(appChannel, ECHO, io.grpc.CallOptions.DEFAULT, StringValue.of("after")).getValue())
                    .as("the application's own gRPC service while the cluster runs").isEqualTo("echo after");
        } finally {
            for (RaftNode n : nodes.values()) {
                n.close();
            }
            appChannel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
            appServer.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        }
    }

    /** Submits on the node that was elected last; once more on the next leader if that one lost leadership meanwhile. */
    private static void submitOnALeader(Map<String, RaftNode> nodes, List<String> elected, byte[] command) throws Exception {
        long deadline = System.nanoTime() + Await.LONG.toNanos();
        Exception last = null;
        while (System.nanoTime() < deadline) {
            RaftNode leader = nodes.get(elected.get(elected.size() - 1));
            try {
                Committed c = leader.submit(command).get(Await.LONG.toSeconds(), TimeUnit.SECONDS);
                assertThat(StringValue.parseFrom(c.data())).as("the state machine's answer")
                        .isEqualTo(StringValue.parseFrom(command));
                return;
            } catch (java.util.concurrent.ExecutionException e) {
                last = e; // not leader any more: a new election is under way
                Thread.sleep(100);
            }
        }
        throw new AssertionError("no leader took the command", last);
    }

    /** Parses every command with the application's protobuf and records it. */
    private record AppStateMachine(List<String> applied) implements StateMachine {
        @Override
        public byte[] apply(Committed entry) {
            try {
                StringValue v = StringValue.parseFrom(entry.data());
                applied.add(v.getValue());
                return v.toByteArray();
            } catch (InvalidProtocolBufferException e) {
                throw new IllegalStateException("not a StringValue at index " + entry.index(), e);
            }
        }

        @Override
        public void snapshot(OutputStream out) throws IOException {
            for (String s : applied) {
                StringValue.of(s).writeDelimitedTo(out);
            }
        }

        @Override
        public void restore(InputStream in) throws IOException {
            applied.clear();
            for (StringValue v; (v = StringValue.parseDelimitedFrom(in)) != null; ) {
                applied.add(v.getValue());
            }
        }
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
