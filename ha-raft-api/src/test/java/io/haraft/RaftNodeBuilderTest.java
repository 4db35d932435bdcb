package io.haraft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.haraft.spi.RaftNodeFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RaftNodeBuilderTest {

    @TempDir
    Path tmp;

    private RaftNode.Builder three() {
        return RaftNode.builder()
                .clusterId("orders")
                .nodeId("n2")
                .member("n1", "10.0.0.1:7001")
                .member("n2", "10.0.0.2:7001")
                .member("n3", "10.0.0.3:7001")
                .dataDir(tmp.resolve("raft"));
    }

    @Test
    void defaults() {
        RaftConfig c = three().config();
        assertThat(c.heartbeatInterval()).isEqualTo(Duration.ofMillis(100));
        assertThat(c.electionTimeout()).isEqualTo(Duration.ofMillis(300));
        assertThat(c.clockDriftBound()).isEqualTo(0.01);
        assertThat(c.fastFailoverOnRefusedConnection()).isTrue();
        assertThat(c.tls()).isEmpty();
        assertThat(c.maxMessageBytes()).isEqualTo(4 * 1024 * 1024);
        assertThat(c.snapshotThreshold()).isEqualTo(10_000);
    }

    @Test
    void onlyHeartbeatSetGivesThreeMissedHeartbeatsAsElectionTimeout() {
        RaftConfig c = three().heartbeatInterval(Duration.ofMillis(50)).config();
        assertThat(c.electionTimeout()).isEqualTo(Duration.ofMillis(150));
    }

    @Test
    void onlyElectionTimeoutSetGivesAThirdAsHeartbeat() {
        RaftConfig c = three().electionTimeout(Duration.ofMillis(900)).config();
        assertThat(c.heartbeatInterval()).isEqualTo(Duration.ofMillis(300));
    }

    @Test
    void builderCarriesEverySettingIntoTheConfig() throws IOException {
        Path cert = Files.writeString(tmp.resolve("node.crt"), "c");
        Path key = Files.writeString(tmp.resolve("node.key"), "k");
        Path ca = Files.writeString(tmp.resolve("ca.crt"), "a");
        TlsConfig tls = new TlsConfig(cert, key, ca);
        RaftConfig c = three()
                .heartbeatInterval(Duration.ofMillis(20))
                .electionTimeout(Duration.ofMillis(100))
                .clockDriftBound(0.05)
                .fastFailoverOnRefusedConnection(false)
                .tls(tls)
                .maxMessageBytes(1 << 20)
                .snapshotThreshold(500)
                .config();
        assertThat(c.clusterId()).isEqualTo("orders");
        assertThat(c.nodeId()).isEqualTo("n2");
        assertThat(c.members()).containsExactly(
                new RaftConfig.Member("n1", "10.0.0.1", 7001),
                new RaftConfig.Member("n2", "10.0.0.2", 7001),
                new RaftConfig.Member("n3", "10.0.0.3", 7001));
        assertThat(c.dataDir()).isEqualTo(tmp.resolve("raft").toAbsolutePath());
        assertThat(c.heartbeatInterval()).isEqualTo(Duration.ofMillis(20));
        assertThat(c.electionTimeout()).isEqualTo(Duration.ofMillis(100));
        assertThat(c.clockDriftBound()).isEqualTo(0.05);
        assertThat(c.fastFailoverOnRefusedConnection()).isFalse();
        assertThat(c.tls()).contains(tls);
        assertThat(c.maxMessageBytes()).isEqualTo(1 << 20);
        assertThat(c.snapshotThreshold()).isEqualTo(500);
    }

    @Test
    void missingImplementationNamesTheMavenArtifact() {
        RaftNode.Builder b = three();
        assertThatThrownBy(b::build)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("No HA-Raft implementation found")
                .hasMessageContaining("io.haraft.spi.RaftNodeFactory")
                .hasMessageContaining("io.haraft:ha-raft-impl:0.1.0-SNAPSHOT")
                .hasMessageContaining("<groupId>io.haraft</groupId><artifactId>ha-raft-impl</artifactId>"
                        + "<version>0.1.0-SNAPSHOT</version>");
    }

    @Test
    void invalidConfigIsReportedBeforeTheMissingImplementation() {
        RaftNode.Builder b = three().member("n4", "10.0.0.4:7001").member("n5", "10.0.0.5:7001")
                .member("n6", "10.0.0.6:7001").member("n7", "10.0.0.7:7001").member("n8", "10.0.0.8:7001");
        assertThatThrownBy(b::build).isInstanceOf(RaftConfigException.class).hasMessageContaining("8 voters");
    }

    @Test
    void buildPassesConfigListenerAndStateMachineToTheFactoryAndPreparesTheDataDir() {
        LeadershipListener listener = new LeadershipListener() {
            @Override
            public void elected(Leadership leadership) {
            }

            @Override
            public void revoked(Leadership leadership, RevokeReason reason) {
            }
        };
        StateMachine sm = new StateMachine() {
            @Override
            public byte[] apply(Committed entry) {
                return entry.data();
            }

            @Override
            public void snapshot(OutputStream out) {
            }

            @Override
            public void restore(InputStream in) {
            }
        };
        RecordingFactory factory = new RecordingFactory();
        RaftNode node = three().listener(listener).stateMachine(sm).build(List.of(factory));
        assertThat(node).isInstanceOf(FakeNode.class);
        assertThat(factory.config.get().nodeId()).isEqualTo("n2");
        assertThat(factory.listener.get()).isSameAs(listener);
        assertThat(factory.stateMachine.get()).isSameAs(sm);
        assertThat(tmp.resolve("raft")).isDirectory();
    }

    @Test
    void withoutListenerOrStateMachineTheFactoryGetsHarmlessStandIns() throws IOException {
        RecordingFactory factory = new RecordingFactory();
        three().build(List.of(factory));
        assertThat(factory.listener.get()).isNotNull();
        StateMachine sm = factory.stateMachine.get();
        assertThat(sm).isNotNull();
        assertThat(sm.apply(new Committed(1, 1, new byte[] {1, 2}))).isEmpty();
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        sm.snapshot(out);
        assertThat(out.toByteArray()).isEmpty();
    }

    @Test
    void twoImplementationsAreRefused() {
        assertThatThrownBy(() -> three().build(List.of(new RecordingFactory(), new RecordingFactory())))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("Found 2 HA-Raft implementations")
                .hasMessageContaining(RecordingFactory.class.getName())
                .hasMessageContaining("Keep exactly one");
    }

    @Test
    void aFactoryReturningNullIsReported() {
        RaftNodeFactory broken = (config, listener, sm) -> null;
        assertThatThrownBy(() -> three().build(List.of(broken)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("returned null");
    }

    @Test
    void settersRejectNullAtOnce() {
        RaftNode.Builder b = RaftNode.builder();
        assertThatThrownBy(() -> b.clusterId(null)).isInstanceOf(NullPointerException.class).hasMessage("clusterId");
        assertThatThrownBy(() -> b.member("n1", null)).isInstanceOf(NullPointerException.class).hasMessage("address");
        assertThatThrownBy(() -> b.dataDir(null)).isInstanceOf(NullPointerException.class).hasMessage("dataDir");
        assertThatThrownBy(() -> b.listener(null)).isInstanceOf(NullPointerException.class).hasMessage("listener");
    }

    @Test
    void malformedMemberAddressFailsAtTheCall() {
        RaftNode.Builder b = RaftNode.builder();
        assertThatThrownBy(() -> b.member("n1", "10.0.0.1"))
                .isInstanceOf(RaftConfigException.class)
                .hasMessageContaining("(no port)")
                .hasMessageContaining("\"10.0.0.1:7001\"");
    }

    static final class RecordingFactory implements RaftNodeFactory {
        final AtomicReference<RaftConfig> config = new AtomicReference<>();
        final AtomicReference<LeadershipListener> listener = new AtomicReference<>();
        final AtomicReference<StateMachine> stateMachine = new AtomicReference<>();

        @Override
        public RaftNode create(RaftConfig config, LeadershipListener listener, StateMachine stateMachine) {
            this.config.set(config);
            this.listener.set(listener);
            this.stateMachine.set(stateMachine);
            return new FakeNode(config);
        }
    }

    /** A node that does nothing; only its type and config are looked at. */
    record FakeNode(RaftConfig config) implements RaftNode {
        @Override
        public void start() {
        }

        @Override
        public void close() {
        }

        @Override
        public CompletableFuture<Committed> submit(byte[] command) {
            return CompletableFuture.failedFuture(new NotLeaderException(config.nodeId(), null, null));
        }

        @Override
        public CompletableFuture<Committed> readIndex() {
            return submit(new byte[0]);
        }

        @Override
        public <T> T leaseRead(Function<? super Leadership, ? extends T> read) {
            throw new NotLeaderException(config.nodeId(), null, null);
        }

        @Override
        public CompletableFuture<Void> transferLeadership(String targetNodeId) {
            return CompletableFuture.failedFuture(new NotLeaderException(config.nodeId(), null, null));
        }

        @Override
        public NodeStatus status() {
            return new NodeStatus(config.nodeId(), NodeStatus.Role.FOLLOWER, 0, Optional.empty(), 0, 0, List.of());
        }

        @Override
        public Optional<Leadership> leadership() {
            return Optional.empty();
        }

        @Override
        public CompletableFuture<Leadership> awaitLeadership() {
            return new CompletableFuture<>();
        }

        @Override
        public Subscription addListener(LeadershipListener listener) {
            return () -> { };
        }

        @Override
        public Subscription addListener(LeadershipListener listener, java.util.concurrent.Executor executor) {
            return () -> { };
        }

        @Override
        public Subscription addLeaderChangeListener(LeaderChangeListener listener) {
            return () -> { };
        }

        @Override
        public Subscription addLeaderChangeListener(LeaderChangeListener listener,
                                                    java.util.concurrent.Executor executor) {
            return () -> { };
        }

        private <T> CompletableFuture<T> notLeader() {
            return CompletableFuture.failedFuture(new NotLeaderException(config.nodeId(), null, null));
        }

        @Override
        public CompletableFuture<ClusterConfiguration> addLearner(String id, String address) {
            return notLeader();
        }

        @Override
        public CompletableFuture<ClusterConfiguration> addWitness(String id, String address) {
            return notLeader();
        }

        @Override
        public CompletableFuture<ClusterConfiguration> promote(String id) {
            return notLeader();
        }

        @Override
        public CompletableFuture<ClusterConfiguration> promote(String id, java.time.Duration catchUpTimeout) {
            return notLeader();
        }

        @Override
        public CompletableFuture<ClusterConfiguration> removeMember(String id) {
            return notLeader();
        }

        @Override
        public CompletableFuture<ClusterConfiguration> replaceMember(String oldId, String newId, String newAddress) {
            return notLeader();
        }

        @Override
        public CompletableFuture<ClusterConfiguration> replaceMember(String oldId, String newId, String newAddress,
                                                                     java.time.Duration catchUpTimeout) {
            return notLeader();
        }
    }
}
