package io.haraft.core;

import io.haraft.RevokeReason;
import io.haraft.core.log.Entry;
import io.haraft.core.log.RaftLog;
import io.haraft.core.quorum.Membership;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.BiPredicate;

import static io.haraft.core.CoreCluster.MS;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The rules of one core around winning, losing and holding leadership, message by message: a
 * candidate that lost keeps its vote of the term, a pre-vote never raises a term, a leader without
 * a majority steps down after one election timeout, an acknowledgement of entries it never had
 * commits nothing, a leader whose lease ran out accepts no input before stepping down, each step of
 * an election waits a full election timeout from its start, and a witness gets an entry only once a
 * live data voter holds it.
 */
class LeaderRulesTest {
    static final long E = 300 * MS;
    private static final long START = 1_000 * MS;
    /** Past any election deadline of a core started at START (drawn from [E, 2E)). */
    static final long T0 = START + 2 * E;
    private static final List<String> THREE = List.of("n1", "n2", "n3");
    private static final List<String> FIVE = List.of("n1", "n2", "n3", "n4", "n5");

    /** n1 among {@code ids}, with a log of entries at terms 1, 1, 2 and hard state term 2, started at START. */
    private static RaftCore core(List<String> ids) {
        return core(CoreConfig.defaults("n1", ids));
    }

    /** As {@link #core(List)}, configured by {@code cfg}. */
    private static RaftCore core(CoreConfig cfg) {
        RaftLog log = new RaftLog(0, 0, List.of(Entry.noop(1, 1), Entry.noop(2, 1), Entry.noop(3, 2)));
        return new RaftCore(cfg, new HardState(2, null), log, START, new SplittableRandom(7), null);
    }

    /** What the core sent, after processing everything it has to hand out (events go to {@code events}). */
    private static List<Message> answers(RaftCore c, long now, List<LeadershipEvent> events) {
        return answers(c, now, r -> events.addAll(r.events()));
    }

    /** What the core sent, after processing everything it has to hand out ({@code also} sees each Ready). */
    static List<Message> answers(RaftCore c, long now, java.util.function.Consumer<Ready> also) {
        List<Message> out = new ArrayList<>(c.takeUrgentMessages());
        if (c.hasReady()) {
            Ready r = c.ready();
            out.addAll(r.messages());
            also.accept(r);
            c.advance(r, now);
        }
        return out;
    }

    static List<Message> answers(RaftCore c, long now) {
        return answers(c, now, new ArrayList<>());
    }

    /** n1 of three, candidate for term 3 at T0 with its own vote durable (no other vote yet). */
    private static RaftCore candidate() {
        return candidate(CoreConfig.defaults("n1", THREE));
    }

    /** As {@link #candidate()}, configured by {@code cfg} (n1 and two other voting members). */
    private static RaftCore candidate(CoreConfig cfg) {
        RaftCore c = core(cfg);
        c.tick(T0);
        assertThat(c.role()).isEqualTo(Role.PRE_CANDIDATE);
        answers(c, T0);
        c.step(new Message.PreVoteResponse("n2", "n1", 3, true), T0);
        assertThat(answers(c, T0)).filteredOn(m -> m instanceof Message.Vote).hasSize(2);
        assertThat(c.role()).isEqualTo(Role.CANDIDATE);
        assertThat(c.term()).isEqualTo(3);
        assertThat(c.votedFor()).isEqualTo("n1");
        return c;
    }

    /** n1 of three, leader of term 3 since T0 (its entry 4 durable, not acknowledged); its appends go to {@code sent}. */
    private static RaftCore leader(List<Message> sent) {
        return leader(CoreConfig.defaults("n1", THREE), sent);
    }

    /** As {@link #leader(List)}, configured by {@code cfg}: n2 voted for it. */
    static RaftCore leader(CoreConfig cfg, List<Message> sent) {
        RaftCore c = candidate(cfg);
        c.step(new Message.VoteResponse("n2", "n1", 3, true), T0);
        assertThat(c.role()).isEqualTo(Role.LEADER);
        assertThat(c.wonWith()).containsExactlyInAnyOrder("n1", "n2");
        sent.addAll(answers(c, T0));
        assertThat(c.lastIndex()).isEqualTo(4);
        assertThat(c.commitIndex()).as("nobody acknowledged entry 4 yet").isLessThan(4);
        return c;
    }

    /** The first append among {@code sent} addressed to {@code to}. */
    static Message.Append appendTo(List<Message> sent, String to) {
        return sent.stream().filter(m -> m instanceof Message.Append a && a.to().equals(to))
                .map(m -> (Message.Append) m).findFirst().orElseThrow();
    }

