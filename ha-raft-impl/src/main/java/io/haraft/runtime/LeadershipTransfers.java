package io.haraft.runtime;

import io.haraft.NotLeaderException;
import io.haraft.RevokeReason;
import io.haraft.core.RaftCore;
import io.haraft.core.Role;
import io.haraft.core.progress.Progress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The loop's side of leadership transfers: it starts them in the core and completes the caller's
 * future once the target is seen as leader, or fails it at a deadline. A transfer that times out
 * while this node still leads makes it step down: the contract says this node has given up its
 * leadership in any case.
 *
 * <p>Futures complete on the apply thread. Loop thread only, except {@link #failAll}, which runs
 * after the loop has stopped.
 */
final class LeadershipTransfers {
    private static final Logger LOG = LoggerFactory.getLogger(LeadershipTransfers.class);

    private record Pending(String target, long term, long deadline, CompletableFuture<Void> future) { }

    private final String nodeId;
    private final RaftCore core;
    private final Applier applier;
    private final long electionTimeoutNanos;
    private final Supplier<NotLeaderException> notLeader;
    private final List<Pending> pending = new ArrayList<>();
    /** Whether a peer said it is drained (its node's {@code RaftGroups.drain()}); set before the loop starts. */
    private Predicate<String> drained = peer -> false;

    LeadershipTransfers(String nodeId, RaftCore core, Applier applier, long electionTimeoutNanos,
                        Supplier<NotLeaderException> notLeader) {
        this.nodeId = nodeId;
        this.core = core;
        this.applier = applier;
        this.electionTimeoutNanos = electionTimeoutNanos;
        this.notLeader = notLeader;
    }

    /** Before the loop starts: which peers said they are drained (a graceful close hands over to others first). */
    void drainedPeers(Predicate<String> drainedPeer) {
        this.drained = drainedPeer;
    }

    /** Hands leadership over to {@code target}; {@code future} completes once it leads (two election timeouts at most). */
    void transfer(String target, long now, CompletableFuture<Void> future) {
        if (core.role() != Role.LEADER) {
            fail(future, notLeader.get());
        } else if (target.equals(nodeId)) {
            applier.complete(() -> future.complete(null));
        } else if (!core.transferLeadership(target, now)) {
            fail(future, notLeader.get());
        } else {
            pending.add(new Pending(target, core.term(), now + 2 * electionTimeoutNanos, future));
        }
    }

    /**
     * Graceful close, step 1: a leader starts handing over to its most caught-up peer that
     * answered within the last election timeout, one that did not say it is drained if there is
     * one. The future completes when that peer is seen as leader, or fails after one election timeout; it completes at once if there is nothing to hand
     * over (not leader, no reachable peer).
     */
    CompletableFuture<Void> handOver(long now) {
        if (core.role() != Role.LEADER) {
            return CompletableFuture.completedFuture(null);
        }
        String best = mostCaughtUp(now, false);
        if (best == null) {
            best = mostCaughtUp(now, true);   // every reachable peer is drained: one of them still takes over
        }
        if (best == null || !core.transferLeadership(best, now)) {
            LOG.info("term {}: no reachable peer to hand leadership over to; shutting down as leader", core.term());
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<Void> f = new CompletableFuture<>();
        pending.add(new Pending(best, core.term(), now + electionTimeoutNanos, f));
        return f;
    }

    /**
     * The peer that may lead, answered within the last election timeout and has the highest match
     * index, among those that said they are not drained ({@code drainedToo}: among all), or null.
     */
    private String mostCaughtUp(long now, boolean drainedToo) {
        String best = null;
        long bestMatch = -1;
        for (String id : core.membership().ids()) {
            Progress pr = core.membership().canLead(id) ? core.progress(id) : null;
            if (pr != null && pr.respondedSince(now - electionTimeoutNanos) && pr.match() > bestMatch
                    && (drainedToo || !drained.test(id))) {
                best = id;
                bestMatch = pr.match();
            }
        }
        return best;
    }

    /** The earliest deadline of a transfer in progress, or {@link Long#MAX_VALUE}. */
    long nextDeadline() {
        long deadline = Long.MAX_VALUE;
        for (Pending t : pending) {
            deadline = Math.min(deadline, t.deadline());
        }
        return deadline;
    }

    /** Completes the transfers whose target leads now and fails those past their deadline. */
    void process(long now) {
        Iterator<Pending> it = pending.iterator();
        while (it.hasNext()) {
            Pending t = it.next();
            if (core.role() != Role.LEADER && t.target().equals(core.leader())) {
                it.remove();
                applier.complete(() -> t.future().complete(null));
            } else if (now >= t.deadline()) {
                it.remove();
                if (core.role() == Role.LEADER && core.term() == t.term()) {
                    // The core gave up the transfer (target never caught up) and stayed leader.
                    LOG.info("term {}: transfer to {} timed out while still leader; stepping down", t.term(), t.target());
                    core.stepDown(RevokeReason.STEPPED_DOWN, now);
                }
                fail(t.future(), new TimeoutException("leadership transfer to " + t.target()
                        + " did not complete in time; this node gave up its leadership of term " + t.term()
                        + " and the cluster elects a leader the usual way"));
            }
        }
    }

    /** After the loop has stopped: fails every transfer still waiting. */
    void failAll() {
        for (Pending t : pending) {
            t.future().completeExceptionally(new NotLeaderException(nodeId, null, null));
        }
        pending.clear();
    }

    private void fail(CompletableFuture<?> future, Throwable failure) {
        applier.complete(() -> future.completeExceptionally(failure));
    }
}
