package io.haraft.core;

import io.haraft.core.log.Entry;
import io.haraft.core.quorum.Membership;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * The messages Raft nodes exchange. Every message names its sender, its receiver and the
 * sender's term. Immutable records (lists and byte arrays are copied), safe to share between
 * threads; components are never null except where a record says so. A transport serialises them
 * as it likes; the core checks nothing about who may send what beyond its own rules (membership,
 * terms), so a transport must authenticate senders before it delivers.
 *
 * <p>{@code round} fields carry the leader's heartbeat round, echoed by followers, from which the
 * leader computes its lease (see {@link io.haraft.core.lease.LeaseTracker}). {@code stickiness}
 * fields (nanoseconds) carry, from a leader, the stickiness its lease relies on (its minimum
 * election timeout), which a follower honours if it is longer than its own; and, in a follower's
 * answer, the stickiness the follower now honours. A leader counts an answer toward its lease only
 * if that is at least what it relies on. The constructors without {@code stickiness} give 0: a
 * leader that relies on nothing beyond the follower's own timeout, an answer that promises nothing.
 *
 * <p>Counters from the network are bounded before the core uses them: see {@link Bounds}.
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

    /**
     * Answer to {@link Vote}, carrying the voter's term after it handled the request (a request of
     * a newer term raises the voter's term first, so that is the term asked for). Sent only after
     * the voter's term and vote are durable, so a granted vote survives a crash of the voter. A
     * request refused by leader stickiness gets no answer at all.
     */
    record VoteResponse(String from, String to, long term, boolean granted) implements Message { }

    /**
     * Entries after (prevIndex, prevTerm), the leader's commit index, its heartbeat round and the
     * stickiness its lease relies on.
     */
    record Append(String from, String to, long term, long prevIndex, long prevTerm, List<Entry> entries,
                  long commit, long round, long stickiness) implements Message {
        public Append {
            entries = List.copyOf(entries);
        }

        /** An append that relies on no stickiness beyond the follower's own. */
        public Append(String from, String to, long term, long prevIndex, long prevTerm, List<Entry> entries,
                      long commit, long round) {
            this(from, to, term, prevIndex, prevTerm, entries, commit, round, 0);
        }
    }

    /**
     * Answer to {@link Append}. On success {@code index} is the last index known to match the
     * leader. On rejection {@code index} is the rejected prevIndex and ({@code hintIndex},
     * {@code hintTerm}) tell the leader where to probe next: the follower's last entry at or
     * before prevIndex whose term is at most the leader's prevTerm.
     */
    record AppendResponse(String from, String to, long term, boolean success, long index,
                          long hintIndex, long hintTerm, long round, long stickiness) implements Message {
        /** An answer that promises no stickiness. */
        public AppendResponse(String from, String to, long term, boolean success, long index, long hintIndex,
                              long hintTerm, long round) {
            this(from, to, term, success, index, hintIndex, hintTerm, round, 0);
        }
    }

    /** Keeps followers from campaigning and renews the lease. {@code commit} is safe for the follower. */
    record Heartbeat(String from, String to, long term, long commit, long round, long stickiness)
            implements Message {
        /** A heartbeat that relies on no stickiness beyond the follower's own. */
        public Heartbeat(String from, String to, long term, long commit, long round) {
            this(from, to, term, commit, round, 0);
        }
    }

    /**
     * Answer to {@link Heartbeat}: the follower accepts the sender as leader of {@code term} and
     * echoes its {@code round}, which counts toward the lease and read confirmation of that round.
     * Sent with {@code round} 0 and the receiver's newer term to a stale leader, to make it step down.
     */
    record HeartbeatResponse(String from, String to, long term, long round, long stickiness) implements Message {
        /** An answer that promises no stickiness (as to a stale leader). */
        public HeartbeatResponse(String from, String to, long term, long round) {
            this(from, to, term, round, 0);
        }
    }

    /**
     * One chunk of the leader's snapshot, covering the log up to ({@code snapIndex},
     * {@code snapTerm}): bytes {@code [offset, offset + data.length)} of the snapshot, {@code last}
     * if they end it. Counts as contact from the leader (stickiness, election timer) and, through
     * {@code round}, as an acknowledgement for the lease and read confirmation. {@code data} is
     * copied on the way in and out. {@code membership} is the configuration in force at
     * {@code snapIndex} ({@code null} if the sender knows none); a witness gets a snapshot of no
     * bytes that carries only this. {@code clusterUuid} is the leader's cluster identity
     * ({@link ClusterIdentity}), {@code null} if it knows none: a follower that installs the
     * snapshot learns it from there, as the snapshot replaces the entry at index 1 that carries it.
     */
    record InstallSnapshot(String from, String to, long term, long snapIndex, long snapTerm, long offset,
                           byte[] data, boolean last, long round, Membership membership, long stickiness,
                           java.util.UUID clusterUuid)
            implements Message {
        public InstallSnapshot {
            data = data.clone();
        }

        /** A chunk from a leader that knows no cluster identity (see {@link ClusterIdentity}). */
        public InstallSnapshot(String from, String to, long term, long snapIndex, long snapTerm, long offset,
                               byte[] data, boolean last, long round, Membership membership, long stickiness) {
            this(from, to, term, snapIndex, snapTerm, offset, data, last, round, membership, stickiness, null);
        }

        /** A chunk that relies on no stickiness beyond the follower's own. */
        public InstallSnapshot(String from, String to, long term, long snapIndex, long snapTerm, long offset,
                               byte[] data, boolean last, long round, Membership membership) {
            this(from, to, term, snapIndex, snapTerm, offset, data, last, round, membership, 0);
        }

        /** A chunk that carries no configuration and relies on no stickiness beyond the follower's own. */
        public InstallSnapshot(String from, String to, long term, long snapIndex, long snapTerm, long offset,
                               byte[] data, boolean last, long round) {
            this(from, to, term, snapIndex, snapTerm, offset, data, last, round, null, 0);
        }

        /** A copy of the chunk's bytes. */
        @Override
        public byte[] data() {
            return data.clone();
        }

        /** The chunk's length in bytes, without copying. */
        public int size() {
            return data.length;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof InstallSnapshot m && m.from.equals(from) && m.to.equals(to) && m.term == term
                    && m.snapIndex == snapIndex && m.snapTerm == snapTerm && m.offset == offset && m.last == last
                    && m.round == round && m.stickiness == stickiness && Arrays.equals(m.data, data)
                    && Objects.equals(m.membership, membership) && Objects.equals(m.clusterUuid, clusterUuid);
        }

        @Override
        public int hashCode() {
            return Objects.hash(from, to, term, snapIndex, snapTerm, offset, last, round, stickiness) * 31
                    + Arrays.hashCode(data);
        }

        @Override
        public String toString() {
            return "InstallSnapshot[from=" + from + ", to=" + to + ", term=" + term + ", snap=" + snapIndex + "@"
                    + snapTerm + ", offset=" + offset + ", " + data.length + "B" + (last ? ", last" : "")
                    + ", round=" + round + ", stickiness=" + stickiness
                    + (clusterUuid == null ? "" : ", cluster=" + clusterUuid) + "]";
        }
    }

    /**
     * Answer to {@link InstallSnapshot}. {@code nextOffset} is the byte offset the follower expects
     * next for snapshot {@code snapIndex} (after an out-of-order chunk: the offset it still waits
     * for, 0 if it knows no transfer of that snapshot); {@code done} says the follower now holds the
     * log up to {@code snapIndex}, durably.
     */
    record InstallSnapshotResponse(String from, String to, long term, long snapIndex, long nextOffset, boolean done,
                                   long round, long stickiness) implements Message {
        /** An answer that promises no stickiness. */
        public InstallSnapshotResponse(String from, String to, long term, long snapIndex, long nextOffset,
                                       boolean done, long round) {
            this(from, to, term, snapIndex, nextOffset, done, round, 0);
        }
    }

    /**
     * The leader, having revoked its own leadership, asks {@code to} to campaign at once. With
     * {@code removeSender} the old leader is leaving the cluster: once elected, the new leader
     * removes it from the configuration.
     */
    record TimeoutNow(String from, String to, long term, boolean removeSender) implements Message {
        /** A plain handover. */
        public TimeoutNow(String from, String to, long term) {
            this(from, to, term, false);
        }
    }
}