    /** The leader of {@link #leader}, with entry 4 committed by n2's acknowledgement and elected reported. */
    static RaftCore electedLeader(List<LeadershipEvent> events) {
        List<Message> sent = new ArrayList<>();
        RaftCore c = leader(sent);
        Message.Append toN2 = appendTo(sent, "n2");
        c.step(new Message.AppendResponse("n2", "n1", 3, true, 4, 0, 0, toN2.round(), toN2.stickiness()), T0 + MS);
        answers(c, T0 + MS, events);
        assertThat(c.commitIndex()).isEqualTo(4);
        assertThat(events).hasSize(1).first().isInstanceOf(LeadershipEvent.Elected.class);
        return c;
    }

    @Test
    void aCandidateThatLostItsElectionVotesForNobodyElseInThatTerm() {
        RaftCore c = candidate();
        c.step(new Message.VoteResponse("n2", "n1", 3, false), T0);
        c.step(new Message.VoteResponse("n3", "n1", 3, false), T0);
        assertThat(c.role()).isEqualTo(Role.FOLLOWER);
        assertThat(c.term()).isEqualTo(3);
        assertThat(c.votedFor()).as("it voted for itself in term 3, and that stays").isEqualTo("n1");
        answers(c, T0);
        c.step(new Message.Vote("n2", "n1", 3, 9, 3, false), T0);
        assertThat(answers(c, T0)).as("a second vote in term 3 would allow two leaders of the term")
                .containsExactly(new Message.VoteResponse("n1", "n2", 3, false));
        assertThat(c.votedFor()).isEqualTo("n1");
    }

    @Test
    void aCandidateThatHearsTheLeaderOfItsTermFollowsItAndKeepsItsVote() {
        RaftCore c = candidate();
        c.step(new Message.Heartbeat("n2", "n1", 3, 0, 1, E), T0 + MS);
        assertThat(c.role()).isEqualTo(Role.FOLLOWER);
        assertThat(c.leader()).isEqualTo("n2");
        assertThat(c.term()).isEqualTo(3);
        assertThat(c.votedFor()).isEqualTo("n1");
        answers(c, T0 + MS);
        c.step(new Message.Vote("n3", "n1", 3, 9, 3, true), T0 + MS);
        assertThat(answers(c, T0 + MS)).as("even a transfer vote: one vote per term")
                .containsExactly(new Message.VoteResponse("n1", "n3", 3, false));
    }

    @Test
    void aPreCandidateRefusedByAMajorityGivesUpWithoutRaisingItsTerm() {
        RaftCore c = core(THREE);
        c.tick(T0);
        assertThat(c.role()).isEqualTo(Role.PRE_CANDIDATE);
        answers(c, T0);
        c.step(new Message.PreVoteResponse("n2", "n1", 2, false), T0);
        assertThat(c.role()).as("one refusal of three: not lost yet").isEqualTo(Role.PRE_CANDIDATE);
        c.step(new Message.PreVoteResponse("n3", "n1", 2, false), T0);
        assertThat(c.role()).isEqualTo(Role.FOLLOWER);
        assertThat(c.term()).isEqualTo(2);
        assertThat(c.votedFor()).isNull();
        assertThat(answers(c, T0)).as("no vote requested").noneMatch(m -> m instanceof Message.Vote);
        c.step(new Message.PreVoteResponse("n2", "n1", 3, true), T0);
        assertThat(c.role()).as("a late grant after giving up starts nothing").isEqualTo(Role.FOLLOWER);
        assertThat(c.term()).isEqualTo(2);
    }

    @Test
    void aGrantedPreVoteRaisesNoTermAndOneGrantOfFiveWinsNothing() {
        RaftCore c = core(FIVE);
        c.tick(T0);
        assertThat(answers(c, T0)).filteredOn(m -> m instanceof Message.PreVote).hasSize(4);
        c.step(new Message.PreVoteResponse("n2", "n1", 3, true), T0);
        assertThat(c.role()).isEqualTo(Role.PRE_CANDIDATE);
        assertThat(c.term()).as("a pre-vote is granted for the next term, which is not adopted").isEqualTo(2);
        assertThat(c.votedFor()).isNull();
        assertThat(answers(c, T0)).noneMatch(m -> m instanceof Message.Vote);
        c.step(new Message.PreVoteResponse("n3", "n1", 3, true), T0);
        assertThat(c.role()).as("three of five").isEqualTo(Role.CANDIDATE);
        assertThat(c.term()).isEqualTo(3);
    }

    @Test
    void aLeaderThatHearsFromNoMajorityStepsDownAfterExactlyOneElectionTimeout() {
        RaftCore c = leader(new ArrayList<>());
        c.tick(T0 + E - 1);
        assertThat(c.role()).isEqualTo(Role.LEADER);
        answers(c, T0 + E - 1);
        c.tick(T0 + E);
        assertThat(c.role()).isEqualTo(Role.FOLLOWER);
        assertThat(c.leader()).isNull();
    }

