package io.haraft.core;

import io.haraft.RevokeReason;
import io.haraft.core.log.Entry;
import io.haraft.core.log.RaftLog;
import io.haraft.core.read.ReadState;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static io.haraft.core.CoreCluster.MS;
import static org.assertj.core.api.Assertions.assertThat;

/** Core behaviours, one scenario each, on the synchronous {@link CoreCluster} harness. */
class RaftCoreTest {
    /** The default minimum election timeout: the stickiness every node promises with its answers. */
    private static final long E = 300 * MS;

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void anElectionMakesOneLeaderWhoseTokenIsDeliveredOnlyAfterItsFirstEntryCommits() {
        CoreCluster c = new CoreCluster(3);
        c.elapse(2 * 300 * MS + 1);
        c.tick("n1");
        // Pre-votes are out, nothing is committed yet: no elected event.
        assertThat(c.events.get("n1")).isEmpty();
        c.deliverOnly(m -> m instanceof Message.PreVote || m instanceof Message.PreVoteResponse
                || m instanceof Message.Vote || m instanceof Message.VoteResponse);
        assertThat(c.core("n1").role()).isEqualTo(Role.LEADER);
        assertThat(c.events.get("n1")).as("elected before the term's first entry committed").isEmpty();
        c.deliverAll();
        assertThat(c.leaders()).containsExactly("n1");
        RaftCore leader = c.core("n1");
        assertThat(leader.term()).isEqualTo(1);
        assertThat(leader.commitIndex()).isEqualTo(1);
        assertThat(leader.log().entry(1).kind()).isEqualTo(Entry.Kind.NOOP);
        assertThat(c.events.get("n1")).containsExactly(new LeadershipEvent.Elected(1, leader.leaseUntil()));
        assertThat(c.core("n2").leader()).isEqualTo("n1");
        assertThat(c.core("n3").votedFor()).isEqualTo("n1");
    }

    @Test
    void aCandidateAsksForVotesBeforeItsOwnVoteIsDurableButLeadsOnlyOnceItIs() {
        List<String> ids = List.of("n1", "n2", "n3");
        long start = 1_000 * MS;
        java.util.Map<String, RaftCore> cores = new java.util.HashMap<>();
        for (String id : ids) {
            cores.put(id, new RaftCore(CoreConfig.defaults(id, ids), HardState.INITIAL, RaftLog.empty(), start,
                    new java.util.SplittableRandom(1), null));
        }
        RaftCore n1 = cores.get("n1");
        RaftCore n2 = cores.get("n2");
        long now = start + 2 * 300 * MS + 1;
        n1.tick(now);
        for (Message pv : n1.takeUrgentMessages()) {          // pre-votes, answered at once by n2
            if (pv.to().equals("n2")) {
                n2.step(pv, now);
                n2.takeUrgentMessages().forEach(r -> n1.step(r, now));
            }
        }
        assertThat(n1.role()).isEqualTo(Role.CANDIDATE);
        List<Message> early = n1.takeUrgentMessages();
        assertThat(early).as("vote requests leave before the candidate's hard state is durable")
                .filteredOn(m -> m instanceof Message.Vote).hasSize(2);
        Ready own = n1.ready();                               // its term and vote, being written
        assertThat(own.hardState()).isEqualTo(new HardState(1, "n1"));
        Message toN2 = early.stream().filter(m -> m instanceof Message.Vote && m.to().equals("n2")).findFirst()
                .orElseThrow();
        n2.step(toN2, now);
        Ready voter = n2.ready();                             // n2's vote is durable before it answers
        assertThat(voter.hardState()).isEqualTo(new HardState(1, "n1"));
        n2.advance(voter, now);
        voter.messages().forEach(m -> n1.step(m, now));
        assertThat(n1.role()).as("a majority granted, but the candidate's own vote is not yet on disk")
                .isEqualTo(Role.CANDIDATE);
        n1.advance(own, now);
        assertThat(n1.role()).isEqualTo(Role.LEADER);
        assertThat(n1.term()).isEqualTo(1);
    }

    @Test
    void aNodeThatRestartedWithholdsItsVoteForOneElectionTimeout() {
        CoreCluster c = new CoreCluster(3);
        c.elapse(2 * 300 * MS + 1);
        c.tick("n1");
        c.core("n2").tick(c.now); // n2 times out too but its pre-vote is irrelevant here
        c.inFlight.removeIf(m -> m.from().equals("n2"));
        // n3 "restarted" just now: it must refuse n1 for 300 ms.
        c.add("n3", PlantedBugs.NONE, 64, HardState.INITIAL, RaftLog.empty());
        c.drop = m -> m.to().equals("n2") || m.from().equals("n2");
        c.deliverAll();
        assertThat(c.core("n1").role()).isNotEqualTo(Role.LEADER);
        assertThat(c.core("n1").term()).isZero();
    }

