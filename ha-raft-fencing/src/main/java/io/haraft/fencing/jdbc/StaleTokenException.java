package io.haraft.fencing.jdbc;

import io.haraft.FencingToken;

import java.util.Objects;

/**
 * A fenced write was refused: the database has already accepted a larger fencing token for the
 * resource, so a newer leadership exists and the writer has been deposed.
 *
 * <p><b>Guarantees.</b> Nothing of the refused transaction was committed: {@link JdbcFence#write}
 * rolled it back before throwing (after {@link JdbcFence#guard}, the caller must roll back). Not
 * retry-safe with the same token: a retry fails again, forever. Stop acting as leader with this
 * token and wait for the next {@code LeadershipListener.elected}, which carries a larger one.
 * Immutable.
 *
 * <pre>{@code
 * try {
 *     fence.write(leadership, c -> insertInvoice(c, invoice));
 * } catch (StaleTokenException e) {
 *     log.warn("not the leader any more: {}", e.getMessage());
 *     stopWorking();
 * }
 * }</pre>
 */
public final class StaleTokenException extends Exception {

    private final String resource;
    private final FencingToken token;
    private final FencingToken highest;

    /**
     * Creates the exception.
     *
     * @param resource the fenced resource
     * @param token    the token the refused write carried
     * @param highest  the highest token the database had accepted, larger than {@code token}
     */
    public StaleTokenException(String resource, FencingToken token, FencingToken highest) {
        super("write to resource '" + resource + "' refused: it carries fencing " + token
                + " but the database has already accepted " + highest + " from a newer leadership, so this"
                + " node is no longer the leader that holds " + token + ". Nothing was written (the transaction"
                + " was rolled back). Do not retry with this token: stop acting as leader and wait for the next"
                + " elected() callback, which carries a larger token");
        this.resource = Objects.requireNonNull(resource, "resource");
        this.token = Objects.requireNonNull(token, "token");
        this.highest = Objects.requireNonNull(highest, "highest");
    }

    /** The fenced resource whose write was refused. */
    public String resource() {
        return resource;
    }

    /** The token the refused write carried: the writer's own, now stale. */
    public FencingToken token() {
        return token;
    }

    /** The highest token the database had accepted for the resource when it refused; larger than {@link #token()}. */
    public FencingToken highest() {
        return highest;
    }
}
