package io.haraft.micrometer;

import io.haraft.metrics.MeterId;
import io.haraft.metrics.RaftMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Each kind of meter of the SPI lands in the registry with its name, tags, unit and description. */
class MicrometerBindingTest {
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final RaftMetrics metrics = new MicrometerRaftMetrics(registry);
    private final Map<String, String> tags = Map.of("cluster", "orders", "node", "n1", "group", "default");

    @Test
    void countersTimersDistributionsAndGaugesKeepTheirIdentity() {
        RaftMetrics.Counter c = metrics.counter(MeterId.of("haraft.elections.won", "won", "", tags));
        c.increment();
        c.increment(2);
        // registering the same id again gives the same meter
        metrics.counter(MeterId.of("haraft.elections.won", "won", "", tags)).increment();
        assertThat(registry.get("haraft.elections.won").tags("node", "n1", "cluster", "orders", "group", "default")
                .counter().count()).isEqualTo(4);

        metrics.timer(MeterId.of("haraft.commit.latency", "latency", "seconds", tags)).record(1_500_000);
        var timer = registry.get("haraft.commit.latency").timer();
        assertThat(timer.count()).isEqualTo(1);
        assertThat(timer.totalTime(TimeUnit.MICROSECONDS)).isEqualTo(1500);
        assertThat(timer.getId().getDescription()).isEqualTo("latency");

        metrics.distribution(MeterId.of("haraft.fsync.batch.size", "batch", "entries", tags)).record(7);
        var summary = registry.get("haraft.fsync.batch.size").summary();
        assertThat(summary.totalAmount()).isEqualTo(7);
        assertThat(summary.getId().getBaseUnit()).isEqualTo("entries");

        MeterId leader = MeterId.of("haraft.leader", "leader", "", tags);
        metrics.gauge(leader, () -> 1);
        assertThat(registry.get("haraft.leader").gauge().value()).isEqualTo(1);
        metrics.gauge(leader, () -> 0);          // a node object started again in the same process
        assertThat(registry.get("haraft.leader").gauges()).hasSize(1);
        assertThat(registry.get("haraft.leader").gauge().value()).isZero();

        metrics.remove(leader);
        assertThat(registry.find("haraft.leader").gauge()).isNull();
        metrics.remove(leader);                  // twice is harmless
    }
}
