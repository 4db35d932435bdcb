package io.haraft.vip.daemon;

import io.haraft.GroupNames;
import io.haraft.RaftConfig;
import io.haraft.vip.VipAddress;

import java.net.InetAddress;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The keys of the several-VIPs mode of a {@link DaemonConfig} file: {@code vip.GROUP.address}, one
 * line per VIP, {@code GROUP} the name of the VIP's Raft group, and the optional
 * {@code vip.GROUP.preferred = MEMBER}, the voter that should hold that VIP whenever it is up and
 * not drained ({@link io.haraft.GroupOptions#withPreferredLeader(String)}). Their help texts, how
 * the file's line reader recognises them, and the checks of their values.
 */
final class GroupVipKeys {

    /** How {@link DaemonConfig#KEYS} and the help show the key of one of several VIPs. */
    static final String ADDRESS_HELP = "vip.GROUP.address";

    /** The key of one of several VIPs: {@code vip.GROUP.address}, the group name in group 1 (checked later). */
    private static final Pattern ADDRESS = Pattern.compile("vip\\.(.*)\\.address");

    /** How {@link DaemonConfig#KEYS} and the help show the preferred host of one of several VIPs. */
    static final String PREFERRED_HELP = "vip.GROUP.preferred";

    /** The key of the preferred host of one of several VIPs, the group name in group 1. */
    private static final Pattern PREFERRED = Pattern.compile("vip\\.(.*)\\.preferred");

    private GroupVipKeys() {
    }

    /** Adds the help texts of the several-VIPs keys to {@code keys}. */
    static void putHelp(Map<String, String> keys) {
        keys.put(ADDRESS_HELP, "one of several VIPs, each led by its own Raft group GROUP (a-z, 0-9, . _ -), like"
                + " vip.web-1.address = 192.0.2.11/24; one line per VIP, instead of vip (active-active: the leaders of"
                + " the groups spread over the nodes)");
        keys.put(PREFERRED_HELP, "the member id of the host that should hold the VIP of vip.GROUP.address whenever"
                + " it is up and not drained, like vip.web-1.preferred = n2 (optional; a voter, not a witness; give"
                + " every node the same file)");
    }

    /** Whether {@code key} is one of the several-VIPs keys (its group name is checked later). */
    static boolean isGroupKey(String key) {
        return ADDRESS.matcher(key).matches() || PREFERRED.matcher(key).matches();
    }

    /** The key under which {@link DaemonConfig#KEYS} describes the several-VIPs key {@code key}. */
    static String helpKey(String key) {
        return PREFERRED.matcher(key).matches() ? PREFERRED_HELP : ADDRESS_HELP;
    }

    /** What to add to the problem of a key given twice: a hint if it is a several-VIPs key, else nothing. */
    static String duplicateHint(String key) {
        Matcher group = ADDRESS.matcher(key);
        Matcher preferred = PREFERRED.matcher(key);
        return group.matches() ? " (group " + group.group(1) + " carries one VIP: give another VIP a group of its own)"
                : preferred.matches() ? " (group " + preferred.group(1) + " has one preferred host)" : "";
    }

    /**
     * The {@code vip.GROUP.address} keys of the file, each with its group, in the file's order. A
     * group name that {@link GroupNames} refuses, an address given to two groups, and such keys
     * together with {@code vip} are problems.
     */
    static Map<String, String> addressKeys(DaemonConfig.Reader r) {
        Map<String, String> groups = new LinkedHashMap<>();
        Map<InetAddress, String> addresses = new HashMap<>();
        for (Map.Entry<String, String> e : r.values.entrySet()) {
            Matcher m = ADDRESS.matcher(e.getKey());
            if (!m.matches()) {
                continue;
            }
            try {
                groups.put(e.getKey(), GroupNames.check(m.group(1)));
            } catch (IllegalArgumentException bad) {
                r.problem(e.getKey() + ": the part between vip. and .address names the VIP's Raft group: "
                        + bad.getMessage());
                continue;
            }
            InetAddress a;
            try {
                a = VipAddress.parse(e.getValue()).address();
            } catch (IllegalArgumentException bad) {
                continue; // reported with the key when the VIP's settings are built
            }
            String other = addresses.putIfAbsent(a, e.getKey());
            if (other != null) {
                r.problem(e.getKey() + " = " + e.getValue() + ": " + other + " has the same address; two groups"
                        + " would each add it to their leader's host, so two hosts would answer for it. Give every"
                        + " group its own VIP");
            }
        }
        if (!groups.isEmpty() && r.values.containsKey("vip")) {
            r.problem("vip = " + r.values.get("vip") + " is set together with " + String.join(", ", groups.keySet())
                    + ": give either one VIP with vip, or every VIP with a vip.GROUP.address line of its own (write"
                    + " vip.NAME.address = " + r.values.get("vip") + " instead of vip)");
        }
        return groups;
    }

    /**
     * The preferred host of each group that has a {@code vip.GROUP.preferred} line, by group, in the
     * file's order. A line whose group has no {@code vip.GROUP.address} line, and a member that is
     * not in {@code members}, a witness or a learner, are problems (the members are checked only if
     * the {@code members} line is valid; its own problem is reported with it).
     *
     * @param groups the groups of the file's {@code vip.GROUP.address} keys
     */
    static Map<String, String> preferred(DaemonConfig.Reader r, List<String> groups) {
        Map<String, String> preferred = new LinkedHashMap<>();
        List<RaftConfig.Member> members;
        try {
            members = r.values.containsKey("members") ? MemberList.parse(r.values.get("members")) : List.of();
        } catch (IllegalArgumentException e) {
            members = List.of();
        }
        List<String> voters = members.stream().filter(m -> m.role().votes() && !m.role().isWitness())
                .map(RaftConfig.Member::id).toList();
        for (Map.Entry<String, String> e : r.values.entrySet()) {
            Matcher m = PREFERRED.matcher(e.getKey());
            if (!m.matches()) {
                continue;
            }
            String group = m.group(1);
            String id = e.getValue();
            String line = e.getKey() + " = " + id + ": ";
            if (!groups.contains(group)) {
                r.problem(line + "there is no vip." + group + ".address line, so no VIP for " + id + " to prefer."
                        + " Add vip." + group + ".address = CIDR, or name one of the groups "
                        + (groups.isEmpty() ? "of vip.GROUP.address lines (with a single vip there is nothing to"
                        + " prefer: remove the line)" : groups) + ", or remove the line");
                continue;
            }
            if (!members.isEmpty()) {
                RaftConfig.Member member = members.stream().filter(x -> x.id().equals(id)).findFirst().orElse(null);
                String instead = "; name one of the voters " + voters + ", or remove the line to let the balancer"
                        + " place the VIP";
                if (member == null) {
                    r.problem(line + id + " is not in members" + instead);
                    continue;
                }
                if (member.role().isWitness()) {
                    r.problem(line + id + " is a witness, which never leads and holds no VIP" + instead);
                    continue;
                }
                if (!member.role().votes()) {
                    r.problem(line + id + " is a learner (it does not vote yet), which cannot lead" + instead);
                    continue;
                }
            }
            preferred.put(group, id);
        }
        return preferred;
    }
}
