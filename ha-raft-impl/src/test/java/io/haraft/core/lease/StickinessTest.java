package io.haraft.core.lease;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class StickinessTest {
    private static final long OWN = 100;

    @Test
    void theFirstAcknowledgementWaitsForItsPromiseToBeDurableAndLaterOnesDoNot() {
        Stickiness s = new Stickiness(OWN, 0, 0);
        assertThat(s.restartWindow()).isEqualTo(OWN);
        assertThat(s.acknowledge(10, 0)).as("nothing is durable yet").isTrue();
        assertThat(s.dirty()).isTrue();
        assertThat(s.promised()).isEqualTo(OWN);
        s.writing(s.promised());
        assertThat(s.acknowledge(20, 0)).as("the write is not durable yet").isTrue();
        assertThat(s.dirty()).isFalse();
        s.written();
        assertThat(s.acknowledge(30, 0)).isFalse();
        assertThat(s.dirty()).isFalse();
    }

    @Test
    void aLeaderWithALongerTimeoutGrowsThePromiseBeforeTheAnswerLeaves() {
        Stickiness s = durable(OWN);
        assertThat(s.window(1000)).isEqualTo(1000);
        assertThat(s.window(50)).isEqualTo(OWN);
        assertThat(s.acknowledge(100, 1000)).isTrue();
        assertThat(s.promised()).isEqualTo(1000);
        s.writing(1000);
        s.written();
        assertThat(s.acknowledge(150, 1000)).isFalse();
    }

    @Test
    void thePromiseShrinksOnlyOnceNoLongerWindowBinds() {
        Stickiness s = durable(1000);
        s.acknowledge(0, 1000);          // binds until 1000
        assertThat(s.acknowledge(500, 0)).as("a shorter window never waits").isFalse();
        assertThat(s.dirty()).as("the 1000 window still binds").isFalse();
        assertThat(s.acknowledge(1000, 0)).isFalse();
        assertThat(s.dirty()).isTrue();
        assertThat(s.promised()).isEqualTo(OWN);
        s.writing(OWN);
        // a longer window again while the shrink is being written: wait for the next write
        assertThat(s.acknowledge(1010, 1000)).isTrue();
        assertThat(s.promised()).isEqualTo(1000);
        assertThat(s.dirty()).isTrue();
    }

    @Test
    void aRestartedNodeIsBoundByItsDurablePromiseForThatLongAfterItStarts() {
        Stickiness s = new Stickiness(OWN, 1000, 5000);
        assertThat(s.restartWindow()).isEqualTo(1000);
        s.acknowledge(5100, 0);
        assertThat(s.promised()).as("promises made before the crash may bind until 6000").isEqualTo(1000);
        s.acknowledge(6000, 0);
        assertThat(s.promised()).isEqualTo(OWN);
    }

    private static Stickiness durable(long promise) {
        Stickiness s = new Stickiness(OWN, promise, -10_000);
        s.acknowledge(-10_000, promise);
        return s;
    }
}
