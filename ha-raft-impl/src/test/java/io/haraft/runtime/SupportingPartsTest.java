package io.haraft.runtime;

import io.haraft.NodeStatus;
import io.haraft.RaftNode;
import io.haraft.core.HardState;
import io.haraft.core.log.Entry;
import io.haraft.spi.RaftNodeFactory;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.ServiceLoader;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SupportingPartsTest {

    @Test
    void inMemoryStoreTruncatesThenAppendsAndRefusesGaps() {
        InMemoryLogStore store = new InMemoryLogStore();
        assertThat(store.hardState()).isEqualTo(HardState.INITIAL);
        store.persist(new HardState(1, "n1"), List.of(Entry.noop(1, 1), Entry.command(2, 1, new byte[] {1}),
                Entry.command(3, 1, new byte[] {2}))).join();
        store.persist(null, List.of(Entry.command(3, 2, new byte[] {9}))).join();
        assertThat(store.hardState()).isEqualTo(new HardState(1, "n1"));
        assertThat(store.entries()).extracting(Entry::term).containsExactly(1L, 1L, 2L);
        assertThat(store.persist(null, List.of(Entry.noop(5, 2)))).isCompletedExceptionally();
        assertThat(store.lastIndex()).isEqualTo(3);
        store.close();
        assertThat(store.entries()).hasSize(3);   // survives close, like a disk
    }

    @Test
    void heartbeatStatsMeasureRoundTripsAndAnsweredShare() {
        HeartbeatStats stats = new HeartbeatStats(List.of("a", "b"), 1_000);
        for (int r = 1; r <= 10; r++) {
            stats.sent("a", 3, r, r * 10_000L);
            stats.sent("b", 3, r, r * 10_000L);
            if (r % 2 == 0) {
                stats.answered("a", 3, r, r * 10_000L + 100 * r);
            }
            stats.answered("b", 3, r, r * 10_000L + 50);
        }
        stats.answered("b", 2, 1, 1_000_000);     // another term: ignored
        stats.heard("a", 100_000);
        List<NodeStatus.PeerStats> s = stats.snapshot(200_000);
        NodeStatus.PeerStats a = s.get(0);
        NodeStatus.PeerStats b = s.get(1);
        assertThat(a.heartbeatsSent()).isEqualTo(10);
        assertThat(a.heartbeatsAnswered()).isEqualTo(5);
        assertThat(a.reliability()).isEqualTo(0.5);
        assertThat(a.rttP50()).isEqualTo(Duration.ofNanos(600));
        assertThat(a.rttP99()).isEqualTo(Duration.ofNanos(1_000));
        assertThat(a.lastContact()).contains(Duration.ofNanos(100_000));
        assertThat(b.reliability()).isEqualTo(1.0);
        assertThat(b.lastContact()).isEmpty();

        // an unanswered heartbeat younger than the undecided window is not counted yet
        stats.sent("b", 3, 11, 199_500);
        assertThat(stats.snapshot(200_000).get(1).heartbeatsSent()).isEqualTo(10);
        assertThat(stats.snapshot(201_000).get(1).heartbeatsSent()).isEqualTo(11);
    }

    @Test
    void heartbeatWindowSlides() {
        HeartbeatStats stats = new HeartbeatStats(List.of("a"), 0);
        for (int r = 1; r <= HeartbeatStats.WINDOW + 50; r++) {
            stats.sent("a", 1, r, r);
            if (r > 50) {
                stats.answered("a", 1, r, r + 1);
            }
        }
        NodeStatus.PeerStats a = stats.snapshot(1_000_000).get(0);
        assertThat(a.heartbeatsSent()).isEqualTo(HeartbeatStats.WINDOW);
        assertThat(a.heartbeatsAnswered()).isEqualTo(HeartbeatStats.WINDOW);
    }

    @Test
    void heartbeatTotalsCountEachHeartbeatOnceWhenItsOutcomeIsKnown() {
        HeartbeatStats stats = new HeartbeatStats(List.of("a"), 1_000);
        stats.sent("a", 1, 1, 0);
        stats.sent("a", 1, 2, 10);
        stats.sent("a", 1, 3, 20);
        stats.answered("a", 1, 1, 5);
        stats.answered("a", 1, 1, 6);                      // a duplicate answer counts once
        NodeStatus.PeerStats early = stats.snapshot(500).get(0);  // 2 and 3 are undecided yet
        assertThat(early.totalHeartbeatsSent()).isEqualTo(1);
        assertThat(early.totalHeartbeatsAnswered()).isEqualTo(1);

        NodeStatus.PeerStats late = stats.snapshot(1_015).get(0);  // 2 is now lost, 3 still undecided
        assertThat(late.totalHeartbeatsSent()).isEqualTo(2);
        assertThat(late.totalHeartbeatsAnswered()).isEqualTo(1);
        stats.answered("a", 1, 2, 1_016);                  // too late: the window counts it, the totals do not
        stats.answered("a", 1, 3, 1_017);
        NodeStatus.PeerStats s = stats.snapshot(5_000).get(0);
        assertThat(s.heartbeatsAnswered()).isEqualTo(3);
        assertThat(s.totalHeartbeatsSent()).isEqualTo(3);
        assertThat(s.totalHeartbeatsAnswered()).isEqualTo(2);
        assertThat(stats.snapshot(9_000).get(0)).as("no heartbeat is counted twice").isEqualTo(stats.snapshot(9_000).get(0));

        // beyond the window: every heartbeat is counted, and one pushed out unanswered is lost
        HeartbeatStats many = new HeartbeatStats(List.of("a"), Long.MAX_VALUE);
        int n = 3 * HeartbeatStats.WINDOW;
        for (int r = 1; r <= n; r++) {
            many.sent("a", 1, r, r);
            if (r % 100 != 0) {
                many.answered("a", 1, r, r);
            }
        }
        NodeStatus.PeerStats m = many.snapshot(n + 1).get(0);
        assertThat(m.heartbeatsAnswered()).isLessThanOrEqualTo(HeartbeatStats.WINDOW);
        assertThat(m.totalHeartbeatsAnswered()).isEqualTo(n - n / 100);
        // the unanswered ones still in the window are undecided (they may still be answered)
        long undecidedInWindow = java.util.stream.IntStream.rangeClosed(n - HeartbeatStats.WINDOW + 1, n)
                .filter(r -> r % 100 == 0).count();
        assertThat(m.totalHeartbeatsSent()).isEqualTo(n - undecidedInWindow);
    }

    @Test
    void serviceLoaderFindsTheProviderWiredToGrpcAndFileStorage() {
        List<RaftNodeFactory> found = ServiceLoader.load(RaftNodeFactory.class).stream()
                .map(ServiceLoader.Provider::get).toList();
        assertThat(found).hasSize(1).first().isInstanceOf(RaftNodeProvider.class);
        RaftNode.Builder builder = RaftNode.builder().clusterId("c").nodeId("n1")
                .member("n1", "127.0.0.1:7001").member("n2", "127.0.0.1:7002").member("n3", "127.0.0.1:7003")
                .dataDir(Path.of(System.getProperty("java.io.tmpdir"), "haraft-provider-test"));
        try (RaftNode built = builder.build()) {
            assertThat(built).isInstanceOf(RaftNodeImpl.class);
        }

        LocalNetwork net = new LocalNetwork();
        RaftNodeFactory custom = new RaftNodeProvider(c -> net.transport(c.nodeId()), c -> new InMemoryLogStore(),
                MonotonicClock.system());
        RaftNode node = custom.create(builder.config(), new RecordingListener("n1"), new RecordingStateMachine());
        assertThat(node).isInstanceOf(RaftNodeImpl.class);
        assertThat(node.config().nodeId()).isEqualTo("n1");
        node.close();
    }
}
