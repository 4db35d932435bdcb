package io.haraft.runtime;

import io.haraft.core.CoreConfig;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class WarmupTest {

    @Test
    void everyRoundChangesTheLeaderByTransferOrByCrash() {
        CoreConfig like = CoreConfig.defaults("n1", List.of("n1", "n2", "n3"))
                .withTimes(100_000_000L, 300_000_000L);
        // if a round stalls (no leader, a transfer that never completes), the count falls short
        assertThat(Warmup.forTest(like).run(40)).isEqualTo(40);
    }
}
