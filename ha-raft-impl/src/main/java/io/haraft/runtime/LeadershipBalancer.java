package io.haraft.runtime;

import io.haraft.transport.GrpcTransport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The leadership balancer and drain of a node hosting many Raft groups ({@link RaftGroupsImpl}).
 * Decentralised: each node runs {@link #round()} periodically on the shared timer thread and acts
 * only on the groups it leads itself, by graceful handovers ({@code transferLeadership}).
 *
 * <p>In a round, the node counts, per member, the groups whose leader it knows (its own view of
 * every group it hosts). The <em>targets</em> are the other members that may lead, that this node
 * heard from within the last {@code liveWindowNanos} without a connection to them refused since,
 * and whose last message did not say they are drained. Then:
 * <ul>
 *   <li>drained: it hands one group it leads to the target leading the fewest groups;</li>
 *   <li>else, if balancing is on and it leads at least two groups more than the target leading the
 *       fewest, it hands one group to that target.</li>
 * </ul>
 * The group handed is one in which this node heard from the target within the same window (a
 * member that does not host the group, or does not answer in it, could not take it) and in which
 * the target lacks at most {@code maxLagEntries} committed entries of the leader's log (a member back from a
 * long absence, or one that hears nothing from the leader, could not finish the handover in time:
 * the group would refuse writes for an election timeout, then its leader would step down); if the
 * target qualifies in none, the next target by count is tried.
 *
 * <p>Preferred leaders come first: a group this node leads whose preferred member is a target is
 * handed to that member. A node that is not drained never hands away a group that prefers it, nor
 * balances one that prefers another target (it goes there instead); the other groups are balanced
 * around them.
 *
 * <p><b>Guarantees.</b> At most {@code maxInFlight} handovers of this node are in flight at once,
 * and a node never hands a group to a member it has not heard from lately (a transfer to a dead
 * node would leave the group without leader for an election), nor to one that lacks more than
 * {@code maxLagEntries} committed entries of the group's log. Every handover strictly lowers the
 * spread of the counts as this node sees them (it leads at least two more than the target), so
 * with stable views the rounds converge to counts that differ by at most one and then stop. A
 * drained node never becomes a target of a balancing node that heard it say so. Rounds never
 * block. Thread-safe.
 *
 * <p><b>Limits.</b> Views differ for a moment while leaders change, so two nodes may hand a group
 * to the same target at once; the next rounds move one back. A drained node still votes, and may
 * win an election (it defers its candidacy, so mostly when no other member could win when a leader
 * died): it then hands the group over in a later round, if it knows a target. Counts are per
 * group, not weighted; with preferred leaders concentrated on one member the counts can differ by
 * more than one.
 */
final class LeadershipBalancer {
    private static final Logger LOG = LoggerFactory.getLogger(LeadershipBalancer.class);

    private final String self;
    private final Supplier<Collection<GroupNode>> groups;
    private final Function<String, Optional<GrpcTransport.PeerSignal>> heard;
    private final long liveWindowNanos;
    private final long maxLagEntries;
    private final int maxInFlight;
    /** The groups this node is handing over now. */
    private final Set<String> inFlight = ConcurrentHashMap.newKeySet();
    private volatile boolean balancing = true;
    private volatile boolean drained;
    /**
     * The groups of the stuck-drain report of the last round, or null if it reported none (round
     * thread only): a report is logged when it differs from the last round's.
     */
    private String lastStuckReport;

    /**
     * @param heard           what this node last heard from a peer
     * @param liveWindowNanos how recently a peer must have been heard from to be a target
     * @param maxLagEntries   how many entries of a group's log a target may lack to be handed it
     * @param maxInFlight     how many handovers this node runs at once
     */
    LeadershipBalancer(String self, Supplier<Collection<GroupNode>> groups,
                       Function<String, Optional<GrpcTransport.PeerSignal>> heard, long liveWindowNanos,
                       long maxLagEntries, int maxInFlight) {
        this.self = self;
        this.groups = groups;
        this.heard = heard;
        this.liveWindowNanos = liveWindowNanos;
        this.maxLagEntries = maxLagEntries;
        this.maxInFlight = maxInFlight;
    }

