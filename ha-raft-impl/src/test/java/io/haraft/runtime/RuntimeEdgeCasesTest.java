package io.haraft.runtime;

import io.haraft.Committed;
import io.haraft.IndeterminateOutcomeException;
import io.haraft.NotLeaderException;
import io.haraft.RevokeReason;
import io.haraft.core.HardState;
import io.haraft.core.log.Entry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/** Slow storage, a failing state machine, a single node. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RuntimeEdgeCasesTest {

    private LocalCluster cluster;
    private final ScheduledExecutorService fsync = Executors.newScheduledThreadPool(1);

    @AfterEach
    void tearDown() {
        if (cluster != null) {
            cluster.close();
            cluster.assertListenerContracts();
        }
        fsync.shutdownNow();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Completes each persist later, on another thread, as a disk with a slow fsync would. */
    private final class SlowStore extends ForwardingLogStore {
        final long delayMicros;
        volatile CompletableFuture<Void> gate = CompletableFuture.completedFuture(null);
        volatile int persists;

        SlowStore(InMemoryLogStore inner, long delayMicros) {
            super(inner);
            this.delayMicros = delayMicros;
        }

        @Override
        public synchronized CompletableFuture<Void> persist(HardState hs, List<Entry> entries) {
            persists++;
            CompletableFuture<Void> done = new CompletableFuture<>();
            CompletableFuture<Void> g = gate;
            g.thenRun(() -> fsync.schedule(() -> {
                inner.persist(hs, entries).join();
                done.complete(null);
            }, delayMicros, TimeUnit.MICROSECONDS));
            return done;
        }

        @Override
        public void close() {
            // the in-memory store outlives its node, as a disk would
        }
    }

    @Test
    void slowAsynchronousStorageStillReplicatesAndGroupsCommits() throws Exception {
        cluster = LocalCluster.ofThree();
        List<SlowStore> slow = new ArrayList<>();
        cluster.storeWrap = (id, store) -> {
            SlowStore s = new SlowStore(store, 3_000);
            slow.add(s);
            return s;
        };
        cluster.ids.forEach(cluster::create);
        cluster.start();
        String leaderId = cluster.awaitLeader();
        int before = slow.stream().mapToInt(s -> s.persists).sum();
        List<CompletableFuture<Committed>> futures = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            futures.add(cluster.node(leaderId).submit(bytes("c" + i)));
        }
        CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).get(20, TimeUnit.SECONDS);
        for (String id : cluster.ids) {
            RecordingStateMachine sm = cluster.stateMachines.get(id);
            Await.until(Duration.ofSeconds(10), () -> sm.applied.size() == 200, id + " applies 200 commands");
        }
        int used = slow.stream().mapToInt(s -> s.persists).sum() - before;
        // 200 commands on 3 nodes, yet far fewer fsyncs: everything produced during one fsync goes into the next
        assertThat(used).as("persist calls for 200 commands on 3 nodes").isLessThan(300);
    }

    @Test
    void aStuckStoreDoesNotBlockTheLoop() throws Exception {
        cluster = LocalCluster.ofThree();
        List<SlowStore> slow = new ArrayList<>();
        cluster.storeWrap = (id, store) -> {
            SlowStore s = new SlowStore(store, 0);
            slow.add(s);
            return s;
        };
        cluster.ids.forEach(cluster::create);
        cluster.start();
        String leaderId = cluster.awaitLeader();
        String followerId = cluster.others(leaderId).get(0);
        SlowStore followerStore = slow.get(cluster.ids.indexOf(followerId));
        CompletableFuture<Void> release = new CompletableFuture<>();
        followerStore.gate = release;
        try {
            Committed c = cluster.node(leaderId).submit(bytes("majority-without-one")).get(10, TimeUnit.SECONDS);
            assertThat(c.index()).isPositive();
            // the follower's fsync hangs, but its loop still answers at once
            for (int i = 0; i < 5; i++) {
                CompletableFuture<Committed> refused = cluster.node(followerId).submit(bytes("x"));
                assertThat(refused).failsWithin(Duration.ofSeconds(1))
                        .withThrowableOfType(ExecutionException.class)
                        .withCauseInstanceOf(NotLeaderException.class);
            }
            assertThat(cluster.node(followerId).status().role()).isNotNull();
        } finally {
            release.complete(null);
        }
        RecordingStateMachine sm = cluster.stateMachines.get(followerId);
        Await.until(Duration.ofSeconds(10), () -> sm.commands().contains("majority-without-one"),
                "the follower catches up once its store completes");
    }

    @Test
    void aThrowingStateMachineStopsTheLeaderSafely() throws Exception {
        cluster = LocalCluster.ofThree().start();
        String leaderId = cluster.awaitLeader();
        cluster.stateMachines.get(leaderId).poison = "boom";
        CompletableFuture<Committed> poisoned = cluster.node(leaderId).submit(bytes("boom"));
        Await.until(Duration.ofSeconds(10), () -> !cluster.listener(leaderId).last().elected(),
                "the failing leader revokes");
        assertThat(cluster.listener(leaderId).last().reason()).isEqualTo(RevokeReason.SHUT_DOWN);
        assertThat(poisoned).failsWithin(Duration.ofSeconds(10)).withThrowableOfType(ExecutionException.class)
                .withCauseInstanceOf(IndeterminateOutcomeException.class);
        Await.until(Duration.ofSeconds(10), () -> cluster.node(leaderId).submit(bytes("after"))
                .isCompletedExceptionally(), "the failed node refuses work");
        cluster.awaitLeader(cluster.others(leaderId), Duration.ofSeconds(10));
    }

    @Test
    void singleNodeElectsItselfAndRevokesWithShutDownOnClose() throws Exception {
        cluster = new LocalCluster(1, Duration.ofMillis(50), Duration.ofMillis(300), 0.01).start();
        String id = cluster.awaitLeader();
        Committed c = cluster.node(id).submit(bytes("solo")).get(10, TimeUnit.SECONDS);
        assertThat(c.index()).isEqualTo(2);
        assertThat(cluster.node(id).readIndex().get(10, TimeUnit.SECONDS).index()).isGreaterThanOrEqualTo(2);
        cluster.node(id).close();
        assertThat(cluster.listener(id).last().reason()).isEqualTo(RevokeReason.SHUT_DOWN);
        assertThat(cluster.listener(id).events).hasSize(2);
    }

    /**
     * A lease read made in a stage of a write's future runs on the apply thread, which cannot apply
     * anything while it waits: it is served at once (everything acknowledged is applied there) even
     * though the commit index runs ahead of the applied index while writes stream in.
     */
    @Test
    void aLeaseReadOnTheApplyThreadIsServedWithoutWaitingForItself() throws Exception {
        cluster = LocalCluster.ofThree().start();
        String leaderId = cluster.awaitLeader();
        RaftNodeImpl leader = cluster.node(leaderId);
        List<CompletableFuture<Boolean>> reads = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            reads.add(leader.submit(bytes("w" + i)).thenApply(c -> leader.leaseRead(l ->
                    cluster.stateMachines.get(leaderId).applied.stream().anyMatch(a -> a.index() == c.index()))));
        }
        for (CompletableFuture<Boolean> r : reads) {
            assertThat(r.get(20, TimeUnit.SECONDS)).as("the read sees the write acknowledged before it").isTrue();
        }
    }

    @Test
    void aListenerMayCloseItsOwnNode() throws Exception {
        cluster = LocalCluster.ofThree();
        CompletableFuture<Long> closedInCallback = new CompletableFuture<>();
        AtomicReference<String> closedBy = new AtomicReference<>();   // recorded where it happens
        for (String id : cluster.ids) {
            cluster.listener(id).onElected = l -> {
                if (!closedBy.compareAndSet(null, id)) {
                    return;   // only the first leader closes itself; later leaders must not be mistaken for it
                }
                long start = System.nanoTime();
                cluster.node(id).close();
                closedInCallback.complete(System.nanoTime() - start);
            };
        }
        cluster.start();
        long closeNanos = closedInCallback.get(20, TimeUnit.SECONDS);
        assertThat(Duration.ofNanos(closeNanos)).isLessThan(Duration.ofSeconds(10));
        String closedId = closedBy.get();
        Await.until(Duration.ofSeconds(30), () -> cluster.listener(closedId).events.size() == 2,
                "the revoked queued behind the closing callback is still delivered");
        assertThat(cluster.listener(closedId).last().elected()).isFalse();
        cluster.awaitLeader(cluster.others(closedId), Duration.ofSeconds(10));
    }
}