    @Test
    void anAcknowledgementBeyondTheLeadersLogIsRefusedAndCommitsNothing() {
        List<Message> sent = new ArrayList<>();
        RaftCore c = leader(sent);
        Message.Append toN2 = appendTo(sent, "n2");
        c.step(new Message.AppendResponse("n2", "n1", 3, true, 9, 0, 0, toN2.round(), toN2.stickiness()), T0 + MS);
        answers(c, T0 + MS);
        assertThat(c.commitIndex()).as("n2 claims entries this leader never had: entry 4 is not on a majority")
                .isLessThan(4);
        assertThat(c.progress("n2").match()).isZero();
        assertThat(c.isElected()).isFalse();
    }

    @Test
    void aLeaderWhoseLeaseRanOutStepsDownBeforeItAcceptsAnyInput() {
        List<BiPredicate<RaftCore, Long>> inputs = List.of(
                (c, now) -> c.propose(new byte[] {1}, now) > 0,
                (c, now) -> c.readIndex(1, now),
                (c, now) -> c.leaseRead(1, now),
                (c, now) -> c.transferLeadership("n3", now),
                (c, now) -> {
                    c.peerUnreachable("n3", now);
                    return c.role() == Role.LEADER;
                },
                (c, now) -> {
                    c.compact(3, now);
                    return c.role() == Role.LEADER;
                },
                (c, now) -> {
                    c.snapshotChunk("n3", 4, 3, 0, new byte[] {1}, true, null, now);
                    return c.role() == Role.LEADER;
                },
                (c, now) -> {
                    c.snapshotUnavailable("n3", now);
                    return c.role() == Role.LEADER;
                },
                (c, now) -> {
                    c.advance(c.ready(), now);
                    return c.role() == Role.LEADER;
                },
                (c, now) -> {
                    try {
                        c.changeMembership(io.haraft.core.quorum.Membership.ofVoters(FIVE.subList(0, 4)), now);
                        return true;
                    } catch (MembershipChangeRefused e) {
                        return false;
                    }
                });
        for (int i = 0; i < inputs.size(); i++) {
            List<LeadershipEvent> events = new ArrayList<>();
            RaftCore c = electedLeader(events);
            long until = ((LeadershipEvent.Elected) events.get(0)).leaseUntil();
            assertThat(c.holdsLease(until - 1)).isTrue();
            assertThat(inputs.get(i).test(c, until)).as("input %d at the end of the lease", i).isFalse();
            assertThat(c.role()).as("input %d", i).isEqualTo(Role.FOLLOWER);
            answers(c, until, events);
            assertThat(events).as("input %d", i).last()
                    .isEqualTo(new LeadershipEvent.Revoked(3, RevokeReason.LEASE_EXPIRED));
        }
    }
    /** Ticks the leader every {@code E / 6} from {@code from} to {@code to}, n2 answering each heartbeat. */
    private static void keepAliveWithN2(RaftCore c, long from, long to) {
        keepAlive(c, "n2", from, to);
    }

    /** Ticks the leader every {@code E / 6} from {@code from} to {@code to}, {@code follower} answering each heartbeat. */
    static void keepAlive(RaftCore c, String follower, long from, long to) {
        for (long t = from; ; t = Math.min(t + E / 6, to)) {
            c.tick(t);
            for (Message m : answers(c, t)) {
                if (m instanceof Message.Heartbeat h && h.to().equals(follower)) {
                    c.step(new Message.HeartbeatResponse(follower, "n1", h.term(), h.round(), h.stickiness()), t);
                }
            }
            if (t == to) {
                return;
            }
        }
    }

    @Test
    void aReadIndexIsConfirmedOnlyByAHeartbeatRoundStartedAfterTheRequest() {
        List<Message> sent = new ArrayList<>();
        RaftCore c = leader(sent);
        Message.Append toN2 = appendTo(sent, "n2");
        Message.Append toN3 = appendTo(sent, "n3");
        c.step(new Message.AppendResponse("n2", "n1", 3, true, 4, 0, 0, toN2.round(), toN2.stickiness()), T0 + MS);
        answers(c, T0 + MS);
        assertThat(c.isElected()).isTrue();
        long asked = T0 + 2 * MS;
        assertThat(c.readIndex(7, asked)).isTrue();
        c.step(new Message.AppendResponse("n3", "n1", 3, true, 4, 0, 0, toN3.round(), toN3.stickiness()), asked);
        assertThat(c.takeReadStates()).as("n3 answers a round that started before the read was asked: it may have"
                + " been sent while another leader already led").isEmpty();
        long t = T0 + E / 3;
        c.tick(t);
        Message.Heartbeat hb = answers(c, t).stream()
                .filter(m -> m instanceof Message.Heartbeat h && h.to().equals("n2"))
                .map(m -> (Message.Heartbeat) m).findFirst().orElseThrow();
        assertThat(hb.round()).isGreaterThan(toN2.round());
        assertThat(c.takeReadStates()).isEmpty();
        c.step(new Message.HeartbeatResponse("n2", "n1", 3, hb.round(), hb.stickiness()), t);
        assertThat(c.takeReadStates()).containsExactly(new io.haraft.core.read.ReadState(7, 4));
    }

