package io.haraft.core;

import io.haraft.core.log.Entry;

import java.util.List;

/**
 * The messages Raft nodes exchange. Every message names its sender, its receiver and the
 * sender's term. Immutable records; a transport serialises them as it likes.
 *
 * <p>{@code round} fields carry the leader's heartbeat round, echoed by followers, from which the
 * leader computes its lease (see {@link io.haraft.core.lease.LeaseTracker}).
 */
public sealed interface Message {
    String from();

    String to();

    long term();

    /** A pre-candidate asks whether it could win an election at {@code term} (its term + 1). */
    record PreVote(String from, String to, long term, long lastIndex, long lastTerm) implements Message { }

    /** Answer to {@link PreVote}: granted answers carry the asked term, refusals the voter's term. */
    record PreVoteResponse(String from, String to, long term, boolean granted) implements Message { }

    /**
     * A candidate asks for a vote. {@code transfer} is set when the old leader handed over with
     * TimeoutNow after revoking its own leadership: voters then ignore leader stickiness.
     */
    record Vote(String from, String to, long term, long lastIndex, long lastTerm, boolean transfer) implements Message { }

    record VoteResponse(String from, String to, long term, boolean granted) implements Message { }

    /** Entries after (prevIndex, prevTerm), the leader's commit index and its heartbeat round. */
    record Append(String from, String to, long term, long prevIndex, long prevTerm, List<Entry> entries,
                  long commit, long round) implements Message {
        public Append {
            entries = List.copyOf(entries);
        }
    }

    /**
     * Answer to {@link Append}. On success {@code index} is the last index known to match the
     * leader. On rejection {@code index} is the rejected prevIndex and ({@code hintIndex},
     * {@code hintTerm}) tell the leader where to probe next: the follower's last entry at or
     * before prevIndex whose term is at most the leader's prevTerm.
     */
    record AppendResponse(String from, String to, long term, boolean success, long index,
                          long hintIndex, long hintTerm, long round) implements Message { }

    /** Keeps followers from campaigning and renews the lease. {@code commit} is safe for the follower. */
    record Heartbeat(String from, String to, long term, long commit, long round) implements Message { }

    record HeartbeatResponse(String from, String to, long term, long round) implements Message { }

    /** The leader, having revoked its own leadership, asks {@code to} to campaign at once. */
    record TimeoutNow(String from, String to, long term) implements Message { }
}
