package io.haraft.runtime;

import io.haraft.Committed;
import io.haraft.Leadership;
import io.haraft.LeaseExpiredException;
import io.haraft.NotLeaderException;

import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * Serves {@link io.haraft.RaftNode#leaseRead} on one node: the core decides whether the open
 * leadership's lease allows a read now and from which index, the caller waits (at most for the rest
 * of the lease) until that index is applied, runs the read, and the read counts only if the lease
 * still holds after it. Otherwise it throws {@link NotLeaderException} (no open leadership) or the
 * leadership's {@link LeaseExpiredException}.
 */
final class LeaseReads {
    private final RaftNodeImpl node;
    private final MonotonicClock clock;

    LeaseReads(RaftNodeImpl node, MonotonicClock clock) {
        this.node = node;
        this.clock = clock;
    }

    /** See {@link io.haraft.RaftNode#leaseRead}. */
    <T> T read(Function<? super Leadership, ? extends T> read) {
        Objects.requireNonNull(read, "read");
        LeadershipDispatcher d = node.dispatcher();
        LeadershipImpl l = d == null || !node.running() ? null : d.open();
        if (l == null) {
            throw node.notLeaderHint();
        }
        if (!l.isValid()) {
            throw l.expiredException();
        }
        // The core decides whether the lease allows the read now, and from which index.
        CompletableFuture<Committed> decided = new CompletableFuture<>();
        node.loop().leaseRead(decided);
        Committed at = awaitLeaseDecision(decided, l);
        if (at.term() != l.term()) {
            throw leaseEnded(l);              // the core leads another term: l has been revoked
        }
        // On the apply thread nothing more can be applied while we wait; there every command whose
        // future completed is applied already, and what earlier leaders committed is at most the
        // commit index at elected.
        Applier applier = node.applier();
        long mustApply = applier.isApplyThread() ? l.electedCommitIndex() : at.index();
        long left = l.leaseUntil() - clock.nanos();
        if (!applier.awaitApplied(mustApply, left, clock::nanos) || !l.isValid()) {
            throw leaseEnded(l);
        }
        T result = read.apply(l);
        if (!l.isValid()) {
            throw leaseEnded(l);
        }
        return result;
    }

    /** Waits (at most for the remaining lease) for the core's answer to a lease read. */
    private Committed awaitLeaseDecision(CompletableFuture<Committed> decided, LeadershipImpl l) {
        try {
            return decided.get(Math.max(0, l.leaseUntil() - clock.nanos()), TimeUnit.NANOSECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof NotLeaderException nle) {
                throw nle;
            }
            throw leaseEnded(l);
        } catch (TimeoutException e) {
            throw leaseEnded(l);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw leaseEnded(l);
        }
    }

    private static LeaseExpiredException leaseEnded(LeadershipImpl l) {
        return l.expiredException();
    }
}
