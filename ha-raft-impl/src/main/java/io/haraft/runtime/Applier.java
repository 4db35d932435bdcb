package io.haraft.runtime;

import io.haraft.Committed;
import io.haraft.IndeterminateOutcomeException;
import io.haraft.StateMachine;
import io.haraft.core.log.Entry;
import io.haraft.core.quorum.Membership;
import io.haraft.storage.SnapshotMeta;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import java.util.function.Supplier;

/**
 * The apply thread: applies committed entries to the {@link StateMachine} in order, completes the
 * futures of {@code submit} and {@code readIndex}, and tells waiting lease reads how far it got.
 *
 * <p>Entries reach it in log order from the loop. Pending submits live in a concurrent map keyed by
 * index; whoever removes an entry (this thread on apply, the loop when leadership is lost, close)
 * completes its future, so each future completes exactly once.
 *
 * <p>Snapshots: once {@code snapshotThreshold} entries, or {@code snapshotThresholdBytes} bytes of
 * log (payloads plus {@link io.haraft.RaftConfig#SNAPSHOT_ENTRY_OVERHEAD_BYTES} per entry), were
 * applied since the last snapshot, this thread has the state machine write one into the
 * {@link LogStore} (durable, and the store compacts its log), then tells the loop, which compacts
 * the core. The byte bound is what keeps the log in memory (and read back at restart) small when
 * commands are large. Without a state machine of the application's the snapshot is empty and
 * only compacts. A snapshot received from the
 * leader, and the latest one at start, are restored here, in order with the applies: entries
 * handed over after a restore follow the snapshot's index.
 *
 * <p>Configurations: CONFIG entries are not applied to the state machine; this thread follows
 * them (from the configuration in force at the starting snapshot, or at a restored one) so that a
 * snapshot records the configuration in force at its index. A witness has no state machine data:
 * the leader sends it commands without payloads, which are skipped here, its snapshots are empty
 * and a restore reads nothing into the state machine.
 */
final class Applier {
    private static final Logger LOG = LoggerFactory.getLogger(Applier.class);
    private static final byte[] EMPTY = new byte[0];

    private record PendingSubmit(long term, CompletableFuture<Committed> future) { }

    private record ReadWaiter(long term, long index, CompletableFuture<Committed> future) { }

    private final StateMachine stateMachine;
    private final Consumer<Throwable> fatal;
    private final LogStore store;
    private final long snapshotThreshold;
    private final long snapshotThresholdBytes;
    private final LongConsumer snapshotTaken;
    private final ExecutorService thread;
    private final Map<Long, PendingSubmit> pending = new ConcurrentHashMap<>();
    private final List<ReadWaiter> reads = new ArrayList<>();   // apply thread only
    private final Object appliedMonitor = new Object();
    private volatile long applied;
    private long appliedTerm;                       // apply thread only
    private long lastSnapshotIndex;                 // apply thread only
    private long bytesSinceSnapshot;                // apply thread only: log bytes applied since lastSnapshotIndex
    private Membership membership;                  // apply thread only: in force at the applied index
    private boolean witness;                        // apply thread only: this node stores no payloads
    private volatile long snapshotsTaken;
    private volatile long restores;
    private volatile boolean failed;
    private volatile Thread applyThread;
    private final MonotonicClock clock;
    private volatile NodeMetrics metrics = NodeMetrics.NONE;

    /**
     * @param store             where snapshots are written
     * @param snapshotThreshold applied entries between two snapshots
     * @param snapshotThresholdBytes applied log bytes between two snapshots
     * @param membership        the configuration in force at {@code snapshotIndex}
     * @param witness           whether this node is a witness (see the class comment)
     * @param snapshotIndex     the index of the store's snapshot at start (restored first), 0 if none
     * @param snapshotTaken     told (on this thread) the index of each snapshot made durable, so the
     *                          loop can compact the core
     */
    Applier(NodeEnvironment env, String clusterId, String nodeId, StateMachine stateMachine, Consumer<Throwable> fatal, LogStore store,
            long snapshotThreshold, long snapshotThresholdBytes, Membership membership, boolean witness,
            long snapshotIndex, LongConsumer snapshotTaken) {
        this.stateMachine = stateMachine;
        this.fatal = fatal;
        this.store = store;
        this.snapshotThreshold = snapshotThreshold;
        this.snapshotThresholdBytes = snapshotThresholdBytes;
        this.membership = membership;
        this.witness = witness;
        this.lastSnapshotIndex = snapshotIndex;
        this.snapshotTaken = snapshotTaken;
        this.clock = env.clock();
        this.thread = env.serialExecutor("apply", clusterId, nodeId, t -> applyThread = t);
    }

