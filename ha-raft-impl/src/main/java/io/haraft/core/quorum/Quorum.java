package io.haraft.core.quorum;

import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.function.ToLongFunction;

/**
 * The majority arithmetic of a static voter set, kept in this one class so that membership
 * changes can later replace it (for example by a joint quorum) without touching the protocol.
 *
 * <p>Immutable and thread-safe. Voters are identified by node id.
 *
 * <pre>{@code
 * Quorum q = Quorum.of(List.of("n1", "n2", "n3"));
 * q.size();                          // 2
 * q.committedIndex(id -> match(id)); // the largest index stored by a majority
 * }</pre>
 */
public final class Quorum {
    private final List<String> voters;

    private Quorum(List<String> voters) {
        this.voters = List.copyOf(voters);
        if (this.voters.isEmpty()) {
            throw new IllegalArgumentException("a quorum needs at least one voter");
        }
        if (this.voters.stream().distinct().count() != this.voters.size()) {
            throw new IllegalArgumentException("duplicate voter ids in " + voters);
        }
    }

    /** A simple-majority quorum over {@code voters}. */
    public static Quorum of(Collection<String> voters) {
        return new Quorum(List.copyOf(voters));
    }

    /** The voters, in configuration order. */
    public List<String> voters() {
        return voters;
    }

    /** Whether {@code id} is a voter. */
    public boolean contains(String id) {
        return voters.contains(id);
    }

    /** How many voters make a majority. */
    public int size() {
        return voters.size() / 2 + 1;
    }

    /** Whether the voters for which {@code yes} holds form a majority. */
    public boolean isMajority(Collection<String> yes) {
        int n = 0;
        for (String v : voters) {
            if (yes.contains(v)) {
                n++;
            }
        }
        return n >= size();
    }

    /**
     * The outcome of a ballot: WON once a majority said yes, LOST once a majority can no longer
     * say yes, PENDING otherwise. Votes of non-voters are ignored.
     */
    public VoteResult tally(Map<String, Boolean> votes) {
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
        long[] values = new long[voters.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = valueOf.applyAsLong(voters.get(i));
        }
        Arrays.sort(values);
        // values ascending; the majority-th largest value
        return values[values.length - size()];
    }

    /** Result of {@link #tally}. */
    public enum VoteResult { WON, LOST, PENDING }

    @Override
    public String toString() {
        return "Quorum" + voters;
    }
}
