package io.haraft.vip;

import java.util.List;

/**
 * {@link VipHolder#start()} or {@link VipHolder#check()} found that this host cannot manage the
 * VIP: a program is missing, the interface does not exist, the process lacks a capability, the
 * VIP is one of the host's own addresses, or the fencer cannot work. The message says what to
 * install, grant or change. Not retry-safe without fixing the host; nothing was changed except
 * the start-up cleanup described on {@link VipHolder#start()}.
 *
 * <p>{@link #problems()} lists each problem found, one message each: {@code start()} stops at the
 * first, {@code check()} reports all of them.
 */
public final class VipSetupException extends RuntimeException {

    private final List<String> problems;

    /** Creates the exception with a message that says what to install or grant. */
    public VipSetupException(String message) {
        super(message);
        this.problems = List.of(message);
    }

    /**
     * Creates the exception for several problems, each a message that says what to fix.
     *
     * @throws IllegalArgumentException if {@code problems} is empty
     */
    public VipSetupException(List<String> problems) {
        super(String.join("\n", problems));
        if (problems.isEmpty()) {
            throw new IllegalArgumentException("no problem to report");
        }
        this.problems = List.copyOf(problems);
    }

    /** Every problem found, in the order found; one element if only one was looked for. */
    public List<String> problems() {
        return problems;
    }
}
