package io.haraft.core.lease;

import io.haraft.core.quorum.Quorum;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class LeaseTrackerTest {
    private static final long E = 300;

    @Test
    void theLeaseRunsFromTheStartOfTheLastRoundAMajorityAcknowledged() {
        LeaseTracker t = new LeaseTracker(Quorum.of(List.of("a", "b", "c")), "a", E, 0.01);
        assertThat(t.acquired()).isFalse();
        long r1 = t.startRound(1000);
        long r2 = t.startRound(1100);
        t.onAck("b", r2, E);
        // lease measured from the round's start, shortened by the drift bound: 300 * (1 - 0.02) = 294
        assertThat(t.leaseUntil()).isEqualTo(1100 + 294);
        t.onAck("c", r1, E); // an older round never shortens the lease
        assertThat(t.leaseUntil()).isEqualTo(1100 + 294);
        assertThat(t.isValid(1393)).isTrue();
        assertThat(t.isValid(1394)).isFalse();
    }

    @Test
    void oneAcknowledgementIsNotAMajorityOfFive() {
        LeaseTracker t = new LeaseTracker(Quorum.of(List.of("a", "b", "c", "d", "e")), "a", E, 0.01);
        long r = t.startRound(0);
        t.onAck("b", r, E);
        assertThat(t.acquired()).isFalse();
        t.onAck("c", r, E);
        assertThat(t.acquired()).isTrue();
    }

    @Test
    void acknowledgementsOfUnknownRoundsOrNodesAreIgnored() {
        LeaseTracker t = new LeaseTracker(Quorum.of(List.of("a", "b", "c")), "a", E, 0.01);
        t.startRound(0);
        t.onAck("b", 7, E);
        t.onAck("zz", 1, E);
        assertThat(t.acquired()).isFalse();
    }

    @Test
    void anAcknowledgementThatPromisesLessThanTheLeaseReliesOnDoesNotCount() {
        LeaseTracker t = new LeaseTracker(Quorum.of(List.of("a", "b", "c")), "a", E, 0.01);
        long r = t.startRound(0);
        t.onAck("b", r, E - 1); // b honours a shorter window than the leader relies on
        t.onAck("c", r, 0);     // c promises nothing (a peer that does not know the field)
        assertThat(t.acquired()).isFalse();
        t.onAck("c", r, 2 * E); // a longer promise covers it
        assertThat(t.acquired()).isTrue();
        assertThat(t.leaseUntil()).as("the lease still relies on the leader's own timeout only").isEqualTo(294);
    }

    @Test
    void anAcknowledgementOfExactlyTheStickinessCountsAndOfRoundZeroNever() {
        LeaseTracker t = new LeaseTracker(Quorum.of(List.of("a", "b", "c")), "a", E, 0.01);
        assertThat(t.reliesOn()).isEqualTo(E);
        t.onAck("b", 0, E); // round 0: sent before any round started
        assertThat(t.acquired()).isFalse();
        long r = t.startRound(0);
        assertThat(t.currentRound()).isEqualTo(r);
        t.onAck("b", r + 1, E); // a round not started yet
        assertThat(t.acquired()).isFalse();
        assertThat(t.quorumRound()).isZero();
        t.onAck("b", r, E);
        assertThat(t.acquired()).isTrue();
        assertThat(t.quorumRound()).isEqualTo(r);
        assertThat(t.leaseUntil()).isEqualTo(294);
    }

    @Test
    void aLaterRoundExtendsTheLeaseAndAnOlderAcknowledgementNeverShortensIt() {
        LeaseTracker t = new LeaseTracker(Quorum.of(List.of("a", "b", "c")), "a", E, 0.0);
        long r1 = t.startRound(100);
        long r2 = t.startRound(200);
        long r3 = t.startRound(300);
        t.onAck("b", r2, E);
        assertThat(t.leaseUntil()).isEqualTo(200 + E);
        assertThat(t.quorumRound()).isEqualTo(r2);
        t.onAck("c", r1, E);
        assertThat(t.leaseUntil()).isEqualTo(200 + E);
        assertThat(t.quorumRound()).isEqualTo(r2);
        t.onAck("c", r3, E);
        assertThat(t.leaseUntil()).isEqualTo(300 + E);
        assertThat(t.quorumRound()).isEqualTo(r3);
        assertThat(t.isValid(300 + E - 1)).isTrue();
        assertThat(t.isValid(300 + E)).isFalse();
    }

    @Test
    void aSingleVoterHoldsTheLeaseFromItsOwnRound() {
        LeaseTracker t = new LeaseTracker(Quorum.of(List.of("a")), "a", E, 0.0);
        assertThat(t.leaseUntil()).isEqualTo(LeaseTracker.NO_LEASE);
        assertThat(t.isValid(0)).isFalse();
        t.startRound(50);
        assertThat(t.leaseUntil()).isEqualTo(50 + E);
        assertThat(t.quorumRound()).isEqualTo(1);
    }

    @Test
    void aNewQuorumCountsOnlyItsOwnAcknowledgementsButKeepsTheLeaseGranted() {
        LeaseTracker t = new LeaseTracker(Quorum.of(List.of("a", "b", "c")), "a", E, 0.0);
        long r1 = t.startRound(0);
        t.onAck("b", r1, E);
        assertThat(t.leaseUntil()).isEqualTo(E);
        long r2 = t.startRound(100);
        t.onAck("b", r2, E);
        assertThat(t.leaseUntil()).isEqualTo(100 + E);
        long r3 = t.startRound(200);
        t.onAck("b", r3, E);
        // joint with {a, d, e}: b's acknowledgement is not a majority of the second set
        t.setQuorum(Quorum.joint(Quorum.of(List.of("a", "b", "c")), Quorum.of(List.of("a", "d", "e"))));
        long r4 = t.startRound(300);
        t.onAck("b", r4, E);
        assertThat(t.leaseUntil()).as("granted before stays; r4 not yet a joint majority").isEqualTo(200 + E);
        t.onAck("d", r4, E);
        assertThat(t.leaseUntil()).isEqualTo(300 + E);
    }

    @Test
    void setQuorumRecomputesWithTheAcknowledgementsAlreadyReceived() {
        LeaseTracker t = new LeaseTracker(Quorum.of(List.of("a", "b", "c", "d", "e")), "a", E, 0.0);
        long r = t.startRound(10);
        t.onAck("b", r, E);
        assertThat(t.acquired()).isFalse();
        t.setQuorum(Quorum.of(List.of("a", "b", "c")));
        assertThat(t.leaseUntil()).isEqualTo(10 + E);
    }

    @Test
    void theDriftBoundMustBeInZeroToOneHalf() {
        org.assertj.core.api.Assertions.assertThatThrownBy(
                () -> new LeaseTracker(Quorum.of(List.of("a")), "a", E, 0.5))
                .isInstanceOf(IllegalArgumentException.class);
        org.assertj.core.api.Assertions.assertThatThrownBy(
                () -> new LeaseTracker(Quorum.of(List.of("a")), "a", E, -0.01))
                .isInstanceOf(IllegalArgumentException.class);
        LeaseTracker t = new LeaseTracker(Quorum.of(List.of("a")), "a", 1000, 0.25);
        t.startRound(0);
        assertThat(t.leaseUntil()).as("1000 * (1 - 2 * 0.25)").isEqualTo(500);
    }
}
