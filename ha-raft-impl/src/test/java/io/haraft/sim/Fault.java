package io.haraft.sim;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * One scheduled fault of a simulated history. A schedule is a list of faults generated from the
 * seed; shrinking removes faults from it while the violation persists.
 *
 * @param id       position in the generated schedule (stable while shrinking)
 * @param at       real start time, nanoseconds
 * @param kind     what happens
 * @param node     the node concerned (crash, pause, clock, transfer target, retimed node; one-way source)
 * @param other    one-way or cut destination, the partition's group bitmask, or the new heartbeat
 *                 interval in ms (RETIME)
 * @param duration how long it lasts, nanoseconds
 * @param value    loss probability, delay bound factor, clock rate factor or new election timeout in
 *                 ms (RETIME), by kind
 */
record Fault(int id, long at, Kind kind, int node, int other, long duration, double value) {
    enum Kind { CRASH, CRASH_LEADER, CRASH_AFTER_COMMIT, ISOLATE_LEADER, SLOW_DISK, PAUSE, PARTITION, ONE_WAY, CUT, LOSSY, SLOW, CLOCK_RATE, TRANSFER, QUIET, RECONFIGURE,
        RECONFIGURE_ON_ELECTION, PARTITION_ON_ELECTION, RETIME }

    private static final long MS = 1_000_000L;
    /** {@link #value()} of a RECONFIGURE that adds or promotes a node (see Simulation#GROW). */
    static final double GROW = 3;
    /** {@link #value()} of a RECONFIGURE that removes a voter. */
    static final double SHRINK = 2;

    /**
     * A random schedule over {@code horizonNanos} of simulated time. With {@code churn} the mix
     * crashes leaders often, soon after they are elected, and partitions nodes away: the histories
     * in which a replication or commit bug (Raft paper, Figure 8) shows.
     */
    static List<Fault> generate(long seed, int nodes, long electionTimeout, long horizonNanos, boolean churn) {
        return generate(seed, nodes, electionTimeout, horizonNanos, churn, false);
    }

    /**
     * As above; with {@code membership} about one fault in three (one in two with churn) changes the
     * configuration through the leader: it adds node {@code node} as a learner, promotes it, or
     * removes it, whichever its role calls for ({@code value} picks between promoting and removing a
     * learner).
     */
    static List<Fault> generate(long seed, int nodes, long electionTimeout, long horizonNanos, boolean churn,
                                boolean membership) {
        return generate(seed, nodes, electionTimeout, horizonNanos, churn, membership, false);
    }

