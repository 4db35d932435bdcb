package io.haraft.sim;

/**
 * A node's monotonic clock in the simulation: piecewise linear in real time, with a rate that
 * stays within the drift bound and may change at any moment. The simulator knows real time; the
 * node sees only {@link #local(long)}.
 */
final class SimClock {
    private long baseReal;
    private long baseLocal;
    private double rate;

    SimClock(long startReal, long startLocal, double rate) {
        this.baseReal = startReal;
        this.baseLocal = startLocal;
        this.rate = rate;
    }

    long local(long real) {
        return baseLocal + (long) ((real - baseReal) * rate);
    }

    /** The earliest real time at which the local clock shows at least {@code local}. */
    long realAt(long local) {
        if (local <= baseLocal) {
            return baseReal;
        }
        return baseReal + (long) Math.ceil((local - baseLocal) / rate) + 1;
    }

    void setRate(long realNow, double newRate) {
        baseLocal = local(realNow);
        baseReal = realNow;
        rate = newRate;
    }

    double rate() {
        return rate;
    }
}