    /** Before the first snapshot: where the snapshots' duration and size are reported. */
    void metrics(NodeMetrics m) {
        this.metrics = m;
    }

    /** Whether the caller is the apply thread (a state machine or future stage calling back in). */
    boolean isApplyThread() {
        return Thread.currentThread() == applyThread;
    }

    /** The highest index applied (or skipped as internal), readable from any thread. */
    long applied() {
        return applied;
    }

    /** How many snapshots this node took since it started. */
    long snapshotsTaken() {
        return snapshotsTaken;
    }

    /** How many times the state machine was restored from a snapshot since this node started. */
    long restores() {
        return restores;
    }

    /**
     * Replaces the state machine's state by the snapshot at ({@code index}, {@code term}) read from
     * {@code data} (closed afterwards), after the work queued before; entries handed over later
     * follow {@code index}, under configuration {@code config} (in force at {@code index}). At
     * start, and when the loop installed a snapshot received from the leader.
     */
    void restore(long index, long term, InputStream data, Membership config) {
        if (!execute(() -> restoreNow(index, term, data, config))) {
            SnapshotTransfer.closeQuietly(data);
        }
    }

    /** Loop thread: a command was appended at {@code index} in {@code term}. */
    void register(long index, long term, CompletableFuture<Committed> future) {
        pending.put(index, new PendingSubmit(term, future));
    }

    /**
     * Loop thread: hands newly committed entries over, in order. {@code asWitness} says that this
     * node is a witness, whose commands carry no payload and are not applied.
     */
    void apply(List<Entry> committed, boolean asWitness) {
        if (!committed.isEmpty()) {
            execute(() -> {
                witness = asWitness;
                applyAll(committed);
            });
        }
    }

    /** Completes {@code future} with (term, index) once everything up to {@code index} is applied. */
    void readWhenApplied(long term, long index, CompletableFuture<Committed> future) {
        if (!execute(() -> {
            reads.add(new ReadWaiter(term, index, future));
            completeReads();
        })) {
            future.completeExceptionally(new IllegalStateException("the node is stopping"));
        }
    }

    /** Runs {@code action} on the apply thread (futures complete there), or here if it is stopped. */
    void complete(Runnable action) {
        if (!execute(action)) {
            action.run();
        }
    }

    /**
     * Leadership of {@code term} was lost: fails the pending submits that are not known to be
     * committed ({@code index > commitIndex}) with {@link IndeterminateOutcomeException}.
     */
    void leadershipLost(long commitIndex, String why) {
        failPending(idx -> idx > commitIndex, why);
    }

    /** Fails every pending submit (the node is stopping). */
    void failAllPending(String why) {
        failPending(idx -> true, why);
    }