    /** Whether {@code target} could take group {@code g} now: it answers in it lately and has caught up. */
    private boolean canTake(GroupNode g, String target) {
        return g.node().heardWithin(target, liveWindowNanos) && g.node().lagOf(target) <= maxLagEntries;
    }

    void setBalancing(boolean on) {
        balancing = on;
    }

    boolean balancing() {
        return balancing;
    }

    void setDrained(boolean on) {
        drained = on;
    }

    boolean drained() {
        return drained;
    }

    /** One round (see the class comment); quick, never blocks, never throws for a group's failure. */
    void round() {
        boolean drain = drained;
        // a round that does not report stuck groups ends the report: the same groups stuck again later are said again
        String reported = lastStuckReport;
        lastStuckReport = null;
        if (!drain && !balancing) {
            return;
        }
        List<GroupNode> hosted = new ArrayList<>(groups.get());
        if (hosted.isEmpty() || inFlight.size() >= maxInFlight) {
            return;
        }
        Map<String, Integer> counts = new LinkedHashMap<>();
        List<GroupNode> mine = new ArrayList<>();
        List<String> mayLead = null;
        for (GroupNode g : hosted) {
            String leader;
            if (mayLead == null) {
                RaftNodeImpl.LeaderView v = g.node().leaderView();   // every group has the node's members
                mayLead = v.mayLead();
                leader = v.leader();
            } else {
                leader = g.node().knownLeader();   // the rest cost one volatile read each, every round
            }
            if (leader == null) {
                continue;
            }
            counts.merge(leader, 1, Integer::sum);
            if (leader.equals(self) && !inFlight.contains(g.name())) {
                mine.add(g);
            }
        }
        if (mine.isEmpty() || mayLead == null || !mayLead.contains(self)) {
            return;
        }
        List<String> targets = targets(mayLead);
        handToPreferred(mine, targets, counts);
        if (!drain) {
            // A group held by its preferred member stays; one preferring another live target that
            // answers in it goes there once that member has caught up (until then it stays here:
            // balanced elsewhere, it would move twice). The others are balanced like any group.
            mine.removeIf(g -> {
                String p = g.preferredLeader();
                return p != null && (p.equals(self) || targets.contains(p) && g.node().heardWithin(p, liveWindowNanos));
            });
        }
        while (!mine.isEmpty() && inFlight.size() < maxInFlight
                && handOverOne(mine, targets, counts, drain, reported)) {
            counts.merge(self, -1, Integer::sum);
        }
    }

    /**
     * Hands groups of {@code mine} whose preferred leader is a target (live, not drained) that
     * could take that group (answers in it, has caught up) to that member, within the in-flight
     * limit; updates {@code mine} and
     * {@code counts}.
     */
    private void handToPreferred(List<GroupNode> mine, List<String> targets, Map<String, Integer> counts) {
        for (java.util.Iterator<GroupNode> it = mine.iterator(); it.hasNext() && inFlight.size() < maxInFlight; ) {
            GroupNode g = it.next();
            String p = g.preferredLeader();
            if (p != null && !p.equals(self) && targets.contains(p) && canTake(g, p)) {
                it.remove();
                inFlight.add(g.name());
                counts.merge(self, -1, Integer::sum);
                counts.merge(p, 1, Integer::sum);
                LOG.info("balancer: handing group {} to {}, its preferred leader", g.name(), p);
                transfer(g, p);
            }
        }
    }

