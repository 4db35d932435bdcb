package io.haraft.core;

import io.haraft.RevokeReason;
import io.haraft.core.log.Entry;
import io.haraft.core.log.RaftLog;
import io.haraft.core.quorum.Membership;
import io.haraft.core.quorum.Membership.Member;
import io.haraft.core.quorum.Membership.Role;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;

import static io.haraft.core.CoreCluster.MS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Configuration changes in the core, one rule per scenario, on the synchronous {@link CoreCluster}. */
class MembershipCoreTest {

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** A 3-voter cluster with n1 elected and {@code commands} commands committed everywhere. */
    private static CoreCluster elected(int commands) {
        CoreCluster c = new CoreCluster(3);
        c.elect("n1");
        for (int i = 0; i < commands; i++) {
            c.core("n1").propose(bytes("c" + i), c.now);
        }
        c.deliverAll();
        c.run(300 * MS);
        return c;
    }

    /** Starts {@code id} as a joining node that knows the voters and itself in {@code role}. */
    private static void join(CoreCluster c, String id, Role role) {
        Membership bootstrap = Membership.ofVoters(c.ids).withMember(new Member(id, "", role));
        c.add(id, bootstrap, PlantedBugs.NONE, 64, HardState.INITIAL, RaftLog.empty());
    }

    private static long change(CoreCluster c, String leader, Membership next) {
        long index = c.core(leader).changeMembership(next, c.now);
        c.deliverAll();
        c.run(300 * MS);
        return index;
    }

    /**
     * The cluster started as n1, n7, n8; n7 and n8 were replaced by n2 and n3 and stopped for good.
     * Every node then restarts (a power cut) with the start-up members it was first given, and no
     * node knows how far its log is committed. The configuration the latest was appended over
     * committed before it, so the new leader needs majorities of [n1, n2, n3, n8] and [n1, n2, n3],
     * which the three running nodes are; the start-up configuration, whose majority no longer
     * exists, plays no part (with the planted bug it does, and nothing commits again).
     */
    @Test
    void afterAWholeClusterRestartTheStartUpMembersDoNotDecideWhatCommits() {
        assertThat(commitsAfterRestartWithReplacedStartUpMembers(PlantedBugs.NONE)).isTrue();
        assertThat(commitsAfterRestartWithReplacedStartUpMembers(PlantedBugs.RESTART_WITH_STARTUP_CONFIGURATION))
                .as("the planted bug: the start-up configuration taken as committed").isFalse();
    }

    private static boolean commitsAfterRestartWithReplacedStartUpMembers(PlantedBugs bugs) {
        Membership startUp = Membership.ofVoters(List.of("n1", "n7", "n8"));
        Membership predecessor = Membership.ofVoters(List.of("n1", "n2", "n3", "n8"));
        Membership latest = Membership.ofVoters(List.of("n1", "n2", "n3"));
        List<Entry> log = List.of(Entry.noop(1, 1), Entry.config(2, 2, predecessor), Entry.config(3, 3, latest));
        CoreCluster c = new CoreCluster(3);
        for (String id : c.ids) {
            // n2 and n3 joined later: their start-up members were the voters of then, and themselves as learners
            Membership given = startUp.contains(id) ? startUp : startUp.withMember(new Member(id, "", Role.LEARNER));
            c.add(id, given, bugs, 64, new HardState(3, null), new RaftLog(0, 0, log));
        }
        c.drop = m -> !c.ids.contains(m.to());
        RaftCore n1 = c.core("n1");
        assertThat(n1.membership()).isEqualTo(latest);
        assertThat(n1.committedMembership()).isEqualTo(bugs == PlantedBugs.NONE ? predecessor : startUp);
        c.elect("n1");
        c.run(1_000 * MS);
        return n1.role() == io.haraft.core.Role.LEADER && n1.commitIndex() > 3;
    }