    @Test
    void preVoteKeepsAPartitionedNodeFromDisruptingAHealthyLeader() {
        CoreCluster c = new CoreCluster(3);
        c.elect("n1");
        long term = c.core("n1").term();
        c.drop = CoreCluster.isolate("n3");
        c.run(5_000 * MS); // n3 times out again and again
        assertThat(c.core("n3").term()).as("pre-vote never raises the term").isEqualTo(term);
        assertThat(c.core("n3").role()).isEqualTo(Role.PRE_CANDIDATE);
        c.drop = m -> false;
        c.run(2_000 * MS);
        assertThat(c.leaders()).containsExactly("n1");
        assertThat(c.core("n1").term()).isEqualTo(term);
        assertThat(c.events.get("n1")).noneMatch(e -> e instanceof LeadershipEvent.Revoked);
        assertThat(c.core("n3").leader()).isEqualTo("n1");
    }

    @Test
    void aLeaderCutOffFromTheMajorityRevokesItselfBeforeAnotherIsElected() {
        CoreCluster c = new CoreCluster(3);
        c.elect("n1");
        c.run(500 * MS);
        c.drop = CoreCluster.isolate("n1");
        long cut = c.now;
        long revokedAt = -1;
        long newLeaderAt = -1;
        while (c.now < cut + 5_000 * MS && (revokedAt < 0 || newLeaderAt < 0)) {
            c.run(MS);
            if (revokedAt < 0 && c.core("n1").role() != Role.LEADER) {
                revokedAt = c.now;
            }
            if (newLeaderAt < 0 && c.leaders().stream().anyMatch(id -> !id.equals("n1"))) {
                newLeaderAt = c.now;
            }
        }
        assertThat(revokedAt).as("old leader stepped down").isPositive();
        assertThat(newLeaderAt).as("a new leader was elected").isPositive();
        assertThat(revokedAt).isLessThan(newLeaderAt);
        assertThat(revokedAt - cut).isLessThanOrEqualTo(300 * MS);
        LeadershipEvent last = c.events.get("n1").get(c.events.get("n1").size() - 1);
        assertThat(last).isInstanceOf(LeadershipEvent.Revoked.class);
        assertThat(((LeadershipEvent.Revoked) last).reason())
                .isIn(RevokeReason.LEASE_EXPIRED, RevokeReason.STEPPED_DOWN);
    }

    @Test
    void checkQuorumStepsDownALeaderThatNeverHeardFromAMajority() {
        CoreCluster c = new CoreCluster(3);
        c.elapse(2 * 300 * MS + 1);
        c.tick("n1");
        c.deliverOnly(m -> !(m instanceof Message.Append) && !(m instanceof Message.AppendResponse));
        assertThat(c.core("n1").role()).isEqualTo(Role.LEADER);
        c.inFlight.clear();
        c.drop = m -> m.to().equals("n1"); // n1 hears nothing any more
        c.elapse(300 * MS);
        c.tick("n1");
        assertThat(c.core("n1").role()).isEqualTo(Role.FOLLOWER);
        assertThat(c.events.get("n1")).as("never elected, so nothing to revoke").isEmpty();
    }

    @Test
    void aLeaseExpiresWithoutRenewalAndIsNeverReacquiredInTheSameTerm() {
        CoreCluster c = new CoreCluster(3);
        c.elect("n1");
        RaftCore leader = c.core("n1");
        long term = leader.term();
        long until = leader.leaseUntil();
        assertThat(leader.holdsLease(c.now)).isTrue();
        c.drop = m -> m.to().equals("n1"); // acknowledgements are lost from now on
        while (c.now < until - MS) {
            c.elapse(MS);
            c.tick("n1");
            c.inFlight.clear();
        }
        assertThat(leader.role()).isEqualTo(Role.LEADER);
        c.elapse(MS);
        c.tick("n1");
        assertThat(leader.holdsLease(c.now)).isFalse();
        assertThat(leader.role()).isEqualTo(Role.FOLLOWER);
        assertThat(c.events.get("n1")).last()
                .isEqualTo(new LeadershipEvent.Revoked(term, RevokeReason.LEASE_EXPIRED));
        c.drop = m -> false;
        c.run(3_000 * MS);
        assertThat(c.leaders()).hasSize(1);
        RaftCore now = c.core(c.leaders().get(0));
        assertThat(now.term()).isGreaterThan(term);
    }

