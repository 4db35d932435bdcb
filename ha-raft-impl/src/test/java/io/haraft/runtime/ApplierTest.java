package io.haraft.runtime;

import io.haraft.Committed;
import io.haraft.IndeterminateOutcomeException;
import io.haraft.StateMachine;
import io.haraft.core.log.Entry;
import io.haraft.core.quorum.Membership;
import io.haraft.storage.IoConsumer;
import io.haraft.storage.Snapshot;
import io.haraft.storage.SnapshotMeta;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The apply thread on a simulated node (its serial executor runs as events of a {@link SimWorld},
 * so nothing here waits on real time): order and exactly-once of applies, the futures of submits
 * and reads, snapshots by count and by bytes (recording the configuration in force), a failing state machine, a
 * witness, and restores in order with the applies.
 */
class ApplierTest {
    private static final long MS = 1_000_000L;
    private static final Membership THREE = Membership.ofVoters(List.of("n1", "n2", "n3"));

    private final SimWorld world = new SimWorld(7);
    private final SimWorld.Host host = world.new Host("n1", 1_000 * MS, 0);
    private final SimNodeEnvironment env = new SimNodeEnvironment(world, host, 7, 10_000, null);
    private final RecordingStateMachine sm = new RecordingStateMachine();
    private final List<Throwable> fatal = new ArrayList<>();
    private final List<Long> snapshotsTold = new ArrayList<>();
    /** The store's snapshot writes, and what the next one does instead of writing (null: write). */
    private final List<SnapshotMeta> writes = new ArrayList<>();
    private RuntimeException nextWriteFails;
    private final InMemoryLogStore disk = new InMemoryLogStore();
    private final LogStore store = new ForwardingLogStore(disk) {
        @Override
        public Snapshot writeSnapshot(SnapshotMeta meta, IoConsumer<OutputStream> writer) throws IOException {
            writes.add(meta);
            if (nextWriteFails != null) {
                RuntimeException e = nextWriteFails;
                nextWriteFails = null;
                throw e;
            }
            return super.writeSnapshot(meta, writer);
        }
    };

    private Applier applier(long threshold, long thresholdBytes) {
        return new Applier(env, "c", "n1", sm, fatal::add, store, threshold, thresholdBytes, THREE, false, 0,
                snapshotsTold::add);
    }

    private Applier applier() {
        return applier(Long.MAX_VALUE, Long.MAX_VALUE);
    }

    private void settle() {
        world.runUntil(world.now() + 10 * MS);
    }

    /** A state machine that answers {@code apply} and writes its snapshot as told, and restores nothing. */
    private static StateMachine stateMachine(Function<Committed, byte[]> apply, IoConsumer<OutputStream> snapshot) {
        return new StateMachine() {
            @Override
            public byte[] apply(Committed entry) {
                return apply.apply(entry);
            }

            @Override
            public void snapshot(OutputStream out) throws IOException {
                snapshot.accept(out);
            }

            @Override
            public void restore(InputStream in) {
            }
        };
    }

    private static Entry cmd(long index, long term) {
        return Entry.command(index, term, ("c" + index).getBytes(StandardCharsets.UTF_8));
    }

    private static List<Entry> commands(long from, long to, long term) {
        return LongStream.rangeClosed(from, to).mapToObj(i -> cmd(i, term)).toList();
    }

    private static byte[] ok(long index) {
        return ("ok:c" + index).getBytes(StandardCharsets.UTF_8);
    }

    /** A submit's future, registered at {@code index} in {@code term} as the loop does on append. */
    private static CompletableFuture<Committed> submitted(Applier a, long index, long term) {
        CompletableFuture<Committed> f = new CompletableFuture<>();
        a.register(index, term, f);
        return f;
    }

    private static Throwable failure(CompletableFuture<Committed> f) {
        assertThat(f).isCompletedExceptionally();
        return f.handle((x, e) -> e).join();
    }

    /** The state machine's commands in the store's latest snapshot. */
    private List<String> snapshotCommands() throws IOException {
        Snapshot s = disk.latestSnapshot().orElseThrow();
        RecordingStateMachine reader = new RecordingStateMachine();
        try (InputStream in = s.open()) {
            reader.restore(in);
        }
        return reader.commands();
    }