    @Test
    void aLearnerCatchesUpWithoutVotingAndIsPromotedOnceCommitted() {
        CoreCluster c = elected(5);
        join(c, "n4", Role.LEARNER);
        RaftCore leader = c.core("n1");
        Membership withLearner = leader.membership().withMember(new Member("n4", "h4:1", Role.LEARNER));
        long at = change(c, "n1", withLearner);
        assertThat(leader.log().entry(at).kind()).isEqualTo(Entry.Kind.CONFIG);
        assertThat(leader.committedMembership()).isEqualTo(withLearner);
        assertThat(c.core("n4").log().lastIndex()).isEqualTo(leader.lastIndex());
        assertThat(c.core("n4").membership()).as("the learner learns the configuration from the log").isEqualTo(withLearner);
        assertThat(c.applied.get("n4")).extracting(Entry::kind).contains(Entry.Kind.COMMAND, Entry.Kind.CONFIG);

        // A learner never campaigns, even when the leader is gone; the voters elect among themselves.
        c.drop = CoreCluster.isolate("n1");
        c.run(3_000 * MS);
        assertThat(c.core("n4").term()).as("the learner's term: it never stood").isEqualTo(c.core("n2").term());
        assertThat(c.leaders()).containsAnyOf("n2", "n3");
        String next = c.leaders().stream().filter(l -> !l.equals("n1")).findFirst().orElseThrow();
        assertThat(c.sent).noneMatch(m -> m.from().equals("n4")
                && (m instanceof Message.PreVote || m instanceof Message.Vote));
        c.drop = m -> false;
        c.run(1_000 * MS);

        Membership promoted = c.core(next).membership().withRole("n4", Role.VOTER);
        change(c, next, promoted);
        assertThat(c.core(next).committedMembership().voters()).containsExactlyInAnyOrder("n1", "n2", "n3", "n4");
        assertThat(c.core("n4").membership().isVoter("n4")).isTrue();
        // Four voters: a majority is three, so two nodes alone no longer commit.
        c.drop = m -> m.to().equals("n4") || m.from().equals("n4") || m.to().equals("n3") || m.from().equals("n3");
        long before = c.core(next).commitIndex();
        c.core(next).propose(bytes("needs three"), c.now);
        c.deliverAll();
        assertThat(c.core(next).commitIndex()).isEqualTo(before);
    }

    @Test
    void aSecondChangeIsRefusedWhileTheFirstIsUncommitted() {
        CoreCluster c = elected(1);
        join(c, "n4", Role.LEARNER);
        join(c, "n5", Role.LEARNER);
        RaftCore leader = c.core("n1");
        c.drop = m -> m.from().equals("n1") && !m.to().equals("n4"); // only the learner hears: nothing commits
        Membership first = leader.membership().withMember(new Member("n4", "", Role.LEARNER));
        leader.changeMembership(first, c.now);
        assertThatThrownBy(() -> leader.changeMembership(first.withMember(new Member("n5", "", Role.LEARNER)), c.now))
                .isInstanceOfSatisfying(MembershipChangeRefused.class, e -> {
                    assertThat(e.reason()).isEqualTo(MembershipChangeRefused.Reason.IN_PROGRESS);
                    assertThat(e.retryable()).isTrue();
                })
                .hasMessageContaining("change in progress");
        assertThat(leader.changeMembership(first, c.now)).as("asking the same change again is harmless")
                .isEqualTo(leader.lastIndex());
        c.drop = m -> false;
        c.deliverAll();
        c.run(300 * MS);
        assertThat(leader.committedMembership()).isEqualTo(first);
        Membership second = first.withMember(new Member("n5", "", Role.LEARNER));
        assertThat(leader.changeMembership(second, c.now)).isPositive();
    }

    @Test
    void impossibleChangesAreRefusedWithAReason() {
        CoreCluster c = elected(3);
        join(c, "n4", Role.LEARNER);
        RaftCore leader = c.core("n1");
        Membership m = leader.membership();
        assertThatThrownBy(() -> leader.changeMembership(m.without("n3"), c.now))
                .isInstanceOfSatisfying(MembershipChangeRefused.class,
                        e -> assertThat(e.reason()).isEqualTo(MembershipChangeRefused.Reason.INVALID))
                .hasMessageContaining("2 voters").hasMessageContaining("witness");
        assertThatThrownBy(() -> leader.changeMembership(m.withMember(new Member("n4", "", Role.VOTER)), c.now))
                .isInstanceOf(MembershipChangeRefused.class).hasMessageContaining("add it as a learner first");
        Membership two = m.withMember(new Member("n4", "", Role.VOTER)).withMember(new Member("n5", "", Role.VOTER));
        assertThatThrownBy(() -> leader.changeMembership(two, c.now))
                .isInstanceOf(MembershipChangeRefused.class).hasMessageContaining("one voter");
        assertThatThrownBy(() -> c.core("n2").changeMembership(m.without("n3"), c.now))
                .isInstanceOfSatisfying(MembershipChangeRefused.class,
                        e -> assertThat(e.reason()).isEqualTo(MembershipChangeRefused.Reason.NOT_LEADER))
                .hasMessageContaining("the leader is n1");
    }

