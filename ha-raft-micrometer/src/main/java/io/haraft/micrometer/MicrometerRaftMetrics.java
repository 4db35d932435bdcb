package io.haraft.micrometer;

import io.haraft.metrics.MeterId;
import io.haraft.metrics.RaftMetrics;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;

/**
 * HA-Raft's {@link RaftMetrics} on a Micrometer {@link MeterRegistry}: each meter a node
 * registers becomes a Micrometer {@link io.micrometer.core.instrument.Counter}, {@link io.micrometer.core.instrument.Timer}, {@link DistributionSummary} or
 * {@link Gauge} with the same name, tags, description and base unit.
 *
 * <p><b>Guarantees.</b> Thread-safe; one instance may serve every node of a process (their meters
 * differ in the {@code cluster} and {@code node} tags). Names are Micrometer's dot-separated
 * lowercase names ({@code haraft.leader}, {@code haraft.commit.latency}); each registry renders
 * them in its own convention (Prometheus: {@code haraft_commit_latency_seconds}). Tags:
 * {@code cluster}, {@code node}, {@code group} (always {@code default} for now) and, for the
 * heartbeat meters, {@code peer}. A gauge holds a strong reference to the node's supplier until
 * the node closes, which removes its meters from the registry.
 *
 * <pre>{@code
 * MeterRegistry registry = ...;                    // Spring Boot's, a PrometheusMeterRegistry, ...
 * RaftNode node = RaftNode.builder()
 *     .clusterId("orders").nodeId("n1")
 *     ...
 *     .metrics(new MicrometerRaftMetrics(registry))
 *     .build();
 * }</pre>
 *
 * <p><b>Limits.</b> Timers and distributions are registered without percentiles or histograms;
 * turn those on the Micrometer way, with a {@code MeterFilter} on the registry (for example
 * {@code percentilesHistogram} for names starting with {@code haraft.}). A gauge registered again
 * under the same id (a node object restarted in the same process) replaces the earlier one.
 */
public final class MicrometerRaftMetrics implements RaftMetrics {

    private final MeterRegistry registry;
    private final Map<MeterId, Meter> meters = new ConcurrentHashMap<>();

    /**
     * Registers HA-Raft's meters in {@code registry}.
     *
     * @throws NullPointerException if {@code registry} is null
     */
    public MicrometerRaftMetrics(MeterRegistry registry) {
        this.registry = Objects.requireNonNull(registry, "registry");
    }

    /** The registry the meters go to. */
    public MeterRegistry registry() {
        return registry;
    }

    @Override
    public RaftMetrics.Counter counter(MeterId id) {
        io.micrometer.core.instrument.Counter c = (io.micrometer.core.instrument.Counter) meters.computeIfAbsent(id,
                k -> io.micrometer.core.instrument.Counter.builder(k.name()).description(k.description())
                .baseUnit(unit(k)).tags(tags(k)).register(registry));
        return c::increment;
    }

    @Override
    public RaftMetrics.Timer timer(MeterId id) {
        io.micrometer.core.instrument.Timer t = (io.micrometer.core.instrument.Timer) meters.computeIfAbsent(id,
                k -> io.micrometer.core.instrument.Timer.builder(k.name()).description(k.description())
                .tags(tags(k)).register(registry));
        return nanos -> t.record(nanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public RaftMetrics.Distribution distribution(MeterId id) {
        DistributionSummary d = (DistributionSummary) meters.computeIfAbsent(id, k -> DistributionSummary
                .builder(k.name()).description(k.description()).baseUnit(unit(k)).tags(tags(k)).register(registry));
        return d::record;
    }

    @Override
    public void gauge(MeterId id, DoubleSupplier value) {
        Objects.requireNonNull(value, "value");
        meters.compute(id, (k, old) -> {
            if (old != null) {
                registry.remove(old);
            }
            return Gauge.builder(k.name(), value, DoubleSupplier::getAsDouble).description(k.description())
                    .baseUnit(unit(k)).tags(tags(k)).strongReference(true).register(registry);
        });
    }

    @Override
    public void remove(MeterId id) {
        Meter m = meters.remove(id);
        if (m != null) {
            registry.remove(m);
        }
    }

    private static String unit(MeterId id) {
        return id.baseUnit().isEmpty() ? null : id.baseUnit();
    }

    private static Tags tags(MeterId id) {
        List<Tag> list = new ArrayList<>(id.tags().size());
        id.tags().forEach((k, v) -> list.add(Tag.of(k, v)));
        return Tags.of(list);
    }

    @Override
    public String toString() {
        return "MicrometerRaftMetrics{" + registry.getClass().getSimpleName() + "}";
    }
}