    /** Snapshot bytes as {@link RecordingStateMachine#snapshot} writes them, of commands 1..n in term 1. */
    private static InputStream snapshotOf(long n) throws IOException {
        RecordingStateMachine other = new RecordingStateMachine();
        for (long i = 1; i <= n; i++) {
            other.apply(new Committed(1, i, ("c" + i).getBytes(StandardCharsets.UTF_8)));
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        other.snapshot(out);
        return new ByteArrayInputStream(out.toByteArray());
    }

    @Test
    void appliesCommandsInOrderExactlyOnceAndCountsInternalEntriesAsApplied() {
        Applier a = applier();
        a.apply(List.of(cmd(1, 1), Entry.noop(2, 1), cmd(3, 1)), false);
        a.apply(List.of(cmd(2, 1), cmd(3, 1), cmd(4, 1)), false);   // 2 and 3 handed over again
        a.apply(List.of(), false);
        settle();
        assertThat(sm.applyIndexes()).containsExactly(1L, 3L, 4L);
        assertThat(sm.commands()).containsExactly("c1", "c3", "c4");
        assertThat(a.applied()).isEqualTo(4);
        assertThat(fatal).isEmpty();
        assertThat(writes).as("no threshold reached").isEmpty();
    }

    @Test
    void aSubmitCompletesWithTheStateMachinesResultOrIndeterminateIfAnotherTermsEntryCommitted() {
        Applier a = applier();
        CompletableFuture<Committed> mine = submitted(a, 1, 1);
        CompletableFuture<Committed> replaced = submitted(a, 2, 1);
        CompletableFuture<Committed> internal = submitted(a, 3, 2);
        a.apply(List.of(cmd(1, 1)), false);
        settle();
        assertThat(mine).isCompletedWithValue(new Committed(1, 1, ok(1)));
        assertThat(replaced).isNotDone();
        a.apply(List.of(cmd(2, 2), Entry.noop(3, 2)), false);
        settle();
        assertThat(failure(replaced)).isInstanceOf(IndeterminateOutcomeException.class)
                .hasMessageContaining("another leader's entry (term 2)");
        assertThat(internal).as("a no-op's result is empty").isCompletedWithValue(new Committed(2, 3, new byte[0]));
    }

    @Test
    void aStateMachineThatReturnsNullCompletesTheSubmitWithAnEmptyResult() {
        Applier a = new Applier(env, "c", "n1", stateMachine(entry -> null, out -> { }), fatal::add, store, Long.MAX_VALUE, Long.MAX_VALUE, THREE, false, 0, snapshotsTold::add);
        CompletableFuture<Committed> f = submitted(a, 1, 1);
        a.apply(List.of(cmd(1, 1)), false);
        settle();
        assertThat(f).isCompletedWithValue(new Committed(1, 1, new byte[0]));
    }

    @Test
    void leadershipLostFailsOnlyTheSubmitsAboveTheCommitIndex() {
        Applier a = applier();
        CompletableFuture<Committed> committed = submitted(a, 1, 1);
        CompletableFuture<Committed> atCommit = submitted(a, 2, 1);
        CompletableFuture<Committed> above = submitted(a, 3, 1);
        a.leadershipLost(2, "lost it");
        settle();
        IndeterminateOutcomeException e = (IndeterminateOutcomeException) failure(above);
        assertThat(e).hasMessageContaining("lost it");
        assertThat(committed).isNotDone();
        assertThat(atCommit).isNotDone();
        a.apply(commands(1, 3, 1), false);
        settle();
        assertThat(committed).isCompletedWithValue(new Committed(1, 1, ok(1)));
        assertThat(atCommit).isCompletedWithValue(new Committed(1, 2, ok(2)));
        assertThat(above).as("completed once, by the loss").isCompletedExceptionally();
    }

    @Test
    void failAllPendingFailsEverySubmit() {
        Applier a = applier();
        CompletableFuture<Committed> one = submitted(a, 1, 1);
        CompletableFuture<Committed> two = submitted(a, 2, 1);
        a.failAllPending("stopping");
        settle();
        assertThat(failure(one)).isInstanceOf(IndeterminateOutcomeException.class).hasMessageContaining("stopping");
        assertThat(failure(two)).isInstanceOf(IndeterminateOutcomeException.class);
    }

    @Test
    void aReadCompletesOnlyOnceItsIndexIsApplied() {
        Applier a = applier();
        CompletableFuture<Committed> at3 = new CompletableFuture<>();
        CompletableFuture<Committed> at0 = new CompletableFuture<>();
        a.readWhenApplied(4, 3, at3);
        a.readWhenApplied(4, 0, at0);
        settle();
        assertThat(at0).as("index 0 is applied from the start; answered at index 1 at least")
                .isCompletedWithValue(Committed.position(4, 1));
        assertThat(at3).isNotDone();
        a.apply(commands(1, 2, 1), false);
        settle();
        assertThat(at3).isNotDone();
        a.apply(commands(3, 3, 1), false);
        settle();
        assertThat(at3).isCompletedWithValue(Committed.position(4, 3));
    }

    @Test
    void awaitAppliedAnswersAtOnceWhenAppliedAndTimesOutOtherwise() {
        Applier a = applier();
        AtomicLong nanos = new AtomicLong();
        assertThat(a.awaitApplied(0, 0, nanos::get)).isTrue();
        assertThat(a.awaitApplied(1, 0, nanos::get)).isFalse();
        a.apply(commands(1, 2, 1), false);
        settle();
        assertThat(a.awaitApplied(2, 0, nanos::get)).isTrue();
        assertThat(a.awaitApplied(3, 0, nanos::get)).isFalse();
    }

    @Test
    void aSnapshotIsTakenEverySnapshotThresholdEntries() throws IOException {
        Applier a = applier(3, Long.MAX_VALUE);
        a.apply(commands(1, 2, 1), false);
        settle();
        assertThat(writes).isEmpty();
        a.apply(commands(3, 3, 2), false);
        settle();
        assertThat(writes).containsExactly(new SnapshotMeta(3, 2, THREE));
        assertThat(snapshotsTold).containsExactly(3L);
        assertThat(a.snapshotsTaken()).isEqualTo(1);
        assertThat(snapshotCommands()).containsExactly("c1", "c2", "c3");
        a.apply(commands(4, 5, 2), false);
        settle();
        assertThat(snapshotsTold).as("counted from the last snapshot").containsExactly(3L);
        a.apply(commands(6, 6, 2), false);
        settle();
        assertThat(snapshotsTold).containsExactly(3L, 6L);
        assertThat(a.snapshotsTaken()).isEqualTo(2);
    }

    @Test
    void aSnapshotIsTakenOnceTheAppliedLogBytesReachTheByteThreshold() {
        long perEntry = Applier.logBytes(cmd(1, 1));
        assertThat(perEntry).isEqualTo(2 + io.haraft.RaftConfig.SNAPSHOT_ENTRY_OVERHEAD_BYTES);
        Applier a = applier(Long.MAX_VALUE, 2 * perEntry);
        a.apply(commands(1, 1, 1), false);
        settle();
        assertThat(writes).isEmpty();
        a.apply(commands(2, 2, 1), false);
        settle();
        assertThat(snapshotsTold).containsExactly(2L);
        a.apply(commands(3, 3, 1), false);
        settle();
        assertThat(snapshotsTold).as("the byte count starts again after a snapshot").containsExactly(2L);
        a.apply(commands(4, 4, 1), false);
        settle();
        assertThat(snapshotsTold).containsExactly(2L, 4L);
    }

    @Test
    void aSnapshotRecordsTheConfigurationInForceAtItsIndex() {
        Applier a = applier(3, Long.MAX_VALUE);
        RecordingMetrics recorded = new RecordingMetrics();
        a.metrics(new NodeMetrics(recorded, "c", "n1"));
        Membership four = THREE.withMember(new Membership.Member("n4", "h4:1", Membership.Role.LEARNER));
        a.apply(List.of(cmd(1, 1), Entry.config(2, 1, four)), false);
        settle();
        assertThat(sm.applyIndexes()).as("a configuration is not the state machine's").containsExactly(1L);
        assertThat(writes).as("a configuration counts towards the threshold like any entry, no more").isEmpty();
        a.apply(commands(3, 3, 1), false);
        settle();
        assertThat(writes).containsExactly(new SnapshotMeta(3, 1, four));
        assertThat(snapshotsTold).containsExactly(3L);
        assertThat(recorded.recorded("haraft.snapshot.duration")).isEqualTo(1);
        assertThat(recorded.recorded("haraft.snapshot.size")).isEqualTo(1);
    }

    @Test
    void aStateMachineThatThrowsStopsApplyingAndReportsFatal() {
        Applier a = applier(1, Long.MAX_VALUE);
        sm.poison = "c2";
        CompletableFuture<Committed> f = new CompletableFuture<>();
        a.register(2, 1, f);
        a.apply(commands(1, 3, 1), false);
        settle();
        assertThat(sm.applyIndexes()).containsExactly(1L);
        assertThat(a.applied()).isEqualTo(1);
        assertThat(fatal).hasSize(1);
        assertThat(fatal.get(0)).hasMessageContaining("poisoned command c2");
        assertThat(f).isNotDone();
        assertThat(writes).as("no snapshot of a failed state machine").isEmpty();
        sm.poison = null;
        a.apply(commands(4, 4, 1), false);
        settle();
        assertThat(sm.applyIndexes()).containsExactly(1L);
        assertThat(fatal).hasSize(1);
    }

    @Test
    void aFailedSnapshotWriteIsFatalButASnapshotOvertakenByANewerOneIsNot() {
        Applier a = applier(1, Long.MAX_VALUE);
        nextWriteFails = new IllegalArgumentException("older than the stored one");
        a.apply(commands(1, 1, 1), false);
        settle();
        assertThat(writes).hasSize(1);
        assertThat(fatal).isEmpty();
        assertThat(snapshotsTold).isEmpty();
        assertThat(a.snapshotsTaken()).isZero();
        a.apply(commands(2, 2, 1), false);
        settle();
        assertThat(snapshotsTold).containsExactly(2L);
        nextWriteFails = new IllegalStateException("disk gone");
        a.apply(commands(3, 3, 1), false);
        settle();
        assertThat(fatal).singleElement().satisfies(t -> assertThat(t).hasMessage("disk gone"));
        assertThat(snapshotsTold).containsExactly(2L);
        a.apply(commands(4, 4, 1), false);
        settle();
        assertThat(sm.applyIndexes()).as("a node whose snapshot failed applies no more").containsExactly(1L, 2L, 3L);
    }

    @Test
    void aStateMachineThatFailsToWriteItsSnapshotIsFatal() {
        Applier a = new Applier(env, "c", "n1", stateMachine(entry -> new byte[0], out -> {
            throw new IllegalStateException("cannot write");
        }), fatal::add, store, 1, Long.MAX_VALUE, THREE, false, 0, snapshotsTold::add);
        a.apply(commands(1, 1, 1), false);
        settle();
        assertThat(fatal).singleElement().satisfies(t -> assertThat(t).isInstanceOf(IOException.class)
                .hasRootCauseMessage("cannot write"));
        assertThat(snapshotsTold).isEmpty();
    }

    @Test
    void theStateMachineCannotCloseTheStoresStream() throws IOException {
        Applier a = new Applier(env, "c", "n1", stateMachine(entry -> new byte[0], out -> {
            out.write(new byte[] {1, 2});
            out.close();
            out.write(3);
        }), fatal::add, store, 1, Long.MAX_VALUE, THREE, false, 0, snapshotsTold::add);
        a.apply(commands(1, 1, 1), false);
        settle();
        assertThat(fatal).isEmpty();
        try (InputStream in = disk.latestSnapshot().orElseThrow().open()) {
            assertThat(in.readAllBytes()).containsExactly(1, 2, 3);
        }
    }

    @Test
    void aWitnessSkipsPayloadsAndTakesEmptySnapshots() throws IOException {
        Applier a = applier(2, Long.MAX_VALUE);
        CompletableFuture<Committed> f = new CompletableFuture<>();
        a.register(1, 1, f);
        a.apply(List.of(cmd(1, 1).forWitness(), cmd(2, 1).forWitness()), true);
        settle();
        assertThat(sm.events).isEmpty();
        assertThat(a.applied()).isEqualTo(2);
        assertThat(f).isCompletedWithValue(new Committed(1, 1, new byte[0]));
        assertThat(snapshotsTold).containsExactly(2L);
        assertThat(disk.latestSnapshot().orElseThrow().size()).isZero();
        a.restore(5, 1, snapshotOf(3), THREE);
        settle();
        assertThat(sm.events).as("a witness restores nothing into the state machine").isEmpty();
        assertThat(a.applied()).isEqualTo(5);
        assertThat(a.restores()).isEqualTo(1);
    }

    @Test
    void aRestoreRunsInOrderWithTheAppliesAndFailsTheSubmitsItCovers() throws IOException {
        Applier a = applier(4, Long.MAX_VALUE);
        Membership two = Membership.ofVoters(List.of("n1", "n2"));
        CompletableFuture<Committed> covered = submitted(a, 6, 2);
        CompletableFuture<Committed> atSnapshot = submitted(a, 10, 3);
        CompletableFuture<Committed> after = submitted(a, 11, 3);
        CompletableFuture<Committed> read = new CompletableFuture<>();
        a.readWhenApplied(3, 10, read);
        a.apply(commands(1, 2, 1), false);
        a.restore(10, 3, snapshotOf(10), two);
        settle();
        assertThat(a.applied()).isEqualTo(10);
        assertThat(read).as("answered by the restore itself").isCompletedWithValue(Committed.position(3, 10));
        assertThat(failure(covered)).isInstanceOf(IndeterminateOutcomeException.class)
                .hasMessageContaining("snapshot up to index 10");
        assertThat(failure(atSnapshot)).isInstanceOf(IndeterminateOutcomeException.class);
        assertThat(after).isNotDone();
        a.apply(commands(5, 11, 3), false);      // at or below the snapshot: skipped
        settle();
        assertThat(sm.events).containsExactly("apply:1", "apply:2", "restore:10", "apply:11");
        assertThat(a.applied()).isEqualTo(11);
        assertThat(a.restores()).isEqualTo(1);
        assertThat(after).isCompletedWithValue(new Committed(3, 11, ok(11)));
        assertThat(writes).as("the threshold counts from the restored index").isEmpty();
        a.apply(commands(12, 14, 3), false);
        settle();
        assertThat(writes).containsExactly(new SnapshotMeta(14, 3, two));
    }

    @Test
    void aSnapshotThatCannotBeReadIsFatalAndStopsApplying() {
        Applier a = applier();
        a.restore(5, 1, new InputStream() {
            @Override
            public int read() throws IOException {
                throw new IOException("checksum mismatch");
            }
        }, THREE);
        a.apply(commands(6, 6, 1), false);
        settle();
        assertThat(fatal).singleElement().satisfies(t -> assertThat(t).hasMessage("checksum mismatch"));
        assertThat(a.applied()).isZero();
        assertThat(a.restores()).isZero();
        assertThat(sm.applyIndexes()).isEmpty();
        java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();
        a.restore(7, 1, new ByteArrayInputStream(new byte[0]) {
            @Override
            public void close() {
                closed.set(true);
            }
        }, THREE);
        settle();
        assertThat(a.restores()).as("a failed node restores no more").isZero();
        assertThat(closed).as("but closes the snapshot's stream").isTrue();
    }

    @Test
    void afterStopReadsFailAndCompletionsRunOnTheCaller() {
        Applier a = applier();
        CompletableFuture<Committed> waiting = new CompletableFuture<>();
        a.readWhenApplied(1, 5, waiting);
        settle();
        a.stop(1_000 * MS, () -> new IllegalStateException("stopped"));
        assertThat(failure(waiting)).hasMessage("stopped");
        CompletableFuture<Committed> late = new CompletableFuture<>();
        a.readWhenApplied(1, 0, late);
        assertThat(failure(late)).isInstanceOf(IllegalStateException.class).hasMessageContaining("stopping");
        List<String> ran = new ArrayList<>();
        a.complete(() -> ran.add("here"));
        assertThat(ran).containsExactly("here");
        CompletableFuture<Committed> pending = submitted(a, 1, 1);
        a.failAllPending("gone");
        assertThat(failure(pending)).isInstanceOf(IndeterminateOutcomeException.class);
    }
}
