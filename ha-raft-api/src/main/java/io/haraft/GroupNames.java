package io.haraft;

import java.util.Objects;

/**
 * The rules for the names of Raft groups hosted by {@link RaftGroups}.
 *
 * <p><b>Guarantees.</b> A valid name is 1 to {@value #MAX_LENGTH} characters from
 * {@code [a-z0-9._-]}, starts with a letter or a digit, and is not {@code "."} or {@code ".."}: so
 * it is also a safe, portable directory name (lower case only, as some file systems ignore case)
 * and a safe label in logs and metrics. {@link #check(String)} either returns the name unchanged
 * or throws an {@link IllegalArgumentException} that quotes the name and says which rule it
 * breaks. Stateless and thread-safe.
 *
 * <pre>{@code
 * GroupNames.check("orders-eu.7");   // returns "orders-eu.7"
 * GroupNames.check("Orders");         // IllegalArgumentException: upper case
 * }</pre>
 */
public final class GroupNames {

    /** The longest valid name, in characters. */
    public static final int MAX_LENGTH = 64;

    /**
     * The name of the group a single-group node runs ({@link RaftNode.Builder#build()}), and the
     * group a message without a group name belongs to on the wire.
     */
    public static final String DEFAULT = "default";

    private GroupNames() {
    }

    /** Returns whether {@code name} is a valid group name; {@code false} for {@code null}. */
    public static boolean isValid(String name) {
        return name != null && problem(name) == null;
    }

    /**
     * Returns {@code name} if it is a valid group name.
     *
     * @throws NullPointerException     if {@code name} is null
     * @throws IllegalArgumentException if it is not valid; the message says why
     */
    public static String check(String name) {
        Objects.requireNonNull(name, "group name");
        String problem = problem(name);
        if (problem != null) {
            throw new IllegalArgumentException("Invalid group name '" + shown(name) + "': " + problem
                    + ". A group name has 1 to " + MAX_LENGTH + " characters from [a-z0-9._-] and starts with"
                    + " a letter or a digit, for example \"orders-7\".");
        }
        return name;
    }

    private static String problem(String name) {
        if (name.isEmpty()) {
            return "it is empty";
        }
        if (name.length() > MAX_LENGTH) {
            return "it has " + name.length() + " characters, more than " + MAX_LENGTH;
        }
        char first = name.charAt(0);
        if (!(first >= 'a' && first <= 'z' || first >= '0' && first <= '9')) {
            return "it starts with '" + first + "', not a lower-case letter or a digit";
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean ok = c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-';
            if (!ok) {
                return (c >= 'A' && c <= 'Z' ? "upper-case " : "") + "character '" + printable(c)
                        + "' at position " + i + " is not allowed";
            }
        }
        return null;
    }

    private static String printable(char c) {
        return c < 0x20 || c == 0x7f ? String.format("\\u%04x", (int) c) : String.valueOf(c);
    }

    private static String shown(String name) {
        String cut = name.length() > 80 ? name.substring(0, 80) + "..." : name;
        StringBuilder b = new StringBuilder();
        for (char c : cut.toCharArray()) {
            b.append(printable(c));
        }
        return b.toString();
    }
}