    @Test
    void aLeaderHandingOverAcceptsNothingUntilTheTransferTimesOutAfterOneElectionTimeout() {
        RaftCore c = electedLeader(new ArrayList<>());
        long t1 = T0 + 2 * MS;
        assertThat(c.transferLeadership("n3", t1)).isTrue();
        assertThat(c.propose(new byte[] {1}, t1)).as("n3 lacks entry 4: the transfer waits, proposals refused")
                .isZero();
        keepAliveWithN2(c, t1, t1 + E - 1);
        assertThat(c.role()).isEqualTo(Role.LEADER);
        assertThat(c.propose(new byte[] {1}, t1 + E - 1)).isZero();
        keepAliveWithN2(c, t1 + E, t1 + E);
        assertThat(c.role()).as("the transfer timed out; it stays leader").isEqualTo(Role.LEADER);
        assertThat(c.propose(new byte[] {1}, t1 + E)).isEqualTo(5);
    }
    @Test
    void aLeaderThatShutsDownRevokesItsLeadershipAndAcceptsNothingMore() {
        List<LeadershipEvent> events = new ArrayList<>();
        RaftCore c = electedLeader(events);
        long t = T0 + E / 2; // its lease still runs
        c.shutdown(t);
        assertThat(c.role()).isEqualTo(Role.FOLLOWER);
        assertThat(c.leader()).isNull();
        assertThat(c.wonWith()).isEmpty();
        assertThat(c.nextDeadline()).as("it waits an election timeout before it may campaign").isGreaterThanOrEqualTo(t + E);
        answers(c, t, events);
        assertThat(events).last().isEqualTo(new LeadershipEvent.Revoked(3, RevokeReason.SHUT_DOWN));
        assertThat(c.propose(new byte[] {1}, t)).isZero();
        assertThat(c.readIndex(1, t)).isFalse();
        int before = events.size();
        c.stepDown(RevokeReason.STEPPED_DOWN, t);
        answers(c, t, events);
        assertThat(events).as("a follower has nothing to revoke").hasSize(before);
    }

    /** The appends among {@code sent} addressed to {@code to}. */
    static List<Message.Append> appendsTo(List<Message> sent, String to) {
        return sent.stream().filter(m -> m instanceof Message.Append a && a.to().equals(to))
                .map(m -> (Message.Append) m).toList();
    }

    @Test
    void aRejectedAppendIsRetriedFromTheFollowersHintAndStaleRejectionsChangeNothing() {
        List<Message> sent = new ArrayList<>();
        RaftCore c = leader(sent);
        Message.Append toN3 = appendTo(sent, "n3");
        assertThat(toN3.prevIndex()).as("n3 is probed right after the leader's previous entries").isEqualTo(3);
        Message.Append toN2 = appendTo(sent, "n2");
        c.step(new Message.AppendResponse("n2", "n1", 3, true, 4, 0, 0, toN2.round(), toN2.stickiness()), T0 + MS);
        answers(c, T0 + MS);
        assertThat(c.progress("n2").match()).isEqualTo(4);

        // n3 holds 1@1, 2@1 and a 3 of another term: it refuses prev 3@2 and hints 2@1
        Message.AppendResponse refused = new Message.AppendResponse("n3", "n1", 3, false, 3, 2, 1, toN3.round(),
                toN3.stickiness());
        c.step(refused, T0 + 2 * MS);
        List<Message.Append> retry = appendsTo(answers(c, T0 + 2 * MS), "n3");
        assertThat(retry).as("one new probe, right after the refusal").hasSize(1);
        assertThat(retry.get(0).prevIndex()).as("from the hint: the entries after 2@1").isEqualTo(2);
        assertThat(retry.get(0).prevTerm()).isEqualTo(1);
        assertThat(retry.get(0).entries()).extracting(Entry::index).containsExactly(3L, 4L);
        assertThat(c.progress("n3").next()).isEqualTo(3);

        c.step(refused, T0 + 3 * MS);
        assertThat(appendsTo(answers(c, T0 + 3 * MS), "n3")).as("the same refusal delivered twice is stale").isEmpty();
        assertThat(c.progress("n3").next()).isEqualTo(3);

        c.step(new Message.AppendResponse("n2", "n1", 3, false, 4, 2, 1, toN2.round(), toN2.stickiness()),
                T0 + 3 * MS);
        assertThat(appendsTo(answers(c, T0 + 3 * MS), "n2"))
                .as("a refusal of an index n2 already acknowledged is older than the acknowledgement").isEmpty();
        assertThat(c.progress("n2").match()).isEqualTo(4);
        assertThat(c.progress("n2").next()).isEqualTo(5);
    }

