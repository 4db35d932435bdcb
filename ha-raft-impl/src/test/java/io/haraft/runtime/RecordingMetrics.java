package io.haraft.runtime;

import io.haraft.metrics.MeterId;
import io.haraft.metrics.RaftMetrics;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.DoubleSupplier;

/** A {@link RaftMetrics} that keeps what it is told, by meter name and tags, for assertions. */
final class RecordingMetrics implements RaftMetrics {
    final Map<MeterId, AtomicLong> counts = new ConcurrentHashMap<>();
    final Map<MeterId, List<Double>> samples = new ConcurrentHashMap<>();
    final Map<MeterId, DoubleSupplier> gauges = new ConcurrentHashMap<>();
    final List<MeterId> removed = new CopyOnWriteArrayList<>();

    @Override
    public Counter counter(MeterId id) {
        AtomicLong c = counts.computeIfAbsent(id, k -> new AtomicLong());
        return c::addAndGet;
    }

    @Override
    public Timer timer(MeterId id) {
        List<Double> s = samples.computeIfAbsent(id, k -> new CopyOnWriteArrayList<>());
        return nanos -> s.add((double) nanos);
    }

    @Override
    public Distribution distribution(MeterId id) {
        List<Double> s = samples.computeIfAbsent(id, k -> new CopyOnWriteArrayList<>());
        return s::add;
    }

    @Override
    public void gauge(MeterId id, DoubleSupplier value) {
        gauges.put(id, value);
    }

    @Override
    public void remove(MeterId id) {
        removed.add(id);
        gauges.remove(id);
    }

    /** The count of the counter named {@code name} (summed over tags), 0 if none. */
    long count(String name) {
        return counts.entrySet().stream().filter(e -> e.getKey().name().equals(name))
                .mapToLong(e -> e.getValue().get()).sum();
    }

    /** How many values the timer or distribution named {@code name} recorded (over all tags). */
    long recorded(String name) {
        return samples.entrySet().stream().filter(e -> e.getKey().name().equals(name))
                .mapToLong(e -> e.getValue().size()).sum();
    }

    /** The value of the gauge named {@code name} (the one without a peer tag); NaN if none. */
    double gauge(String name) {
        return gauges.entrySet().stream().filter(e -> e.getKey().name().equals(name)
                        && !e.getKey().tags().containsKey("peer"))
                .mapToDouble(e -> e.getValue().getAsDouble()).findFirst().orElse(Double.NaN);
    }
}