    @Test
    void aFollowerWithAConflictingTailIsRepairedWithFewRoundTrips() {
        CoreCluster c = new CoreCluster(3);
        List<Entry> leaderLog = List.of(Entry.noop(1, 1), Entry.command(2, 1, bytes("a")),
                Entry.command(3, 2, bytes("b")), Entry.command(4, 3, bytes("c")), Entry.command(5, 3, bytes("d")));
        List<Entry> staleLog = List.of(Entry.noop(1, 1), Entry.command(2, 1, bytes("a")),
                Entry.command(3, 2, bytes("b")), Entry.command(4, 2, bytes("y")), Entry.command(5, 2, bytes("z")),
                Entry.command(6, 2, bytes("w")), Entry.command(7, 2, bytes("v")));
        c.add("n1", PlantedBugs.NONE, 64, new HardState(3, null), new RaftLog(0, 0, leaderLog));
        c.add("n2", PlantedBugs.NONE, 64, new HardState(3, null), new RaftLog(0, 0, leaderLog.subList(0, 3)));
        c.add("n3", PlantedBugs.NONE, 64, new HardState(2, null), new RaftLog(0, 0, staleLog));
        c.elect("n1");
        int rejections = 0;
        c.flush();
        while (!c.inFlight.isEmpty()) {
            Message m = c.inFlight.remove(0);
            if (m instanceof Message.AppendResponse r && !r.success() && r.from().equals("n3")) {
                rejections++;
            }
            c.core(m.to()).step(m, c.now);
            c.flush();
        }
        List<Entry> expected = c.core("n1").log().range(1, c.core("n1").lastIndex());
        assertThat(c.core("n3").log().range(1, c.core("n3").lastIndex())).isEqualTo(expected);
        assertThat(c.core("n2").log().range(1, c.core("n2").lastIndex())).isEqualTo(expected);
        assertThat(rejections).as("conflict hints skip whole terms").isLessThanOrEqualTo(2);
        c.run(200 * CoreCluster.MS); // the next heartbeat carries the commit index
        assertThat(c.core("n3").commitIndex()).isEqualTo(6);
    }

    /**
     * Figure 8 of the Raft paper: an entry of an earlier term stored on a majority is not committed
     * by counting replicas, because a node holding a conflicting entry of a later term can still
     * be elected and overwrite it.
     */
    @Test
    void entriesOfEarlierTermsAreNotCommittedByCountingReplicas() {
        assertThat(figure8(PlantedBugs.NONE)).as("index 2 committed by counting replicas").isLessThan(2);
        assertThat(figure8(PlantedBugs.COMMIT_OLD_TERM)).as("the planted bug commits it").isEqualTo(2);
    }

    private static long figure8(PlantedBugs bugs) {
        CoreCluster c = new CoreCluster(5, bugs, 1);
        Entry e1 = Entry.command(1, 1, bytes("1"));
        Entry e2 = Entry.command(2, 2, bytes("2"));
        Entry e2b = Entry.command(2, 3, bytes("3"));
        c.add("n1", bugs, 1, new HardState(3, null), new RaftLog(0, 0, List.of(e1, e2)));
        c.add("n2", bugs, 1, new HardState(3, null), new RaftLog(0, 0, List.of(e1)));
        c.add("n3", bugs, 1, new HardState(3, null), new RaftLog(0, 0, List.of(e1)));
        c.add("n4", bugs, 1, new HardState(3, null), new RaftLog(0, 0, List.of(e1)));
        c.add("n5", bugs, 1, new HardState(3, null), new RaftLog(0, 0, List.of(e1, e2b)));
        c.elapse(2 * 300 * MS + 1);
        c.tick("n1");
        // n1 wins term 4 with n2, n3 and n4; it replicates index 2 (term 2) to n2 and n3, one entry per
        // append, but its own entry 3 (term 4) reaches nobody. n5 could still win term 5 with n2, n3, n4
        // and overwrite index 2 with its own entry of term 3.
        c.deliverOnly(m -> !(m instanceof Message.Append a) || a.entries().stream().allMatch(e -> e.index() <= 2)
                || c.core(a.to()).lastIndex() < 2);
        assertThat(c.core("n1").role()).isEqualTo(Role.LEADER);
        assertThat(c.core("n3").log().term(2)).isEqualTo(2);
        assertThat(c.core("n2").log().term(2)).isEqualTo(2);
        assertThat(c.core("n5").log().term(2)).isEqualTo(3);
        return c.core("n1").commitIndex();
    }

    @Test
    void leadershipTransferRevokesTheOldLeaderBeforeTheTargetCampaigns() {
        CoreCluster c = new CoreCluster(3);
        c.elect("n1");
        long term = c.core("n1").term();
        c.core("n1").propose(bytes("x"), c.now);
        c.deliverAll();
        assertThat(c.core("n1").transferLeadership("n2", c.now)).isTrue();
        c.flush();
        // The revoke is recorded as soon as TimeoutNow is handed out, in the same Ready.
        assertThat(c.inFlight).anyMatch(m -> m instanceof Message.TimeoutNow);
        assertThat(c.events.get("n1")).last()
                .isEqualTo(new LeadershipEvent.Revoked(term, RevokeReason.LEADERSHIP_TRANSFERRED));
        assertThat(c.core("n1").holdsLease(c.now)).isFalse();
        c.deliverAll();
        assertThat(c.leaders()).containsExactly("n2");
        assertThat(c.core("n2").term()).isEqualTo(term + 1);
        assertThat(c.events.get("n2")).last().isInstanceOf(LeadershipEvent.Elected.class);
        assertThat(c.core("n1").propose(bytes("y"), c.now)).isZero();
    }

