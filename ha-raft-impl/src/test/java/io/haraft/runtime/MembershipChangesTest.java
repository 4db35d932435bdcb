package io.haraft.runtime;

import io.haraft.ClusterConfiguration;
import io.haraft.MemberRole;
import io.haraft.MembershipChangeException;
import io.haraft.MembershipChangeException.Reason;
import io.haraft.NotLeaderException;
import io.haraft.core.CoreConfig;
import io.haraft.core.HardState;
import io.haraft.core.Message;
import io.haraft.core.RaftCore;
import io.haraft.core.Ready;
import io.haraft.core.Role;
import io.haraft.core.log.RaftLog;
import io.haraft.core.quorum.Membership;
import io.haraft.core.quorum.Membership.Member;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Membership operations on the loop against a real core, driven by hand (no loop, no clock): the
 * steps' "already done" checks that let a retried operation skip what an earlier attempt did, each
 * refusal and what the caller is told, retries until the deadline, and the handover of a leader
 * that removes itself. Completions run at once (the completer is {@code Runnable::run}).
 */
class MembershipChangesTest {
    private static final long MS = 1_000_000L;
    private static final long RETRY = 100 * MS;
    private static final long HANDOVER = 2_000 * MS;
    private static final long CATCH_UP = 1_000 * MS;
    private static final Membership THREE = Membership.ofVoters(List.of("n1", "n2", "n3"));

    private long now = 5_000 * MS;
    private final List<Message> sent = new ArrayList<>();
    private RaftCore core;
    private MembershipChanges changes;

    // ------------------------------------------------------------------ steps alone

    @Test
    void addNamesTheNextConfigurationOrFindsItDoneOrRefusesAnotherMemberUnderTheSameId() {
        MembershipChanges.Step add = MembershipChanges.add("n4", "h4:1", Membership.Role.LEARNER);
        Membership withLearner = add.next(THREE);
        assertThat(withLearner.member("n4")).contains(new Member("n4", "h4:1", Membership.Role.LEARNER));
        assertThat(add.next(withLearner)).as("already a learner").isNull();
        assertThat(add.next(withLearner.withRole("n4", Membership.Role.VOTER))).as("already promoted").isNull();
        Membership elsewhere = THREE.withMember(new Member("n4", "other:1", Membership.Role.LEARNER));
        assertInvalid(() -> add.next(elsewhere), "n4 is already a member at other:1 as learner");
        Membership asWitness = THREE.withMember(new Member("n4", "h4:1", Membership.Role.WITNESS_LEARNER));
        assertInvalid(() -> add.next(asWitness), "as witness_learner");
        assertInvalid(() -> add.next(asWitness.withRole("n4", Membership.Role.WITNESS)), "as witness");
    }

    @Test
    void addLikeAddsAWitnessLearnerInPlaceOfAWitnessAndALearnerOtherwise() {
        Membership withWitness = THREE.without("n3").withMember(new Member("w", "hw:1", Membership.Role.WITNESS));
        assertThat(MembershipChanges.addLike("n4", "h4:1", "w").next(withWitness).member("n4").orElseThrow().role())
                .isEqualTo(Membership.Role.WITNESS_LEARNER);
        assertThat(MembershipChanges.addLike("n4", "h4:1", "n2").next(withWitness).member("n4").orElseThrow().role())
                .isEqualTo(Membership.Role.LEARNER);
        assertThat(MembershipChanges.addLike("n4", "h4:1", "gone").next(THREE).member("n4").orElseThrow().role())
                .isEqualTo(Membership.Role.LEARNER);
        Membership added = withWitness.withMember(new Member("n4", "h4:1", Membership.Role.WITNESS));
        assertThat(MembershipChanges.addLike("n4", "h4:1", "gone").next(added))
                .as("a retry after the old member left: the new one is there, promoted").isNull();
    }

