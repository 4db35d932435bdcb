package io.haraft.core;

import io.haraft.RevokeReason;
import org.junit.jupiter.api.Test;

import static io.haraft.core.CoreCluster.MS;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The gate between the core's leadership events and the application: an {@code elected} is
 * delivered only while the core still leads that term under a valid lease at the moment of
 * delivery, and {@code elected}/{@code revoked} strictly alternate.
 */
class LeadershipGateTest {

    private static CoreCluster elected() {
        CoreCluster c = new CoreCluster(3);
        c.elect("n1");
        assertThat(c.events.get("n1")).singleElement().isInstanceOf(LeadershipEvent.Elected.class);
        return c;
    }

    @Test
    void anElectedWithinTheLeaseIsDeliveredAndItsRevokedClosesIt() {
        CoreCluster c = elected();
        RaftCore n1 = c.core("n1");
        LeadershipEvent.Elected e = (LeadershipEvent.Elected) c.events.get("n1").get(0);
        LeadershipGate gate = new LeadershipGate();
        assertThat(gate.isOpen()).isFalse();
        assertThat(gate.openTerm()).isEqualTo(-1);
        assertThat(gate.filter(e, n1, n1.leaseUntil() - 1)).isSameAs(e);
        assertThat(gate.isOpen()).isTrue();
        assertThat(gate.openTerm()).isEqualTo(e.term());
        assertThat(gate.filter(e, n1, c.now)).as("a second elected while one is open").isNull();
        assertThat(gate.filter(new LeadershipEvent.Revoked(e.term() + 1, RevokeReason.HIGHER_TERM), n1, c.now))
                .as("a revoked of another term").isNull();
        assertThat(gate.isOpen()).isTrue();
        LeadershipEvent.Revoked r = new LeadershipEvent.Revoked(e.term(), RevokeReason.STEPPED_DOWN);
        assertThat(gate.filter(r, n1, c.now)).isSameAs(r);
        assertThat(gate.isOpen()).isFalse();
        assertThat(gate.openTerm()).isEqualTo(-1);
        assertThat(gate.filter(r, n1, c.now)).as("no revoked without an open elected").isNull();
    }

    @Test
    void anElectedWhoseLeaseRanOutBeforeDeliveryIsDroppedWithItsRevoked() {
        CoreCluster c = elected();
        RaftCore n1 = c.core("n1");
        LeadershipEvent e = c.events.get("n1").get(0);
        LeadershipGate gate = new LeadershipGate();
        assertThat(gate.filter(e, n1, n1.leaseUntil())).as("delivered at the instant the lease ends").isNull();
        assertThat(gate.isOpen()).isFalse();
        assertThat(gate.filter(new LeadershipEvent.Revoked(e.term(), RevokeReason.LEASE_EXPIRED), n1, c.now))
                .isNull();
    }

    @Test
    void anElectedOfATermTheCoreNoLongerLeadsIsDropped() {
        CoreCluster c = elected();
        RaftCore n1 = c.core("n1");
        LeadershipEvent e = c.events.get("n1").get(0);
        LeadershipGate gate = new LeadershipGate();
        LeadershipEvent.Elected older = new LeadershipEvent.Elected(e.term() - 1, n1.leaseUntil());
        assertThat(gate.filter(older, n1, c.now)).as("another term than the core's").isNull();
        n1.stepDown(RevokeReason.STEPPED_DOWN, c.now);
        assertThat(gate.filter(e, n1, c.now)).as("the core stepped down before delivery").isNull();
        assertThat(gate.isOpen()).isFalse();
    }

    @Test
    void anElectedOfALeaderThatHasNotReportedElectedIsDropped() {
        CoreCluster c = new CoreCluster(3);
        c.electWithoutCommit("n1");
        RaftCore n1 = c.core("n1");
        assertThat(n1.isElected()).isFalse();
        LeadershipGate gate = new LeadershipGate();
        assertThat(gate.filter(new LeadershipEvent.Elected(n1.term(), c.now + 100 * MS), n1, c.now)).isNull();
    }
}
