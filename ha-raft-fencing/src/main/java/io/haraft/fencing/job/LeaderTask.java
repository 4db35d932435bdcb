package io.haraft.fencing.job;

import io.haraft.Leadership;

/**
 * One run of a {@link LeaderOnlyJob}'s work.
 *
 * <p>Called on the job's executor, never on two threads at once. The leadership was valid when
 * the run started; take the token for each external write from {@link Leadership#checkValid()}
 * right before the write, and let the write carry it (a {@code JdbcFence}, say). When the
 * leadership is revoked the running thread is interrupted: return promptly (do not swallow
 * {@link InterruptedException}; check {@link Thread#isInterrupted()} in a loop).
 */
@FunctionalInterface
public interface LeaderTask {

    /**
     * Runs the work once, as the holder of {@code leadership}.
     *
     * @param leadership the leadership this run acts for; its token is this run's fencing token
     * @throws Exception anything: it is logged and the schedule goes on
     */
    void run(Leadership leadership) throws Exception;
}
