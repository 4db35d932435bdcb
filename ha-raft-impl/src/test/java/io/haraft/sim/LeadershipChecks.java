package io.haraft.sim;

import io.haraft.Leadership;
import io.haraft.RevokeReason;

/**
 * The checks of the whole-node simulators on what users see of leaderships, for one Raft group:
 * (L) no two {@link Leadership#isValid()} windows overlap in real time, (T) the fencing token of a
 * valid leadership never goes back and a new leadership's is larger, and (A) {@code elected} and
 * {@code revoked} strictly alternate on each node, for the same leadership. Each check returns the
 * violation, or null.
 */
final class LeadershipChecks {
    private long maxValidToken;
    private Leadership maxValidLeadership;
    /** The valid leadership seen in the current pass. */
    private Leadership valid;

    /** Starts a pass over the leaderships every node of the group holds now (after an event). */
    void startPass() {
        valid = null;
    }

    /** (L) and (T) for a leadership that is valid now; null if both hold. */
    String valid(Leadership x) {
        if (valid != null && !same(valid, x)) {
            return "(L) two valid leaderships at once: " + describe(valid) + " and " + describe(x);
        }
        valid = x;
        long token = x.token().value();
        if (token < maxValidToken || token == maxValidToken && maxValidLeadership != null
                && !same(maxValidLeadership, x)) {
            return "(T) " + describe(x) + " is valid after token " + maxValidToken + " was";
        }
        maxValidToken = token;
        maxValidLeadership = x;
        return null;
    }

    /** The valid leadership seen in the current pass, or null. */
    Leadership validNow() {
        return valid;
    }

    /** (A) for {@code elected(leadership)} on {@code node} while its listener holds {@code open}. */
    static String elected(String node, Leadership open, Leadership leadership) {
        return open == null ? null
                : "(A) " + node + " elected " + describe(leadership) + " while " + describe(open) + " was not revoked";
    }

    /** (A) for {@code revoked(leadership, reason)} on {@code node} while its listener holds {@code open}. */
    static String revoked(String node, Leadership open, Leadership leadership, RevokeReason reason) {
        return open != null && same(open, leadership) ? null : "(A) " + node + " revoked " + describe(leadership)
                + " (" + reason + ") while holding " + (open == null ? "nothing" : describe(open));
    }

    static boolean same(Leadership a, Leadership b) {
        return a.term() == b.term() && a.nodeId().equals(b.nodeId());
    }

    static String describe(Leadership l) {
        return l.nodeId() + "@term" + l.term() + "(token " + l.token().value() + ")";
    }
}
