package io.haraft.core.read;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * A leader's read requests from the moment they are asked until they are answered: the one place
 * where reads are decided (like etcd's {@code read_only.go}). Pure bookkeeping owned by the core:
 * it reads no clock and knows nothing of messages; the core tells it what happened.
 *
 * <p>A read-index request records the leader's commit index and the first heartbeat round that
 * starts after the request; it is confirmed once a majority acknowledged that round or a later
 * one, which proves the node was still leader after the request was made. A request made before
 * the leader's first entry of its term committed waits for that commit first: until then the
 * leader's commit index may be below entries that an earlier leader committed and acknowledged.
 * A lease read is answered at once with the commit index (the core checks the lease and the
 * term's first commit before). Answers are handed out in the order they were decided.
 *
 * <p>Not thread-safe: owned by the core.
 */
public final class ReadOnly {
    /** Read-index requests waiting for the first commit of the leader's term. */
    private final ArrayDeque<Long> awaitingTermCommit = new ArrayDeque<>();
    /** Read-index requests waiting for a round: {requestId, commit index, round}, rounds ascending. */
    private final ArrayDeque<long[]> awaitingRound = new ArrayDeque<>();
    private boolean roundNeeded;
    private final List<ReadState> answers = new ArrayList<>();

    /** A read-index request on a leader whose term has no committed entry yet: it waits for one. */
    public void awaitTermCommit(long requestId) {
        awaitingTermCommit.addLast(requestId);
    }

    /**
     * A read-index request on a leader whose term's first entry is committed: it is confirmed at
     * {@code commitIndex} once a majority acknowledged round {@code round} (the next to start).
     */
    public void awaitRound(long requestId, long commitIndex, long round) {
        awaitingRound.addLast(new long[] {requestId, commitIndex, round});
        roundNeeded = true;
    }

    /**
     * The leader's first entry of its term committed, and the commit index is now
     * {@code commitIndex}: the requests that waited for it wait for round {@code round} now.
     */
    public void termCommitted(long commitIndex, long round) {
        while (!awaitingTermCommit.isEmpty()) {
            awaitRound(awaitingTermCommit.pollFirst(), commitIndex, round);
        }
    }

    /** A majority acknowledged round {@code quorumRound}: confirms the requests waiting for it or an earlier one. */
    public void confirm(long quorumRound) {
        while (!awaitingRound.isEmpty() && awaitingRound.peekFirst()[2] <= quorumRound) {
            long[] r = awaitingRound.pollFirst();
            answers.add(new ReadState(r[0], r[1]));
        }
    }

    /** A lease read decided now: served at {@code commitIndex}. */
    public void serve(long requestId, long commitIndex) {
        answers.add(new ReadState(requestId, commitIndex));
    }

    /** Leadership was lost: every waiting request fails. */
    public void failAll() {
        for (long id : awaitingTermCommit) {
            answers.add(new ReadState(id, -1));
        }
        for (long[] r : awaitingRound) {
            answers.add(new ReadState(r[0], -1));
        }
        awaitingTermCommit.clear();
        awaitingRound.clear();
        roundNeeded = false;
    }

    /** Whether a request waits for a heartbeat round that has not started yet. */
    public boolean roundNeeded() {
        return roundNeeded;
    }

    /** A heartbeat round started: it is the round every waiting request asked for. */
    public void roundStarted() {
        roundNeeded = false;
    }

    /** Whether answers wait to be handed out. */
    public boolean hasAnswers() {
        return !answers.isEmpty();
    }

    /** Hands out the answers decided so far, in order, and forgets them. */
    public List<ReadState> takeAnswers() {
        if (answers.isEmpty()) {
            return List.of();
        }
        List<ReadState> out = List.copyOf(answers);
        answers.clear();
        return out;
    }

    /** How many requests wait (for tests and status). */
    public int waiting() {
        return awaitingTermCommit.size() + awaitingRound.size();
    }
}
