package io.haraft.vip.daemon;

import java.util.List;

/**
 * An {@code ha-vipd} configuration file cannot be used. Each problem names the file, the line or
 * key, what is wrong and how to fix it; the message is the problems, one per line, meant to be
 * shown to the operator as it is.
 */
final class DaemonConfigException extends IllegalArgumentException {

    private final List<String> problems;

    DaemonConfigException(String message) {
        super(message);
        this.problems = List.of(message);
    }

    DaemonConfigException(String message, Throwable cause) {
        super(message, cause);
        this.problems = List.of(message);
    }

    /** Several problems found in one file, in the order found. */
    DaemonConfigException(List<String> problems) {
        super(String.join("\n", problems));
        this.problems = List.copyOf(problems);
    }

    /** Every problem, one message each. */
    List<String> problems() {
        return problems;
    }
}