    @Test
    void aLearnerTooFarBehindIsNotPromoted() {
        CoreCluster c = elected(3);
        join(c, "n4", Role.LEARNER);
        RaftCore leader = c.core("n1");
        Membership withLearner = leader.membership().withMember(new Member("n4", "", Role.LEARNER));
        change(c, "n1", withLearner);
        c.drop = m -> m.to().equals("n4"); // from now on it hears nothing: its log stays behind
        for (int i = 0; i < CoreConfig.DEFAULT_PROMOTE_MAX_LAG + 5; i++) {
            leader.propose(bytes("x" + i), c.now);
        }
        c.deliverAll();
        assertThatThrownBy(() -> leader.changeMembership(withLearner.withRole("n4", Role.VOTER), c.now))
                .isInstanceOfSatisfying(MembershipChangeRefused.class,
                        e -> assertThat(e.reason()).isEqualTo(MembershipChangeRefused.Reason.LAGGING))
                .hasMessageContaining("entries behind");
        c.drop = m -> false;
        c.run(1_000 * MS);
        assertThat(change(c, "n1", withLearner.withRole("n4", Role.VOTER))).isPositive();
        assertThat(leader.committedMembership().isVoter("n4")).isTrue();
    }

    @Test
    void aLearnerThatNeverAnsweredIsNotPromotedEvenWithAShortLog() {
        CoreCluster c = elected(1);
        RaftCore leader = c.core("n1");
        Membership withLearner = leader.membership().withMember(new Member("n4", "", Role.LEARNER));
        c.drop = m -> m.to().equals("n4"); // n4 was never started: nobody answers for it
        change(c, "n1", withLearner);
        assertThat(leader.lastIndex()).isLessThan(CoreConfig.DEFAULT_PROMOTE_MAX_LAG);
        assertThatThrownBy(() -> leader.changeMembership(withLearner.withRole("n4", Role.VOTER), c.now))
                .isInstanceOfSatisfying(MembershipChangeRefused.class,
                        e -> assertThat(e.reason()).isEqualTo(MembershipChangeRefused.Reason.LAGGING))
                .hasMessageContaining("has not answered");
    }

    @Test
    void aNewLeaderChangesNothingBeforeAnEntryOfItsTermCommits() {
        CoreCluster c = new CoreCluster(3);
        c.elapse(2 * 300 * MS + 1);
        c.tick("n1");
        c.deliverOnly(m -> m instanceof Message.PreVote || m instanceof Message.PreVoteResponse
                || m instanceof Message.Vote || m instanceof Message.VoteResponse);
        RaftCore leader = c.core("n1");
        assertThat(leader.role()).isEqualTo(io.haraft.core.Role.LEADER);
        Membership m = leader.membership().withMember(new Member("n4", "", Role.LEARNER));
        assertThatThrownBy(() -> leader.changeMembership(m, c.now))
                .isInstanceOfSatisfying(MembershipChangeRefused.class,
                        e -> assertThat(e.reason()).isEqualTo(MembershipChangeRefused.Reason.TERM_NOT_COMMITTED));
        c.deliverAll();
        assertThat(leader.changeMembership(m, c.now)).isPositive();
    }