    @Test
    void anAcknowledgedProbeSwitchesTheFollowerToPipelinedAppends() {
        List<Message> sent = new ArrayList<>();
        RaftCore c = electedLeader(new ArrayList<>());
        assertThat(c.progress("n2").mode()).isEqualTo(io.haraft.core.progress.Progress.Mode.REPLICATE);
        assertThat(c.progress("n3").mode()).as("n3 never answered").isEqualTo(io.haraft.core.progress.Progress.Mode.PROBE);
        long t = T0 + 2 * MS;
        assertThat(c.propose(new byte[] {1}, t)).isEqualTo(5);
        sent.addAll(answers(c, t));
        assertThat(c.propose(new byte[] {2}, t)).isEqualTo(6);
        sent.addAll(answers(c, t));
        assertThat(appendsTo(sent, "n2")).as("n2 is acknowledged: each proposal goes out at once")
                .extracting(a -> a.entries().get(a.entries().size() - 1).index()).containsExactly(5L, 6L);
        assertThat(appendsTo(sent, "n3")).as("a probe is outstanding: nothing more until n3 answers").isEmpty();
    }

    @Test
    void aTransferEndsWhenItsTargetAcknowledgesTheLeadersWholeLogAndNotBefore() {
        List<LeadershipEvent> events = new ArrayList<>();
        RaftCore c = electedLeader(events);
        long t = T0 + 2 * MS;
        assertThat(c.propose(new byte[] {1}, t)).isEqualTo(5);
        answers(c, t);
        assertThat(c.transferLeadership("n3", t)).isTrue();
        answers(c, t);

        c.step(new Message.AppendResponse("n2", "n1", 3, true, 5, 0, 0, 0, 0), t);
        assertThat(c.role()).as("n2 is not the target").isEqualTo(Role.LEADER);
        c.step(new Message.AppendResponse("n3", "n1", 3, true, 4, 0, 0, 0, 0), t);
        assertThat(c.role()).as("n3 still lacks entry 5").isEqualTo(Role.LEADER);
        assertThat(answers(c, t)).noneMatch(m -> m instanceof Message.TimeoutNow);

        c.step(new Message.AppendResponse("n3", "n1", 3, true, 5, 0, 0, 0, 0), t);
        assertThat(c.role()).isEqualTo(Role.FOLLOWER);
        assertThat(answers(c, t, events)).contains(new Message.TimeoutNow("n1", "n3", 3, false));
        assertThat(events).last().isEqualTo(new LeadershipEvent.Revoked(3, RevokeReason.LEADERSHIP_TRANSFERRED));
    }

    @Test
    void aLeaderWakesForItsHeartbeatsItsTransferDeadlineAndTheEndOfItsLease() {
        RaftCore follower = core(THREE);
        long election = follower.nextDeadline();
        assertThat(election).isBetween(START + E, START + 2 * E - 1);
        follower.tick(election - 1);
        assertThat(follower.role()).isEqualTo(Role.FOLLOWER);
        follower.tick(election);
        assertThat(follower.role()).isEqualTo(Role.PRE_CANDIDATE);

        RaftCore c = electedLeader(new ArrayList<>());
        assertThat(c.nextDeadline()).as("the next heartbeat").isEqualTo(T0 + CoreConfig.defaults("n1", THREE)
                .heartbeatNanos());
        long t1 = T0 + 2 * MS;
        assertThat(c.transferLeadership("n3", t1)).isTrue();
        answers(c, t1);
        List<Long> wakeUps = new ArrayList<>();
        for (long t = c.nextDeadline(); t <= t1 + E; t = c.nextDeadline()) {
            wakeUps.add(t);
            c.tick(t);
            for (Message m : answers(c, t)) {
                if (m instanceof Message.Heartbeat h && h.to().equals("n2")) {
                    c.step(new Message.HeartbeatResponse("n2", "n1", h.term(), h.round(), h.stickiness()), t);
                }
            }
        }
        assertThat(wakeUps).as("woken exactly when the transfer times out").contains(t1 + E);
        assertThat(c.role()).isEqualTo(Role.LEADER);

        // nobody answers from now on: the last wake-up before stepping down is the end of the lease
        long lastWakeUp = wakeUps.get(wakeUps.size() - 1);
        long until = c.leaseUntil();
        for (long t = c.nextDeadline(); c.role() == Role.LEADER; t = c.nextDeadline()) {
            assertThat(t).as("never past the lease").isLessThanOrEqualTo(until).isGreaterThan(lastWakeUp);
            c.tick(t);
            answers(c, t);
            lastWakeUp = t;
        }
        assertThat(lastWakeUp).as("stepped down at the end of its lease, not a heartbeat later").isEqualTo(until);
    }