    @Test
    void promoteMakesALearnerOfEitherKindVoteAndRefusesAStranger() {
        Membership learners = THREE.withMember(new Member("l", "hl:1", Membership.Role.LEARNER))
                .withMember(new Member("wl", "hwl:1", Membership.Role.WITNESS_LEARNER));
        assertThat(MembershipChanges.promote("l").next(learners).member("l").orElseThrow().role())
                .isEqualTo(Membership.Role.VOTER);
        assertThat(MembershipChanges.promote("wl").next(learners).member("wl").orElseThrow().role())
                .isEqualTo(Membership.Role.WITNESS);
        assertThat(MembershipChanges.promote("n2").next(learners)).isNull();
        assertInvalid(() -> MembershipChanges.promote("n9").next(learners), "n9 is not a member");
    }

    @Test
    void removeDropsAMemberAndIsDoneWhenItIsGone() {
        assertThat(MembershipChanges.remove("n3").next(THREE)).isEqualTo(Membership.ofVoters(List.of("n1", "n2")));
        assertThat(MembershipChanges.remove("n9").next(THREE)).isNull();
    }

    private static void assertInvalid(org.assertj.core.api.ThrowableAssert.ThrowingCallable call, String message) {
        assertThatThrownBy(call).isInstanceOfSatisfying(MembershipChangeException.class,
                e -> assertThat(e.reason()).isEqualTo(Reason.INVALID)).hasMessageContaining(message);
    }

    // ------------------------------------------------------------------ driving a core

    /** Hands out what the core has ready, as the loop would; its messages are kept in {@link #sent}. */
    private void drain() {
        for (int i = 0; i < 10 && core.hasReady(); i++) {
            sent.addAll(core.takeUrgentMessages());
            Ready r = core.ready();
            sent.addAll(r.messages());
            core.advance(r, now);
        }
    }

    /** Time passes for the core as on the loop: a tick every heartbeat or so, up to {@code until}. */
    private void advanceTo(long until) {
        while (now < until) {
            now = Math.min(until, now + 50 * MS);
            core.tick(now);
            drain();
        }
    }

    private void newCore(List<String> voters) {
        core = new RaftCore(CoreConfig.defaults("n1", voters), new HardState(0, null), new RaftLog(0, 0, List.of()),
                now, new SplittableRandom(5), null);
        changes = new MembershipChanges("n1", core, RETRY, HANDOVER,
                () -> new NotLeaderException("n1", null, null), Runnable::run);
    }

    /** n1 alone: it leads and commits by itself. */
    private void soloLeader() {
        newCore(List.of("n1"));
        for (int i = 0; i < 20 && core.role() != Role.LEADER; i++) {
            now += 300 * MS;
            core.tick(now);
            drain();
        }
        drain();
        assertThat(core.role()).isEqualTo(Role.LEADER);
    }

    /** n1 of three, elected by n2 and n3; its first entry committed only if they {@code acknowledged} it. */
    private void leaderOfThree(boolean acknowledged) {
        leaderOf(List.of("n1", "n2", "n3"), acknowledged);
    }

    private void leaderOf(List<String> voters, boolean acknowledged) {
        newCore(voters);
        elect(voters);
        if (acknowledged) {
            voters.subList(1, voters.size()).forEach(this::acknowledge);
            assertThat(core.commitIndex()).isEqualTo(core.lastIndex());
        }
    }

    /** n1 times out and every other voter grants it its (pre-)vote. */
    private void elect(List<String> voters) {
        now += 600 * MS;
        core.tick(now);
        drain();
        long term = core.term() + 1;
        List<String> others = voters.subList(1, voters.size());
        others.forEach(v -> core.step(new Message.PreVoteResponse(v, "n1", term, true), now));
        drain();
        others.forEach(v -> core.step(new Message.VoteResponse(v, "n1", term, true), now));
        drain();
        assertThat(core.role()).isEqualTo(Role.LEADER);
    }

    /** {@code from} acknowledges the leader's whole log, answering the latest append it was sent. */
    private void acknowledge(String from) {
        Message.Append last = sent.stream().filter(m -> m instanceof Message.Append a && a.to().equals(from))
                .map(m -> (Message.Append) m).reduce((a, b) -> b).orElseThrow();
        core.step(new Message.AppendResponse(from, "n1", core.term(), true, core.lastIndex(), 0, 0, last.round(),
                last.stickiness()), now);
        drain();
    }

