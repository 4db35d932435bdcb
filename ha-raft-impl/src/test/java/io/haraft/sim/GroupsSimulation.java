package io.haraft.sim;

import io.haraft.Committed;
import io.haraft.Leadership;
import io.haraft.LeadershipListener;
import io.haraft.RaftConfig;
import io.haraft.RaftNode;
import io.haraft.RevokeReason;
import io.haraft.StateMachine;
import io.haraft.core.PlantedBugs;
import io.haraft.runtime.SimGroupsNode;
import io.haraft.runtime.SimNet;
import io.haraft.runtime.SimWorld;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * One seed of the groups mode of the whole-node simulator: three nodes, each hosting the same
 * {@code G} Raft groups (4 to 6, drawn from the seed) as production {@code RaftNodeImpl}s on one
 * simulated socket ({@link SimGroupsNode}), with the production {@code LeadershipBalancer} of each
 * node running its rounds on virtual time. Faults hit a node's whole process, so every group at once:
 * crash and restart, graceful restart ({@code close()}: leaders hand over), SIGSTOP, isolation, one
 * link cut. Heartbeats are coalesced as in production: a node-wide heartbeat tick makes every
 * group that leads send its heartbeats at once, and the simulated socket lets heartbeats and their
 * answers wait a linger for each other and travel as one batch. When the faults stop, every node runs again,
 * but in half of the seeds one node stays down (the balancer must balance over the live nodes and
 * must not hand a group to the dead one), and in a quarter one node is drained ({@link Ending}):
 * while it runs, or (in two thirds of those) with a restart after its drain was recorded, or
 * drained while down and then started, so that it must start drained.
 *
 * <p>Checked after every event, per group: (L), (T) and (A) ({@link LeadershipChecks}), (S) no
 * two nodes apply different commands at one index, and (V) each running group's status view is
 * what its state shows now (as in {@link NodeSimulation}). At the end:
 * <ul>
 *   <li>(B) balance: within {@link #SETTLE_NANOS} of virtual time after the faults stop, every group
 *       has a valid leadership, the counts of the groups they lead of the live nodes but a drained
 *       one differ by at most one, and a drained node leads none; and so it is at the end. Balance
 *       counts from {@link #QUIESCE_NANOS} after the faults stop, when every handover begun before
 *       has ended (one begun just before its target went down times out, and its leader steps
 *       down: the documented limit of the balancer).</li>
 *   <li>(F) no flapping: once balanced, at most {@link #FLAP_BOUND} leaderships change hands (an
 *       {@code elected} anywhere) until the end, {@link #OBSERVE_NANOS} after the settle bound.</li>
 *   <li>(D) then, in a seed ending with a node drained: the undrained nodes' leaders fail in turn
 *       (crash or isolation) and the drained node must not be elected in a group that the undrained
 *       survivor could win; every group has a leader again soon ({@link #drainedFailovers}).</li>
 * </ul>
 */
final class GroupsSimulation {
    private static final long MS = 1_000_000L;
    /** After the faults stop: every group has a leader and leaderships are balanced within this long. */
    static final long SETTLE_NANOS = 2_500 * MS;
    /**
     * Balance counts from this long after the faults stop: a node heard from within the balancer's
     * live window (two heartbeat intervals) before it was paused or cut off may still be given a
     * group (a crashed one is not: its connection is refused), and a
     * handover ends within its deadline (two election timeouts); plus one balancer period. By then
     * every handover begun to a node that went down has ended (timed out: its leader stepped down).
     */
    static final long QUIESCE_NANOS = 1_050 * MS;
    /** How long the run goes on after the settle bound, watching for flapping. */
    static final long OBSERVE_NANOS = 2_000 * MS;
    /** At most this many leaderships change hands after balance is reached. */
    static final int FLAP_BOUND = 2;

    /** The planted balancer bugs this simulation proves it catches. */
    enum Bug {
        NONE,
        /**
         * A live window so long that a member heard from once stays a target, refused connections
         * ignored (a handover to a dead node).
         */
        BALANCER_IGNORES_HEARD,
        /** The balancer counts one leadership more than the node holds: it hands over leading only one more. */
        BALANCER_OVERCOUNTS_SELF,
        /** The drained flag of the peers' messages is lost: balancing nodes hand groups to the drained node. */
        DRAINED_FLAG_LOST,
        /**
         * Not a balancer bug: coalesced heartbeats (and answers) are delivered to the group of the
         * first message of their batch, so one group's leader renews its lease and commit index in
         * groups it does not lead.
         */
        BATCH_MISROUTED,
        /** A drained node's groups do not defer their candidacy: it campaigns as early as the others. */
        DRAINED_CAMPAIGNS_EARLY,
        /** A restarted node ignores the drain recorded on its disk: it starts undrained and is handed groups. */
        DRAIN_FORGOTTEN_ON_RESTART;

        /** Whether the bug is in the balancer (caught by (B) or (F)) rather than in a group's safety. */
        boolean balancer() {
            return this != NONE && this != BATCH_MISROUTED && this != DRAINED_CAMPAIGNS_EARLY;
        }

        /** The prefixes of the invariants that must catch this bug (the balancer's and the drain's). */
        List<String> caughtBy() {
            return this == DRAINED_CAMPAIGNS_EARLY ? List.of("(D)") : List.of("(B)", "(F)");
        }
    }

    private enum Kind { CRASH, ISOLATE, PAUSE, CUT_ONE_LINK, CLOSE }

    /** How a seed ends when the faults stop. */
    enum Ending {
        /** Every node runs again. */
        ALL_UP,
        /** One node stays down (or goes down then): the balancer must balance over the others. */
        ONE_DOWN,
        /** Every node runs again, and one is drained ({@code RaftGroups.drain()}): it must end up leading none. */
        ONE_DRAINED
    }

    /** What a run found. */
    record Result(long seed, String violation, int groups, Ending ending, long events, long elections,
                  long handovers, long acknowledged, long crashes, long closes, long pauses, long isolations,
                  long balancerRounds,
                  long settleNanos, long changesAfterBalance, int maxImbalance, long fingerprint,
                  long drainedFailovers, long drainedRestarts) {
        boolean failed() {
            return violation != null;
        }
    }

    private final long seed;
    private final SimWorld world;
    private final SplittableRandom random;
    private final SimNet net;
    private final List<String> groups = new ArrayList<>();
    private final List<SimGroupsNode> nodes = new ArrayList<>();
    /** Each group's (L)(T) checks, by group index. */
    private final List<LeadershipChecks> checks = new ArrayList<>();
    /** Each node's current listener of each group, by group index. */
    private final Map<String, GroupListener[]> listeners = new HashMap<>();
    private final Map<String, Map<Long, String>> applied = new HashMap<>();  // group -> index -> command
    private final List<Kind> kinds = new ArrayList<>();
    private final Set<String> stayDown = new HashSet<>();
    private final Ending ending;
    /** The node drained when the faults stopped ({@link Ending#ONE_DRAINED}), else null. */
    private String drained;
    private boolean faultsOn = true;
    private boolean clientOn = true;
    /** Set once (B) and (F) are checked: what follows ({@link #drainedFailovers}) counts for neither. */
    private boolean finalChecked;
    /**
     * While a leader's node is down in {@link #drainedFailovers}: by group index, whether the
     * undrained survivor could win that group (so the drained node must not be elected in it); else null.
     */
    private boolean[] survivorCanWin;
    private String failedNode;
    private String survivor;
    /** Groups whose leader's node failed in {@link #drainedFailovers} while the survivor could win them. */
    private long drainedFailovers;
    /** Planted-bug seeds: the drained node always restarts after its drain was recorded. */
    private final boolean drainedRestartsAlways;
    /** Seeds whose drained node was restarted after its drain was recorded (it must start drained). */
    private long drainedRestarts;
    private long faultsStoppedAt = -1;
    private long balancedSince = -1;
    private long changesAfterBalance;
    private int maxImbalance;
    private long elections;
    private long handovers;
    private long acknowledged;
    private long commands;
    private long crashes;
    private long pauses;
    private long isolations;
    private long closes;
    /** A hash of every leadership change, in order and with its time: equal for two runs of one seed. */
    private long fingerprint = 17;
    private final FirstViolation violations = new FirstViolation();

    private void fail(String violation) {
        violations.fail(violation);
    }

    GroupsSimulation(long seed, Bug bug) {
        this.seed = seed;
        this.world = new SimWorld(seed);
        this.random = new SplittableRandom(seed * 31 + 13);
        this.net = new SimNet(world, () -> 100_000 + random.nextLong(400_000));
        for (Kind k : Kind.values()) {
            if (random.nextBoolean()) {
                kinds.add(k);      // swarm testing: each seed its own fault mix
            }
        }
        int e = random.nextInt(4);
        // the drain bugs need a drained node to matter: their seeds all end with one
        boolean drainBug = bug == Bug.DRAINED_FLAG_LOST || bug == Bug.DRAINED_CAMPAIGNS_EARLY
                || bug == Bug.DRAIN_FORGOTTEN_ON_RESTART;
        this.drainedRestartsAlways = bug == Bug.DRAIN_FORGOTTEN_ON_RESTART;
        this.ending = e == 2 || drainBug ? Ending.ONE_DRAINED : e < 2 ? Ending.ONE_DOWN
                : Ending.ALL_UP;
        int groupCount = 4 + random.nextInt(3);
        for (int g = 0; g < groupCount; g++) {
            groups.add("g" + g);
            checks.add(new LeadershipChecks());
            applied.put("g" + g, new HashMap<>());
        }
        List<String> ids = List.of("n1", "n2", "n3");
        for (String id : ids) {
            RaftNode.Builder b = RaftNode.builder().clusterId("groups").nodeId(id).dataDir(Path.of("/nonexistent", id))
                    .heartbeatInterval(Duration.ofMillis(50)).electionTimeout(Duration.ofMillis(300))
                    .clockDriftBound(0.01).snapshotThreshold(40 + random.nextInt(80));
            for (String m : ids) {
                b.member(m, "127.0.0.1:" + (7000 + Integer.parseInt(m.substring(1))));
            }
            RaftConfig config = b.config();
            SimWorld.Host host = world.new Host(id, random.nextLong(1_000_000_000_000L),
                    random.nextLong(-5_000, 5_001));
            SimGroupsNode node = new SimGroupsNode(world, net, host, config, groups,
                    () -> 200_000 + random.nextLong(1_800_000), 200_000, PlantedBugs.NONE::newCore);
            if (bug == Bug.BALANCER_IGNORES_HEARD) {
                node.liveWindowNanos = Long.MAX_VALUE;
                node.forgetsRefusals = true;
            }
            node.listsALedGroupTwice = bug == Bug.BALANCER_OVERCOUNTS_SELF;
            node.losesDrainedFlag = bug == Bug.DRAINED_FLAG_LOST;
            node.misroutesBatches = bug == Bug.BATCH_MISROUTED;
            node.campaignsEarlyWhenDrained = bug == Bug.DRAINED_CAMPAIGNS_EARLY;
            node.forgetsRecordedDrain = bug == Bug.DRAIN_FORGOTTEN_ON_RESTART;
            nodes.add(node);
        }
        world.afterEachEvent(this::check);
    }

    Result run(long faultNanos) {
        FirstViolation.Stop stopped = null;
        try {
            for (SimGroupsNode n : nodes) {
                start(n);
            }
            scheduleClient(world.now() + 50 * MS);
            scheduleFault(world.now() + 500 * MS);
            world.runUntil(faultNanos);
            stopFaults();
            world.runUntil(faultNanos + SETTLE_NANOS + OBSERVE_NANOS);
            finalChecks();
            finalChecked = true;
            if (ending == Ending.ONE_DRAINED) {
                drainedFailovers(faultNanos + SETTLE_NANOS + OBSERVE_NANOS);
            }
        } catch (FirstViolation.Stop v) {
            stopped = v;
        }
        String violation = violations.report(stopped, seed, world.now() / MS);
        long settle = balancedSince < 0 ? -1 : balancedSince - faultsStoppedAt;
        return new Result(seed, violation, groups.size(), ending, world.events(), elections, handovers,
                acknowledged, crashes, closes, pauses, isolations,
                nodes.stream().mapToLong(SimGroupsNode::balancerRounds).sum(), settle, changesAfterBalance,
                maxImbalance, fingerprint, drainedFailovers, drainedRestarts);
    }

    /** Heals and resumes everything; every node runs again, but one may stay (or go) down or be drained. */
    private void stopFaults() {
        faultsOn = false;
        net.heal();
        for (SimGroupsNode n : nodes) {
            n.host().resume();
        }
        if (ending == Ending.ONE_DOWN) {
            SimGroupsNode down = nodes.stream().filter(x -> !x.up()).findFirst()
                    .orElse(nodes.get(random.nextInt(nodes.size())));
            stayDown.add(down.id());
            if (down.up()) {
                crash(down, 0);
            }
        }
        for (SimGroupsNode n : nodes) {
            if (!n.up() && !stayDown.contains(n.id())) {
                start(n);
            }
        }
        if (ending == Ending.ONE_DRAINED) {
            SimGroupsNode d = nodes.get(random.nextInt(nodes.size()));
            drained = d.id();
            int how = random.nextInt(3);
            switch (drainedRestartsAlways && how == 0 ? 1 : how) {
                case 0 -> d.drain();                     // drained while it runs
                case 1 -> {                              // drained, then killed and restarted: it starts drained
                    d.drain();
                    crash(d, 0);
                    restartDrained(d);
                }
                default -> {                             // killed, drained while down (drain() before start()), started
                    crash(d, 0);
                    d.drain();
                    restartDrained(d);
                }
            }
        }
        faultsStoppedAt = world.now();
    }

    /**
     * Starts the drained node again at once or up to an election timeout later (the others may
     * have elected leaders for its groups meanwhile).
     */
    private void restartDrained(SimGroupsNode d) {
        drainedRestarts++;
        long downFor = random.nextBoolean() ? 0 : random.nextLong(1, 300 * MS);
        if (downFor == 0) {
            start(d);
        } else {
            world.at(world.now() + downFor, null, () -> {
                if (!d.up()) {                        // a restart scheduled by an earlier fault may have come first
                    start(d);
                }
            });
        }
    }

    private void start(SimGroupsNode n) {
        GroupListener[] ls = new GroupListener[groups.size()];
        for (int i = 0; i < ls.length; i++) {
            ls[i] = new GroupListener(n.id(), groups.get(i));
        }
        listeners.put(n.id(), ls);
        n.start(g -> ls[groups.indexOf(g)], g -> new Machine(n.id(), g), random.nextLong());
    }

    private boolean live(SimGroupsNode n) {
        return n.up() && !n.host().paused();
    }

    // ------------------------------------------------------------------ a client

    /** Submits a command to some group through whichever node leads it (or any live node). */
    private void scheduleClient(long at) {
        world.at(at, null, () -> {
            if (!clientOn) {
                return;
            }
            String g = groups.get(random.nextInt(groups.size()));
            List<SimGroupsNode> live = nodes.stream().filter(this::live).toList();
            SimGroupsNode n = live.stream().filter(x -> x.group(g).isLeader()).findFirst()
                    .orElse(live.isEmpty() ? null : live.get(random.nextInt(live.size())));
            if (n != null) {
                String cmd = g + "-c" + (++commands);
                n.group(g).submit(cmd.getBytes(StandardCharsets.UTF_8)).whenComplete((c, e) -> {
                    if (e == null) {
                        acknowledged++;
                    }
                });
            }
            scheduleClient(world.now() + 10 * MS + random.nextLong(30 * MS));
        });
    }

    // ------------------------------------------------------------------ faults (a node's whole process)

    private void scheduleFault(long at) {
        world.at(at, null, () -> {
            if (!faultsOn) {
                return;
            }
            List<SimGroupsNode> live = nodes.stream().filter(this::live).toList();
            if (!live.isEmpty() && !kinds.isEmpty()) {
                SimGroupsNode victim = live.get(random.nextInt(live.size()));
                switch (kinds.get(random.nextInt(kinds.size()))) {
                    case CRASH -> {
                        if (nodes.stream().allMatch(SimGroupsNode::up)) {
                            crash(victim, 100 * MS + random.nextLong(1_500 * MS));
                        }
                    }
                    case ISOLATE -> isolate(victim, 100 * MS + random.nextLong(1_500 * MS));
                    case PAUSE -> pause(victim, 50 * MS + random.nextLong(1_000 * MS));
                    case CUT_ONE_LINK -> cutOneLink(victim);
                    case CLOSE -> {
                        if (nodes.stream().allMatch(SimGroupsNode::up)) {
                            close(victim, 100 * MS + random.nextLong(1_000 * MS));
                        }
                    }
                }
            }
            scheduleFault(world.now() + 200 * MS + random.nextLong(800 * MS));
        });
    }

    private void crash(SimGroupsNode n, long downFor) {
        crashes++;
        n.crash();
        if (downFor > 0) {
            restartAfter(n, downFor);
        }
    }

    /** A graceful restart: every group closes (its leader hands over), then a new process after a while. */
    private void close(SimGroupsNode n, long downFor) {
        closes++;
        n.close();
        restartAfter(n, downFor);
    }

    private void restartAfter(SimGroupsNode n, long downFor) {
        world.at(world.now() + downFor, null, () -> {
            if (!n.up() && !stayDown.contains(n.id())) {
                start(n);
            }
        });
    }

    private void isolate(SimGroupsNode n, long forNanos) {
        isolations++;
        net.isolate(n.id(), nodes.stream().map(SimGroupsNode::id).toList(), forNanos);
    }

    /** The link from {@code n} to another node cut (one way or both), for 300 ms to 1.8 s. */
    private void cutOneLink(SimGroupsNode n) {
        List<SimGroupsNode> others = nodes.stream().filter(x -> x != n).toList();
        SimGroupsNode o = others.get(random.nextInt(others.size()));
        isolations++;
        net.cut(n.id(), o.id());
        if (random.nextBoolean()) {
            net.cut(o.id(), n.id());
        }
        world.at(world.now() + 300 * MS + random.nextLong(1_500 * MS), null, net::heal);
    }

    private void pause(SimGroupsNode n, long forNanos) {
        pauses++;
        n.host().pause();
        world.at(world.now() + forNanos, null, () -> n.host().resume());
    }

    // ------------------------------------------------------------------ invariants

    private void check() {
        violations.rethrow();
        for (int i = 0; i < groups.size(); i++) {
            LeadershipChecks c = checks.get(i);
            c.startPass();
            for (SimGroupsNode n : nodes) {
                RaftNode node = n.group(i);
                if (node != null) {
                    check(c, listeners.get(n.id())[i].open, i);
                    check(c, node.leadership().orElse(null), i);
                    String stale = n.staleView(i);
                    if (stale != null) {
                        fail("(V) " + n.id() + "'s group " + groups.get(i) + " status " + stale);
                    }
                }
            }
        }
        if (faultsStoppedAt >= 0 && !finalChecked) {
            Map<String, Integer> led = new HashMap<>();
            int leaderless = 0;
            for (LeadershipChecks c : checks) {
                Leadership now = c.validNow();
                if (now == null) {
                    leaderless++;
                } else {
                    led.merge(now.nodeId(), 1, Integer::sum);
                }
            }
            int imbalance = imbalance(led);
            boolean balanced = balanced(led, leaderless);
            if (balanced && balancedSince < 0 && world.now() >= faultsStoppedAt + QUIESCE_NANOS) {
                balancedSince = world.now();
            }
            if (world.now() > faultsStoppedAt + SETTLE_NANOS) {
                maxImbalance = Math.max(maxImbalance, imbalance);
            }
        }
    }

    private void check(LeadershipChecks c, Leadership x, int group) {
        if (x != null && x.isValid()) {
            String v = c.valid(x);
            if (v != null) {
                fail(v + " in group " + groups.get(group));
            }
        }
    }

    /** No group without leader, the live nodes' counts within one, and a drained node leads none. */
    private boolean balanced(Map<String, Integer> led, int leaderless) {
        return leaderless == 0 && imbalance(led) <= 1 && (drained == null || !led.containsKey(drained));
    }

    /** The spread of the counts of groups they lead of the live nodes (but a drained one). */
    private int imbalance(Map<String, Integer> led) {
        int min = Integer.MAX_VALUE;
        int max = 0;
        for (SimGroupsNode n : nodes) {
            if (live(n) && !n.id().equals(drained)) {
                int c = led.getOrDefault(n.id(), 0);
                min = Math.min(min, c);
                max = Math.max(max, c);
            }
        }
        return min == Integer.MAX_VALUE ? 0 : max - min;
    }

    private void finalChecks() {
        Map<String, Integer> led = new HashMap<>();
        List<String> leaderless = new ArrayList<>();
        for (int i = 0; i < groups.size(); i++) {
            Leadership l = checks.get(i).validNow();
            if (l == null) {
                leaderless.add(groups.get(i));
            } else {
                led.merge(l.nodeId(), 1, Integer::sum);
            }
        }
        String state = "leaders per node " + new java.util.TreeMap<>(led) + ", leaderless " + leaderless
                + (stayDown.isEmpty() ? "" : ", down " + stayDown) + (drained == null ? "" : ", drained " + drained);
        if (balancedSince < 0 || balancedSince > faultsStoppedAt + SETTLE_NANOS) {
            fail("(B) not balanced " + SETTLE_NANOS / MS + " ms after the faults stopped"
                    + (balancedSince < 0 ? "" : " (first at +" + (balancedSince - faultsStoppedAt) / MS + " ms)")
                    + "; at the end: " + state);
        }
        if (!balanced(led, leaderless.size())) {
            fail("(B) not balanced at the end: " + state);
        }
        if (changesAfterBalance > FLAP_BOUND) {
            fail("(F) " + changesAfterBalance + " leaderships changed hands after balance was reached (bound "
                    + FLAP_BOUND + "); at the end: " + state);
        }
    }

    // ------------------------------------------------------------------ (D) a drained node defers its candidacy

    /**
     * After the final checks of a seed that ends with a node drained and balanced (it leads none):
     * (D) when the node leading groups fails, the drained node must not be elected in a group while
     * the undrained survivor could win it (it is up, not cut off, and its log is as up to date as the
     * drained node's, so it would get its vote), and every group has a leader again within
     * {@link #FAILOVER_NANOS}. The client stops first, so that the followers' logs become equal;
     * a group where the survivor is behind (it could not win) is not checked: there the drained node
     * may win after its longer wait. Two rounds, so that each undrained node is the survivor once,
     * each failure a crash (connection refused: the turns by id) or an isolation (silence: the
     * election timers), drawn from the seed.
     */
    private void drainedFailovers(long from) {
        clientOn = false;
        long t = from + 500 * MS;
        SimGroupsNode d = nodes.stream().filter(n -> n.id().equals(drained)).findFirst().orElseThrow();
        List<SimGroupsNode> undrained = nodes.stream().filter(n -> n != d).toList();
        for (int round = 0; round < 2; round++) {
            world.runUntil(t);
            SimGroupsNode victim = round == 0 ? mostLeading(undrained) : nodes.stream()
                    .filter(n -> n.id().equals(survivor)).findFirst().orElseThrow();
            SimGroupsNode other = undrained.stream().filter(n -> n != victim).findFirst().orElseThrow();
            boolean[] canWin = new boolean[groups.size()];
            for (int i = 0; i < canWin.length; i++) {
                canWin[i] = live(other) && live(d) && other.group(i).status().commitIndex()
                        >= d.group(i).status().commitIndex();
            }
            failedNode = victim.id();
            survivor = other.id();
            survivorCanWin = canWin;
            for (int i = 0; i < canWin.length; i++) {
                Leadership l = checks.get(i).validNow();
                drainedFailovers += canWin[i] && l != null && l.nodeId().equals(victim.id()) ? 1 : 0;
            }
            boolean crash = random.nextBoolean();
            if (crash) {
                crashes++;
                victim.crash();
            } else {
                isolate(victim, FAILOVER_NANOS);
            }
            t += FAILOVER_NANOS;
            world.runUntil(t);
            survivorCanWin = null;
            List<String> leaderless = new ArrayList<>();
            for (int i = 0; i < groups.size(); i++) {
                Leadership l = checks.get(i).validNow();
                if (l == null || l.nodeId().equals(victim.id())) {
                    leaderless.add(groups.get(i));
                }
            }
            if (!leaderless.isEmpty()) {
                fail("(D) groups " + leaderless + " have no leader " + FAILOVER_NANOS / MS + " ms after "
                        + victim.id() + (crash ? " crashed" : " was cut off") + " (drained " + drained + ")");
            }
            if (crash) {
                start(victim);
            }
            t += FAILOVER_NANOS;   // the victim is back (healed or restarted), catches up and is given groups
        }
        world.runUntil(t);
    }

    /** How long every group may take to have a leader again after its leader's node failed. */
    static final long FAILOVER_NANOS = 1_500 * MS;

    private SimGroupsNode mostLeading(List<SimGroupsNode> among) {
        SimGroupsNode best = among.get(0);
        int bestCount = -1;
        for (SimGroupsNode n : among) {
            int count = 0;
            for (LeadershipChecks c : checks) {
                Leadership l = c.validNow();
                count += l != null && l.nodeId().equals(n.id()) ? 1 : 0;
            }
            if (count > bestCount) {
                best = n;
                bestCount = count;
            }
        }
        return best;
    }

    /** (D) for {@code elected} of group {@code index} on {@code node}. */
    private void checkDrainedElection(String node, int index) {
        boolean[] canWin = survivorCanWin;
        if (canWin != null && canWin[index] && node.equals(drained)) {
            fail("(D) drained " + drained + " elected in group " + groups.get(index) + " while " + survivor
                    + ", not drained, up and as up to date, could win it (" + failedNode + " failed)");
        }
    }

    // ------------------------------------------------------------------ what the user's code sees

    private void see(String what) {
        fingerprint = (fingerprint * 31 + world.now()) * 31 + what.hashCode();
    }

    /** A group's leadership listener on one node: (A), and the counts. */
    private final class GroupListener implements LeadershipListener {
        private final String node;
        private final String group;
        Leadership open;

        GroupListener(String node, String group) {
            this.node = node;
            this.group = group;
        }

        private boolean current() {
            return listeners.get(node)[groups.indexOf(group)] == this;
        }

        @Override
        public void elected(Leadership leadership) {
            if (!current()) {
                return;
            }
            String v = LeadershipChecks.elected(node, open, leadership);
            if (v != null) {
                fail(v + " in group " + group);
            }
            checkDrainedElection(node, groups.indexOf(group));
            elections++;
            see("elected " + group + " " + LeadershipChecks.describe(leadership));
            if (Boolean.getBoolean("sim.groupTrace")) {
                System.out.println(world.now() / MS + " ms: " + group + " elected "
                        + LeadershipChecks.describe(leadership)
                        + " balancedSince=" + balancedSince / MS);
            }
            if (balancedSince >= 0 && !finalChecked) {
                changesAfterBalance++;
            }
            open = leadership;
        }

        @Override
        public void revoked(Leadership leadership, RevokeReason reason) {
            if (!current()) {
                return;
            }
            String v = LeadershipChecks.revoked(node, open, leadership, reason);
            if (v != null) {
                fail(v + " in group " + group);
            }
            if (Boolean.getBoolean("sim.groupTrace")) {
                System.out.println(world.now() / MS + " ms: " + group + " revoked "
                        + LeadershipChecks.describe(leadership)
                        + " " + reason);
            }
            see("revoked " + group + " " + LeadershipChecks.describe(leadership) + " " + reason);
            if (reason == RevokeReason.LEADERSHIP_TRANSFERRED) {
                handovers++;
            }
            open = null;
        }
    }

    /** A group's state machine on one node: (S) against what the other nodes applied in that group. */
    private final class Machine implements StateMachine {
        private final String node;
        private final String group;

        Machine(String node, String group) {
            this.node = node;
            this.group = group;
        }

        @Override
        public byte[] apply(Committed entry) {
            String cmd = new String(entry.data(), StandardCharsets.UTF_8);
            String other = applied.get(group).putIfAbsent(entry.index(), cmd);
            if (other != null && !other.equals(cmd)) {
                fail("(S) " + node + " applied " + cmd + " at index " + entry.index() + " of group " + group
                        + " where another node applied " + other);
            }
            return entry.data();
        }

        @Override
        public void snapshot(OutputStream out) {
        }

        @Override
        public void restore(InputStream in) {
        }
    }
}
