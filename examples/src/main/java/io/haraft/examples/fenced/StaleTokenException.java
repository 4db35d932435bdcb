package io.haraft.examples.fenced;

/**
 * A write was refused because a newer leadership already wrote with a larger fencing token: the
 * writer has been deposed. Never retry with the same token; re-check leadership instead.
 */
public final class StaleTokenException extends Exception {
    private final long token;
    private final long current;

    public StaleTokenException(String resource, long token, long current) {
        super("write to '" + resource + "' with fencing token " + token + " refused: token " + current
                + " has already written; this node is no longer the leader");
        this.token = token;
        this.current = current;
    }

    public long token() {
        return token;
    }

    /** The highest token the resource has accepted. */
    public long current() {
        return current;
    }
}