    private void failPending(java.util.function.LongPredicate which, String why) {
        Iterator<Map.Entry<Long, PendingSubmit>> it = pending.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<Long, PendingSubmit> e = it.next();
            long index = e.getKey();
            if (which.test(index) && pending.remove(index, e.getValue())) {
                PendingSubmit p = e.getValue();
                complete(() -> p.future().completeExceptionally(new IndeterminateOutcomeException(p.term(), index, why)));
            }
        }
    }

    /**
     * Waits until {@code index} is applied, at most {@code timeoutNanos}; returns whether it was.
     * Called by lease reads on the caller's thread.
     */
    boolean awaitApplied(long index, long timeoutNanos, Supplier<Long> nanos) {
        if (applied >= index) {
            return true;
        }
        long deadline = nanos.get() + timeoutNanos;
        synchronized (appliedMonitor) {
            while (applied < index) {
                long left = deadline - nanos.get();
                if (left <= 0) {
                    return false;
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(appliedMonitor, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
        }
        return true;
    }

    private void applyAll(List<Entry> committed) {
        for (Entry e : committed) {
            if (failed) {
                return;
            }
            if (e.index() <= applied) {
                continue;
            }
            appliedTerm = e.term();
            bytesSinceSnapshot += logBytes(e);
            byte[] result = EMPTY;
            if (e.kind() == Entry.Kind.CONFIG) {
                membership = e.membership();
            } else if (e.kind() == Entry.Kind.COMMAND && !witness) {
                try {
                    byte[] r = stateMachine.apply(new Committed(e.term(), e.index(), e.data()));
                    result = r == null ? EMPTY : r;
                } catch (Throwable t) {
                    failed = true;
                    LOG.error("the state machine threw while applying index {} (term {}); stopping the node."
                            + " The entry will be applied again after a restart, so fix the state machine first",
                            e.index(), e.term(), t);
                    fatal.accept(t);
                    return;
                }
            }
            applied = e.index();
            PendingSubmit p = pending.remove(e.index());
            if (p != null) {
                if (p.term() == e.term()) {
                    p.future().complete(new Committed(e.term(), e.index(), result));
                } else {
                    p.future().completeExceptionally(new IndeterminateOutcomeException(p.term(), e.index(),
                            "another leader's entry (term " + e.term() + ") committed at that index"));
                }
            }
        }
        synchronized (appliedMonitor) {
            appliedMonitor.notifyAll();
        }
        completeReads();
        if (!failed && (applied - lastSnapshotIndex >= snapshotThreshold || bytesSinceSnapshot >= snapshotThresholdBytes)) {
            takeSnapshot();
        }
    }

    /** What one entry counts towards {@code snapshotThresholdBytes}. */
    static long logBytes(Entry e) {
        return (long) e.size() + io.haraft.RaftConfig.SNAPSHOT_ENTRY_OVERHEAD_BYTES;
    }

    /** Writes the state machine's snapshot at the applied index into the store, then tells the loop. */
    private void takeSnapshot() {
        long index = applied;
        long term = appliedTerm;
        long started = clock.nanos();
        io.haraft.storage.Snapshot written;
        try {
            written = store.writeSnapshot(new SnapshotMeta(index, term, membership), out -> {
                if (witness) {
                    return;     // a witness keeps no state-machine data: its snapshot is empty
                }
                BufferedOutputStream buffered = new BufferedOutputStream(new FilterOutputStream(out) {
                    @Override
                    public void write(byte[] b, int off, int len) throws IOException {
                        out.write(b, off, len);
                    }

                    @Override
                    public void close() {
                        // the state machine must not close the store's stream
                    }
                }, 64 * 1024);
                try {
                    stateMachine.snapshot(buffered);
                } catch (RuntimeException e) {
                    throw new IOException("the state machine failed to write its snapshot", e);
                }
                buffered.flush();
            });
        } catch (IllegalArgumentException newer) {
            // a snapshot received from the leader, beyond this one, was installed meanwhile
            LOG.debug("snapshot at {} not kept: {}", index, newer.getMessage());
            return;
        } catch (IOException | RuntimeException e) {
            failed = true;
            LOG.error("taking a snapshot at index {} (term {}) failed; stopping the node", index, term, e);
            fatal.accept(e);
            return;
        }
        NodeMetrics m = metrics;
        m.snapshotDuration.record(clock.nanos() - started);
        if (written != null) {
            m.snapshotSize.record(written.size());
        }
        lastSnapshotIndex = index;
        bytesSinceSnapshot = 0;
        snapshotsTaken++;
        LOG.info("took a snapshot at index {} (term {})", index, term);
        snapshotTaken.accept(index);
    }

    private void restoreNow(long index, long term, InputStream data, Membership config) {
        if (failed) {
            SnapshotTransfer.closeQuietly(data);
            return;
        }
        try (InputStream in = data) {
            if (!witness) {
                stateMachine.restore(in);
            }
            // read to the end: the store verifies the snapshot's checksum there
            in.transferTo(OutputStream.nullOutputStream());
        } catch (Throwable t) {
            failed = true;
            LOG.error("restoring the state machine from the snapshot at index {} (term {}) failed; stopping the node",
                    index, term, t);
            fatal.accept(t);
            return;
        }
        applied = index;
        appliedTerm = term;
        membership = config;
        lastSnapshotIndex = Math.max(lastSnapshotIndex, index);
        bytesSinceSnapshot = 0;
        restores++;
        LOG.info("restored the state machine from the snapshot at index {} (term {})", index, term);
        // submits at or below the snapshot: whatever committed there, this node did not apply it itself
        failPending(idx -> idx <= index, "a snapshot up to index " + index + " replaced the log");
        synchronized (appliedMonitor) {
            appliedMonitor.notifyAll();
        }
        completeReads();
    }

    private void completeReads() {
        Iterator<ReadWaiter> it = reads.iterator();
        while (it.hasNext()) {
            ReadWaiter w = it.next();
            if (w.index() <= applied) {
                it.remove();
                w.future().complete(Committed.position(w.term(), Math.max(1, w.index())));
            }
        }
    }

    private boolean execute(Runnable task) {
        try {
            thread.execute(task);
            return true;
        } catch (RejectedExecutionException stopped) {
            return false;
        }
    }

    /** Stops after the queued work (bounded), then fails what is left. */
    void stop(long timeoutNanos, Supplier<RuntimeException> readFailure) {
        execute(() -> {
            for (ReadWaiter w : reads) {
                w.future().completeExceptionally(readFailure.get());
            }
            reads.clear();
        });
        Threads.shutdownWithin(thread, timeoutNanos, LOG,
                "the state machine did not finish applying in time; abandoning the apply thread");
    }

    /** Crash-like stop. */
    void stopNow() {
        failed = true;
        thread.shutdownNow();
    }
}