    @Test
    void removingTheLeaderHandsLeadershipOverFirstAndTheNewLeaderRemovesIt() {
        CoreCluster c = elected(2);
        join(c, "n4", Role.LEARNER);
        change(c, "n1", c.core("n1").membership().withMember(new Member("n4", "", Role.LEARNER)));
        change(c, "n1", c.core("n1").membership().withRole("n4", Role.VOTER));
        long oldTerm = c.core("n1").term();

        long result = c.core("n1").changeMembership(c.core("n1").membership().without("n1"), c.now);
        assertThat(result).as("a handover, not an entry").isEqualTo(-1);
        c.deliverAll();
        c.run(500 * MS);
        assertThat(c.events.get("n1")).contains(new LeadershipEvent.Revoked(oldTerm, RevokeReason.LEADERSHIP_TRANSFERRED));
        assertThat(c.sent).filteredOn(m -> m instanceof Message.TimeoutNow)
                .as("to the most up-to-date voter that stays, the first of them on a tie")
                .containsExactly(new Message.TimeoutNow("n1", "n2", oldTerm, true));
        String next = c.leaders().stream().filter(l -> !l.equals("n1")).findFirst().orElseThrow();
        RaftCore leader = c.core(next);
        assertThat(leader.term()).isGreaterThan(oldTerm);
        assertThat(leader.committedMembership().contains("n1")).as("the new leader removed n1").isFalse();
        assertThat(leader.committedMembership().voters()).hasSize(3);
        assertThat(c.core("n1").isRemoved()).as("n1 learned of its removal").isTrue();
        long termOfN1 = c.core("n1").term();
        c.drop = CoreCluster.isolate(next);
        c.run(3_000 * MS);
        assertThat(c.core("n1").term()).as("a removed node never campaigns").isEqualTo(termOfN1);
        assertThat(c.sent.stream().filter(m -> m.from().equals("n1")))
                .noneMatch(m -> m instanceof Message.PreVote && m.term() > termOfN1);
    }

    @Test
    void aWitnessStoresNoPayloadsVotesButNeverLeads() {
        CoreCluster c = new CoreCluster(3);
        Membership twoPlusWitness = Membership.of(List.of(new Member("n1", "", Role.VOTER),
                new Member("n2", "", Role.VOTER), new Member("n3", "", Role.WITNESS)));
        for (String id : c.ids) {
            c.add(id, twoPlusWitness, PlantedBugs.NONE, 64, HardState.INITIAL, RaftLog.empty());
        }
        c.elect("n1");
        c.core("n1").propose(bytes("payload"), c.now);
        c.deliverAll();
        c.run(300 * MS);
        RaftLog w = c.core("n3").log();
        assertThat(w.lastIndex()).isEqualTo(c.core("n1").lastIndex());
        for (long i = w.firstIndex(); i <= w.lastIndex(); i++) {
            assertThat(w.entry(i).size()).as("payload bytes of entry %d on the witness", i).isZero();
        }
        assertThat(c.core("n2").log().entry(w.lastIndex()).size()).isPositive();

        // The data leader fails: the other data node wins with the witness's vote, with a higher term.
        long term = c.core("n1").term();
        c.drop = CoreCluster.isolate("n1");
        c.run(3_000 * MS);
        assertThat(c.leaders()).contains("n2");
        assertThat(c.core("n2").term()).isGreaterThan(term);
        assertThat(c.core("n3").role()).isNotEqualTo(io.haraft.core.Role.LEADER);
        assertThat(c.sent).noneMatch(m -> m.from().equals("n3") && (m instanceof Message.PreVote || m instanceof Message.Vote));

        // With both data nodes gone the witness alone never leads.
        c.drop = m -> true; // every link down
        c.run(3_000 * MS);
        assertThat(c.core("n3").role()).isNotEqualTo(io.haraft.core.Role.LEADER);
    }
    @Test
    void aVoterCutOffDuringItsRemovalIsToldOnceTheRemovalCommitsAndNeverCampaigns() {
        CoreCluster c = new CoreCluster(4);
        c.elect("n1");
        c.deliverAll();
        c.run(300 * MS);
        long removal = c.core("n1").lastIndex() + 1;
        // n4 gets nothing but the leader's one last message once its removal committed
        c.drop = m -> m.to().equals("n4") && !(m instanceof Message.Append a && a.commit() >= removal);
        assertThat(c.core("n1").changeMembership(c.core("n1").membership().without("n4"), c.now)).isEqualTo(removal);
        c.deliverAll();
        assertThat(c.core("n1").committedMembership().contains("n4")).isFalse();
        assertThat(c.core("n4").isRemoved()).as("n4 never acknowledged its removal, yet learnt it").isTrue();
        long term = c.core("n4").term();
        c.drop = m -> false;
        c.run(3_000 * MS);
        assertThat(c.core("n4").term()).as("a removed node never campaigns").isEqualTo(term);
        assertThat(c.core("n1").role()).isEqualTo(io.haraft.core.Role.LEADER);
    }

    /** The last append {@code to} was sent, whose commit index reaches {@code index}. */
    private static Message.Append toldAt(CoreCluster c, String to, long index) {
        return c.sent.stream().filter(m -> m instanceof Message.Append a && a.to().equals(to) && a.commit() >= index)
                .map(m -> (Message.Append) m).reduce((a, b) -> b).orElseThrow();
    }

