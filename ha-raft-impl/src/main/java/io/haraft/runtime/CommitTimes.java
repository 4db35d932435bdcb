package io.haraft.runtime;

import io.haraft.metrics.RaftMetrics;

import java.util.ArrayDeque;

/**
 * The commit latency of a leader's proposals: when each was submitted, until the loop learns that
 * it committed. Loop thread only. Proposals are appended in index order, so the oldest is first.
 */
final class CommitTimes {
    private record Proposal(long index, long submittedAt) { }

    private final ArrayDeque<Proposal> waiting = new ArrayDeque<>();

    /** A command submitted at {@code submittedAt} was appended at {@code index}. */
    void proposed(long index, long submittedAt) {
        waiting.addLast(new Proposal(index, submittedAt));
    }

    /** Everything up to {@code commitIndex} is committed: records the latency of each proposal there. */
    void committed(long commitIndex, long now, RaftMetrics.Timer timer) {
        while (!waiting.isEmpty() && waiting.peekFirst().index() <= commitIndex) {
            timer.record(now - waiting.pollFirst().submittedAt());
        }
    }

    /** The leadership ended: what is still waiting has no commit latency of this leader. */
    void clear() {
        waiting.clear();
    }

    int size() {
        return waiting.size();
    }
}