    private CompletableFuture<ClusterConfiguration> start(String name, MembershipChanges.Step... steps) {
        return start(name, CATCH_UP, steps);
    }

    private CompletableFuture<ClusterConfiguration> start(String name, long catchUp, MembershipChanges.Step... steps) {
        CompletableFuture<ClusterConfiguration> f = new CompletableFuture<>();
        changes.start(name, List.of(steps), catchUp, now, f);
        return f;
    }

    private static Throwable failure(CompletableFuture<?> f) {
        assertThat(f).isCompletedExceptionally();
        return f.handle((x, e) -> e).join();
    }

    private static Reason reason(CompletableFuture<?> f) {
        Throwable t = failure(f);
        assertThat(t).isInstanceOf(MembershipChangeException.class);
        return ((MembershipChangeException) t).reason();
    }

    @Test
    void anOperationWaitsForItsEntryToCommitThenCompletesWithTheCommittedConfiguration() {
        soloLeader();
        assertThat(changes.running()).isNull();
        assertThat(changes.nextDeadline()).isEqualTo(Long.MAX_VALUE);
        CompletableFuture<ClusterConfiguration> f = start("addLearner(n2)",
                MembershipChanges.add("n2", "h2:1", Membership.Role.LEARNER));
        assertThat(changes.running()).isEqualTo("addLearner(n2)");
        assertThat(changes.nextDeadline()).isEqualTo(now + CATCH_UP);
        changes.process(now);
        long index = core.log().latestMembershipIndex();
        assertThat(core.membership().contains("n2")).isTrue();
        assertThat(core.commitIndex()).isLessThan(index);
        changes.process(now);
        assertThat(f).as("not before its entry committed").isNotDone();
        drain();
        assertThat(core.commitIndex()).isGreaterThanOrEqualTo(index);
        changes.process(now);
        assertThat(f).isCompletedWithValue(new ClusterConfiguration(index, List.of(
                new ClusterConfiguration.Member("n1", "", MemberRole.VOTER),
                new ClusterConfiguration.Member("n2", "h2:1", MemberRole.LEARNER))));
        assertThat(changes.running()).isNull();
        assertThat(core.log().latestMembershipIndex()).as("one entry").isEqualTo(index);
    }

    @Test
    void aRetriedOperationSkipsTheStepsAlreadyDone() {
        soloLeader();
        CompletableFuture<ClusterConfiguration> first = start("addLearner(n2)",
                MembershipChanges.add("n2", "h2:1", Membership.Role.LEARNER));
        changes.process(now);
        drain();
        changes.process(now);
        assertThat(first).isCompleted();
        long last = core.lastIndex();
        CompletableFuture<ClusterConfiguration> again = start("replace", MembershipChanges.add("n2", "h2:1",
                Membership.Role.LEARNER), MembershipChanges.remove("n9"), MembershipChanges.promote("n1"));
        changes.process(now);
        assertThat(again).isCompletedWithValue(first.join());
        assertThat(core.lastIndex()).as("nothing appended").isEqualTo(last);
    }

    @Test
    void aSecondOperationIsRefusedWhileOneRuns() {
        soloLeader();
        CompletableFuture<ClusterConfiguration> first = start("addLearner(n2)",
                MembershipChanges.add("n2", "h2:1", Membership.Role.LEARNER));
        changes.process(now);
        CompletableFuture<ClusterConfiguration> second = start("removeMember(n2)", MembershipChanges.remove("n2"));
        assertThat(reason(second)).isEqualTo(Reason.CHANGE_IN_PROGRESS);
        assertThat(failure(second)).hasMessageContaining("addLearner(n2) is running").hasMessageContaining("step 1 of 1");
        assertThat(changes.running()).isEqualTo("addLearner(n2)");
        drain();
        changes.process(now);
        assertThat(first).isCompleted().isNotCompletedExceptionally();
    }

    @Test
    void aFollowerFailsTheOperationWithNotLeaderAndNothingRunsAfterwards() {
        newCore(List.of("n1", "n2", "n3"));
        CompletableFuture<ClusterConfiguration> f = start("removeMember(n3)", MembershipChanges.remove("n3"));
        changes.process(now);
        assertThat(failure(f)).isInstanceOf(NotLeaderException.class);
        assertThat(changes.running()).isNull();
        changes.process(now);     // nothing to do
    }