    /**
     * Three nodes, led by n1 for a while; then the process of {@code gone} is gone: nothing is
     * delivered to or from it any more.
     */
    private static CoreCluster ledByN1Until(String gone) {
        CoreCluster c = new CoreCluster(3);
        c.elect("n1");
        c.run(200 * MS);
        c.drop = CoreCluster.isolate(gone);
        return c;
    }

    @Test
    void aRefusedConnectionToTheLeaderEndsStickinessAtOnce() {
        CoreCluster c = ledByN1Until("n1");
        c.core("n2").peerUnreachable("n1", c.now);
        c.core("n3").peerUnreachable("n1", c.now);
        long start = c.now;
        while (c.leaders().stream().noneMatch(id -> !id.equals("n1")) && c.now < start + 300 * MS) {
            c.run(MS);
        }
        assertThat(c.now - start).as("elected without waiting out stickiness").isLessThan(100 * MS);
    }

    /**
     * A transport may hold what is sent to a peer whose process is gone and hand it to the restarted
     * node (the gRPC transport queues it): a leader whose connection to a follower is refused must
     * not send it a probe with entries per refused attempt. It probes once the follower answers again.
     */
    @Test
    void aLeaderSendsNoEntriesToAFollowerWhoseConnectionIsRefusedUntilItAnswersAgain() {
        CoreCluster c = ledByN1Until("n3");
        int before = c.sent.size();
        c.core("n1").peerUnreachable("n3", c.now);
        for (int attempt = 0; attempt < 3; attempt++) {
            assertThat(c.core("n1").propose(bytes("cmd" + attempt), c.now)).isPositive();
            c.run(150 * MS);
            c.core("n1").peerUnreachable("n3", c.now);  // the transport's next attempt is refused too
            c.deliverAll();
        }
        assertThat(c.sent.subList(before, c.sent.size()))
                .as("entries sent to n3 while its connection was refused")
                .noneMatch(m -> m instanceof Message.Append a && a.to().equals("n3") && !a.entries().isEmpty());
        assertThat(c.sent.subList(before, c.sent.size())).as("heartbeats go on")
                .anyMatch(m -> m instanceof Message.Heartbeat h && h.to().equals("n3"));

        c.drop = m -> false;                // n3 is back: it answers a heartbeat, the leader probes it
        c.run(300 * MS);
        assertThat(c.applied.get("n3")).as("n3 caught up").hasSameSizeAs(c.applied.get("n1"));
    }

    @Test
    void afterALeaderCrashTheFollowersTakeTurnsByIdSoThatTheyDoNotSplitTheVote() {
        CoreCluster c = ledByN1Until("n1");
        long t = c.now;
        c.core("n2").peerUnreachable("n1", t);
        c.core("n3").peerUnreachable("n1", t);
        assertThat(c.core("n2").nextDeadline() - t).as("the first in id order asks at once")
                .isLessThanOrEqualTo(15 * MS);
        assertThat(c.core("n3").nextDeadline() - t).as("the second waits its turn")
                .isGreaterThanOrEqualTo(60 * MS).isLessThanOrEqualTo(75 * MS);
    }

    @Test
    void whenTheLeaderGoesSilentTheFollowersTakeTurnsByIdInsteadOfDrawingFromTwoTimeouts() {
        CoreCluster c = ledByN1Until("n1");   // n1 is cut off: no refusal, only silence
        long cut = c.now;
        long term = c.core("n1").term();
        int before = c.sent.size();
        assertThat(c.core("n2").nextDeadline() - cut).as("the first in id order: one timeout and its jitter")
                .isLessThanOrEqualTo(E + E / 20);
        assertThat(c.core("n3").nextDeadline() - c.core("n2").nextDeadline()).as("the second waits its turn")
                .isGreaterThanOrEqualTo(E / 5 - E / 20);
        while (c.leaders().stream().noneMatch(id -> !id.equals("n1")) && c.now < cut + 2 * E) {
            c.run(MS);
        }
        assertThat(c.leaders()).contains("n2");
        assertThat(c.core("n2").term()).as("one election, no split vote").isEqualTo(term + 1);
        assertThat(c.now - cut).as("elected within one timeout and a jitter").isLessThanOrEqualTo(E + E / 20 + 2 * MS);
        assertThat(c.sent.subList(before, c.sent.size())).as("n3 never asked")
                .noneMatch(m -> m.from().equals("n3") && (m instanceof Message.PreVote || m instanceof Message.Vote));
    }

    @Test
    void aPreVoteHeldForStickinessIsAnsweredWhenTheVotersWindowEnds() {
        CoreCluster c = new CoreCluster(3);
        c.elect("n1");
        c.run(200 * MS);
        // n2 stops hearing n1 a heartbeat before n3 does: its turn comes while n3 still sticks to n1
        c.drop = m -> m.from().equals("n1") && m.to().equals("n2");
        c.run(100 * MS);
        c.drop = CoreCluster.isolate("n1");
        long n3LastHeard = c.now;
        long term = c.core("n1").term();
        int before = c.sent.size();
        while (c.leaders().stream().noneMatch(id -> !id.equals("n1")) && c.now < n3LastHeard + 2 * E) {
            c.run(MS);
        }
        assertThat(c.leaders()).as("n2 won with the pre-vote n3 held back").contains("n2");
        assertThat(c.core("n2").term()).isEqualTo(term + 1);
        assertThat(c.now - n3LastHeard).as("as soon as n3's window ended, before n3's own turn")
                .isLessThan(E + E / 5 - E / 20);
        assertThat(c.sent.subList(before, c.sent.size())).as("n2 asked once")
                .filteredOn(m -> m instanceof Message.PreVote p && p.from().equals("n2") && p.to().equals("n3"))
                .hasSize(1);
    }

