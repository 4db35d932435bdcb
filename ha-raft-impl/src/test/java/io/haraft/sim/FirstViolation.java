package io.haraft.sim;

/**
 * The first invariant violation of one run of a whole-node simulator: recorded where it is found
 * (a listener, a state machine, a future's stage, any of which may swallow the exception), and
 * thrown again after the event ({@link #rethrow}), so that the run stops at it.
 */
final class FirstViolation {
    /** Stops the run. */
    static final class Stop extends RuntimeException {
        Stop(String message) {
            super(message, null, false, false);
        }
    }

    private String found;

    /** Records {@code violation} if it is the first, and stops the run. */
    void fail(String violation) {
        if (found == null) {
            found = violation;
        }
        throw new Stop(violation);
    }

    /** Stops the run if a violation was recorded (after each event). */
    void rethrow() {
        if (found != null) {
            throw new Stop(found);
        }
    }

    /**
     * What the run reports: the first violation, with the seed (and the time of {@code stop}, if it
     * stopped the run), or null if there was none.
     */
    String report(Stop stop, long seed, long nowMs) {
        if (stop != null) {
            return (found != null ? found : stop.getMessage()) + " (seed " + seed + ", t=" + nowMs + " ms)";
        }
        return found == null ? null : found + " (seed " + seed + ")";
    }
}