    @Test
    void aStepThatCanNeverBeDoneFailsAsInvalid() {
        soloLeader();
        CompletableFuture<ClusterConfiguration> f = start("promote(n9)", MembershipChanges.promote("n9"));
        changes.process(now);
        assertThat(reason(f)).isEqualTo(Reason.INVALID);
        assertThat(changes.running()).isNull();
    }

    @Test
    void aChangeTheCoreRefusesForGoodFailsAsInvalid() {
        soloLeader();
        CompletableFuture<ClusterConfiguration> f = start("vote at once",
                current -> current.withMember(new Member("n2", "h2:1", Membership.Role.VOTER)));
        changes.process(now);
        assertThat(reason(f)).isEqualTo(Reason.INVALID);
        assertThat(failure(f)).hasMessageContaining("vote at once refused");
        assertThat(core.membership().contains("n2")).isFalse();
    }

    @Test
    void aLaggingLearnerIsRetriedEveryIntervalUntilTheDeadlineThenFailsAsLagging() {
        soloLeader();
        CompletableFuture<ClusterConfiguration> f = start("replace", MembershipChanges.add("n2", "h2:1",
                Membership.Role.LEARNER), MembershipChanges.promote("n2"));
        long deadline = now + CATCH_UP;
        changes.process(now);
        drain();
        changes.process(now);          // n2 committed as a learner; its promotion is refused: it never answered
        assertThat(f).isNotDone();
        assertThat(changes.nextDeadline()).isEqualTo(now + RETRY);
        long retryAt = now + RETRY;
        advanceTo(now + RETRY / 2);
        changes.process(now);          // not yet time to ask again
        assertThat(changes.nextDeadline()).isEqualTo(retryAt);
        int asked = 0;
        while (!f.isDone()) {
            assertThat(changes.nextDeadline()).isLessThanOrEqualTo(deadline);
            advanceTo(changes.nextDeadline());
            changes.process(now);
            asked++;
        }
        assertThat(asked).as("once every retry interval").isEqualTo((int) (CATCH_UP / RETRY));
        assertThat(now).isEqualTo(deadline);
        assertThat(reason(f)).isEqualTo(Reason.LAGGING);
        assertThat(failure(f)).hasMessageContaining("gave up after 1000 ms");
        assertThat(core.membership().member("n2").orElseThrow().role()).isEqualTo(Membership.Role.LEARNER);
    }

    @Test
    void aLeaderThatHasNotCommittedInItsTermIsRetriedThenReportedNotReady() {
        leaderOfThree(false);
        CompletableFuture<ClusterConfiguration> f = start("addLearner(n4)", 3 * RETRY,
                MembershipChanges.add("n4", "h4:1", Membership.Role.LEARNER));
        changes.process(now);
        assertThat(f).isNotDone();
        assertThat(changes.nextDeadline()).isEqualTo(now + RETRY);
        now += 3 * RETRY;
        changes.process(now);
        assertThat(reason(f)).isEqualTo(Reason.LEADER_NOT_READY);
    }

    @Test
    void aChangeAlreadyPendingInTheCoreRefusesTheFirstStepAsInProgress() {
        leaderOfThree(true);
        core.changeMembership(THREE.withMember(new Member("n4", "h4:1", Membership.Role.LEARNER)), now);
        CompletableFuture<ClusterConfiguration> f = start("addLearner(n5)",
                MembershipChanges.add("n5", "h5:1", Membership.Role.LEARNER));
        changes.process(now);
        assertThat(reason(f)).isEqualTo(Reason.CHANGE_IN_PROGRESS);
        assertThat(failure(f)).hasMessageContaining("addLearner(n5) refused");
    }