    @Test
    void aPreVoteRefusedForStickinessIsGrantedOnceTheVoterFindsTheLeaderGone() {
        CoreCluster c = ledByN1Until("n1");
        // n2 found n1's process gone; n3 has not checked yet and refuses n2's pre-vote (a leader is alive)
        c.core("n2").peerUnreachable("n1", c.now);
        long start = c.now;
        while (c.core("n2").role() == Role.FOLLOWER && c.now < start + 50 * MS) {
            c.elapse(MS);
            c.tick("n2");
        }
        assertThat(c.core("n2").role()).isEqualTo(Role.PRE_CANDIDATE);
        c.deliverAll();
        assertThat(c.core("n2").role()).as("n3 still sticks to n1").isEqualTo(Role.PRE_CANDIDATE);
        // n3's own attempt is refused a moment later: it answers the pre-vote it held back
        c.core("n3").peerUnreachable("n1", c.now);
        c.deliverAll();
        assertThat(c.leaders()).as("no further election timeout needed").contains("n2");
        assertThat(c.now - start).isLessThan(50 * MS);
    }

    @Test
    void withFastFailoverOffARefusedConnectionToTheLeaderIsIgnored() {
        CoreCluster c = new CoreCluster(3, cfg -> cfg.withFastFailover(false));
        c.elect("n1");
        c.run(200 * MS);
        c.drop = CoreCluster.isolate("n1"); // n1's process is gone, but the switch says not to trust refusals
        c.core("n2").peerUnreachable("n1", c.now);
        c.core("n3").peerUnreachable("n1", c.now);
        assertThat(c.core("n2").leader()).as("n2 still follows n1").isEqualTo("n1");
        assertThat(c.core("n3").leader()).as("n3 still follows n1").isEqualTo("n1");
        long start = c.now;
        while (c.leaders().stream().noneMatch(id -> !id.equals("n1")) && c.now < start + 3_000 * MS) {
            c.run(MS);
        }
        assertThat(c.leaders()).as("a new leader once stickiness ran out").anyMatch(id -> !id.equals("n1"));
        // The last heartbeat reached them at most one heartbeat interval (100 ms) before the refusal, and
        // nobody campaigns within an election timeout (300 ms) of it: no election in the first 150 ms.
        assertThat(c.now - start).as("elected only after stickiness ran out").isGreaterThan(150 * MS);
    }

    @Test
    void proposalsReplicateCommitAndApplyEverywhereInOrder() {
        CoreCluster c = new CoreCluster(3);
        c.elect("n1");
        for (int i = 0; i < 100; i++) {
            assertThat(c.core("n1").propose(bytes("cmd" + i), c.now)).isEqualTo(i + 2);
        }
        c.deliverAll();
        c.run(300 * MS);
        for (String id : c.ids) {
            assertThat(c.applied.get(id)).hasSize(101);
            assertThat(c.applied.get(id).get(100).data()).isEqualTo(bytes("cmd99"));
        }
        assertThat(c.core("n2").propose(bytes("no"), c.now)).as("followers refuse proposals").isZero();
    }

    @Test
    void aReadIsConfirmedByAMajorityRoundAndFailsIfLeadershipIsLostFirst() {
        CoreCluster c = new CoreCluster(3);
        assertThat(c.core("n1").readIndex(1, c.now)).as("no reads before leading").isFalse();
        c.elect("n1");
        c.core("n1").propose(bytes("x"), c.now);
        c.deliverAll();
        long commit = c.core("n1").commitIndex();
        assertThat(c.core("n1").readIndex(7, c.now)).isTrue();
        c.flush();
        assertThat(c.reads.get("n1")).as("not before a majority confirmed a round").isEmpty();
        c.deliverAll();
        assertThat(c.reads.get("n1")).containsExactly(new ReadState(7, commit));

        assertThat(c.core("n1").readIndex(8, c.now)).isTrue();
        c.drop = CoreCluster.isolate("n1");
        c.deliverAll();
        c.elapse(400 * MS);
        c.tick("n1");
        assertThat(c.reads.get("n1")).last().isEqualTo(new ReadState(8, -1));
    }

    // ------------------------------------------------------------------ snapshots

