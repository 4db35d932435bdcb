package io.haraft.core;

/**
 * Decides, at the moment of delivery, which leadership events reach the application.
 *
 * <p>A {@code Ready} is processed after its state is durable, which takes time (and a process may
 * be paused in between). An {@code Elected} whose lease has already run out by then must not be
 * delivered: another node may have been elected meanwhile, and its token would then be delivered
 * before ours. Such an {@code Elected} is dropped together with the matching {@code Revoked}, so
 * the application still sees {@code elected}/{@code revoked} strictly alternate.
 *
 * <p>Used by the node runtime and by the simulator alike. Not thread-safe: one per node, used on
 * the thread that processes {@code Ready}s.
 */
public final class LeadershipGate {
    private long openTerm = -1;

    /**
     * @param core the node's core, consulted for its lease at local time {@code now}
     * @return the event to deliver now, or {@code null} to drop it
     */
    public LeadershipEvent filter(LeadershipEvent event, RaftCore core, long now) {
        if (event instanceof LeadershipEvent.Elected e) {
            if (openTerm == -1 && core.term() == e.term() && core.isElected() && core.holdsLease(now)) {
                openTerm = e.term();
                return e;
            }
            return null;
        }
        if (openTerm == event.term()) {
            openTerm = -1;
            return event;
        }
        return null;
    }

    /** Whether an {@code elected} was delivered and its {@code revoked} not yet. */
    public boolean isOpen() {
        return openTerm != -1;
    }

    /** The term of the open leadership, or -1. */
    public long openTerm() {
        return openTerm;
    }
}
