package io.haraft.transport;

import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** One line per remote host, kind and interval, with the count of those not logged. */
class RefusalLogTest {
    private final AtomicLong now = new AtomicLong();
    private final RefusalLog refusals = new RefusalLog(LoggerFactory.getLogger(RefusalLogTest.class),
            Duration.ofSeconds(60), now::get);

    private static InetSocketAddress from(String host, int port) {
        return new InetSocketAddress(host, port);
    }

    @Test
    void oneLinePerHostAndKindPerIntervalWhateverThePort() {
        assertThat(refusals.refused("a connection", from("10.0.0.9", 1000), "Transport failed: x")).isTrue();
        for (int port = 1001; port < 3000; port++) {
            assertThat(refusals.refused("a connection", from("10.0.0.9", port), "Transport failed: y")).isFalse();
        }
        assertThat(refusals.refused("a connection", from("10.0.0.8", 1000), "Transport failed: x"))
                .as("another host").isTrue();
        assertThat(refusals.refused("a connection", from("10.0.0.9", 1000), "malformed message (z)"))
                .as("another kind of reason").isTrue();
        now.addAndGet(Duration.ofSeconds(59).toNanos());
        assertThat(refusals.refused("a connection", from("10.0.0.9", 1000), "Transport failed: x")).isFalse();
        now.addAndGet(Duration.ofSeconds(1).toNanos());
        assertThat(refusals.refused("a connection", from("10.0.0.9", 1000), "Transport failed: x"))
                .as("the next interval").isTrue();
    }

    @Test
    void theKindStopsWhereUntrustedDetailsStart() {
        assertThat(RefusalLog.category("unknown sender: 'n9' is not a member")).isEqualTo("unknown sender");
        assertThat(RefusalLog.category("the sender claims to be node 'x' but")).isEqualTo("the sender claims to be node");
        assertThat(RefusalLog.category("x".repeat(100))).hasSize(48);
    }

    @Test
    void manyHostsAreBounded() {
        for (int i = 0; i < RefusalLog.MAX_TRACKED + 500; i++) {
            refusals.refused("a connection", from("10.1." + (i / 250) + "." + (i % 250), 1), "Transport failed");
        }
        int logged = 0;
        for (int i = 0; i < 100; i++) {
            if (refusals.refused("a connection", from("10.9." + (i / 250) + "." + (i % 250), 1), "Transport failed")) {
                logged++;
            }
        }
        assertThat(logged).as("past the bound, new hosts share one key").isLessThanOrEqualTo(1);
    }
}