    /** n1 leads, n3 is cut off while 40 entries commit, then n1 and n2 compact their logs. */
    private static CoreCluster compactedWhileN3WasAway() {
        CoreCluster c = new CoreCluster(3);
        c.elect("n1");
        c.drop = CoreCluster.isolate("n3");
        for (int i = 0; i < 40; i++) {
            c.core("n1").propose(bytes("cmd" + i), c.now);
        }
        c.deliverAll();
        c.run(200 * MS); // a heartbeat brings n2's commit index along
        long commit = c.core("n1").commitIndex();
        assertThat(commit).isEqualTo(41);
        assertThat(c.core("n3").lastIndex()).isEqualTo(1);
        c.compact("n1", commit, 50);
        c.compact("n2", c.core("n2").commitIndex(), 50);
        assertThat(c.core("n1").log().firstIndex()).isEqualTo(42);
        return c;
    }

    @Test
    void aFollowerFarBehindACompactedLeaderCatchesUpThroughAMultiChunkSnapshotThenAppends() {
        CoreCluster c = compactedWhileN3WasAway();
        c.drop = m -> false;
        c.run(300 * MS);
        List<Message.InstallSnapshot> chunks = c.sent.stream()
                .filter(m -> m instanceof Message.InstallSnapshot).map(m -> (Message.InstallSnapshot) m).toList();
        assertThat(chunks).as("50 bytes in 8-byte chunks").hasSize(7);
        assertThat(chunks).extracting(Message.InstallSnapshot::offset).containsExactly(0L, 8L, 16L, 24L, 32L, 40L, 48L);
        assertThat(chunks.get(6).last()).isTrue();
        assertThat(c.installed.get("n3")).hasSize(1);
        CoreCluster.Snapshot got = c.installed.get("n3").get(0);
        assertThat(got.index()).isEqualTo(41);
        assertThat(got.data()).isEqualTo(c.snapshots.get("n1").data());
        RaftCore n3 = c.core("n3");
        assertThat(n3.log().snapshotIndex()).isEqualTo(41);
        assertThat(n3.commitIndex()).isEqualTo(41);
        assertThat(c.core("n1").progress("n3").mode()).isEqualTo(io.haraft.core.progress.Progress.Mode.REPLICATE);
        assertThat(c.core("n1").progress("n3").match()).isEqualTo(41);

        // From here on, plain appends: n3 applies what follows the snapshot, nothing before it again.
        int appliedBefore = c.applied.get("n3").size();
        for (int i = 0; i < 5; i++) {
            c.core("n1").propose(bytes("after" + i), c.now);
        }
        c.deliverAll();
        c.run(200 * MS);
        assertThat(n3.commitIndex()).isEqualTo(46);
        assertThat(n3.log().range(42, 46)).isEqualTo(c.core("n1").log().range(42, 46));
        assertThat(c.applied.get("n3").subList(appliedBefore, c.applied.get("n3").size()))
                .extracting(Entry::index).containsExactly(42L, 43L, 44L, 45L, 46L);
        assertThat(c.sent.stream().filter(m -> m instanceof Message.InstallSnapshot)).hasSize(7);
    }

    @Test
    void anOutOfOrderChunkIsAnsweredWithTheExpectedOffsetAndNotPersisted() {
        List<String> voters = List.of("n1", "n2", "n3");
        long now = 1_000 * MS;
        RaftCore f = new RaftCore(CoreConfig.defaults("n2", voters), HardState.INITIAL, RaftLog.empty(), now,
                new java.util.SplittableRandom(1), null);
        f.step(new Message.InstallSnapshot("n1", "n2", 1, 10, 1, 0, bytes("01234567"), false, 3), now);
        f.step(new Message.InstallSnapshot("n1", "n2", 1, 10, 1, 16, bytes("GHIJKLMN"), false, 4), now);
        f.step(new Message.InstallSnapshot("n1", "n2", 1, 12, 1, 8, bytes("xxxxxxxx"), false, 4), now);
        Ready r = f.ready();
        assertThat(r.snapshotChunks()).containsExactly(new Ready.SnapshotChunk(10, 1, 0, bytes("01234567"), false));
        assertThat(r.installSnapshot()).isNull();
        assertThat(r.messages()).containsExactly(
                new Message.InstallSnapshotResponse("n2", "n1", 1, 10, 8, false, 3, E),
                new Message.InstallSnapshotResponse("n2", "n1", 1, 10, 8, false, 4, E),
                new Message.InstallSnapshotResponse("n2", "n1", 1, 12, 0, false, 4, E));
        f.advance(r, now);
        assertThat(f.leader()).as("chunks are leader contact").isEqualTo("n1");

        f.step(new Message.InstallSnapshot("n1", "n2", 1, 10, 1, 8, bytes("89"), true, 5), now);
        r = f.ready();
        assertThat(r.snapshotChunks()).containsExactly(new Ready.SnapshotChunk(10, 1, 8, bytes("89"), true));
        assertThat(r.installSnapshot()).isEqualTo(new Ready.SnapshotPoint(10, 1,
                io.haraft.core.quorum.Membership.ofVoters(voters)));
        assertThat(r.messages()).containsExactly(new Message.InstallSnapshotResponse("n2", "n1", 1, 10, 10, true, 5, E));
        assertThat(r.committed()).isEmpty();
        f.advance(r, now);
        assertThat(f.commitIndex()).isEqualTo(10);
        assertThat(f.log().firstIndex()).isEqualTo(11);

        // A chunk of a snapshot the follower already covers is answered "done" at once.
        f.step(new Message.InstallSnapshot("n1", "n2", 1, 9, 1, 0, bytes("0"), false, 6), now);
        r = f.ready();
        assertThat(r.snapshotChunks()).isEmpty();
        assertThat(r.messages()).containsExactly(new Message.InstallSnapshotResponse("n2", "n1", 1, 9, 0, true, 6, E));
    }

