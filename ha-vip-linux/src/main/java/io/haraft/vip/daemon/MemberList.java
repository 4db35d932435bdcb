package io.haraft.vip.daemon;

import io.haraft.MemberRole;
import io.haraft.RaftConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The {@code members} value of an {@code ha-vipd} file: {@code id=host:port} entries separated by
 * commas, each optionally followed by its role, {@code /learner}, {@code /witness} or
 * {@code /witness-learner} (a voter has no suffix):
 * {@code n1=10.0.0.1:7001,n2=10.0.0.2:7001,w1=10.0.0.9:7001/witness}.
 *
 * <p>{@code ha-vipd admin status} prints the cluster's configuration in the same form, so that an
 * operator can paste it into every node's file after a change.
 */
final class MemberList {

    private MemberList() {
    }

    /**
     * Parses a {@code members} value.
     *
     * @throws IllegalArgumentException (a {@link io.haraft.RaftConfigException} for a bad address)
     *                                  if an entry is malformed; the message shows the form
     */
    static List<RaftConfig.Member> parse(String value) {
        List<RaftConfig.Member> members = new ArrayList<>();
        for (String entry : value.split(",")) {
            String e = entry.strip();
            int eq = e.indexOf('=');
            if (e.isEmpty() || eq <= 0 || eq == e.length() - 1) {
                throw new IllegalArgumentException("'" + e + "' is not id=host:port; write every member, this node"
                        + " included, like n1=192.0.2.1:7001,n2=192.0.2.2:7001,n3=192.0.2.3:7001 (a witness as"
                        + " w1=192.0.2.9:7001/witness, a joining node as n4=192.0.2.4:7001/learner)");
            }
            String address = e.substring(eq + 1).strip();
            MemberRole role = MemberRole.VOTER;
            int slash = address.lastIndexOf('/');
            if (slash >= 0) {
                role = role(address.substring(slash + 1).strip(), e);
                address = address.substring(0, slash).strip();
            }
            members.add(RaftConfig.Member.parse(e.substring(0, eq).strip(), address, role));
        }
        return members;
    }

    private static MemberRole role(String suffix, String entry) {
        for (MemberRole r : MemberRole.values()) {
            if (r != MemberRole.VOTER && suffix(r).equals("/" + suffix)) {
                return r;
            }
        }
        throw new IllegalArgumentException("'" + entry + "' has an unknown role '/" + suffix + "'; use no suffix for"
                + " a voter, or /learner, /witness, /witness-learner");
    }

    /** {@code "id=host:port"} with the role suffix. */
    static String entry(String id, String address, MemberRole role) {
        return id + "=" + address + suffix(role);
    }

    /** The suffix that marks {@code role}: empty for a voter, else like {@code "/witness-learner"}. */
    static String suffix(MemberRole role) {
        return role == MemberRole.VOTER ? "" : "/" + role.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