    @Test
    void leadershipLostAfterAnAppendLeavesTheOutcomeUnknown() {
        leaderOfThree(true);
        CompletableFuture<ClusterConfiguration> f = start("addLearner(n4)",
                MembershipChanges.add("n4", "h4:1", Membership.Role.LEARNER));
        changes.process(now);
        assertThat(core.membership().contains("n4")).isTrue();
        core.step(new Message.Heartbeat("n2", "n1", core.term() + 1, 0, 1), now);
        drain();
        assertThat(core.role()).isEqualTo(Role.FOLLOWER);
        changes.process(now);
        assertThat(reason(f)).isEqualTo(Reason.OUTCOME_UNKNOWN);
    }

    @Test
    void anOperationStartedInAnEarlierTermOfThisLeaderFailsWithNotLeader() {
        leaderOfThree(true);
        long term = core.term();
        CompletableFuture<ClusterConfiguration> f = start("addLearner(n4)",
                MembershipChanges.add("n4", "h4:1", Membership.Role.LEARNER));
        core.step(new Message.Heartbeat("n2", "n1", term + 1, 0, 1), now);
        drain();
        elect(List.of("n1", "n2", "n3"));
        assertThat(core.term()).isGreaterThan(term + 1);
        changes.process(now);
        assertThat(failure(f)).isInstanceOf(NotLeaderException.class);
        assertThat(core.membership().contains("n4")).as("nothing appended for it").isFalse();
    }

    @Test
    void aLeaderStillLeadingAHandoverTimeLaterAsksAgainAndWaitsWhileTheTransferRuns() {
        leaderOf(List.of("n1", "n2", "n3", "n4"), true);
        changes = new MembershipChanges("n1", core, RETRY, CATCH_UP / 4,
                () -> new NotLeaderException("n1", null, null), Runnable::run);
        core.propose(new byte[] {1}, now);      // no voter holds all of the log: the transfer waits for one
        drain();
        CompletableFuture<ClusterConfiguration> f = start("removeMember(n1)", MembershipChanges.remove("n1"));
        changes.process(now);
        assertThat(core.role()).isEqualTo(Role.LEADER);
        assertThat(changes.nextDeadline()).isEqualTo(now + CATCH_UP / 4);
        now += CATCH_UP / 4;
        changes.process(now);          // the transfer still runs: the core answers NOT_LEADER
        assertThat(f).isNotDone();
        assertThat(changes.nextDeadline()).isEqualTo(now + RETRY);
        assertThat(core.membership().contains("n1")).isTrue();
    }

    @Test
    void aStopFailsTheRunningOperationByWhetherItAppended() {
        leaderOfThree(true);
        changes.failOnStop("n1");                       // nothing runs
        CompletableFuture<ClusterConfiguration> before = start("removeMember(n9)", MembershipChanges.remove("n9"));
        changes.failOnStop("n1");
        assertThat(failure(before)).isInstanceOf(NotLeaderException.class);
        assertThat(changes.running()).isNull();
        CompletableFuture<ClusterConfiguration> appended = start("addLearner(n4)",
                MembershipChanges.add("n4", "h4:1", Membership.Role.LEARNER));
        changes.process(now);
        changes.failOnStop("n1");
        assertThat(reason(appended)).isEqualTo(Reason.OUTCOME_UNKNOWN);
        assertThat(failure(appended)).hasMessageContaining("node n1 shut down");
    }

    @Test
    void aLeaderThatRemovesItselfHandsOverAndWaitsForItsRemovalUntilTheDeadline() {
        leaderOf(List.of("n1", "n2", "n3", "n4"), true);
        CompletableFuture<ClusterConfiguration> f = start("removeMember(n1)", MembershipChanges.remove("n1"));
        long deadline = now + CATCH_UP;
        changes.process(now);
        assertThat(core.membership()).as("the new leader removes it")
                .isEqualTo(Membership.ofVoters(List.of("n1", "n2", "n3", "n4")));
        assertThat(f).isNotDone();
        assertThat(changes.nextDeadline()).as("the handover takes longer than the deadline").isEqualTo(deadline);
        now += CATCH_UP / 2;
        changes.process(now);
        assertThat(f).isNotDone();
        now = deadline;
        changes.process(now);
        assertThat(reason(f)).isEqualTo(Reason.OUTCOME_UNKNOWN);
        assertThat(failure(f)).hasMessageContaining("handed its leadership over");
    }
}