    @Test
    void aStalledTransferRestartsFromTheFirstChunk() {
        CoreCluster c = compactedWhileN3WasAway();
        // n3 is back, but every chunk after the third is lost.
        c.drop = m -> m instanceof Message.InstallSnapshot is && is.offset() >= 24;
        c.run(100 * MS);
        assertThat(c.installed.get("n3")).isEmpty();
        long lostAt = c.now;
        c.drop = m -> false;
        // Heartbeats keep flowing; nothing moves the transfer until an election timeout has passed.
        c.run(250 * MS);
        assertThat(c.installed.get("n3")).isEmpty();
        assertThat(c.core("n3").role()).as("chunks and heartbeats keep n3 a follower").isEqualTo(Role.FOLLOWER);
        c.run(200 * MS);
        assertThat(c.installed.get("n3")).hasSize(1);
        List<Long> offsets = c.sent.stream().filter(m -> m instanceof Message.InstallSnapshot)
                .map(m -> ((Message.InstallSnapshot) m).offset()).toList();
        assertThat(offsets).containsExactly(0L, 8L, 16L, 24L, 0L, 8L, 16L, 24L, 32L, 40L, 48L);
        assertThat(c.core("n1").progress("n3").match()).isEqualTo(41);
        assertThat(c.now - lostAt).isGreaterThanOrEqualTo(300 * MS);
    }

    @Test
    void aTransferOfASnapshotTheRuntimeNoLongerHasRestartsWithTheNewestOne() {
        CoreCluster c = compactedWhileN3WasAway();
        c.drop = m -> false;
        c.serveSnapshots = false;
        c.run(100 * MS);
        assertThat(c.requests).containsExactly(new Ready.SnapshotRequest("n3", 41, 1, 0));
        // Meanwhile n1 commits more and snapshots again: the old snapshot is gone.
        c.requests.clear();
        c.core("n1").propose(bytes("more"), c.now);
        c.deliverAll();
        c.run(100 * MS);
        c.compact("n1", 42, 30);
        c.core("n1").snapshotUnavailable("n3", c.now);
        c.flush();
        assertThat(c.requests).containsExactly(new Ready.SnapshotRequest("n3", 42, 1, 0));
        c.requests.clear();
        c.serveSnapshots = true;
        c.serve("n1", new Ready.SnapshotRequest("n3", 42, 1, 0));
        c.run(100 * MS);
        assertThat(c.installed.get("n3")).extracting(CoreCluster.Snapshot::index).containsExactly(42L);
        assertThat(c.core("n3").commitIndex()).isEqualTo(42);
    }

    /**
     * n1 leads; while n3 is cut off it adds the learner n4 (never started), commits 20 commands and
     * compacts; then n3 is back, and n1 asks for chunk 0 of that snapshot for it, but nothing is
     * served. Meanwhile n1 commits one more entry and compacts again. Returns the first snapshot.
     */
    private static CoreCluster.Snapshot learnerAddedThenCompactedTwice(CoreCluster c) {
        c.elect("n1");
        c.drop = m -> m.to().equals("n3") || m.from().equals("n3") || m.to().equals("n4");
        io.haraft.core.quorum.Membership withLearner = c.core("n1").membership()
                .withMember(new io.haraft.core.quorum.Membership.Member("n4", "", io.haraft.core.quorum.Membership.Role.LEARNER));
        c.core("n1").changeMembership(withLearner, c.now);
        for (int i = 0; i < 20; i++) {
            c.core("n1").propose(bytes("cmd" + i), c.now);
        }
        c.deliverAll();
        c.run(200 * MS);
        long first = c.core("n1").commitIndex();
        c.compact("n1", first, 20);
        CoreCluster.Snapshot old = c.snapshots.get("n1");
        assertThat(old.membership()).isEqualTo(withLearner);

        c.drop = m -> m.to().equals("n4");
        c.serveSnapshots = false;
        c.run(100 * MS);
        assertThat(c.requests).containsExactly(new Ready.SnapshotRequest("n3", first, old.term(), 0));
        c.requests.clear();
        c.core("n1").propose(bytes("more"), c.now);
        c.deliverAll();
        c.run(100 * MS);
        assertThat(c.core("n1").commitIndex()).isEqualTo(first + 1);
        c.compact("n1", first + 1, 20);
        assertThat(c.requests).isEmpty();
        return old;
    }

