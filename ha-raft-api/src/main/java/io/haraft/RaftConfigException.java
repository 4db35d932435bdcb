package io.haraft;

import java.util.Objects;

/**
 * A configuration is invalid. The message says what is wrong and then how to fix it.
 *
 * <p><b>Guarantees.</b> Thrown only while building a configuration ({@link RaftNode.Builder#build()},
 * {@link RaftConfig}'s constructor, {@link TlsConfig}'s constructor), or by {@link RaftNode#start()}
 * when the contents of a file it names turn out invalid (TLS files that cannot be parsed, a private
 * key that does not belong to its certificate); never by a running node.
 * Immutable.
 *
 * <pre>{@code
 * try {
 *     node = RaftNode.builder()...build();
 * } catch (RaftConfigException e) {
 *     log.error(e.getMessage());            // e.g. "2 voters configured ... Use 3 voters ..."
 * }
 * }</pre>
 *
 * <p><b>Limits.</b> Validation stops at the first problem found; fix it and build again.
 */
public final class RaftConfigException extends IllegalArgumentException {

    private final String problem;
    private final String fix;

    /**
     * Creates the exception.
     *
     * @param problem what is wrong, as one or more sentences
     * @param fix     how to fix it, as one or more sentences
     */
    public RaftConfigException(String problem, String fix) {
        super(Objects.requireNonNull(problem, "problem") + " Fix: " + Objects.requireNonNull(fix, "fix"));
        this.problem = problem;
        this.fix = fix;
    }

    /**
     * Creates the exception with the underlying cause, for example the {@code IOException} met
     * while probing a data directory.
     */
    public RaftConfigException(String problem, String fix, Throwable cause) {
        this(problem, fix);
        initCause(cause);
    }

    /** What is wrong. */
    public String problem() {
        return problem;
    }

    /** How to fix it. */
    public String fix() {
        return fix;
    }
}
