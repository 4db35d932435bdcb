package io.haraft.runtime;

import io.haraft.Committed;
import io.haraft.IndeterminateOutcomeException;
import io.haraft.NotLeaderException;
import io.haraft.core.HardState;
import io.haraft.core.Message;
import io.haraft.core.log.Entry;
import io.haraft.core.quorum.Membership;
import io.haraft.storage.Snapshot;
import io.haraft.storage.SnapshotMeta;
import io.haraft.storage.SnapshotWriter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Snapshots end to end in the runtime, with real files: nodes take snapshots every 20 applied
 * entries and compact their logs; a follower that fell behind the leader's compacted log (with its
 * data, or with an empty data directory) catches up through a chunked InstallSnapshot; a restarted
 * node restores its state machine from its own snapshot and replays only the log after it.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SnapshotRuntimeTest {
    private static final int THRESHOLD = 20;
    /** The smallest message limit: 32 KiB chunks, so each snapshot below takes several. */
    private static final int MAX_MESSAGE_BYTES = 64 * 1024;
    private static final String PADDING = "x".repeat(1000);
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final long LEADER_TERM = 5;

    @TempDir
    Path dataRoot;

    private LocalCluster cluster;

    @AfterEach
    void tearDown() {
        if (cluster != null) {
            cluster.close();
            cluster.assertListenerContracts();
        }
    }

    private static byte[] command(int i) {
        return ("c" + i + "-" + PADDING).getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Submits commands {@code from..toExclusive-1} until each one committed. On a machine shared with
     * other loaded processes a leader may lose its lease; a command that failed then is submitted
     * again to the next leader (it may then be applied twice: states are compared as a whole, and
     * counted in distinct commands). Returns the leader that took the last ones.
     */
    private String submitAll(String leaderId, int from, int toExclusive) throws Exception {
        String leader = leaderId;
        List<Integer> todo = new ArrayList<>();
        for (int i = from; i < toExclusive; i++) {
            todo.add(i);
        }
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!todo.isEmpty()) {
            List<CompletableFuture<Committed>> futures = new ArrayList<>();
            for (int i : todo) {
                futures.add(cluster.node(leader).submit(command(i)));
            }
            List<Integer> failed = new ArrayList<>();
            for (int k = 0; k < todo.size(); k++) {
                try {
                    futures.get(k).get(30, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof NotLeaderException || e.getCause() instanceof IndeterminateOutcomeException)) {
                        throw e;
                    }
                    failed.add(todo.get(k));
                }
            }
            todo = failed;
            if (!todo.isEmpty()) {
                assertThat(System.nanoTime() - deadline).as("time left to submit %s", todo).isNegative();
                leader = cluster.awaitLeader(cluster.ids, WAIT);
            }
        }
        return leader;
    }

    private RecordingStateMachine sm(String id) {
        return cluster.stateMachines.get(id);
    }

    private void awaitSameState(String id, String reference, int commands) {
        Await.until(WAIT, () -> sm(reference).commands().stream().distinct().count() == commands
                        && sm(id).commands().equals(sm(reference).commands()),
                id + " holds the same " + commands + " commands as " + reference + " (has " + sm(id).applied.size() + ")");
        assertThat(sm(id).applied).extracting(Committed::index)
                .containsExactlyElementsOf(sm(reference).applied.stream().map(Committed::index).toList());
    }

    @Test
    void followerRestartedWithItsDataCatchesUpThroughASnapshot() throws Exception {
        followerCatchesUpThroughASnapshot(false, false);
    }

    @Test
    void wipedFollowerCatchesUpThroughASnapshot() throws Exception {
        followerCatchesUpThroughASnapshot(true, false);
    }

    @Test
    void followerCatchesUpThroughASnapshotOverGrpc() throws Exception {
        followerCatchesUpThroughASnapshot(false, true);
    }

    private void followerCatchesUpThroughASnapshot(boolean wipe, boolean grpc) throws Exception {
        cluster = LocalCluster.onDisk(dataRoot, THRESHOLD, MAX_MESSAGE_BYTES, grpc).start();
        String leader = submitAll(cluster.awaitLeader(), 0, 10);
        String follower = cluster.others(leader).get(0);
        for (String id : cluster.ids) {
            awaitSameState(id, leader, 10);
        }
        long followerLast = cluster.node(leader).status().commitIndex();   // the follower holds no more than this
        cluster.node(follower).close();
        if (wipe) {
            cluster.wipe(follower);
        }
        awaitNoEntriesSentTo(leader, follower);

        leader = submitAll(leader, 10, 160);
        Await.until(WAIT, () -> cluster.others(follower).stream()
                        .allMatch(id -> NodeTestHooks.coreSnapshotIndex(cluster.node(id)) > followerLast + THRESHOLD),
                "both live nodes compact their logs far past the stopped follower's last index " + followerLast
                        + " (so whichever leads must send a snapshot)");
        assertThat(NodeTestHooks.snapshotsTaken(cluster.node(leader))).isGreaterThanOrEqualTo(1);
        // Leadership may move between the two live nodes (a loaded CI host), and each compacts on its own
        // schedule: whichever serves the follower, its snapshot is at least the smaller of the two.
        long compacted = cluster.others(follower).stream()
                .mapToLong(id -> NodeTestHooks.coreSnapshotIndex(cluster.node(id))).min().orElseThrow();

        cluster.create(follower).start();
        awaitSameState(follower, leader, 160);
        RaftNodeImpl f = cluster.node(follower);
        assertThat(NodeTestHooks.snapshotsInstalled(f)).as("snapshots installed by %s", follower).isGreaterThanOrEqualTo(1);
        assertThat(cluster.ids.stream().mapToLong(id -> NodeTestHooks.snapshotChunksServed(cluster.node(id))).sum())
                .as("chunks served by the leader(s)").isGreaterThan(1);
        long lastAtRestart = cluster.openedWith.get(follower)[1];
        if (wipe) {
            assertThat(lastAtRestart).as("the wiped follower's log at restart").isZero();
        } else {
            assertThat(lastAtRestart).as("the follower's log at restart").isPositive().isLessThanOrEqualTo(followerLast);
        }

        // The state came from a restore at the leader's snapshot, not from replaying what it covers.
        List<String> events = List.copyOf(sm(follower).events);   // a copy: the node still applies
        int restoreAt = indexOfFirst(events, "restore:");
        assertThat(restoreAt).as("a restore among %s", events).isGreaterThanOrEqualTo(0);
        long restoredUpTo = Long.parseLong(events.get(restoreAt).substring("restore:".length()));
        assertThat(restoredUpTo).as("the restored snapshot covers entries the follower never had")
                .isGreaterThan(followerLast);
        assertThat(restoredUpTo + 1).as("it is at least the snapshot the live nodes held when the follower came back")
                .isGreaterThanOrEqualTo(compacted);
        for (String e : events.subList(restoreAt + 1, events.size())) {
            if (e.startsWith("apply:")) {
                assertThat(Long.parseLong(e.substring(6))).as("applied after the restore").isGreaterThan(restoredUpTo);
            }
        }
        Snapshot stored = cluster.openStores.get(follower).latestSnapshot().orElseThrow();
        assertThat(stored.meta().lastIndex()).as("the follower's stored snapshot").isGreaterThanOrEqualTo(restoredUpTo);
        assertThat(stored.meta().members()).containsExactlyElementsOf(cluster.ids);
        assertThat(stored.meta().membership().orElseThrow().members())
                .as("the received snapshot records the configuration the leader sent with it, addresses included")
                .extracting(m -> m.address()).containsExactlyElementsOf(cluster.config(follower).members().stream()
                        .map(io.haraft.RaftConfig.Member::address).toList());

        // Replication goes on after the snapshot.
        leader = submitAll(leader, 160, 170);
        for (String id : cluster.ids) {
            awaitSameState(id, leader, 170);
        }
    }

    /**
     * Waits until {@code leader} sends the stopped {@code follower} no more log entries before it hears
     * from it again: it found the follower's connection refused. Only then may the commands the
     * follower is to miss be submitted: a transport may hold what is sent to a node that is down and
     * hand it to the restarted node (the gRPC transport queues it), and entries replicated to the
     * follower before the leader knew it was gone would let it catch up by appends rather than through
     * a snapshot. Afterwards nothing sends it entries it lacks: the follower's last answers were
     * handed over when it closed (so none can restart the replication), a leader probes a refused
     * follower only once it answers again, and any later leader starts by probing at its own last
     * index. If {@code leader} no longer leads, it sends nothing.
     */
    private void awaitNoEntriesSentTo(String leader, String follower) {
        Await.until(WAIT, () -> !NodeTestHooks.sendsEntriesTo(cluster.node(leader), follower),
                leader + " stops sending entries to the stopped " + follower);
    }

    /**
     * A follower acknowledges each chunk of a snapshot it receives before the chunk is durable (see
     * {@link io.haraft.core.Ready}): here it crashes while writing the second chunk, after it
     * acknowledged the first. Its store drops the partial snapshot at recovery, and the leader's
     * transfer starts over from byte 0 and completes.
     */
    @Test
    void aFollowerThatCrashesMidTransferReceivesTheWholeSnapshotAgain() throws Exception {
        AtomicReference<String> pausing = new AtomicReference<>();     // its second chunk waits for the crash
        CountDownLatch paused = new CountDownLatch(1);
        Map<String, List<String>> received = new ConcurrentHashMap<>();  // per node: begin, chunk@offset, commit
        cluster = LocalCluster.onDisk(dataRoot, THRESHOLD, MAX_MESSAGE_BYTES, false);
        cluster.fileStoreWrap = (id, store) -> new ForwardingLogStore(store) {
            @Override
            public SnapshotWriter beginSnapshot(SnapshotMeta meta) throws IOException {
                List<String> events = received.computeIfAbsent(id, k -> new CopyOnWriteArrayList<>());
                events.add("begin");
                return new PausingWriter(inner.beginSnapshot(meta), () -> id.equals(pausing.get()), paused, events);
            }
        };
        cluster.start();
        String leader = submitAll(cluster.awaitLeader(), 0, 10);
        String follower = cluster.others(leader).get(0);
        for (String id : cluster.ids) {
            awaitSameState(id, leader, 10);
        }
        cluster.node(follower).close();
        awaitNoEntriesSentTo(leader, follower);
        leader = submitAll(leader, 10, 160);
        Await.until(WAIT, () -> cluster.others(follower).stream()
                        .allMatch(id -> NodeTestHooks.coreSnapshotIndex(cluster.node(id)) > 10 + THRESHOLD),
                "both live nodes compact their logs past the stopped follower's last index");

        pausing.set(follower);
        cluster.create(follower).start();
        assertThat(paused.await(WAIT.toSeconds(), TimeUnit.SECONDS)).as("%s receives a second chunk", follower).isTrue();
        List<String> first = received.get(follower);
        assertThat(first).as("%s wrote chunk 0 and acknowledged it, so the leader sent the next", follower)
                .startsWith("begin", "chunk@0").doesNotContain("commit");
        assertThat(first.get(first.size() - 1)).isNotEqualTo("chunk@0").startsWith("chunk@");
        RuntimeTestHooks.crash(cluster.node(follower));
        assertThat(partialSnapshots(follower)).as("the crash leaves the partly received snapshot behind").isNotEmpty();

        pausing.set(null);
        received.remove(follower);
        cluster.create(follower).start();
        assertThat(partialSnapshots(follower)).as("recovery removes the partly received snapshot").isEmpty();
        awaitSameState(follower, leader, 160);
        assertThat(NodeTestHooks.snapshotsInstalled(cluster.node(follower))).isGreaterThanOrEqualTo(1);
        assertThat(received.get(follower)).as("what the restarted %s received", follower)
                .startsWith("begin", "chunk@0").contains("commit");
        assertThat(partialSnapshots(follower)).isEmpty();

        leader = submitAll(leader, 160, 170);
        for (String id : cluster.ids) {
            awaitSameState(id, leader, 170);
        }
    }

    /**
     * A follower records, with each snapshot it receives, the configuration the leader sent with that
     * snapshot's first chunk, even when one batch of its work (one Ready) holds the starts of two
     * transfers: a delayed first chunk of an older snapshot (a transport may hand over what it held
     * while the follower was down), then the first chunk of the transfer the leader restarted with a
     * newer snapshot. The batch is made deterministic: the follower's disk holds back a write while
     * both chunks arrive.
     */
    @Test
    void aReadyWithTheStartsOfTwoTransfersRecordsTheConfigurationSentWithTheSnapshotInstalled() throws Exception {
        AtomicBoolean holding = new AtomicBoolean();
        CountDownLatch held = new CountDownLatch(1);
        CompletableFuture<Void> release = new CompletableFuture<>();
        cluster = LocalCluster.onDisk(dataRoot, THRESHOLD, MAX_MESSAGE_BYTES, false);
        cluster.fileStoreWrap = (id, store) -> new ForwardingLogStore(store) {
            @Override
            public CompletableFuture<Void> persist(HardState hardState, List<Entry> entries) {
                CompletableFuture<Void> durable = inner.persist(hardState, entries);
                if (hardState != null && holding.compareAndSet(true, false)) {
                    held.countDown();
                    return durable.thenCombine(release, (a, b) -> null);   // in flight until released
                }
                return durable;
            }
        };
        String follower = "n2";
        RaftNodeImpl node = cluster.node(follower);
        node.start();                       // alone: n1 below is played by the test, n3 stays down

        // n1 leads term 5: its heartbeat makes the follower persist the new term, which the disk holds back
        holding.set(true);
        NodeTestHooks.deliver(node, new Message.Heartbeat("n1", follower, LEADER_TERM, 0, 1));
        assertThat(held.await(WAIT.toSeconds(), TimeUnit.SECONDS)).as("the new term is being persisted").isTrue();

        // meanwhile: the delayed first chunk of snapshot 10, then the whole (one-chunk) snapshot 20
        Membership older = Membership.ofVoters(cluster.ids);
        Membership current = Configurations.bootstrap(cluster.config(follower));
        byte[] emptyState = {0, 0, 0, 0};   // RecordingStateMachine's snapshot of no commands
        NodeTestHooks.deliver(node, new Message.InstallSnapshot("n1", follower, LEADER_TERM, 10, LEADER_TERM, 0,
                new byte[] {1, 2, 3}, false, 2, older, 0));
        NodeTestHooks.deliver(node, new Message.InstallSnapshot("n1", follower, LEADER_TERM, 20, LEADER_TERM, 0,
                emptyState, true, 3, current, 0));
        NodeTestHooks.runOnLoop(node, () -> release.complete(null));   // after both chunks were handed to the core

        Await.until(WAIT, () -> cluster.openStores.get(follower).latestSnapshot()
                        .map(s -> s.meta().lastIndex() == 20).orElse(false),
                follower + " installs snapshot 20");
        Snapshot stored = cluster.openStores.get(follower).latestSnapshot().orElseThrow();
        assertThat(stored.meta().membership()).as("the configuration recorded with snapshot 20")
                .isEqualTo(Optional.of(current));
        // the counter moves just after the snapshot file is committed: wait for it, then check it is one
        Await.until(WAIT, () -> NodeTestHooks.snapshotsInstalled(node) >= 1, follower + " counts the install");
        assertThat(NodeTestHooks.snapshotsInstalled(node)).isEqualTo(1);
    }

    /** Snapshot files of {@code id} that were begun but not committed. */
    private List<Path> partialSnapshots(String id) throws IOException {
        try (var files = Files.list(dataRoot.resolve(id))) {
            return files.filter(f -> f.getFileName().toString().startsWith("snapshot-")
                    && f.getFileName().toString().endsWith(".tmp")).toList();
        }
    }

    /**
     * Records what is written into a received snapshot ({@code chunk@offset}, {@code commit}); while
     * {@code pause} holds, a chunk after the first waits (interruptibly: a crash stops it) instead
     * of being written.
     */
    private static final class PausingWriter implements SnapshotWriter {
        private final SnapshotWriter inner;
        private final java.util.function.BooleanSupplier pause;
        private final CountDownLatch paused;
        private final List<String> events;

        PausingWriter(SnapshotWriter inner, java.util.function.BooleanSupplier pause, CountDownLatch paused,
                      List<String> events) {
            this.inner = inner;
            this.pause = pause;
            this.paused = paused;
            this.events = events;
        }

        @Override
        public void write(byte[] data, int offset, int length) throws IOException {
            events.add("chunk@" + inner.bytesWritten());
            if (inner.bytesWritten() > 0 && pause.getAsBoolean()) {
                paused.countDown();
                try {
                    new CountDownLatch(1).await(2 * WAIT.toSeconds(), TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("crashed while writing a chunk");
                }
                throw new IOException("test: the node was not crashed while its chunk waited");
            }
            inner.write(data, offset, length);
        }

        @Override
        public long bytesWritten() {
            return inner.bytesWritten();
        }

        @Override
        public Snapshot commit() throws IOException {
            events.add("commit");
            return inner.commit();
        }

        @Override
        public void close() throws IOException {
            inner.close();
        }
    }

    @Test
    void restartedLeaderRestoresItsOwnSnapshotAndReplaysOnlyTheSuffix() throws Exception {
        cluster = LocalCluster.onDisk(dataRoot, THRESHOLD, MAX_MESSAGE_BYTES, false).start();
        String leader = cluster.awaitLeader();
        leader = submitAll(leader, 0, 45);
        int total = 45;
        for (String id : cluster.ids) {
            awaitSameState(id, leader, total);
        }
        // One command at a time until the leader's store holds a log suffix after its snapshot, and no
        // node is close to its next snapshot: the new leader's first entry must not compact away the
        // suffix the restarted node is to replay (it would then catch up through a snapshot instead).
        for (int tries = 0; !suffixAndNoSnapshotDue(leader); tries++) {
            assertThat(tries).as("tries to reach a state with a log suffix").isLessThan(3 * THRESHOLD);
            leader = submitAll(leader, total, total + 1);
            total++;
            for (String id : cluster.ids) {
                awaitSameState(id, leader, total);
            }
        }
        assertThat(NodeTestHooks.snapshotsTaken(cluster.node(leader))).isGreaterThanOrEqualTo(1);

        cluster.node(leader).close();
        String next = cluster.awaitLeader(cluster.others(leader), WAIT);
        cluster.create(leader).start();
        long snapshotIndex = cluster.openedWith.get(leader)[0];
        long lastIndex = cluster.openedWith.get(leader)[1];
        assertThat(snapshotIndex).as("the restarted node's snapshot").isGreaterThan(0);
        assertThat(lastIndex).as("its log after the snapshot").isGreaterThan(snapshotIndex);

        awaitSameState(leader, next, total);
        RecordingStateMachine restarted = sm(leader);
        assertThat(restarted.events.get(0)).as("first call on the restarted state machine: %s", restarted.events)
                .startsWith("restore:");
        long restoredUpTo = Long.parseLong(restarted.events.get(0).substring("restore:".length()));
        assertThat(restoredUpTo).isPositive().isLessThanOrEqualTo(snapshotIndex);
        List<Long> replayed = restarted.applyIndexes().stream().filter(i -> i <= lastIndex).toList();
        List<Long> suffix = sm(next).applied.stream().map(Committed::index)
                .filter(i -> i > snapshotIndex && i <= lastIndex).toList();
        assertThat(replayed).as("commands replayed from the log after the snapshot").isEqualTo(suffix);
        assertThat(replayed.size()).as("replayed only the suffix, not all %s commands", total).isLessThan(total);
        assertThat(NodeTestHooks.restores(cluster.node(leader))).isGreaterThanOrEqualTo(1);

        next = submitAll(next, total, total + 5);
        for (String id : cluster.ids) {
            awaitSameState(id, next, total + 5);
        }
    }

    private boolean suffixAndNoSnapshotDue(String leader) {
        for (String id : cluster.ids) {
            LogStore store = cluster.openStores.get(id);
            long suffix = store.entries().size();
            if (suffix > THRESHOLD - 5 || (id.equals(leader) && (suffix == 0 || store.snapshotIndex() == 0))) {
                return false;
            }
        }
        return true;
    }

    private static int indexOfFirst(List<String> events, String prefix) {
        for (int i = 0; i < events.size(); i++) {
            if (events.get(i).startsWith(prefix)) {
                return i;
            }
        }
        return -1;
    }
}