    @Test
    void aVoterThatNeverHeardFromTheLeaderIsToldOfItsRemovalWithThePayloadsItLacks() {
        CoreCluster c = new CoreCluster(4);
        c.drop = m -> m.to().equals("n4");
        c.elect("n1");
        RaftCore n1 = c.core("n1");
        long command = n1.propose(bytes("while n4 was away"), c.now);
        c.deliverAll();
        long removal = n1.lastIndex() + 1;
        c.drop = m -> m.to().equals("n4") && !(m instanceof Message.Append a && a.commit() >= removal);
        assertThat(n1.changeMembership(n1.membership().without("n4"), c.now)).isEqualTo(removal);
        c.deliverAll();
        Message.Append told = toldAt(c, "n4", removal);
        assertThat(told.prevIndex()).as("n4 never acknowledged anything").isZero();
        assertThat(told.entries()).extracting(Entry::index).containsExactly(1L, command, removal);
        assertThat(told.entries().get(1).size()).as("a data voter gets the payloads").isPositive();
        assertThat(c.core("n4").isRemoved()).isTrue();
    }

    @Test
    void aRemovedWitnessIsToldWithoutThePayloadsItNeverStores() {
        CoreCluster c = new CoreCluster(4);
        Membership withWitness = Membership.ofVoters(List.of("n1", "n2", "n3")).withMember(new Member("n4", "", Role.WITNESS));
        for (String id : c.ids) {
            c.add(id, withWitness, PlantedBugs.NONE, 64, HardState.INITIAL, RaftLog.empty());
        }
        c.elect("n1");
        c.run(300 * MS);
        RaftCore n1 = c.core("n1");
        long removal = n1.lastIndex() + 2;
        c.drop = m -> m.to().equals("n4") && !(m instanceof Message.Append a && a.commit() >= removal);
        long command = n1.propose(bytes("payload"), c.now);
        c.deliverAll();
        assertThat(n1.changeMembership(withWitness.without("n4"), c.now)).isEqualTo(removal);
        c.deliverAll();
        Message.Append told = toldAt(c, "n4", removal);
        assertThat(told.entries()).extracting(Entry::index).containsExactly(command, removal);
        assertThat(told.entries().get(0).size()).as("the command, without its payload").isZero();
        assertThat(c.core("n4").isRemoved()).isTrue();
    }

    /**
     * n1 holds the entry that removes it, not committed; the leader that appended it is gone. The
     * committed configuration lets n1 lead, so it may campaign, and it wins with votes of the new
     * configuration. It never reports elected and accepts no command; once its no-op commits the
     * removal, it hands leadership over to the most up-to-date voter that stays (the first of them in
     * the configuration) and, knowing it is removed, never campaigns again.
     */
    @Test
    void aLeaderElectedInAConfigurationThatDropsItCommitsItsRemovalAndHandsOver() {
        CoreCluster c = new CoreCluster(4);
        Membership without = Membership.ofVoters(List.of("n2", "n3", "n4"));
        c.add("n1", PlantedBugs.NONE, 64, new HardState(1, null),
                new RaftLog(0, 0, List.of(Entry.noop(1, 1), Entry.config(2, 1, without))));
        RaftCore n1 = c.core("n1");
        assertThat(n1.membership()).isEqualTo(without);
        assertThat(n1.isRemoved()).as("its removal is not committed").isFalse();
        c.drop = CoreCluster.isolate("n2"); // n2 lags; n3 and n4 will hold the whole log
        c.electWithoutCommit("n1");
        assertThat(n1.propose(bytes("x"), c.now)).as("it cannot lead in its latest configuration").isZero();
        c.deliverAll();
        assertThat(c.sent).filteredOn(m -> m instanceof Message.TimeoutNow)
                .containsExactly(new Message.TimeoutNow("n1", "n3", 2, false));
        assertThat(n1.role()).isEqualTo(io.haraft.core.Role.FOLLOWER);
        assertThat(c.events.get("n1")).as("never elected, so nothing to revoke either").isEmpty();
        assertThat(c.leaders()).containsExactly("n3");
        assertThat(n1.isRemoved()).isTrue();
        int sentBefore = c.sent.size();
        c.run(3_000 * MS);
        assertThat(c.sent.subList(sentBefore, c.sent.size())).as("a removed node never campaigns")
                .noneMatch(m -> m.from().equals("n1") && (m instanceof Message.PreVote || m instanceof Message.Vote));
    }

