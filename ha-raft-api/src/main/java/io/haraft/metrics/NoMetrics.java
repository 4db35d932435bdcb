package io.haraft.metrics;

import java.util.function.DoubleSupplier;

/** {@link RaftMetrics#none()}: records nothing. */
final class NoMetrics implements RaftMetrics {
    static final NoMetrics INSTANCE = new NoMetrics();

    private NoMetrics() {
    }

    @Override
    public Counter counter(MeterId id) {
        return amount -> { };
    }

    @Override
    public Timer timer(MeterId id) {
        return nanos -> { };
    }

    @Override
    public Distribution distribution(MeterId id) {
        return amount -> { };
    }

    @Override
    public void gauge(MeterId id, DoubleSupplier value) {
    }

    @Override
    public String toString() {
        return "no metrics";
    }
}