    /**
     * As above; with {@code mixedTiming}, besides, about one fault in ten changes the timing of
     * nodes ({@link Kind#RETIME}: the node restarts with a new election timeout and heartbeat
     * interval): two times in three a rolling change, every node restarted one by one with the same
     * new timing, some election timeouts apart, the leader last (as operators do, to fail over
     * once); otherwise one node alone (an operator's mistake).
     */
    static List<Fault> generate(long seed, int nodes, long electionTimeout, long horizonNanos, boolean churn,
                                boolean membership, boolean mixedTiming) {
        SplittableRandom timing = new SplittableRandom(seed * 0xA0761D6478BD642FL + 41);
        SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + 17);
        List<Fault> out = new ArrayList<>();
        long t = 200 * MS;
        int id = 0;
        while (t < horizonNanos) {
            t += (long) (-Math.log(1 - r.nextDouble()) * (churn ? 200 : 350) * MS);
            int roll = r.nextInt(100);
            if (churn) {
                // leader crashes (at random or right after a commit), partitions, slow links
                roll = roll < 15 ? 15 : roll < 35 ? 100 : roll < 70 ? 101 : roll < 80 ? 40 : roll < 90 ? 65 : roll;
            }
            int node = r.nextInt(nodes);
            Fault f;
            if (mixedTiming && timing.nextInt(10) == 0) {
                id = retime(out, id, t, timing, nodes, electionTimeout);
                continue;
            }
            if (membership && r.nextInt(churn ? 2 : 3) == 0) {
                out.add(new Fault(id, t, Kind.RECONFIGURE, node, 0, 0, r.nextDouble()));
                id++;
                continue;
            }
            long crashFor = r.nextBoolean() ? r.nextLong(10 * MS, electionTimeout) : r.nextLong(electionTimeout, 4000 * MS);
            if (roll < 11) {
                f = new Fault(id, t, Kind.CRASH, node, 0, crashFor, 0);
            } else if (roll < 22) {
                f = new Fault(id, t, Kind.CRASH_LEADER, node, 0, crashFor, 0);
            } else if (roll < 32) {
                f = new Fault(id, t, Kind.PAUSE, node, 0, r.nextLong(electionTimeout, 3 * electionTimeout), 0);
            } else if (roll < 44) {
                int mask = 1 + r.nextInt((1 << nodes) - 2);
                f = new Fault(id, t, Kind.PARTITION, node, mask, r.nextLong(100 * MS, 3000 * MS), 0);
            } else if (roll < 54) {
                int to = (node + 1 + r.nextInt(nodes - 1)) % nodes;
                Kind k = r.nextBoolean() ? Kind.ONE_WAY : Kind.CUT;
                f = new Fault(id, t, k, node, to, r.nextLong(100 * MS, 3000 * MS), 0);
            } else if (roll < 62) {
                f = new Fault(id, t, Kind.LOSSY, node, 0, r.nextLong(100 * MS, 2000 * MS), r.nextDouble(0.02, 0.3));
            } else if (roll < 65) {
                f = new Fault(id, t, Kind.SLOW, node, 0, r.nextLong(100 * MS, 2000 * MS), r.nextDouble(5, 60));
            } else if (roll < 68) {
                // fsyncs of one node take up to 50..400 ms for a while (a saturated or failing disk)
                f = new Fault(id, t, Kind.SLOW_DISK, node, 0, r.nextLong(200 * MS, 3000 * MS), r.nextDouble(50, 400));
            } else if (roll < 78) {
                f = new Fault(id, t, Kind.CLOCK_RATE, node, 0, 0, r.nextDouble(-1, 1));
            } else if (roll < 86) {
                f = new Fault(id, t, Kind.TRANSFER, node, 0, 0, 0);
            } else if (roll == 101) {
                f = new Fault(id, t, Kind.ISOLATE_LEADER, node, 0, r.nextLong(100 * MS, 2000 * MS), 0);
            } else if (roll < 96) {
                f = new Fault(id, t, Kind.QUIET, node, 0, r.nextLong(500 * MS, 5000 * MS), 0);
            } else {
                f = new Fault(id, t, Kind.CRASH_AFTER_COMMIT, node, 0, crashFor, 0);
            }
            out.add(f);
            id++;
        }
        return out;
    }

    /**
     * Appends RETIME faults from {@code t} on (a rolling change, or one node); returns the next id.
     * The steps of a rolling change name no node ({@code node} -1): each restarts a node that does
     * not have the new timing yet, the leader last.
     */
    private static int retime(List<Fault> out, int id, long t, SplittableRandom r, int nodes, long electionTimeout) {
        long electionMs = SimOptions.ELECTION_TIMEOUTS_MS[r.nextInt(SimOptions.ELECTION_TIMEOUTS_MS.length)];
        int heartbeatMs = (int) Math.max(1, electionMs
                / SimOptions.HEARTBEAT_DIVISORS[r.nextInt(SimOptions.HEARTBEAT_DIVISORS.length)]);
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < nodes; i++) {
            order.add(i);
        }
        java.util.Collections.shuffle(order, new java.util.Random(r.nextLong()));
        boolean rolling = r.nextInt(3) != 0;
        long at = t;
        for (int i = 0; i < (rolling ? nodes : 1); i++) {
            long down = r.nextLong(5 * MS, electionTimeout);
            out.add(new Fault(id++, at, Kind.RETIME, rolling ? -1 : order.get(i), heartbeatMs, down, electionMs));
            at += down + r.nextLong(electionTimeout, 6 * electionTimeout);
        }
        return id;
    }

    /**
     * A rolling change of the election timeout down from {@code electionTimeout} (the nodes' start
     * timing) to 100 or 200 ms, node by node, the leader last, with the leader cut off from
     * everyone while it is the only node left with the long timeout, then the leader restarted with
     * the short one. Followers that honour only their own new timeout elect a new leader while the
     * old leader's lease (which relies on its long timeout) still holds.
     */
    static List<Fault> generateRollingChange(long seed, int nodes, long electionTimeout) {
        SplittableRandom r = new SplittableRandom(seed * 0xE7037ED1A0B428DBL + 53);
        List<Fault> out = new ArrayList<>();
        int id = 0;
        long electionMs = r.nextBoolean() ? 100 : 200;
        int heartbeatMs = (int) (electionMs / SimOptions.HEARTBEAT_DIVISORS[r.nextInt(SimOptions.HEARTBEAT_DIVISORS.length)]);
        long t = r.nextLong(electionTimeout, 2 * electionTimeout);
        for (int i = 0; i < nodes - 1; i++) {
            long down = r.nextLong(5 * MS, 300 * MS);
            out.add(new Fault(id++, t, Kind.RETIME, -1, heartbeatMs, down, electionMs));
            t += down + r.nextLong(200 * MS, electionTimeout);
        }
        long cut = r.nextLong(electionTimeout, 2 * electionTimeout);
        out.add(new Fault(id++, t, Kind.ISOLATE_LEADER, 0, 0, cut, 0));
        t += cut + r.nextLong(200 * MS, electionTimeout);
        out.add(new Fault(id++, t, Kind.RETIME, -1, heartbeatMs, r.nextLong(5 * MS, 300 * MS), electionMs));
        return out;
    }

    /**
     * The history of the bug in the original single-server change algorithm (Ongaro, raft-dev,
     * 2015), with random timing: the leader adds a learner and promotes it, and is cut off at once
     * (the promotion reaches nobody, or only the learner); the next leader removes the old one as
     * soon as it wins, and a partition right then leaves it with one follower; the old leader comes
     * back. Under the rules this is harmless: the new leader must first commit an entry of its own
     * term with a majority of the old configuration, which the partition prevents. Without them the
     * removal commits under the new configuration alone, and the old leader wins the next election
     * with the nodes the partition kept away, under its own configuration: a committed entry is lost.
     */
    static List<Fault> generateMembershipChurn(long seed, int nodes, long electionTimeout, long horizonNanos) {
        SplittableRandom r = new SplittableRandom(seed * 0xD1B54A32D192ED03L + 29);
        List<Fault> out = new ArrayList<>();
        int id = 0;
        long t = r.nextLong(300 * MS, 600 * MS);
        int learner = nodes - 1;
        out.add(new Fault(id++, t, Kind.RECONFIGURE, learner, 0, 0, GROW));
        t += r.nextLong(electionTimeout, 3 * electionTimeout);
        out.add(new Fault(id++, t, Kind.RECONFIGURE, learner, 0, 0, GROW));
        long cut = r.nextLong(3 * electionTimeout, 8 * electionTimeout);
        out.add(new Fault(id++, t + r.nextLong(10_000, 200_000), Kind.ISOLATE_LEADER, 0, 0, cut, 0));
        out.add(new Fault(id++, t + r.nextLong(MS, 10 * MS), Kind.RECONFIGURE_ON_ELECTION, -1, 0, 0, SHRINK));
        out.add(new Fault(id++, t + r.nextLong(MS, 10 * MS), Kind.PARTITION_ON_ELECTION, 0, 0,
                cut + r.nextLong(4 * electionTimeout, 12 * electionTimeout), 0));
        return out;
    }

    @Override
    public String toString() {
        String what = switch (kind) {
            case CRASH -> "crash n" + node + " for " + duration / MS + "ms";
            case CRASH_LEADER -> "crash the leader for " + duration / MS + "ms";
            case ISOLATE_LEADER -> "cut the leader off from everyone for " + duration / MS + "ms";
            case CRASH_AFTER_COMMIT -> "crash the next new leader right after its first commit, for " + duration / MS + "ms";
            case QUIET -> "no client requests for " + duration / MS + "ms";
            case PAUSE -> "pause n" + node + " for " + duration / MS + "ms";
            case PARTITION -> "partition " + Integer.toBinaryString(other) + " for " + duration / MS + "ms";
            case ONE_WAY -> "one-way block n" + node + "->n" + other + " for " + duration / MS + "ms";
            case CUT -> "cut the link n" + node + "<->n" + other + " for " + duration / MS + "ms";
            case LOSSY -> String.format("loss %.2f for %dms", value, duration / MS);
            case SLOW -> String.format("delays up to %.0fms for %dms", value, duration / MS);
            case CLOCK_RATE -> String.format("clock of n%d at drift %.2f of the bound", node, value);
            case SLOW_DISK -> String.format("fsyncs of n%d take up to %.0fms for %dms", node, value, duration / MS);
            case TRANSFER -> "transfer leadership to n" + node;
            case RECONFIGURE -> "the leader adds, promotes or removes n" + node;
            case RECONFIGURE_ON_ELECTION -> "the next new leader " + (node < 0 ? "removes the last leader cut off"
                    : "adds, promotes or removes n" + node) + " as soon as it wins";
            case PARTITION_ON_ELECTION -> "the next new leader and one follower are cut off from the rest as soon as"
                    + " it wins, for " + duration / MS + "ms";
            case RETIME -> String.format("restart %s with election timeout %.0fms, heartbeat %dms, after %dms down",
                    node < 0 ? "the next node of a rolling change (the leader last)" : "n" + node, value, other,
                    duration / MS);
        };
        return "#" + id + " @" + at / MS + "ms " + what;
    }
}