    @Test
    void aCompletedSnapshotCountsAsAnAcknowledgementOnlyWithinTheLeadersLog() {
        List<Message> sent = new ArrayList<>();
        RaftCore c = leader(sent);
        long round = appendTo(sent, "n2").round();
        c.step(new Message.InstallSnapshotResponse("n2", "n1", 3, 9, 0, true, round), T0 + MS);
        answers(c, T0 + MS);
        assertThat(c.commitIndex()).as("n2 claims a snapshot of entries this leader never had").isLessThan(4);
        assertThat(c.progress("n2").match()).isZero();

        c.step(new Message.InstallSnapshotResponse("n3", "n1", 3, 4, 0, false, round), T0 + MS);
        answers(c, T0 + MS);
        assertThat(c.progress("n3").match()).as("a chunk answer that is not done holds nothing yet").isZero();
        assertThat(c.commitIndex()).isLessThan(4);

        // a snapshot up to 4 that n3 installed from another sender: as good as an append acknowledged up to 4
        c.step(new Message.InstallSnapshotResponse("n3", "n1", 3, 4, 0, true, round), T0 + 2 * MS);
        assertThat(c.progress("n3").match()).isEqualTo(4);
        assertThat(c.commitIndex()).as("n1 and n3 hold entry 4 of term 3").isEqualTo(4);
    }

    private static long heartbeatsIn(List<Message> sent) {
        return sent.stream().filter(m -> m instanceof Message.Heartbeat).count();
    }

    /**
     * The node-wide heartbeat tick of a node hosting many groups: a leader whose heartbeat is due
     * within half an interval sends it now (a new lease round to every peer), one due later sends
     * nothing, and a follower never sends; after a tick's round the next is due a full interval later.
     */
    @Test
    void aHeartbeatTickSendsTheRoundOnlyOfALeaderWhoseHeartbeatIsNearlyDue() {
        long hb = CoreConfig.defaults("n1", THREE).heartbeatNanos();
        RaftCore follower = core(THREE);
        follower.heartbeatTick(START + hb);
        assertThat(heartbeatsIn(answers(follower, START + hb))).as("a follower's tick").isZero();

        RaftCore c = leader(new ArrayList<>());   // its heartbeat is due at T0 + hb
        c.heartbeatTick(T0 + hb / 2 - MS);
        assertThat(heartbeatsIn(answers(c, T0 + hb / 2 - MS))).as("due in more than half an interval").isZero();

        long tick = T0 + hb / 2 + MS;
        c.heartbeatTick(tick);
        List<Message> sent = answers(c, tick);
        assertThat(sent).filteredOn(m -> m instanceof Message.Heartbeat).extracting(Message::to)
                .containsExactlyInAnyOrder("n2", "n3");
        // the next is due an interval after the tick's round: not at the old deadline T0 + hb
        c.tick(T0 + hb);
        assertThat(heartbeatsIn(answers(c, T0 + hb))).as("at the old deadline").isZero();
        c.tick(tick + hb);
        assertThat(heartbeatsIn(answers(c, tick + hb))).as("an interval after the tick").isEqualTo(2);
    }

    /** Acknowledges entry {@code index} on behalf of {@code from}, echoing the round of {@code append}. */
    private static void ack(RaftCore c, String from, long index, Message.Append append, long now) {
        c.step(new Message.AppendResponse(from, "n1", 3, true, index, 0, 0, append.round(), append.stickiness()), now);
    }

