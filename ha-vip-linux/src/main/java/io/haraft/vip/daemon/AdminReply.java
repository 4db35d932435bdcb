package io.haraft.vip.daemon;

import java.util.Optional;

/**
 * The last line of an admin exchange ({@link AdminServer}): what became of the command.
 *
 * <p>The admin protocol is lines of UTF-8 text over one TCP connection per command. The client
 * sends {@value #HELLO} and the cluster id, then one line {@code <timeout-ms> <command> <args...>}.
 * The server answers with any number of {@code INFO <text>} lines (progress, status output), on
 * {@code status} of a follower a {@code LEADER <id> <host:port>} line, then exactly one reply line
 * (this record) and closes the connection:
 * <pre>
 * OK &lt;text&gt;
 * FAILED &lt;CODE&gt; &lt;text&gt;                   CODE: a MembershipChangeException reason, or one of ours
 * NOT_LEADER &lt;leader id|-&gt; &lt;leader Raft host:port|-&gt; &lt;text&gt;
 * </pre>
 * Texts are one line each. Immutable.
 *
 * @param kind          OK, FAILED or NOT_LEADER
 * @param code          for FAILED, why (for example {@code CHANGE_IN_PROGRESS}); else empty
 * @param leaderId      for NOT_LEADER, the leader the node knows of, if any
 * @param leaderAddress for NOT_LEADER, that leader's Raft address, if known
 * @param text          for the operator
 */
record AdminReply(Kind kind, String code, Optional<String> leaderId, Optional<String> leaderAddress, String text) {

    /** The first line a client sends, followed by a space and the cluster id. */
    static final String HELLO = "ha-vipd-admin/1";
    /** Prefix of a progress or output line. */
    static final String INFO = "INFO";
    /** Prefix of the leader hint that {@code status} sends on a node that is not leader. */
    static final String LEADER = "LEADER";

    /** What became of the command. */
    enum Kind { OK, FAILED, NOT_LEADER }

    /** Codes of our own, beside the {@link io.haraft.MembershipChangeException.Reason} names. */
    static final String UNKNOWN_MEMBER = "UNKNOWN_MEMBER";
    static final String NOT_CAUGHT_UP = "NOT_CAUGHT_UP";
    static final String TIMEOUT = "TIMEOUT";
    static final String BAD_REQUEST = "BAD_REQUEST";
    static final String WRONG_CLUSTER = "WRONG_CLUSTER";
    static final String ERROR = "ERROR";

    static AdminReply ok(String text) {
        return new AdminReply(Kind.OK, "", Optional.empty(), Optional.empty(), text);
    }

    static AdminReply failed(String code, String text) {
        return new AdminReply(Kind.FAILED, code, Optional.empty(), Optional.empty(), text);
    }

    static AdminReply notLeader(Optional<String> leaderId, Optional<String> leaderAddress, String text) {
        return new AdminReply(Kind.NOT_LEADER, "", leaderId, leaderAddress, text);
    }

    /** The reply as one protocol line (without the line end). */
    String line() {
        String t = oneLine(text);
        return switch (kind) {
            case OK -> "OK " + t;
            case FAILED -> "FAILED " + code + " " + t;
            case NOT_LEADER -> "NOT_LEADER " + leaderId.orElse("-") + " " + leaderAddress.orElse("-") + " " + t;
        };
    }

    /** Parses a reply line; empty if {@code line} is no reply line. */
    static Optional<AdminReply> parse(String line) {
        String[] f = line.split(" ", 4);
        switch (f[0]) {
            case "OK" -> {
                return Optional.of(ok(line.length() > 3 ? line.substring(3) : ""));
            }
            case "FAILED" -> {
                return f.length < 2 ? Optional.empty()
                        : Optional.of(failed(f[1], f.length > 2 ? line.substring(8 + f[1].length()) : ""));
            }
            case "NOT_LEADER" -> {
                return f.length < 3 ? Optional.empty() : Optional.of(notLeader(dash(f[1]), dash(f[2]),
                        f.length > 3 ? f[3] : ""));
            }
            default -> {
                return Optional.empty();
            }
        }
    }

    static Optional<String> dash(String s) {
        return s.equals("-") ? Optional.empty() : Optional.of(s);
    }

    /** {@code text} with line breaks replaced by spaces, so that it fits one protocol line. */
    static String oneLine(String text) {
        return text == null ? "" : text.replaceAll("[\r\n]+", " ");
    }
}
