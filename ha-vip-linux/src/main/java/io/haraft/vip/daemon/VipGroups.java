package io.haraft.vip.daemon;

import io.haraft.GroupOptions;
import io.haraft.NodeStatus;
import io.haraft.RaftGroups;
import io.haraft.RaftNode;
import io.haraft.vip.VipHolder;
import io.haraft.vip.VipStatus;

import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.locks.LockSupport;

/**
 * The several-VIP (active-active) mode of {@code ha-vipd}: one {@link RaftGroups} node that hosts
 * one Raft group per {@code vip.GROUP.address} key, with one {@link VipHolder} per group that holds
 * that group's VIP while this node leads the group. The node's leadership balancer spreads the
 * groups, so while every node is up each holds its share of the VIPs; the survivors take over the
 * groups (and VIPs) of a node that dies, and hand it its share back when it returns.
 *
 * <p><b>Guarantees.</b> Each VIP follows the leadership of its own group exactly as the single VIP
 * follows the node's leadership ({@link VipHolder}: added on {@code elected}, removed on
 * {@code revoked} and by the lease watchdog); groups never share a holder. {@link #drain} hands
 * every group, and so every VIP, to the other members that are up and not drained, until
 * {@link #undrain}, also across restarts. Thread-safe.
 *
 * <p><b>Limits.</b> Membership changes are not supported in this mode (every group has the members
 * of the {@code members} line). A witness hosts the groups (so that they have a majority) and
 * runs no holder.
 */
final class VipGroups implements AutoCloseable {

    /** How long {@code drain} waits for this node to hand its groups over before it answers. */
    static final Duration DRAIN_WAIT = Duration.ofSeconds(20);

    private final String nodeId;
    private final RaftGroups node;
    private final Map<String, RaftNode> handles = new LinkedHashMap<>();
    private final Map<String, VipHolder> holders;
    private final Map<String, String> vips = new LinkedHashMap<>();
    private final Map<String, String> preferred = new LinkedHashMap<>();

    private VipGroups(DaemonConfig c, RaftGroups node, Map<String, VipHolder> holders) {
        this.nodeId = c.raftConfig().nodeId();
        this.node = node;
        this.holders = Map.copyOf(holders);
        c.groupVips().forEach((g, v) -> vips.put(g, v.address().toString()));
        c.groups().forEach(g -> c.preferred(g).ifPresent(p -> preferred.put(g, p)));
    }

    /**
     * Builds the node of {@code c} and creates its groups, each with the holder of its VIP from
     * {@code holders} (none on a witness); nothing is started.
     *
     * @throws RuntimeException if the node cannot be built ({@link RaftNode.Builder#buildGroups()})
     */
    static VipGroups create(DaemonConfig c, Map<String, VipHolder> holders) {
        RaftGroups node = c.builder().buildGroups();
        VipGroups g = new VipGroups(c, node, holders);
        try {
            for (String group : c.groups()) {
                VipDaemon.LoggingListener listener = new VipDaemon.LoggingListener(g.nodeId, Optional.of(group),
                        Optional.ofNullable(holders.get(group)));
                GroupOptions options = GroupOptions.defaults().withListener(listener);
                g.handles.put(group, node.newGroup(group, c.preferred(group).map(options::withPreferredLeader)
                        .orElse(options)));
            }
        } catch (RuntimeException e) {
            node.close();
            throw e;
        }
        return g;
    }

    /** Starts the node and its groups; see {@link RaftGroups#start()}. */
    void start() {
        node.start();
    }

    /** The groups, in the file's order. */
    List<String> groups() {
        return List.copyOf(handles.keySet());
    }

    /** The handle of {@code group}. */
    RaftNode group(String group) {
        return handles.get(group);
    }

    /** The node's cluster. */
    String clusterId() {
        return node.config().clusterId();
    }

