package io.haraft.sim;

import io.haraft.Committed;
import io.haraft.Leadership;
import io.haraft.LeadershipListener;
import io.haraft.RaftConfig;
import io.haraft.RaftNode;
import io.haraft.RevokeReason;
import io.haraft.StateMachine;
import io.haraft.core.PlantedBugs;
import io.haraft.runtime.SimNet;
import io.haraft.runtime.SimNode;
import io.haraft.runtime.SimWorld;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * One seed of the whole-node simulator: three or five production nodes ({@code RaftNodeImpl}, with
 * their loop, apply thread, callback delivery, lease watchdog and snapshot transfer) run on
 * {@link SimWorld}'s virtual time with a drifting clock each, a {@link SimNet} and stores whose
 * disks survive crashes; clients submit and read through the public API while faults are injected;
 * every invariant is checked after every event, on what the user sees: the public API objects.
 * A share of the seeds ({@link #fileStorePercent()}) keep each node's state in the production file
 * store on real files instead ({@link SimNode#storeOnFiles}), where a crash is a power loss that
 * loses what no fsync made durable and the restart goes through the store's recovery.
 *
 * <ul>
 *   <li>(L) No two {@link Leadership#isValid()} windows overlap in real time.</li>
 *   <li>(T) The fencing token of a valid leadership never goes back, and a new leadership's is larger.</li>
 *   <li>(A) {@code elected} and {@code revoked} strictly alternate on each node, for the same leadership.</li>
 *   <li>(w) {@code revoked} is delivered at most {@link #REVOKE_GRACE_NANOS} after the lease ran out
 *       (a node that was paused meanwhile excepted: its whole process stopped).</li>
 *   <li>(S) No two nodes apply different commands at one index.</li>
 *   <li>(W) A {@code submit} that completed successfully stays: its command is at its index on every
 *       node that applied that far, and at the end some node applied it.</li>
 *   <li>(R) A {@code readIndex} never returns an index below a write acknowledged before the read began.</li>
 *   <li>(D) At the end, after faults stop: a leader is elected, and each node's listener agrees with
 *       its {@code leadership()} (no transition dropped).</li>
 *   <li>(V) A running node's status view (role, term, leader, commit index, configuration, each
 *       member's lag) is what its state shows now: the loop refreshes it only when something it
 *       shows changed, and this catches a change that comparison missed.</li>
 * </ul>
 */
final class NodeSimulation {
    /** How late after the lease end a {@code revoked} may arrive (the simulated task delays). */
    static final long REVOKE_GRACE_NANOS = 3_000_000;
    private static final long MS = 1_000_000L;

    /** The planted bugs this simulator proves it catches. */
    enum Bug {
        NONE(null), READ_BEFORE_FIRST_COMMIT(null), NO_STICKINESS(Kind.CUT_ONE_LINK), LATE_WATCHDOG(Kind.STALL_LOOP),
        REVOKED_TWICE(Kind.STALL_LOOP),
        /** On the file store: forcing the log or the hard state makes nothing durable, yet the store acknowledges. */
        UNSYNCED_ACK(Kind.POWER_OUTAGE);

        private final Kind needs;

        Bug(Kind needs) {
            this.needs = needs;
        }
    }

    /** The faults: a seed draws a subset, then one of them at each fault time. */
    enum Kind {
        CRASH, ISOLATE, PAUSE, PAUSE_ACROSS_LEASE_END, CUT_ONE_LINK, STALL_LOOP, CLOSE,
        /** File-store seeds only: every node loses power at once (a data-centre outage), each restarts after a while. */
        POWER_OUTAGE
    }

    /** What a run found. */
    record Result(long seed, String violation, long events, long elections, long acknowledged, long reads,
                  long crashes, long pauses, long isolations, long loopStalls, long closes, long snapshotsRestored,
                  long membershipChanges, boolean fileStore, long powerOutages, long powerLossesLosingData,
                  long tornWrites, long recoveryRepairs,
                  long fingerprint) {
        boolean failed() {
            return violation != null;
        }
    }

    private final FirstViolation violations = new FirstViolation();

    private void fail(String violation) {
        violations.fail(violation);
    }

    private final long seed;
    private final Bug bug;
    private final SimWorld world;
    private final SplittableRandom random;
    private final SimNet net;
    private final List<SimNode> nodes = new ArrayList<>();
    private final Map<String, Listener> listeners = new HashMap<>();
    private final Map<String, Machine> machines = new HashMap<>();
    private final Map<String, Long> pausedUntil = new HashMap<>();
    private final Map<Long, String> appliedAt = new HashMap<>();
    private final TreeMap<Long, Long> ackedIndexByTime = new TreeMap<>();   // ack time -> highest acked index by then
    private final Map<Long, String> acked = new HashMap<>();
    private final List<Kind> kinds = new ArrayList<>();
    private static final String JOINER = "n9";
    private final boolean changesMembership;
    /** Members whose removal committed: gone for good (not restarted). */
    private final java.util.Set<String> removed = new java.util.HashSet<>();
    private int membershipStep;
    private long membershipChanges;
    private final boolean cutAfterCommit;
    private long readBurstUntil;
    private long writesIdleUntil;
    private final LeadershipChecks leaderships = new LeadershipChecks();
    private long highestAcked;
    private long elections;
    private long reads;
    private long crashCount;
    private long pauseCount;
    private long isolationCount;
    private long stallCount;
    private long closes;
    private long outages;
    /** A hash of what the users saw, in order and with its time: equal for two runs of one seed. */
    private long fingerprint = 17;
    private long restored;
    private long commands;
    private boolean faultsOn = true;
    /** Whether the nodes keep their state in the production file store (in {@link #fileRoot}). */
    private final boolean fileStore;
    private final Path fileRoot;

    /** The share of seeds (percent) whose nodes run on the production file store: {@code -Dsim.nodeFileStorePercent}. */
    static int fileStorePercent() {
        return Integer.getInteger("sim.nodeFileStorePercent", 25);
    }

    /** Whether seed {@code seed}'s nodes run on the production file store (every seed of the storage bug's). */
    static boolean onFiles(long seed, Bug bug) {
        return bug == Bug.UNSYNCED_ACK || new SplittableRandom(seed * 1_000_003 + 11).nextInt(100) < fileStorePercent();
    }

    /** The seed's randomness for its disks, after the draw of {@link #onFiles}. */
    private static SplittableRandom diskRandom(long seed) {
        SplittableRandom r = new SplittableRandom(seed * 1_000_003 + 11);
        r.nextInt(100);
        return r;
    }

    NodeSimulation(long seed, Bug bug) {
        this.seed = seed;
        this.bug = bug;
        this.world = new SimWorld(seed);
        this.random = new SplittableRandom(seed * 31 + 7);
        this.net = new SimNet(world, () -> 100_000 + random.nextLong(400_000));
        // drawn apart from the seed's other choices: a seed's history on the memory store stays the same
        SplittableRandom diskRandom = diskRandom(seed);
        this.fileStore = onFiles(seed, bug);
        try {
            this.fileRoot = fileStore ? Files.createTempDirectory("haraft-nodesim-" + seed + "-") : null;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        // swarm testing: each seed draws its own fault mix (a planted bug keeps the fault that reaches it)
        for (Kind k : Kind.values()) {
            if (k == Kind.POWER_OUTAGE) {
                // drawn from the disks' randomness: the memory-store seeds keep their fault mixes
                if (fileStore && (diskRandom.nextInt(3) == 0 || k == bug.needs)) {
                    kinds.add(k);
                }
                if (fileStore && k == bug.needs) {
                    kinds.add(k);
                    kinds.add(k);
                }
                continue;
            }
            if (random.nextBoolean() || k == bug.needs) {
                kinds.add(k);
            }
            if (k == bug.needs) {
                kinds.add(k);               // and draws it more often
                kinds.add(k);
            }
        }
        this.cutAfterCommit = random.nextBoolean() || bug == Bug.READ_BEFORE_FIRST_COMMIT;
        int size = random.nextInt(4) == 0 ? 5 : 3;
        boolean mixedTimeouts = random.nextInt(3) == 0;
        this.changesMembership = size == 3 && random.nextInt(3) == 0;
        List<String> ids = new ArrayList<>();
        for (int i = 1; i <= size; i++) {
            ids.add("n" + i);
        }
        if (changesMembership) {
            ids.add(JOINER);           // started as a learner-to-be; added, promoted, then a voter is removed
        }
        PlantedBugs core = switch (bug) {
            case READ_BEFORE_FIRST_COMMIT -> PlantedBugs.READ_BEFORE_FIRST_COMMIT;
            case NO_STICKINESS -> PlantedBugs.NO_STICKINESS;
            default -> PlantedBugs.NONE;
        };
        for (String id : ids) {
            long election = mixedTimeouts ? 300 + 150L * random.nextInt(3) : 300;
            RaftNode.Builder b = RaftNode.builder().clusterId("sim").nodeId(id).dataDir(Path.of("/nonexistent", id))
                    .heartbeatInterval(Duration.ofMillis(50)).electionTimeout(Duration.ofMillis(election))
                    .clockDriftBound(0.01).snapshotThreshold(40 + random.nextInt(80));
            for (int i = 0; i < ids.size(); i++) {
                if (ids.get(i).equals(JOINER) && !id.equals(JOINER)) {
                    continue;          // the others start without it, as a running cluster would
                }
                b.member(ids.get(i), address(ids.get(i)), ids.get(i).equals(JOINER) ? io.haraft.MemberRole.LEARNER
                        : io.haraft.MemberRole.VOTER);
            }
            RaftConfig config = b.config();
            // each clock drifts within half the bound, so two differ by at most the bound
            SimWorld.Host host = world.new Host(id, random.nextLong(1_000_000_000_000L), random.nextLong(-5_000, 5_001));
            SimNode node = new SimNode(world, net, host, config, () -> 200_000 + random.nextLong(1_800_000), 200_000,
                    core::newCore);
            node.watchdogLateNanos = bug == Bug.LATE_WATCHDOG ? 60 * MS : 0;
            node.revokedTwice = bug == Bug.REVOKED_TWICE;
            if (fileStore) {
                node.storeOnFiles(fileRoot.resolve(id), diskRandom.split(), bug == Bug.UNSYNCED_ACK);
            }
            nodes.add(node);
        }
        world.afterEachEvent(this::check);
    }

    Result run(long faultNanos, long quietNanos) {
        FirstViolation.Stop stopped = null;
        try {
            for (SimNode n : nodes) {
                start(n);
            }
            scheduleClient(world.now() + 50 * MS);
            scheduleReader(world.now() + 80 * MS);
            scheduleFault(world.now() + 500 * MS);
            if (changesMembership) {
                scheduleMembership(world.now() + 600 * MS + random.nextLong(1_000 * MS));
            }
            world.runUntil(faultNanos);
            faultsOn = false;
            net.heal();
            for (SimNode n : nodes) {
                n.host().resume();
                pausedUntil.put(n.id(), world.now());
                if (n.node() == null && !removed.contains(n.id())) {
                    start(n);
                }
            }
            world.runUntil(faultNanos + quietNanos);
            finalChecks();
        } catch (FirstViolation.Stop v) {
            stopped = v;
        } finally {
            deleteFiles();
        }
        String violation = violations.report(stopped, seed, world.now() / MS);
        return new Result(seed, violation, world.events(), elections, acked.size(), reads, crashCount, pauseCount,
                isolationCount, stallCount, closes, restored, membershipChanges, fileStore, outages,
                nodes.stream().mapToLong(SimNode::powerLossesLosingData).sum(),
                nodes.stream().mapToLong(SimNode::tornWrites).sum(),
                nodes.stream().mapToLong(SimNode::recoveryRepairs).sum(), fingerprint);
    }

    /** Deletes the seed's data directories (the files of every node). */
    private void deleteFiles() {
        if (fileRoot == null) {
            return;
        }
        try (Stream<Path> all = Files.walk(fileRoot)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + fileRoot, e);
        }
    }

    // ------------------------------------------------------------------ processes

    private static String address(String id) {
        return "127.0.0.1:" + (7000 + Integer.parseInt(id.substring(1)));
    }

    // ------------------------------------------------------------------ membership through the API

    /** Adds the joiner as a learner, promotes it, then removes a voter (perhaps the leader); retries on failure. */
    private void scheduleMembership(long at) {
        world.at(at, null, () -> {
            SimNode l = nodes.stream().filter(x -> live(x) && x.node().isLeader()).findFirst().orElse(null);
            if (l == null || membershipStep >= 3) {
                if (membershipStep < 3) {
                    scheduleMembership(world.now() + 200 * MS);
                }
                return;
            }
            int step = membershipStep;
            String target = step == 2 ? pickVoterToRemove() : JOINER;
            CompletableFuture<io.haraft.ClusterConfiguration> f = switch (step) {
                case 0 -> l.node().addLearner(JOINER, address(JOINER));
                case 1 -> l.node().promote(JOINER);
                default -> l.node().removeMember(target);
            };
            f.whenComplete((c, e) -> {
                if (membershipStep != step) {
                    return;
                }
                if (e == null) {
                    membershipChanges++;
                    see("membership " + step + " " + target + " " + c.index());
                    if (step == 2) {
                        removed.add(target);
                    }
                    membershipStep++;
                    scheduleMembership(world.now() + 300 * MS + random.nextLong(1_000 * MS));
                } else {
                    scheduleMembership(world.now() + 100 * MS + random.nextLong(300 * MS));
                }
            });
        });
    }

    private String pickVoterToRemove() {
        List<SimNode> voters = nodes.stream().filter(x -> !removed.contains(x.id())).toList();
        return voters.get(random.nextInt(voters.size())).id();
    }

    private void start(SimNode n) {
        Listener l = new Listener(n);
        Machine m = new Machine(n.id());
        listeners.put(n.id(), l);
        machines.put(n.id(), m);
        try {
            n.start(l, m, random.nextLong());
        } catch (FirstViolation.Stop v) {
            throw v;
        } catch (RuntimeException e) {
            // on the file store: recovery refused what a crash left (it must accept every such state)
            fail("(storage) " + n.id() + " did not start again: " + e);
        }
    }

    private boolean live(SimNode n) {
        return n.node() != null && !n.host().paused();
    }

    // ------------------------------------------------------------------ clients

    private SimNode believedLeader() {
        List<SimNode> live = nodes.stream().filter(this::live).toList();
        if (live.isEmpty()) {
            return null;
        }
        for (SimNode n : live) {
            if (n.node().isLeader()) {
                return n;
            }
        }
        return live.get(random.nextInt(live.size()));
    }

    private void scheduleClient(long at) {
        world.at(at, null, () -> {
            SimNode n = world.now() < writesIdleUntil ? null : believedLeader();
            if (n != null) {
                String cmd = "c" + (++commands);
                CompletableFuture<Committed> f = n.node().submit(cmd.getBytes(StandardCharsets.UTF_8));
                f.whenComplete((c, e) -> {
                    if (e == null) {
                        acknowledged(n, c.index(), cmd);
                    }
                });
            }
            scheduleClient(world.now() + 10 * MS + random.nextLong(30 * MS));
        });
    }

    private void see(String what) {
        fingerprint = fingerprint * 31 + world.now();
        fingerprint = fingerprint * 31 + what.hashCode();
    }

    private void acknowledged(SimNode n, long index, String cmd) {
        see("ack " + n.id() + " " + index + " " + cmd);
        String other = acked.put(index, cmd);
        if (other != null && !other.equals(cmd)) {
            fail("(W) two submits acknowledged at index " + index + ": " + other + " and " + cmd);
        }
        String applied = appliedAt.get(index);
        if (applied != null && !applied.equals(cmd)) {
            fail("(W) " + cmd + " acknowledged at index " + index + " where " + applied + " was applied");
        }
        highestAcked = Math.max(highestAcked, index);
        ackedIndexByTime.put(world.now(), highestAcked);
        if (faultsOn && cutAfterCommit && random.nextInt(8) == 0) {
            isolate(n, 100 * MS + random.nextLong(700 * MS));   // the leader cut off right after a commit
            readBurstUntil = world.now() + 1_500 * MS;          // and clients read from whoever leads next
        }
    }

    private void scheduleReader(long at) {
        world.at(at, null, () -> {
            boolean burst = world.now() < readBurstUntil;
            if (burst) {
                // every node: whichever leads next serves (elected or not yet), the others refuse
                for (SimNode n : nodes) {
                    if (live(n)) {
                        read(n);
                    }
                }
            } else {
                SimNode n = believedLeader();
                if (n != null) {
                    read(n);
                }
            }
            scheduleReader(world.now() + (burst ? MS + random.nextLong(3 * MS) : 15 * MS + random.nextLong(40 * MS)));
        });
    }

    private void read(SimNode n) {
        Long before = ackedIndexByTime.floorKey(world.now() - 1) == null ? null
                : ackedIndexByTime.floorEntry(world.now() - 1).getValue();
        long mustSee = before == null ? 0 : before;
        n.node().readIndex().whenComplete((c, e) -> {
            if (e == null) {
                reads++;
                see("read " + n.id() + " " + c.index());
                if (c.index() < mustSee) {
                    fail("(R) " + n.id() + " served a read at index " + c.index()
                            + " though index " + mustSee + " was acknowledged before the read began");
                }
            }
        });
    }

    // ------------------------------------------------------------------ faults

    private void scheduleFault(long at) {
        world.at(at, null, () -> {
            if (!faultsOn) {
                return;
            }
            List<SimNode> live = nodes.stream().filter(this::live).toList();
            SimNode leader = live.stream().filter(x -> x.node().isLeader()).findFirst().orElse(null);
            SimNode victim = leader != null && random.nextBoolean() ? leader
                    : live.isEmpty() ? null : live.get(random.nextInt(live.size()));
            if (victim != null && !kinds.isEmpty()) {
                switch (kinds.get(random.nextInt(kinds.size()))) {
                    case CRASH -> {
                        if (nodes.stream().filter(x -> x.node() == null).count() < (nodes.size() - 1) / 2) {
                            long downFor = 100 * MS + random.nextLong(1_500 * MS);
                            if (fileStore && random.nextBoolean()) {
                                // the power fails while the disk holds writes not yet durable (an fsync in flight)
                                crashWhileUnsynced(victim, downFor, world.now() + 300 * MS);
                            } else {
                                crash(victim, downFor);
                            }
                        }
                    }
                    case ISOLATE -> isolate(victim, 100 * MS + random.nextLong(1_500 * MS));
                    case PAUSE -> pause(victim, 50 * MS + random.nextLong(1_000 * MS));
                    case PAUSE_ACROSS_LEASE_END -> {
                        if (leader != null) {
                            pauseAcrossLeaseEnd(leader);
                        }
                    }
                    case CUT_ONE_LINK -> {
                        if (leader != null) {
                            cutOneLink(leader, live);
                        }
                    }
                    case STALL_LOOP -> stallLoop(leader != null ? leader : victim);
                    case POWER_OUTAGE -> powerOutage();
                    case CLOSE -> {
                        if (nodes.stream().filter(x -> x.node() == null).count() < (nodes.size() - 1) / 2) {
                            close(victim, 100 * MS + random.nextLong(1_000 * MS));
                        }
                    }
                }
            }
            scheduleFault(world.now() + 200 * MS + random.nextLong(800 * MS));
        });
    }

    private void crash(SimNode n, long downFor) {
        crashCount++;
        n.crash();
        restartAfter(n, downFor);
    }

    /**
     * Crashes {@code n} as soon as its disk holds changes no fsync made durable (checked after every
     * event), or at {@code deadline} if that does not happen before; not if it is down by then.
     */
    private void crashWhileUnsynced(SimNode n, long downFor, long deadline) {
        armed.put(n, new long[] {downFor, deadline});
    }

    /** Nodes to crash at the next moment their disk holds unsynced changes: down time and deadline. */
    private final Map<SimNode, long[]> armed = new java.util.LinkedHashMap<>();

    private void fireArmedCrashes() {
        if (armed.isEmpty()) {
            return;
        }
        for (var it = armed.entrySet().iterator(); it.hasNext(); ) {
            var e = it.next();
            SimNode n = e.getKey();
            if (!faultsOn || n.node() == null
                    || nodes.stream().filter(x -> x.node() == null).count() >= (nodes.size() - 1) / 2) {
                it.remove();
            } else if (n.hasUnsyncedChanges() || world.now() >= e.getValue()[1]) {
                it.remove();
                crash(n, e.getValue()[0]);
            }
        }
    }

    /** Every running node loses power at once; each starts again 100 ms to 1.1 s later. */
    private void powerOutage() {
        outages++;
        for (SimNode n : nodes) {
            if (n.node() != null) {
                crash(n, 100 * MS + random.nextLong(1_000 * MS));
            }
        }
    }

    /** A graceful restart: close() (a leader hands over), then a new process after a while. */
    private void close(SimNode n, long downFor) {
        closes++;
        n.close();
        restartAfter(n, downFor);
    }

    /** Starts a new process for {@code n} after {@code downFor}, unless it runs again or was removed by then. */
    private void restartAfter(SimNode n, long downFor) {
        world.at(world.now() + downFor, null, () -> {
            if (n.node() == null && !removed.contains(n.id())) {
                start(n);
            }
        });
    }

    private void isolate(SimNode n, long forNanos) {
        isolationCount++;
        net.isolate(n.id(), nodes.stream().map(SimNode::id).toList(), forNanos);
    }

    /** The leader's link to one follower cut (one way or both) while the rest of the cluster is fine. */
    private void cutOneLink(SimNode leader, List<SimNode> live) {
        List<SimNode> others = live.stream().filter(x -> x != leader).toList();
        if (others.isEmpty()) {
            return;
        }
        SimNode f = others.get(random.nextInt(others.size()));
        isolationCount++;
        net.cut(leader.id(), f.id());
        if (random.nextBoolean()) {
            net.cut(f.id(), leader.id());
        }
        long cutFor = 300 * MS + random.nextLong(1_500 * MS);
        if (random.nextBoolean()) {
            writesIdleUntil = world.now() + cutFor;   // an idle cluster: the cut follower's log stays up to date
        }
        world.at(world.now() + cutFor, null, net::heal);
    }

    /** The node's loop thread busy (its watchdog and callbacks go on), often across its lease end. */
    private void stallLoop(SimNode n) {
        stallCount++;
        n.stallLoop(world.now() + 100 * MS + random.nextLong(900 * MS));
    }

    private void pause(SimNode n, long forNanos) {
        pauseCount++;
        n.host().pause();
        pausedUntil.put(n.id(), Long.MAX_VALUE);
        world.at(world.now() + forNanos, null, () -> {
            n.host().resume();
            pausedUntil.put(n.id(), world.now());
        });
    }

    /** SIGSTOP of the leader just before its lease ends, for a while longer than the election timeout. */
    private void pauseAcrossLeaseEnd(SimNode leader) {
        Leadership l = leader.node().leadership().orElse(null);
        if (l == null) {
            return;
        }
        long left = l.remainingLease().toNanos();
        world.at(world.now() + Math.max(0, left - 2 * MS), null, () -> {
            if (faultsOn && live(leader)) {
                pause(leader, 400 * MS + random.nextLong(600 * MS));
            }
        });
    }

    // ------------------------------------------------------------------ invariants

    private void check() {
        violations.rethrow();
        fireArmedCrashes();
        leaderships.startPass();
        for (SimNode n : nodes) {
            RaftNode node = n.node();
            Listener l = listeners.get(n.id());
            if (node == null || l == null) {
                continue;
            }
            String stale = n.staleView();
            if (stale != null) {
                fail("(V) " + n.id() + "'s status " + stale);
            }
            for (Leadership x : new Leadership[] {l.open, node.leadership().orElse(null)}) {
                if (x == null || !x.isValid()) {
                    continue;
                }
                String v = leaderships.valid(x);
                if (v != null) {
                    fail(v);
                }
            }
            if (l.open != null && l.open.isValid()) {
                l.leaseEndReal = n.host().realAt(n.host().clock() + l.open.remainingLease().toNanos());
            }
            if (l.open != null && !l.open.isValid() && pausedUntil.getOrDefault(n.id(), -1L) < l.leaseEndReal
                    && world.now() > l.leaseEndReal + REVOKE_GRACE_NANOS) {
                fail("(w) " + n.id() + " got no revoked for " + describe(l.open) + " "
                        + (world.now() - l.leaseEndReal) / 1000 + " µs after its lease ended");
            }
        }
    }

    private static boolean same(Leadership a, Leadership b) {
        return LeadershipChecks.same(a, b);
    }

    private static String describe(Leadership l) {
        return LeadershipChecks.describe(l);
    }

    private void finalChecks() {
        SimNode leader = nodes.stream().filter(n -> n.node() != null && n.node().isLeader()).findFirst().orElse(null);
        if (leader == null) {
            fail("(D) no leader " + 5 + " s after the faults stopped");
        }
        for (SimNode n : nodes) {
            if (removed.contains(n.id()) || n.node() == null) {
                continue;              // removed from the cluster (it stops itself)
            }
            Listener l = listeners.get(n.id());
            Leadership now = n.node().leadership().orElse(null);
            if (now != null && (l.open == null || !same(l.open, now))) {
                fail("(D) " + n.id() + " leads " + describe(now) + " but its listener was not told");
            }
            if (now == null && l.open != null && l.open.isValid()) {
                fail("(D) " + n.id() + "'s listener holds " + describe(l.open) + " the node does not");
            }
        }
        long lowestHighest = Long.MAX_VALUE;
        for (Machine m : machines.values()) {
            lowestHighest = Math.min(lowestHighest, m.lastIndex);
        }
        long max = machines.values().stream().mapToLong(m -> m.lastIndex).max().orElse(0);
        if (max < highestAcked) {
            fail("(W) index " + highestAcked + " was acknowledged, but no node applied beyond " + max);
        }
        for (Map.Entry<Long, String> a : acked.entrySet()) {
            String applied = appliedAt.get(a.getKey());
            if (!a.getValue().equals(applied)) {
                fail("(W) " + a.getValue() + " acknowledged at " + a.getKey() + ", applied there: " + applied);
            }
        }
    }

    // ------------------------------------------------------------------ what the user's code sees

    /** The user's leadership listener: records transitions where they are delivered. */
    private final class Listener implements LeadershipListener {
        private final SimNode node;
        Leadership open;
        long leaseEndReal = Long.MAX_VALUE;

        Listener(SimNode node) {
            this.node = node;
        }

        @Override
        public void elected(Leadership leadership) {
            if (listeners.get(node.id()) != this) {
                return;
            }
            String v = LeadershipChecks.elected(node.id(), open, leadership);
            if (v != null) {
                fail(v);
            }
            elections++;
            see("elected " + describe(leadership));
            open = leadership;
            leaseEndReal = Long.MAX_VALUE;
        }

        @Override
        public void revoked(Leadership leadership, RevokeReason reason) {
            if (listeners.get(node.id()) != this) {
                return;
            }
            String v = LeadershipChecks.revoked(node.id(), open, leadership, reason);
            if (v != null) {
                fail(v);
            }
            see("revoked " + describe(leadership) + " " + reason);
            open = null;
            leaseEndReal = Long.MAX_VALUE;
        }
    }

    /** The user's state machine: the commands by index. */
    private final class Machine implements StateMachine {
        private final String id;
        private final TreeMap<Long, String> state = new TreeMap<>();
        long lastIndex;

        Machine(String id) {
            this.id = id;
        }

        @Override
        public byte[] apply(Committed entry) {
            String cmd = new String(entry.data(), StandardCharsets.UTF_8);
            see("apply " + id + " " + entry.index());
            record(entry.index(), cmd);
            return entry.data();
        }

        private void record(long index, String cmd) {
            String other = appliedAt.putIfAbsent(index, cmd);
            if (other != null && !other.equals(cmd)) {
                fail("(S) " + id + " applied " + cmd + " at index " + index + " where another node applied "
                        + other);
            }
            String ack = acked.get(index);
            if (ack != null && !ack.equals(cmd)) {
                fail("(W) " + id + " applied " + cmd + " at index " + index + " where " + ack
                        + " was acknowledged");
            }
            state.put(index, cmd);
            lastIndex = Math.max(lastIndex, index);
        }

        @Override
        public void snapshot(OutputStream out) throws IOException {
            DataOutputStream d = new DataOutputStream(out);
            d.writeInt(state.size());
            for (Map.Entry<Long, String> e : state.entrySet()) {
                d.writeLong(e.getKey());
                d.writeUTF(e.getValue());
            }
            d.flush();
        }

        @Override
        public void restore(InputStream in) throws IOException {
            restored++;
            DataInputStream d = new DataInputStream(in);
            state.clear();
            int n = d.readInt();
            for (int i = 0; i < n; i++) {
                record(d.readLong(), d.readUTF());
            }
        }
    }
}
