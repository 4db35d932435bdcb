package io.haraft;

/**
 * Checks the spelling of a member's host, without DNS: an IPv4 literal must be four numbers from 0
 * to 255, an IPv6 literal must be well formed, and a host name must be made of DNS labels. A host
 * that passes may still not resolve or not be local; that shows at start.
 */
final class HostSyntax {
    private static final int MAX_NAME = 253;
    private static final int MAX_LABEL = 63;

    private HostSyntax() {
    }

    /** Why {@code host} is not a valid host, or {@code null} if it is. */
    static String problem(String host) {
        if (host.indexOf(':') >= 0) {
            return ipv6Problem(host);
        }
        String name = host.endsWith(".") ? host.substring(0, host.length() - 1) : host;
        if (!name.isEmpty() && name.chars().allMatch(c -> c == '.' || (c >= '0' && c <= '9'))) {
            return ipv4Problem(name);
        }
        return nameProblem(name);
    }

    private static String ipv4Problem(String s) {
        String[] parts = s.split("\\.", -1);
        if (parts.length != 4) {
            return "it looks like an IPv4 address but has " + parts.length + " part" + (parts.length == 1 ? "" : "s")
                    + " instead of 4";
        }
        for (String p : parts) {
            if (p.isEmpty()) {
                return "it looks like an IPv4 address but has an empty part";
            }
            if (!p.chars().allMatch(c -> c >= '0' && c <= '9')) {
                return "its IPv4 part \"" + p + "\" is not a number";
            }
            if (p.length() > 1 && p.charAt(0) == '0') {
                return "its IPv4 part \"" + p + "\" has a leading zero, which some tools read as octal";
            }
            if (p.length() > 3 || Integer.parseInt(p) > 255) {
                return "its IPv4 part " + p + " is above 255";
            }
        }
        return null;
    }

    private static String ipv6Problem(String host) {
        String s = host;
        int zone = s.indexOf('%');
        if (zone >= 0) {
            String id = s.substring(zone + 1);
            if (id.isEmpty() || !id.chars().allMatch(c -> Character.isLetterOrDigit(c) || c == '.' || c == '_'
                    || c == '-')) {
                return "its IPv6 zone \"" + id + "\" is not an interface name or number";
            }
            s = s.substring(0, zone);
        }
        int dc = s.indexOf("::");
        if (dc >= 0 && s.indexOf("::", dc + 1) >= 0) {
            return "it is not a valid IPv6 address (\"::\" may appear only once)";
        }
        String[] groups = dc >= 0 ? join(s.substring(0, dc), s.substring(dc + 2)) : s.split(":", -1);
        int count = 0;
        for (int i = 0; i < groups.length; i++) {
            String g = groups[i];
            if (i == groups.length - 1 && g.indexOf('.') >= 0) {
                if (ipv4Problem(g) != null) {
                    return "its embedded IPv4 part \"" + g + "\" is not a valid IPv4 address";
                }
                count += 2;
                continue;
            }
            if (g.isEmpty() || g.length() > 4 || !g.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
                return "it is not a valid IPv6 address (group \"" + g + "\" is not 1 to 4 hex digits)";
            }
            count++;
        }
        if (dc < 0 ? count != 8 : count > 7) {
            return "it is not a valid IPv6 address (" + count + " groups" + (dc < 0 ? " instead of 8" : " besides \"::\"")
                    + ")";
        }
        return null;
    }

    private static String[] join(String before, String after) {
        String[] a = before.isEmpty() ? new String[0] : before.split(":", -1);
        String[] b = after.isEmpty() ? new String[0] : after.split(":", -1);
        String[] all = new String[a.length + b.length];
        System.arraycopy(a, 0, all, 0, a.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    private static String nameProblem(String name) {
        if (name.isEmpty()) {
            return "it is empty";
        }
        if (name.length() > MAX_NAME) {
            return "it has " + name.length() + " characters; a host name has at most " + MAX_NAME;
        }
        for (String label : name.split("\\.", -1)) {
            if (label.isEmpty()) {
                return "it has an empty label (\"..\" or a leading dot)";
            }
            if (label.length() > MAX_LABEL) {
                return "its label \"" + label + "\" is longer than " + MAX_LABEL + " characters";
            }
            if (!label.chars().allMatch(c -> (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                    || (c >= '0' && c <= '9') || c == '-' || c == '_')) {
                return "it has characters other than letters, digits, '-', '_' and '.'";
            }
            if (label.startsWith("-") || label.endsWith("-")) {
                return "its label \"" + label + "\" starts or ends with '-'";
            }
        }
        return null;
    }
}
