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
}