    @Test
    void anAcknowledgementThatFreesAFollowersWindowLeavesTheNextEntryReadyToSend() {
        List<Message> sent = new ArrayList<>();
        RaftCore c = leader(CoreConfig.defaults("n1", THREE).withBatching(1, 1 << 20, 1), sent);
        long t = T0 + MS;
        ack(c, "n2", 4, appendTo(sent, "n2"), t);
        ack(c, "n3", 4, appendTo(sent, "n3"), t);
        answers(c, t);
        assertThat(c.commitIndex()).isEqualTo(4);
        assertThat(c.propose(new byte[] {5}, t)).isEqualTo(5);
        assertThat(c.propose(new byte[] {6}, t)).isEqualTo(6);
        List<Message> out = answers(c, t);
        assertThat(appendsTo(out, "n2")).as("one append in flight per follower")
                .extracting(a -> a.entries().get(0).index()).containsExactly(5L);
        ack(c, "n3", 5, appendTo(out, "n3"), t + MS);
        assertThat(appendsTo(answers(c, t + MS), "n3")).extracting(a -> a.entries().get(0).index())
                .containsExactly(6L);
        assertThat(c.commitIndex()).isEqualTo(5);

        ack(c, "n2", 5, appendTo(out, "n2"), t + 2 * MS);
        assertThat(c.hasReady()).as("only entry 6 for n2 is pending, and that is enough to be ready").isTrue();
        Ready r = c.ready();
        assertThat(c.hasReady()).as("no second Ready before this one is advanced").isFalse();
        assertThat(appendsTo(r.messages(), "n2")).extracting(a -> a.entries().get(0).index()).containsExactly(6L);
        c.advance(r, t + 2 * MS);
    }

    /** n1 and n2 hold data, n3 is a witness. */
    static final CoreConfig WITH_WITNESS = CoreConfig.defaults("n1", THREE).withMembership(Membership.of(List.of(
            new Membership.Member("n1", "", Membership.Role.VOTER), new Membership.Member("n2", "", Membership.Role.VOTER),
            new Membership.Member("n3", "", Membership.Role.WITNESS))));

    /**
     * A witness's log never runs ahead of every live data voter's: whichever data node survives a
     * single failure can still win the witness's vote. So the witness gets an entry once a data
     * voter that answered within an election timeout holds it, and everything if none did.
     */
    @Test
    void aWitnessGetsAnEntryOnlyOnceALiveDataVoterHoldsIt() {
        List<Message> sent = new ArrayList<>();
        RaftCore c = leader(WITH_WITNESS, sent);
        assertThat(appendTo(sent, "n3").entries()).as("no data voter answered yet").extracting(Entry::index)
                .containsExactly(4L);
        long t = T0 + MS;
        ack(c, "n2", 4, appendTo(sent, "n2"), t);
        ack(c, "n3", 4, appendTo(sent, "n3"), t);
        answers(c, t);
        assertThat(c.propose(new byte[] {5}, t)).isEqualTo(5);
        List<Message> out = answers(c, t);
        assertThat(appendsTo(out, "n2")).extracting(a -> a.entries().get(0).index()).containsExactly(5L);
        assertThat(appendsTo(out, "n3")).as("n2 does not hold entry 5 yet").isEmpty();

        ack(c, "n2", 5, appendTo(out, "n2"), t + MS);
        List<Message.Append> toWitness = appendsTo(answers(c, t + MS), "n3");
        assertThat(toWitness).flatExtracting(Message.Append::entries).extracting(Entry::index).containsExactly(5L);
        assertThat(toWitness.get(0).entries().get(0).size()).as("without its payload").isZero();
        ack(c, "n3", 5, toWitness.get(0), t + MS);

        // n2 falls silent; the witness alone keeps the leader's majority for more than an election timeout
        keepAlive(c, "n3", t + MS, t + MS + E + E / 6);
        assertThat(c.role()).isEqualTo(Role.LEADER);
        long later = t + MS + E + E / 6;
        assertThat(c.propose(new byte[] {6}, later)).isEqualTo(6);
        assertThat(appendsTo(answers(c, later), "n3")).as("no data voter answered within an election timeout")
                .flatExtracting(Message.Append::entries).extracting(Entry::index).containsExactly(6L);
    }

    @Test
    void aWitnessGetsNothingThatTheOnlyLiveDataVoterLacks() {
        List<Message> sent = new ArrayList<>();
        RaftCore c = leader(WITH_WITNESS, sent);
        long t = T0 + MS;
        Message.Append toN2 = appendTo(sent, "n2");
        // n2 answered, but holds nothing the leader can count: its entry 3 is of another term
        c.step(new Message.AppendResponse("n2", "n1", 3, false, 3, 2, 1, toN2.round(), toN2.stickiness()), t);
        answers(c, t);
        assertThat(c.progress("n2").match()).isZero();
        // the witness lost its log: it refuses too and is probed from the start
        Message.Append toN3 = appendTo(sent, "n3");
        c.step(new Message.AppendResponse("n3", "n1", 3, false, 3, 0, 0, toN3.round(), toN3.stickiness()), t);
        assertThat(appendsTo(answers(c, t), "n3")).singleElement().satisfies(a -> {
            assertThat(a.prevIndex()).isZero();
            assertThat(a.entries()).as("n2, the live data voter, holds none of them").isEmpty();
        });
    }

