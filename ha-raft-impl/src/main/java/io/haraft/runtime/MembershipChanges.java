package io.haraft.runtime;

import io.haraft.ClusterConfiguration;
import io.haraft.MembershipChangeException;
import io.haraft.MembershipChangeException.Reason;
import io.haraft.NotLeaderException;
import io.haraft.core.MembershipChangeRefused;
import io.haraft.core.RaftCore;
import io.haraft.core.Role;
import io.haraft.core.quorum.Membership;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The membership operations of {@link io.haraft.RaftNode} ({@code addLearner}, {@code promote},
 * {@code removeMember}, {@code replaceMember}, ...), driven on the Raft loop thread on top of the
 * core's single-server {@link RaftCore#changeMembership}.
 *
 * <p>An operation is a list of {@link Step}s. Each step looks at the latest configuration and
 * either finds it already done (so a retried operation skips what an earlier attempt did) or
 * names the next configuration; the operation asks the core for it, waits until that entry is
 * committed, and moves on. A refusal the core expects to go away (the leader has not committed in
 * its term yet, a learner still lags) is retried every heartbeat interval until the operation's
 * deadline. A leader that removes itself hands leadership over (the core does that); the operation
 * then waits, as a follower, until the committed configuration no longer has this node. The future
 * completes, on the apply thread, with the committed configuration once every step is done and
 * nothing is pending.
 *
 * <p>One operation at a time per node: a second one is refused with
 * {@link Reason#CHANGE_IN_PROGRESS}, as is a first step while the core has an uncommitted change.
 * Loop thread only.
 */
final class MembershipChanges {
    private static final Logger LOG = LoggerFactory.getLogger(MembershipChanges.class);

    /**
     * One step of an operation: given the latest configuration, the configuration that does this
     * step, or {@code null} if the configuration already shows it done.
     */
    @FunctionalInterface
    interface Step {
        /** @throws MembershipChangeException with reason INVALID if the step can never be done */
        Membership next(Membership current);
    }

    private final class Op {
        final String name;
        final List<Step> steps;
        final CompletableFuture<ClusterConfiguration> future;
        final long deadline;
        final long catchUpNanos;
        long term = -1;
        int step;
        long waitingIndex = -1;       // our CONFIG entry, until it commits
        boolean appended;             // some step appended an entry (so the outcome may be partial)
        boolean leaving;              // this leader handed over to leave; wait for the commit of its removal
        long retryAt;
        MembershipChangeRefused lastRefusal;

        Op(String name, List<Step> steps, long now, long catchUpNanos, CompletableFuture<ClusterConfiguration> f) {
            this.name = name;
            this.steps = steps;
            this.future = f;
            this.catchUpNanos = catchUpNanos;
            this.deadline = now + catchUpNanos;
        }
    }

    private final String self;
    private final RaftCore core;
    private final long retryNanos;
    private final long handoverNanos;
    private final Supplier<NotLeaderException> notLeader;
    private final Consumer<Runnable> completer;
    private Op op;

    /**
     * @param core       the core, touched on the loop thread only
     * @param retryNanos how long to wait before asking the core again after a passing refusal
     * @param handoverNanos how long the core may take to hand leadership over (longer than its
     *                   transfer timeout of one election timeout)
     * @param notLeader  the exception for "not leader", with the current hint
     * @param completer  runs future completions off the loop (on the apply thread)
     */
    MembershipChanges(String self, RaftCore core, long retryNanos, long handoverNanos,
                      Supplier<NotLeaderException> notLeader, Consumer<Runnable> completer) {
        this.self = self;
        this.core = core;
        this.retryNanos = retryNanos;
        this.handoverNanos = handoverNanos;
        this.notLeader = notLeader;
        this.completer = completer;
    }

    // ------------------------------------------------------------------ steps

    /** Adds {@code id} at {@code address} as {@code role} (a learner kind); done if it is there already. */
    static Step add(String id, String address, Membership.Role role) {
        return current -> {
            Membership.Member m = current.member(id).orElse(null);
            if (m == null) {
                return current.withMember(new Membership.Member(id, address, role));
            }
            if (!m.address().equals(address) || (m.role() != role && m.role() != role.promoted())) {
                throw invalid(id + " is already a member at " + m.address() + " as "
                        + m.role().name().toLowerCase(java.util.Locale.ROOT) + "; remove it first, or replace it under"
                        + " a new id with replaceMember");
            }
            return null;
        };
    }

    /**
     * Adds {@code id} at {@code address} as a learner of the kind of {@code like} (a witness
     * learner if {@code like} is a witness); done if {@code id} is there already.
     */
    static Step addLike(String id, String address, String like) {
        return current -> {
            boolean witness = current.member(id).or(() -> current.member(like))
                    .map(m -> m.role().isWitness()).orElse(false);
            return add(id, address, witness ? Membership.Role.WITNESS_LEARNER : Membership.Role.LEARNER).next(current);
        };
    }

    /** Makes learner {@code id} vote; done if it votes already. */
    static Step promote(String id) {
        return current -> {
            Membership.Member m = current.member(id).orElseThrow(() -> invalid(id + " is not a member of "
                    + current + "; add it with addLearner (or addWitness) first"));
            return m.role().votes() ? null : current.withRole(id, m.role().promoted());
        };
    }

    /** Removes {@code id}; done if it is not a member. */
    static Step remove(String id) {
        return current -> current.contains(id) ? current.without(id) : null;
    }

    private static MembershipChangeException invalid(String message) {
        return new MembershipChangeException(Reason.INVALID, message);
    }

    // ------------------------------------------------------------------ driving

    /** Starts an operation, unless one is running; the first step is tried by {@link #process}. */
    void start(String name, List<Step> steps, long catchUpNanos, long now,
               CompletableFuture<ClusterConfiguration> future) {
        if (op != null) {
            fail(future, new MembershipChangeException(Reason.CHANGE_IN_PROGRESS, "change in progress: " + op.name
                    + " is running on this leader (step " + (op.step + 1) + " of " + op.steps.size()
                    + "); only one membership change may run at a time. Retry once it completes"));
            return;
        }
        op = new Op(name, steps, now, catchUpNanos, future);
        if (core.role() == Role.LEADER) {
            op.term = core.term();
        }
    }

    /** When {@link #process} must run again at the latest (a retry or a deadline), or {@code Long.MAX_VALUE}. */
    long nextDeadline() {
        if (op == null) {
            return Long.MAX_VALUE;
        }
        return op.retryAt > 0 ? Math.min(op.retryAt, op.deadline) : op.deadline;
    }

    /** What runs now, for logs and status; {@code null} if nothing. */
    String running() {
        return op == null ? null : op.name;
    }

    /** Advances the running operation as far as it can go now. */
    void process(long now) {
        Op o = op;
        if (o == null) {
            return;
        }
        try {
            if (o.leaving) {
                awaitOwnRemoval(o, now);
            } else {
                advance(o, now);
            }
        } catch (MembershipChangeException e) {
            finish(o, e);
        }
    }

    private void advance(Op o, long now) {
        if (core.role() != Role.LEADER || (o.term >= 0 && core.term() != o.term)) {
            finish(o, o.appended ? lost(o) : notLeader.get());
            return;
        }
        o.term = core.term();
        if (o.waitingIndex >= 0) {
            if (core.commitIndex() < o.waitingIndex) {
                return;
            }
            LOG.info("term {}: {}: configuration at index {} committed", o.term, o.name, o.waitingIndex);
            o.waitingIndex = -1;
        }
        while (o.step < o.steps.size()) {
            Membership next = o.steps.get(o.step).next(core.membership());
            if (next == null) {
                o.step++;
                continue;
            }
            if (now < o.retryAt) {
                return;
            }
            try {
                long index = core.changeMembership(next, now);
                o.appended = true;
                o.lastRefusal = null;
                o.retryAt = 0;
                if (index < 0) {
                    o.leaving = true;
                    o.retryAt = now + handoverNanos;
                    LOG.info("term {}: {}: this leader leaves the configuration; it hands leadership over and the"
                            + " new leader removes it", o.term, o.name);
                } else {
                    o.waitingIndex = index;
                }
            } catch (MembershipChangeRefused r) {
                refused(o, r, now);
            }
            return;
        }
        if (core.log().latestMembershipIndex() > core.commitIndex()) {
            return;      // another change (the core's own removal of a handed-over leader) is pending
        }
        complete(o, Configurations.toApi(core.committedMembership(), core.log().latestMembershipIndex()));
    }

    private void refused(Op o, MembershipChangeRefused r, long now) {
        switch (r.reason()) {
            case NOT_LEADER -> finish(o, o.appended ? lost(o) : notLeader.get());
            case INVALID -> finish(o, invalid(o.name + " refused: " + r.getMessage()));
            case IN_PROGRESS -> {
                if (!o.appended) {
                    finish(o, new MembershipChangeException(Reason.CHANGE_IN_PROGRESS, o.name + " refused: "
                            + r.getMessage()));
                } else {
                    retryLater(o, r, now);
                }
            }
            case TERM_NOT_COMMITTED, LAGGING -> retryLater(o, r, now);
        }
    }

    private void retryLater(Op o, MembershipChangeRefused r, long now) {
        if (now >= o.deadline) {
            Reason reason = switch (r.reason()) {
                case LAGGING -> Reason.LAGGING;
                case TERM_NOT_COMMITTED -> Reason.LEADER_NOT_READY;
                default -> Reason.CHANGE_IN_PROGRESS;
            };
            finish(o, new MembershipChangeException(reason, o.name + " gave up after "
                    + java.time.Duration.ofNanos(o.catchUpNanos).toMillis() + " ms: " + r.getMessage()));
            return;
        }
        if (o.lastRefusal == null || o.lastRefusal.reason() != r.reason()) {
            LOG.info("term {}: {}: {}; retrying until the deadline", core.term(), o.name, r.getMessage());
        }
        o.lastRefusal = r;
        o.retryAt = now + retryNanos;
    }

    /** This node handed leadership over to leave: done once the committed configuration lacks it. */
    private void awaitOwnRemoval(Op o, long now) {
        if (!core.committedMembership().contains(self) && core.log().latestMembershipIndex() <= core.commitIndex()) {
            complete(o, Configurations.toApi(core.committedMembership(), core.log().latestMembershipIndex()));
            return;
        }
        if (now >= o.deadline) {
            finish(o, new MembershipChangeException(Reason.OUTCOME_UNKNOWN, o.name + ": this node handed its"
                    + " leadership over to leave the cluster, but did not learn within "
                    + java.time.Duration.ofNanos(o.catchUpNanos).toMillis() + " ms that its removal committed; check"
                    + " status() on the leader"));
            return;
        }
        if (core.role() == Role.LEADER && now >= o.retryAt) {
            // Still leader a handover time later: the core gave the transfer up (the target did not
            // catch up in time). Ask again; while a transfer runs, the core answers NOT_LEADER.
            Membership next = o.steps.get(o.step).next(core.membership());
            if (next == null) {
                o.leaving = false;
                advance(o, now);
                return;
            }
            try {
                if (core.changeMembership(next, now) >= 0) {
                    o.leaving = false;    // cannot happen for a step that removes this leader; wait for it anyway
                    o.waitingIndex = core.log().latestMembershipIndex();
                }
                o.retryAt = now + handoverNanos;
            } catch (MembershipChangeRefused r) {
                if (r.reason() == MembershipChangeRefused.Reason.NOT_LEADER) {
                    o.retryAt = now + retryNanos;
                } else {
                    refused(o, r, now);
                }
            }
        }
    }

    private MembershipChangeException lost(Op o) {
        return new MembershipChangeException(Reason.OUTCOME_UNKNOWN, o.name + " was started, but this node lost its"
                + " leadership before it knew whether the change committed; ask the new leader again (it skips what"
                + " is done)");
    }

    /** The loop stopped: fails what runs. */
    void failOnStop(String nodeId) {
        Op o = op;
        if (o != null) {
            finish(o, o.appended ? new MembershipChangeException(Reason.OUTCOME_UNKNOWN, o.name
                    + " was started, but node " + nodeId + " shut down before it knew whether the change committed;"
                    + " ask the leader again (it skips what is done)") : new NotLeaderException(nodeId, null, null));
        }
    }

    private void complete(Op o, ClusterConfiguration result) {
        op = null;
        LOG.info("{} done: the committed configuration is {}", o.name, result.members());
        completer.accept(() -> o.future.complete(result));
    }

    private void finish(Op o, RuntimeException failure) {
        if (op == o) {
            op = null;
        }
        LOG.info("{} failed: {}", o.name, failure.getMessage());
        fail(o.future, failure);
    }

    private void fail(CompletableFuture<?> f, RuntimeException failure) {
        completer.accept(() -> f.completeExceptionally(failure));
    }
}