    /**
     * One line per VIP: its group, its preferred host ({@code -} if none), the group's leader and
     * term, and whether this host holds the VIP now.
     */
    AdminReply status(MembershipCommands.Out out) {
        out.info("node " + nodeId + ": " + handles.size() + " VIPs, one Raft group each; " + (node.isDrained()
                ? "DRAINED (hands every group to the other members, also after a restart; undrain ends it)" : "not drained")
                + ", balancing " + (node.isBalancing() ? "on" : "off"));
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"GROUP", "VIP", "PREFERRED", "LEADER", "TERM", "HELD HERE"});
        int held = 0;
        for (Map.Entry<String, RaftNode> e : handles.entrySet()) {
            NodeStatus s = e.getValue().status();
            Optional<VipStatus> v = Optional.ofNullable(holders.get(e.getKey())).map(VipHolder::status);
            boolean holding = v.map(VipStatus::holding).orElse(false);
            held += holding ? 1 : 0;
            rows.add(new String[] {e.getKey(), vips.getOrDefault(e.getKey(), "- (witness)"),
                    preferred.getOrDefault(e.getKey(), "-"),
                    s.leaderId().orElse("none (election)") + (s.isLeader() ? " (this node)" : ""),
                    Long.toString(s.term()), v.isEmpty() ? "-" : holding ? "yes, token "
                    + v.get().heldFor().map(t -> Long.toString(t.value())).orElse("?") : "no"});
        }
        int[] width = new int[rows.get(0).length];
        for (String[] r : rows) {
            for (int i = 0; i < r.length; i++) {
                width[i] = Math.max(width[i], r[i].length());
            }
        }
        for (String[] r : rows) {
            StringBuilder line = new StringBuilder("  ");
            for (int i = 0; i < r.length; i++) {
                line.append(i == r.length - 1 ? r[i] : String.format("%-" + (width[i] + 2) + "s", r[i]));
            }
            out.info(line.toString().stripTrailing());
        }
        out.info("this host holds " + held + " of " + handles.size() + " VIPs");
        return AdminReply.ok("status of node " + nodeId + ": holds " + held + " of " + handles.size() + " VIPs");
    }

    /**
     * Drains the node ({@link RaftGroups#drain()}): it hands each group it leads, and so its VIP, to
     * another member, one at a time, and stays drained, also across restarts of the daemon, until
     * {@link #undrain}. Waits up to {@link #DRAIN_WAIT} for the handovers, reporting each group
     * handed over; the drain stays in force either way. If the drain cannot be recorded in the data
     * directory, answers {@code ERROR} at once with what to fix (the node is drained until it
     * restarts).
     */
    AdminReply drain(MembershipCommands.Out out) {
        try {
            node.drain();
        } catch (UncheckedIOException e) {
            return AdminReply.failed(AdminReply.ERROR, e.getMessage() + " (with ha-vipd: admin drain)");
        }
        out.info("node " + nodeId + " is drained: it hands every group it leads, with its VIP, to the other"
                + " members, one at a time, and stays drained across restarts of this daemon until undrain");
        long end = System.nanoTime() + DRAIN_WAIT.toNanos();
        List<String> led = led();
        while (!led.isEmpty() && System.nanoTime() < end) {
            LockSupport.parkNanos(Duration.ofMillis(100).toNanos());
            List<String> now = led();
            for (String g : led) {
                if (!now.contains(g)) {
                    out.info("handed over group " + g + " (VIP " + vips.getOrDefault(g, "-") + ")");
                }
            }
            led = now;
        }
        if (!led.isEmpty()) {
            return AdminReply.ok("node " + nodeId + " is drained but still leads " + led + " after "
                    + DRAIN_WAIT.toSeconds() + " s: no other member that is up and not drained has taken them yet;"
                    + " status shows the progress");
        }
        return AdminReply.ok("node " + nodeId + " is drained and leads no group: it holds no VIP until undrain, also"
                + " after a restart of this daemon");
    }

    /**
     * Ends {@link #drain}: the other members hand this node its share of the groups back. If the
     * record of the drain cannot be removed, answers {@code ERROR} with what to fix; the node stays
     * drained.
     */
    AdminReply undrain(MembershipCommands.Out out) {
        try {
            node.undrain();
        } catch (UncheckedIOException e) {
            return AdminReply.failed(AdminReply.ERROR, e.getMessage() + " (with ha-vipd: admin undrain)");
        }
        return AdminReply.ok("node " + nodeId + " is no longer drained: the other members hand it its share of the"
                + " groups (and their VIPs) back, one at a time; status shows the progress");
    }

    private List<String> led() {
        List<String> led = new ArrayList<>();
        handles.forEach((g, h) -> {
            if (h.isLeader()) {
                led.add(g);
            }
        });
        return led;
    }

    /** Closes the node (each leader revokes itself, removing its VIP, and hands over), then the holders. */
    @Override
    public void close() {
        node.close();
        holders.values().forEach(VipHolder::close);
    }

    /** Whether this host holds any VIP now (after close: one a holder could not remove). */
    boolean holdsAny() {
        return holders.values().stream().anyMatch(h -> h.status().holding());
    }
}