    @Test
    void removingAVoterCommitsOnlyWithMajoritiesOfBothConfigurationsAndThenTheNewOneAloneKeepsTheLease() {
        CoreCluster c = new CoreCluster(4);
        c.elect("n1");
        c.run(300 * MS);
        RaftCore n1 = c.core("n1");
        c.drop = m -> m.to().equals("n3") || m.to().equals("n4");
        long at = n1.changeMembership(n1.membership().without("n4"), c.now);
        c.deliverAll();
        assertThat(n1.commitIndex()).as("n1 and n2 are a majority of n1..n3, not of n1..n4").isLessThan(at);
        c.drop = m -> m.to().equals("n4") || m.from().equals("n4");
        c.run(300 * MS);
        assertThat(n1.commitIndex()).isGreaterThanOrEqualTo(at);
        assertThat(n1.committedMembership().contains("n4")).isFalse();
        // n3 is cut off too: n1 and n2 are a majority of the configuration in force
        c.drop = m -> !Set.of(m.from(), m.to()).equals(Set.of("n1", "n2"));
        c.run(3 * 300 * MS);
        assertThat(n1.role()).isEqualTo(io.haraft.core.Role.LEADER);
        assertThat(n1.holdsLease(c.now)).isTrue();
    }

    @Test
    void aNewMemberIsProbedRightAfterTheLeadersLastEntry() {
        CoreCluster c = elected(2);
        RaftCore n1 = c.core("n1");
        long at = n1.changeMembership(n1.membership().withMember(new Member("n4", "", Role.LEARNER)), c.now);
        c.flush();
        Message.Append first = c.sent.stream().filter(m -> m instanceof Message.Append a && a.to().equals("n4"))
                .map(m -> (Message.Append) m).findFirst().orElseThrow();
        assertThat(first.prevIndex()).isEqualTo(at);
        assertThat(first.entries()).as("entries follow once n4 is found to hold the log").isEmpty();
    }

    @Test
    void aTransferInProgressRefusesChangesAndSurvivesTheCommitOfAnEarlierOne() {
        CoreCluster c = elected(1);
        RaftCore n1 = c.core("n1");
        long term = n1.term();
        c.drop = m -> !m.to().equals("n1");
        Membership withLearner = n1.membership().withMember(new Member("n4", "", Role.LEARNER));
        n1.changeMembership(withLearner, c.now);
        c.flush();
        assertThat(n1.transferLeadership("n2", c.now)).as("n2 lacks the configuration entry: the transfer waits")
                .isTrue();
        assertThatThrownBy(() -> n1.changeMembership(withLearner.withRole("n4", Role.VOTER), c.now))
                .isInstanceOfSatisfying(MembershipChangeRefused.class,
                        e -> assertThat(e.reason()).isEqualTo(MembershipChangeRefused.Reason.NOT_LEADER))
                .hasMessageContaining("handing leadership over");
        c.drop = m -> m.to().equals("n2") || m.to().equals("n4");
        c.run(100 * MS);
        assertThat(n1.committedMembership()).as("n3 acknowledged it").isEqualTo(withLearner);
        assertThat(n1.role()).isEqualTo(io.haraft.core.Role.LEADER);
        c.drop = m -> m.to().equals("n4");
        c.run(100 * MS);
        assertThat(c.sent).contains(new Message.TimeoutNow("n1", "n2", term, false));
        assertThat(c.leaders()).containsExactly("n2");
    }

    @Test
    void aLearnerExactlyTheMaximumLagBehindIsPromoted() {
        CoreCluster c = new CoreCluster(3, cfg -> cfg.withPromoteMaxLag(3));
        c.elect("n1");
        join(c, "n4", Role.LEARNER);
        RaftCore n1 = c.core("n1");
        Membership withLearner = n1.membership().withMember(new Member("n4", "", Role.LEARNER));
        change(c, "n1", withLearner);
        c.drop = m -> m.to().equals("n4") && m instanceof Message.Append; // it answers heartbeats, gets no entries
        for (int i = 0; i < 3; i++) {
            n1.propose(bytes("x" + i), c.now);
        }
        c.run(100 * MS);
        assertThat(n1.lastIndex() - n1.progress("n4").match()).isEqualTo(3);
        assertThat(n1.changeMembership(withLearner.withRole("n4", Role.VOTER), c.now)).isPositive();
    }
}