    @Test
    void aFollowerThatMissedAnAppendIsProbedOnItsHeartbeatAnswerOnlyAfterAnIntervalWithoutProgress() {
        long hb = CoreConfig.defaults("n1", THREE).heartbeatNanos();
        RaftCore c = electedLeader(new ArrayList<>());
        long t = T0 + MS + hb; // n2 acknowledged entry 4 a heartbeat interval ago
        c.step(new Message.HeartbeatResponse("n2", "n1", 3, 1, E), t);
        assertThat(appendsTo(answers(c, t), "n2")).as("n2 holds the whole log").isEmpty();
        assertThat(c.propose(new byte[] {5}, t)).isEqualTo(5);
        ack(c, "n2", 5, appendTo(answers(c, t), "n2"), t);
        assertThat(c.propose(new byte[] {6}, t)).isEqualTo(6);
        assertThat(appendsTo(answers(c, t), "n2")).as("lost on the way").hasSize(1);

        c.step(new Message.HeartbeatResponse("n2", "n1", 3, 1, E), t + hb - 1);
        assertThat(appendsTo(answers(c, t + hb - 1), "n2")).as("entry 5 was acknowledged less than an interval ago")
                .isEmpty();
        c.step(new Message.HeartbeatResponse("n2", "n1", 3, 1, E), t + hb);
        assertThat(appendsTo(answers(c, t + hb), "n2")).as("an empty append after entry 6 finds out").singleElement()
                .satisfies(a -> {
                    assertThat(a.prevIndex()).isEqualTo(6);
                    assertThat(a.entries()).isEmpty();
                });
    }

    @Test
    void aLeaderThatSeesAHigherTermRevokesItsLeadershipForThatReasonAndFollows() {
        List<LeadershipEvent> events = new ArrayList<>();
        RaftCore c = electedLeader(events);
        long t = T0 + 2 * MS;
        c.step(new Message.Heartbeat("n2", "n1", 4, 4, 1, E), t);
        assertThat(c.role()).isEqualTo(Role.FOLLOWER);
        assertThat(c.term()).isEqualTo(4);
        assertThat(c.leader()).isEqualTo("n2");
        answers(c, t, events);
        assertThat(events).last().isEqualTo(new LeadershipEvent.Revoked(3, RevokeReason.HIGHER_TERM));
    }

    @Test
    void aLeaderIgnoresVoteRequestsForAHigherTermWhileItLeads() {
        RaftCore c = electedLeader(new ArrayList<>());
        long t = T0 + 2 * MS;
        c.step(new Message.Vote("n3", "n1", 4, 9, 3, false), t);
        assertThat(c.role()).isEqualTo(Role.LEADER);
        assertThat(c.term()).isEqualTo(3);
        assertThat(answers(c, t)).noneMatch(m -> m instanceof Message.VoteResponse);
    }

    /** Each step of an election (pre-vote, vote, giving up) starts a full election timeout from its own start. */
    @Test
    void eachStepOfAnElectionWaitsAFullElectionTimeoutFromWhenItStarted() {
        RaftCore c = core(THREE);
        c.tick(T0);
        assertThat(c.role()).isEqualTo(Role.PRE_CANDIDATE);
        assertThat(c.nextDeadline()).isGreaterThanOrEqualTo(T0 + E);
        answers(c, T0);
        long t1 = T0 + E - 1;
        c.step(new Message.PreVoteResponse("n2", "n1", 3, true), t1);
        assertThat(c.role()).isEqualTo(Role.CANDIDATE);
        assertThat(c.nextDeadline()).isGreaterThanOrEqualTo(t1 + E);
        answers(c, t1);
        long t2 = t1 + E - 1;
        c.step(new Message.VoteResponse("n2", "n1", 3, false), t2);
        c.step(new Message.VoteResponse("n3", "n1", 3, false), t2);
        assertThat(c.role()).isEqualTo(Role.FOLLOWER);
        assertThat(c.nextDeadline()).isGreaterThanOrEqualTo(t2 + E);
    }

    @Test
    void aPreVoteGrantedInAnEarlierRoundDoesNotCountInTheNext() {
        RaftCore c = core(FIVE);
        c.tick(T0);
        answers(c, T0);
        c.step(new Message.PreVoteResponse("n2", "n1", 3, true), T0);
        long again = c.nextDeadline();
        c.tick(again);
        assertThat(c.role()).isEqualTo(Role.PRE_CANDIDATE);
        answers(c, again);
        c.step(new Message.PreVoteResponse("n3", "n1", 3, true), again);
        assertThat(c.role()).as("two of five in this round: n2 may have heard from a leader since").isEqualTo(
                Role.PRE_CANDIDATE);
        c.step(new Message.PreVoteResponse("n4", "n1", 3, true), again);
        assertThat(c.role()).isEqualTo(Role.CANDIDATE);
    }
}