    /**
     * Hands one of {@code mine} to the target leading the fewest groups that could take it: this
     * node heard from it in that group lately (a member that does not host the group, or does not
     * answer in it, could not take it) and it has caught up with the group's log; if the rule
     * allows it. Updates {@code mine} and {@code counts}.
     *
     * @return whether a handover started
     */
    private boolean handOverOne(List<GroupNode> mine, List<String> targets, Map<String, Integer> counts,
                                boolean drain, String reported) {
        int mineCount = counts.getOrDefault(self, 0);
        List<String> byCount = new ArrayList<>(targets);
        byCount.sort(java.util.Comparator.comparingInt(t -> counts.getOrDefault(t, 0)));   // stable: member order on ties
        for (String target : byCount) {
            int theirs = counts.getOrDefault(target, 0);
            if (!drain && mineCount - theirs < 2) {
                return false;
            }
            for (GroupNode g : mine) {
                if (canTake(g, target)) {
                    mine.remove(g);
                    handOver(g, target, drain, mineCount, theirs);
                    counts.merge(target, 1, Integer::sum);
                    return true;
                }
            }
        }
        if (drain && !mine.isEmpty()) {
            reportStuckDrain(mine, targets, reported);
        }
        return false;
    }

    /**
     * Says at INFO why a drained node still leads groups it cannot hand away, when it starts and
     * each time those groups change (not every round; the reason is the one seen then).
     */
    private void reportStuckDrain(List<GroupNode> mine, List<String> targets, String reported) {
        List<String> names = mine.stream().map(GroupNode::name).sorted().toList();
        String report = names.toString();   // the reason may change every round (a member heard, then not)
        lastStuckReport = report;
        if (report.equals(reported)) {
            return;
        }
        String why;
        if (targets.isEmpty()) {
            why = "no other member that may lead was heard from lately without saying it is drained";
        } else {
            StringBuilder b = new StringBuilder();
            GroupNode g = mine.get(0);
            for (String t : targets) {
                long lag = g.node().lagOf(t);
                b.append(b.length() == 0 ? "" : "; ").append(t).append(!g.node().heardWithin(t, liveWindowNanos)
                        ? " does not answer in it" : " lacks " + (lag == Long.MAX_VALUE ? "an unknown number of"
                        : Long.toString(lag)) + " committed entries (at most " + maxLagEntries + " to take it)");
            }
            why = "in group " + g.name() + ": " + b;
        }
        LOG.info("drained, but no other member can take the {} groups this node still leads ({}{}): {}; it keeps"
                + " leading them and hands them over once one can", names.size(),
                String.join(", ", names.subList(0, Math.min(5, names.size()))), names.size() > 5 ? ", ..." : "", why);
    }

    /**
     * The other members that may lead, were heard from lately, did not say they are drained, and
     * did not refuse a connection since (a process killed a moment ago was still heard lately).
     */
    private List<String> targets(List<String> mayLead) {
        List<String> out = new ArrayList<>();
        for (String id : mayLead) {
            if (id.equals(self)) {
                continue;
            }
            Optional<GrpcTransport.PeerSignal> s = heard.apply(id);
            if (s.isPresent() && s.get().silence().toNanos() <= liveWindowNanos && !s.get().drained()
                    && !s.get().refusedSince()) {
                out.add(id);
            }
        }
        return out;
    }

    private void handOver(GroupNode g, String target, boolean drain, int mineCount, int theirs) {
        inFlight.add(g.name());
        LOG.info("{}: handing group {} to {} (this node leads {}, {} leads {})", drain ? "drain" : "balancer",
                g.name(), target, mineCount, target, theirs);
        transfer(g, target);
    }

    /** Starts the graceful transfer of {@code g} (already in flight) to {@code target}. */
    private void transfer(GroupNode g, String target) {
        g.node().transferLeadership(target).whenComplete((v, e) -> {
            inFlight.remove(g.name());
            if (e != null) {
                LOG.info("handing group {} to {} failed: {}", g.name(), target, e.toString());
            }
        });
    }
}
