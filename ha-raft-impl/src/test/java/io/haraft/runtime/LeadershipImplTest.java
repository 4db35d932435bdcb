package io.haraft.runtime;

import io.haraft.LeaseExpiredException;
import io.haraft.RevokeReason;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LeadershipImplTest {
    private final AtomicLong now = new AtomicLong(1_000);
    private final MonotonicClock clock = now::get;

    @Test
    void validUntilTheLeaseEndsAndNeverAgain() {
        LeadershipImpl l = new LeadershipImpl("n1", 7, 2_000, 5, clock);
        assertThat(l.isValid()).isTrue();
        assertThat(l.token().value()).isEqualTo(7);
        assertThat(l.remainingLease()).isEqualTo(Duration.ofNanos(1_000));
        l.extendTo(3_000);
        now.set(2_500);
        assertThat(l.isValid()).isTrue();
        now.set(3_000);
        assertThat(l.isValid()).isFalse();
        l.extendTo(10_000);                       // too late: a lease is never re-acquired
        assertThat(l.isValid()).isFalse();
        assertThat(l.remainingLease()).isEqualTo(Duration.ZERO);
        now.set(3_400);
        assertThatThrownBy(l::checkValid).isInstanceOf(LeaseExpiredException.class)
                .satisfies(e -> {
                    LeaseExpiredException lee = (LeaseExpiredException) e;
                    assertThat(lee.token().value()).isEqualTo(7);
                    assertThat(lee.endedAgo()).isEqualTo(Duration.ofNanos(400));
                    assertThat(lee.reason()).isEmpty();
                });
    }

    @Test
    void extensionAfterTheEndIsRefusedEvenIfNobodyLookedInBetween() {
        LeadershipImpl l = new LeadershipImpl("n1", 3, 2_000, 1, clock);
        now.set(2_000);
        l.extendTo(5_000);
        assertThat(l.leaseUntil()).isEqualTo(2_000);
        assertThat(l.isValid()).isFalse();
    }

    @Test
    void revocationHappensOnceAndEndsValidityAtOnce() {
        LeadershipImpl l = new LeadershipImpl("n1", 4, 5_000, 1, clock);
        now.set(1_500);
        assertThat(l.revoke(RevokeReason.LEASE_EXPIRED)).isTrue();
        assertThat(l.revoke(RevokeReason.HIGHER_TERM)).isFalse();
        assertThat(l.revokeReason()).isEqualTo(RevokeReason.LEASE_EXPIRED);
        assertThat(l.isValid()).isFalse();
        now.set(1_700);
        assertThatThrownBy(l::checkValid).isInstanceOf(LeaseExpiredException.class)
                .satisfies(e -> {
                    LeaseExpiredException lee = (LeaseExpiredException) e;
                    assertThat(lee.reason()).contains(RevokeReason.LEASE_EXPIRED);
                    assertThat(lee.endedAgo()).isEqualTo(Duration.ofNanos(200));
                });
    }

    @Test
    void validUpToTheLastNanosecondBeforeTheLeaseEndAndANewerEndNeverShortensIt() {
        LeadershipImpl l = new LeadershipImpl("n1", 2, 2_000, 9, clock);
        assertThat(l.electedCommitIndex()).isEqualTo(9);
        assertThat(l.checkValid()).isEqualTo(l.token());
        l.extendTo(1_500);                        // an older, shorter lease is ignored
        l.extendTo(2_000);
        assertThat(l.leaseUntil()).isEqualTo(2_000);
        now.set(1_999);
        assertThat(l.isValid()).isTrue();
        assertThat(l.remainingLease()).isEqualTo(Duration.ofNanos(1));
        assertThat(l.toString()).contains("valid").doesNotContain("ended");
        now.set(2_000);
        assertThat(l.isValid()).isFalse();
        assertThat(l.remainingLease()).isEqualTo(Duration.ZERO);
        assertThat(l.toString()).contains("lease ended");
    }

    @Test
    void aLeaseThatRanOutBeforeItsRevocationEndedAtItsOwnEnd() {
        LeadershipImpl l = new LeadershipImpl("n1", 6, 2_000, 1, clock);
        now.set(2_500);
        assertThat(l.revoke(RevokeReason.STEPPED_DOWN)).isTrue();
        assertThat(l.toString()).contains("revoked STEPPED_DOWN");
        now.set(3_000);
        assertThat(l.expiredException().endedAgo()).isEqualTo(Duration.ofNanos(1_000));
        assertThat(l.expiredException().reason()).contains(RevokeReason.STEPPED_DOWN);
    }

    @Test
    void aRevokedLeadershipIsNeverExtendedAgain() {
        LeadershipImpl l = new LeadershipImpl("n1", 5, 2_000, 1, clock);
        assertThat(l.isRevoked()).isFalse();
        l.revoke(RevokeReason.HIGHER_TERM);
        assertThat(l.isRevoked()).isTrue();
        l.extendTo(9_000);
        assertThat(l.leaseUntil()).isEqualTo(2_000);
        assertThat(l.remainingLease()).isEqualTo(Duration.ZERO);
    }
}
