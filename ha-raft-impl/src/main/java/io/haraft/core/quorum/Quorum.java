package io.haraft.core.quorum;

import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.function.ToLongFunction;

/**
 * The majority arithmetic, kept in this one class: a simple majority of one voter set, or the
 * conjunction of the majorities of two voter sets while a configuration change is in flight.
 *
 * <h2>Membership changes: the choice and why it is safe</h2>
 * HA-Raft changes the voters one server at a time (single-server changes, Raft dissertation
 * section 4.1), not by joint consensus:
 * <ul>
 *   <li><b>Adjacent configurations always share a voter in any two majorities.</b> If C and C'
 *       differ by adding or removing one voter, every majority of C and every majority of C'
 *       intersect (for |C| = n, a majority of C has more than n/2 members and a majority of C'
 *       more than (n-1)/2 or (n+1)/2 of them, together more than the n + 1 servers there are). So
 *       two leaders of the same term, one elected under C and one under C', would need a common
 *       voter that voted twice in that term, which a durable vote forbids.</li>
 *   <li><b>One change at a time.</b> A leader starts a change only once the previous one is
 *       committed ({@link io.haraft.core.RaftCore#changeMembership}); a second change is refused
 *       with "change in progress". So at any time the configurations a node can use are the last
 *       committed one and at most one adjacent successor.</li>
 *   <li><b>The leader first commits an entry of its own term.</b> Without this rule (the bug
 *       found in the original single-server algorithm), a new leader could start a change while
 *       an uncommitted change of an earlier leader sits in other logs; the two changes are each
 *       adjacent to the committed configuration but not to each other, and their majorities can be
 *       disjoint. Committing an entry of its own term first makes every such earlier entry either
 *       committed or unable to win an election again. The simulator plants exactly this bug and
 *       shows the invariants catch it.</li>
 *   <li><b>A node uses the latest configuration in its log,</b> committed or not, for elections;
 *       a truncated configuration entry takes its configuration back with it.</li>
 *   <li><b>The leader's own decisions are stricter still.</b> While a change is uncommitted, the
 *       leader commits entries, keeps its lease and confirms reads only with a majority of the old
 *       configuration <em>and</em> a majority of the new one ({@link #joint}): this costs nothing
 *       when both majorities are reachable and keeps the lease argument of
 *       {@link io.haraft.core.lease.LeaseTracker} independent of which configuration a future
 *       leader is elected under.</li>
 * </ul>
 * Learners and witness learners are outside every quorum; witnesses vote and count like voters.
 *
 * <p>Immutable and thread-safe. Voters are identified by node id.
 *
 * <pre>{@code
 * Quorum q = Quorum.of(List.of("n1", "n2", "n3"));
 * q.isMajority(Set.of("n1", "n3"));  // true
 * q.committedIndex(id -> match(id)); // the largest index stored by a majority
 * Quorum during = Quorum.joint(q, Quorum.of(List.of("n1", "n2", "n3", "n4")));
 * }</pre>
 */
public final class Quorum {
    private final List<String> voters;
    private final Quorum second;   // non-null for a joint quorum

    private Quorum(List<String> voters) {
        this.voters = List.copyOf(voters);
        this.second = null;
        if (this.voters.isEmpty()) {
            throw new IllegalArgumentException("a quorum needs at least one voter");
        }
        if (this.voters.stream().distinct().count() != this.voters.size()) {
            throw new IllegalArgumentException("duplicate voter ids in " + voters);
        }
    }

    private Quorum(Quorum first, Quorum second) {
        this.voters = first.voters;
        this.second = second;
    }

    /** A simple-majority quorum over {@code voters}. */
    public static Quorum of(Collection<String> voters) {
        return new Quorum(List.copyOf(voters));
    }

