package io.haraft;

/**
 * The fencing token of one leadership: a positive number that strictly increases from one
 * leadership to the next, anywhere in the cluster and across restarts of every node.
 *
 * <p><b>Guarantees.</b> The token is the Raft term in which the leader was elected. Terms are
 * written durably before any vote is cast, so no two leaderships ever carry the same token and a
 * later leadership always carries a larger one. Instances are immutable value objects, safe to
 * share between threads; {@code equals}, {@code hashCode} and {@code compareTo} use the value
 * only. No method accepts or returns {@code null}.
 *
 * <p><b>Use.</b> Every write that a leader makes to a resource outside the cluster should carry
 * the token, and the resource should refuse a token older than the newest it has seen:
 *
 * <pre>{@code
 * FencingToken token = leadership.checkValid();
 * jdbc.update("UPDATE account SET balance = ?, fence = ? WHERE id = ? AND fence <= ?",
 *             balance, token.value(), id, token.value());
 * }</pre>
 *
 * <p><b>Limits.</b> A token only protects a resource that checks it. Tokens of different clusters
 * (different cluster ids) are unrelated and must not be compared.
 *
 * @param value the token, which is the leader's term; always {@code > 0}
 */
public record FencingToken(long value) implements Comparable<FencingToken> {

    /**
     * Creates a token.
     *
     * @throws IllegalArgumentException if {@code value <= 0}: terms start at 1
     */
    public FencingToken {
        if (value <= 0) {
            throw new IllegalArgumentException(
                    "a fencing token must be > 0 (it is a Raft term, and terms start at 1), got " + value);
        }
    }

    /**
     * Returns the token with the given value.
     *
     * @throws IllegalArgumentException if {@code value <= 0}
     */
    public static FencingToken of(long value) {
        return new FencingToken(value);
    }

    /**
     * Returns whether this token belongs to a later leadership than {@code other}.
     *
     * @throws NullPointerException if {@code other} is null
     */
    public boolean isNewerThan(FencingToken other) {
        return value > other.value;
    }

    @Override
    public int compareTo(FencingToken other) {
        return Long.compare(value, other.value);
    }

    /** Returns {@code "token <value>"}, for example {@code "token 7"}. */
    @Override
    public String toString() {
        return "token " + value;
    }
}