    @Test
    void aChunkAnsweredAfterTheLeaderCompactedFurtherCarriesTheConfigurationStoredWithItsSnapshot() {
        CoreCluster c = new CoreCluster(3);
        CoreCluster.Snapshot old = learnerAddedThenCompactedTwice(c);
        // The runtime read the chunks of the old snapshot just before the new one replaced it.
        long offset = 0;
        for (int guard = 0; c.installed.get("n3").isEmpty(); guard++) {
            assertThat(guard).as("chunks of 8 bytes").isLessThan(5);
            int to = (int) Math.min(old.data().length, offset + 8);
            c.core("n1").snapshotChunk("n3", old.index(), old.term(), offset,
                    java.util.Arrays.copyOfRange(old.data(), (int) offset, to), to == old.data().length, old.membership(),
                    c.now);
            c.deliverAll();
            offset = to;
        }
        List<Message.InstallSnapshot> chunks = c.sent.stream().filter(m -> m instanceof Message.InstallSnapshot)
                .map(m -> (Message.InstallSnapshot) m).toList();
        assertThat(chunks).hasSize(3).allSatisfy(m -> {
            assertThat(m.snapIndex()).isEqualTo(old.index());
            assertThat(m.membership()).as("the configuration sent with %s", m).isEqualTo(old.membership());
        });
        assertThat(c.installed.get("n3")).extracting(CoreCluster.Snapshot::index).containsExactly(old.index());
        assertThat(c.installed.get("n3").get(0).membership()).isEqualTo(old.membership());
        assertThat(c.core("n3").membership().contains("n4")).as("n3 knows the learner from the snapshot alone").isTrue();
    }

    @Test
    void aChunkOfAnOlderSnapshotThatRecordsNoConfigurationRestartsTheTransferWithTheCurrentOne() {
        CoreCluster c = new CoreCluster(3);
        CoreCluster.Snapshot old = learnerAddedThenCompactedTwice(c);
        c.core("n1").snapshotChunk("n3", old.index(), old.term(), 0, java.util.Arrays.copyOf(old.data(), 8), false,
                null, c.now);
        c.flush();
        assertThat(c.sent.stream().filter(m -> m instanceof Message.InstallSnapshot))
                .as("nothing sent without the configuration at its index").isEmpty();
        assertThat(c.requests).containsExactly(new Ready.SnapshotRequest("n3", old.index() + 1, old.term(), 0));
        c.requests.clear();
        c.serveSnapshots = true;
        c.serve("n1", new Ready.SnapshotRequest("n3", old.index() + 1, old.term(), 0));
        c.run(100 * MS);
        assertThat(c.installed.get("n3")).extracting(CoreCluster.Snapshot::index).containsExactly(old.index() + 1);
        assertThat(c.core("n3").membership().contains("n4")).isTrue();
    }

    /**
     * A follower acknowledges chunks before they are durable (see {@link Ready}); if it restarts
     * mid-transfer, it knows no transfer in progress: it answers the leader's next chunk with offset
     * 0, and the leader starts over from byte 0 at once, without waiting for the stall timeout.
     */
    @Test
    void aFollowerRestartedMidTransferAnswersTheNextChunkWithOffsetZeroAndTheLeaderStartsOver() {
        CoreCluster c = compactedWhileN3WasAway();
        c.drop = m -> false;
        java.util.function.Predicate<Message> held = m -> m instanceof Message.InstallSnapshot is && is.offset() == 24;
        for (int guard = 0; c.inFlight.stream().noneMatch(held); guard++) {
            assertThat(guard).as("steps until chunk 24 is on its way").isLessThan(50);
            c.elapse(10 * MS);
            c.tickAll();
            c.deliverOnly(held.negate());
        }
        assertThat(c.core("n3").log().snapshotIndex()).as("n3 has not installed the snapshot").isZero();
        RaftCore before = c.core("n3");
        c.add("n3", PlantedBugs.NONE, 64, new HardState(before.term(), before.votedFor()),
                new RaftLog(0, 0, before.log().range(1, before.lastIndex())));
        long restartedAt = c.now;

        c.deliverAll();
        assertThat(c.sent).contains(new Message.InstallSnapshotResponse("n3", "n1", before.term(), 41, 0, false,
                ((Message.InstallSnapshot) c.sent.stream().filter(held).findFirst().orElseThrow()).round(), E));
        c.run(50 * MS);
        assertThat(c.installed.get("n3")).extracting(CoreCluster.Snapshot::index).containsExactly(41L);
        assertThat(c.installed.get("n3").get(0).data()).isEqualTo(c.snapshots.get("n1").data());
        List<Long> offsets = c.sent.stream().filter(m -> m instanceof Message.InstallSnapshot)
                .map(m -> ((Message.InstallSnapshot) m).offset()).toList();
        assertThat(offsets).containsExactly(0L, 8L, 16L, 24L, 0L, 8L, 16L, 24L, 32L, 40L, 48L);
        assertThat(c.now - restartedAt).as("no stall timeout was needed").isLessThan(100 * MS);
        assertThat(c.core("n1").progress("n3").match()).isEqualTo(41);
    }
}