    /**
     * A quorum that needs a majority of {@code a} and a majority of {@code b}; if the two have the
     * same voters, simply {@code a}.
     */
    public static Quorum joint(Quorum a, Quorum b) {
        if (a.second != null || b.second != null) {
            throw new IllegalArgumentException("cannot join a joint quorum again");
        }
        if (new java.util.HashSet<>(a.voters).equals(new java.util.HashSet<>(b.voters))) {
            return a;
        }
        return new Quorum(a, b);
    }

    /** Whether this quorum needs majorities of two voter sets. */
    public boolean isJoint() {
        return second != null;
    }

    /** The voters, in configuration order (for a joint quorum, those of both sets). */
    public List<String> voters() {
        if (second == null) {
            return voters;
        }
        List<String> all = new java.util.ArrayList<>(voters);
        for (String v : second.voters) {
            if (!all.contains(v)) {
                all.add(v);
            }
        }
        return List.copyOf(all);
    }

    /** Whether {@code id} is a voter (of either set of a joint quorum). */
    public boolean contains(String id) {
        return voters.contains(id) || (second != null && second.contains(id));
    }

    /**
     * How many voters make a majority of a simple quorum.
     *
     * @throws IllegalStateException for a joint quorum, whose majorities have no single size
     */
    public int size() {
        if (second != null) {
            throw new IllegalStateException("a joint quorum has no single majority size: " + this);
        }
        return voters.size() / 2 + 1;
    }

    /** Whether the voters for which {@code yes} holds form a majority (of both sets, if joint). */
    public boolean isMajority(Collection<String> yes) {
        if (second != null && !second.isMajority(yes)) {
            return false;
        }
        int n = 0;
        for (String v : voters) {
            if (yes.contains(v)) {
                n++;
            }
        }
        return n >= voters.size() / 2 + 1;
    }

    /**
     * The outcome of a ballot: WON once a majority said yes, LOST once a majority can no longer
     * say yes, PENDING otherwise. Votes of non-voters are ignored.
     */
    public VoteResult tally(Map<String, Boolean> votes) {
        if (second != null) {
            VoteResult a = new Quorum(voters).tally(votes);
            VoteResult b = second.tally(votes);
            if (a == VoteResult.LOST || b == VoteResult.LOST) {
                return VoteResult.LOST;
            }
            return a == VoteResult.WON && b == VoteResult.WON ? VoteResult.WON : VoteResult.PENDING;
        }
        int yes = 0;
        int no = 0;
        for (String v : voters) {
            Boolean b = votes.get(v);
            if (b == null) {
                continue;
            }
            if (b) {
                yes++;
            } else {
                no++;
            }
        }
        if (yes >= size()) {
            return VoteResult.WON;
        }
        if (no > voters.size() - size()) {
            return VoteResult.LOST;
        }
        return VoteResult.PENDING;
    }

    /**
     * The largest value that a majority of voters has reached, given each voter's value (for
     * example its match index or the last heartbeat round it acknowledged).
     */
    public long committedIndex(ToLongFunction<String> valueOf) {
        if (second != null) {
            return Math.min(new Quorum(voters).committedIndex(valueOf), second.committedIndex(valueOf));
        }
        long[] values = new long[voters.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = valueOf.applyAsLong(voters.get(i));
        }
        Arrays.sort(values);
        // values ascending; the majority-th largest value
        return values[values.length - size()];
    }

    /**
     * The outcome of {@link #tally} for the votes counted so far. {@link #WON} and {@link #LOST}
     * are final: more votes of the same ballot cannot change them (each voter is counted once).
     * With a joint quorum (a change not yet committed), the ballot is won only when both
     * configurations' majorities said yes, and lost as soon as either can no longer say yes.
     */
    public enum VoteResult {
        /** A majority of the voters said yes. */
        WON,
        /** So many voters said no that a majority can no longer say yes. */
        LOST,
        /** Neither yet: wait for more answers (or for the ballot to time out). */
        PENDING
    }

    @Override
    public String toString() {
        return second == null ? "Quorum" + voters : "Quorum" + voters + "&" + second.voters;
    }
}
