package io.haraft.storage;

/**
 * Told about every group-commit round of a {@link RaftStorage}: how long it took to make the
 * batch durable and how many log entries it covered (for fsync metrics).
 *
 * <p><b>Contract.</b> Called on the store's writer thread after each successful round, before the
 * round's futures complete: it must be quick and must not block (the next fsync waits for it). An
 * exception it throws is logged at DEBUG and ignored.
 */
@FunctionalInterface
public interface SyncObserver {

    /**
     * @param nanos   how long the round's fsyncs took (the log segments, and the hard state and
     *                directory when they changed)
     * @param entries how many log entries the round made durable (0 for a round that only
     *                stored a term or vote)
     */
    void synced(long nanos, int entries);
}
