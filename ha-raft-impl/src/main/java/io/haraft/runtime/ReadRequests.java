package io.haraft.runtime;

import io.haraft.Committed;
import io.haraft.NotLeaderException;
import io.haraft.core.RaftCore;
import io.haraft.core.read.ReadState;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * The loop's side of reads: it hands each request to the core and completes the caller's future
 * from the core's answer. It decides nothing: whether and at which index a read may be served is
 * the core's decision ({@link RaftCore#readIndex}, {@link RaftCore#leaseRead}).
 *
 * <p>A read-index future completes on the apply thread once the state machine has applied the
 * answer's index. A lease-read future is internal (its caller blocks on it in
 * {@code RaftNodeImpl.leaseRead}) and completes on the loop thread with the answer's index; it
 * fails with {@link NotLeaderException} if this node is not leader, and with
 * {@link NoLeaseException} if it leads without a valid lease.
 *
 * <p>Loop thread only, except {@link #failAll}, which runs after the loop has stopped.
 */
final class ReadRequests {
    /** The core refused a lease read although this node leads: it holds no valid lease now. */
    static final class NoLeaseException extends RuntimeException {
        NoLeaseException() {
            super("this node leads but holds no valid lease", null, false, false);
        }
    }

    private record Pending(CompletableFuture<Committed> future, long term, boolean lease) { }

    private final RaftCore core;
    private final MonotonicClock clock;
    private final Applier applier;
    private final Supplier<NotLeaderException> notLeader;
    private final Map<Long, Pending> pending = new HashMap<>();
    private long nextId = 1;

    ReadRequests(RaftCore core, MonotonicClock clock, Applier applier, Supplier<NotLeaderException> notLeader) {
        this.core = core;
        this.clock = clock;
        this.applier = applier;
        this.notLeader = notLeader;
    }

    /** Asks the core for a read index; {@code future} completes once the state machine reached it. */
    void readIndex(CompletableFuture<Committed> future) {
        long id = nextId++;
        if (core.readIndex(id, clock.nanos())) {
            pending.put(id, new Pending(future, core.term(), false));
        } else {
            NotLeaderException e = notLeader.get();
            applier.complete(() -> future.completeExceptionally(e));
        }
    }

    /** Asks the core for a lease read; {@code future} completes (on this thread) with the index to wait for. */
    void leaseRead(CompletableFuture<Committed> future) {
        long id = nextId++;
        if (core.leaseRead(id, clock.nanos())) {
            pending.put(id, new Pending(future, core.term(), true));
        } else if (core.role() == io.haraft.core.Role.LEADER) {
            future.completeExceptionally(new NoLeaseException());
        } else {
            future.completeExceptionally(notLeader.get());
        }
    }

    /** Completes the requests the core answered. */
    void answered(List<ReadState> answers) {
        for (ReadState rs : answers) {
            Pending p = pending.remove(rs.requestId());
            if (p == null) {
                continue;   // asked before a failAll, or by nobody
            }
            if (rs.failed()) {
                NotLeaderException e = notLeader.get();
                if (p.lease()) {
                    p.future().completeExceptionally(e);
                } else {
                    applier.complete(() -> p.future().completeExceptionally(e));
                }
            } else if (p.lease()) {
                p.future().complete(Committed.position(p.term(), Math.max(1, rs.index())));
            } else {
                applier.readWhenApplied(p.term(), rs.index(), p.future());
            }
        }
    }

    /** After the loop has stopped: fails every request still waiting. */
    void failAll(String nodeId) {
        for (Pending p : pending.values()) {
            p.future().completeExceptionally(new NotLeaderException(nodeId, null, null));
        }
        pending.clear();
    }
}
