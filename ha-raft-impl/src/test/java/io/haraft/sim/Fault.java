package io.haraft.sim;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
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
        RECONFIGURE_ON_ELECTION, PARTITION_ON_ELECTION, RETIME,
        // targeted at dangerous moments
        CUT_FROM_LEADER, ISOLATE_AFTER_COMMIT, CRASH_AFTER_PERSIST, CRASH_CANDIDATE, PAUSE_ACROSS_LEASE_END,
        SNAPSHOT_DURING_TRANSFER, SLOW_FAILOVER,
        // operators' acts
        RETIRE }

    private static final long MS = 1_000_000L;
    /** {@link #value()} of a RECONFIGURE that adds or promotes a node (see Simulation#GROW). */
    static final double GROW = 3;
    /** {@link #value()} of a RECONFIGURE that removes a voter. */
    static final double SHRINK = 2;

    /** The kinds of fault a schedule draws from, with their base weights (see {@link Mix}). */
    enum Palette {
        /** Every kind: the classic mix, and the kinds targeted at dangerous moments. */
        CLASSIC,
        /**
         * Leader crashes (at random or right after a commit), isolated leaders, partitions: the
         * histories in which a replication or commit bug (Raft paper, Figure 8) shows.
         */
        CHURN,
        /**
         * The faults targeted at dangerous moments only, with plain crashes (which leave followers
         * behind a compacted log) and quiet periods.
         */
        TARGETED,
        /** No random faults: the fixed history of {@link #generateReplacements}. */
        REPLACEMENTS
    }

    /**
     * A random schedule over {@code horizonNanos} of simulated time, drawn from the seed's own mix
     * of the {@code palette}'s kinds ({@link Mix}). With {@code membership} about one fault in three
     * (one in two with {@link Palette#CHURN}) changes the configuration through the leader: it adds
     * node {@code node} as a learner, promotes it, or removes it, whichever its role calls for
     * ({@code value} picks between promoting and removing a learner).
     *
     * <p>With {@code mixedTiming}, besides, about one fault in ten changes the timing of
     * nodes ({@link Kind#RETIME}: the node restarts with a new election timeout and heartbeat
     * interval): two times in three a rolling change, every node restarted one by one with the same
     * new timing, some election timeouts apart, the leader last (as operators do, to fail over
     * once); otherwise one node alone (an operator's mistake).
     */
    static List<Fault> generate(long seed, int nodes, long electionTimeout, long horizonNanos, Palette palette,
                                boolean membership, boolean mixedTiming) {
        boolean churn = palette == Palette.CHURN;
        SplittableRandom timing = new SplittableRandom(seed * 0xA0761D6478BD642FL + 41);
        SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + 17);
        Mix mix = Mix.draw(new SplittableRandom(seed * 0x94D049BB133111EBL + 3), palette);
        List<Fault> out = new ArrayList<>();
        long t = 200 * MS;
        int id = 0;
        while (t < horizonNanos) {
            t += (long) (-Math.log(1 - r.nextDouble()) * mix.meanGapNanos());
            Kind kind = mix.pick(r);
            int node = r.nextInt(nodes);
            if (mixedTiming && timing.nextInt(10) == 0) {
                id = retime(out, id, t, timing, nodes, electionTimeout);
                continue;
            }
            if (membership && r.nextInt(churn ? 2 : 3) == 0) {
                out.add(new Fault(id, t, Kind.RECONFIGURE, node, 0, 0, r.nextDouble()));
                id++;
                continue;
            }
            out.add(make(id++, t, kind, node, nodes, electionTimeout, r));
        }
        return out;
    }

    /** One fault of {@code kind} at {@code t}, its parameters drawn from {@code r}. */
    private static Fault make(int id, long t, Kind kind, int node, int nodes, long electionTimeout,
                              SplittableRandom r) {
        long crashFor = r.nextBoolean() ? r.nextLong(10 * MS, electionTimeout) : r.nextLong(electionTimeout, 4000 * MS);
        return switch (kind) {
            case CRASH, CRASH_LEADER, CRASH_AFTER_COMMIT, CRASH_CANDIDATE -> new Fault(id, t, kind, node, 0, crashFor, 0);
            // value: below 0.5 the crash waits for a write that changes the term or vote, else for any write
            case CRASH_AFTER_PERSIST -> new Fault(id, t, kind, node, 0, crashFor, r.nextDouble());
            case PAUSE -> new Fault(id, t, kind, node, 0, r.nextLong(electionTimeout, 3 * electionTimeout), 0);
            // the pause ends up to two election timeouts after the leader's lease
            case PAUSE_ACROSS_LEASE_END -> new Fault(id, t, kind, node, 0, r.nextLong(MS, 2 * electionTimeout), 0);
            case PARTITION -> new Fault(id, t, kind, node, 1 + r.nextInt((1 << nodes) - 2),
                    r.nextLong(100 * MS, 3000 * MS), 0);
            case ONE_WAY, CUT -> new Fault(id, t, kind, node, (node + 1 + r.nextInt(nodes - 1)) % nodes,
                    r.nextLong(100 * MS, 3000 * MS), 0);
            // long enough for the follower to time out; value: below 0.7 the cluster is idle meanwhile
            // (no client writes), so that the follower cut off stays as up to date as the others
            case CUT_FROM_LEADER -> new Fault(id, t, kind, node, 0, r.nextLong(2 * electionTimeout, 10 * electionTimeout),
                    r.nextDouble());
            case ISOLATE_AFTER_COMMIT -> new Fault(id, t, kind, node, 0, r.nextLong(100 * MS, 3000 * MS), 0);
            case ISOLATE_LEADER -> new Fault(id, t, kind, node, 0, r.nextLong(100 * MS, 2000 * MS), 0);
            case LOSSY -> new Fault(id, t, kind, node, 0, r.nextLong(100 * MS, 2000 * MS), r.nextDouble(0.02, 0.3));
            case SLOW -> new Fault(id, t, kind, node, 0, r.nextLong(100 * MS, 2000 * MS), r.nextDouble(5, 60));
            // the leader crashes while every message takes up to half to one and a half election timeouts
            case SLOW_FAILOVER -> new Fault(id, t, kind, node, 0, r.nextLong(2 * electionTimeout, 6 * electionTimeout),
                    r.nextDouble(0.5, 1.5) * electionTimeout / MS);
            // fsyncs of one node take up to 50..400 ms for a while (a saturated or failing disk)
            case SLOW_DISK -> new Fault(id, t, kind, node, 0, r.nextLong(200 * MS, 3000 * MS), r.nextDouble(50, 400));
            case CLOCK_RATE -> new Fault(id, t, kind, node, 0, 0, r.nextDouble(-1, 1));
            case TRANSFER, SNAPSHOT_DURING_TRANSFER -> new Fault(id, t, kind, node, 0, 0, 0);
            case QUIET -> new Fault(id, t, kind, node, 0, r.nextLong(500 * MS, 5000 * MS), 0);
            default -> throw new IllegalArgumentException(kind + " is not drawn at random");
        };
    }

    /**
     * The fault mix of one seed (swarm testing): which kinds of fault its schedule draws, with what
     * weights, and how often faults come. A seed runs the classic mix (every kind, the weights
     * below), or a random subset of the kinds with random weights, or one or two kinds only, at a
     * rate of its own: some seeds have few faults of many kinds, others many of one kind. Bugs that
     * need a rare combination show in the seeds whose mix favours it, instead of drowning in the
     * average mix.
     *
     * @param kinds        the kinds the seed draws from
     * @param weights      their weights, in the same order
     * @param meanGapNanos mean time between two faults (they come as a Poisson process)
     */
    record Mix(List<Kind> kinds, double[] weights, double meanGapNanos) {
        /** The classic mix, and kinds the schedule targets at dangerous moments, with their base weights. */
        private static final Map<Kind, Double> BASE = new EnumMap<>(Map.ofEntries(
                Map.entry(Kind.CRASH, 11.0), Map.entry(Kind.CRASH_LEADER, 11.0), Map.entry(Kind.PAUSE, 10.0),
                Map.entry(Kind.PARTITION, 12.0), Map.entry(Kind.ONE_WAY, 5.0), Map.entry(Kind.CUT, 5.0),
                Map.entry(Kind.LOSSY, 8.0), Map.entry(Kind.SLOW, 3.0), Map.entry(Kind.SLOW_DISK, 3.0),
                Map.entry(Kind.CLOCK_RATE, 10.0), Map.entry(Kind.TRANSFER, 8.0), Map.entry(Kind.QUIET, 10.0),
                Map.entry(Kind.CRASH_AFTER_COMMIT, 4.0),
                Map.entry(Kind.CUT_FROM_LEADER, 10.0), Map.entry(Kind.ISOLATE_AFTER_COMMIT, 5.0),
                Map.entry(Kind.CRASH_AFTER_PERSIST, 5.0), Map.entry(Kind.CRASH_CANDIDATE, 5.0),
                Map.entry(Kind.PAUSE_ACROSS_LEASE_END, 5.0), Map.entry(Kind.SNAPSHOT_DURING_TRANSFER, 10.0),
                Map.entry(Kind.SLOW_FAILOVER, 10.0)));
        /** The churn mix: leader crashes (at random or right after a commit), isolated leaders, partitions. */
        private static final Map<Kind, Double> CHURN = new EnumMap<>(Map.ofEntries(
                Map.entry(Kind.CRASH_LEADER, 15.0), Map.entry(Kind.CRASH_AFTER_COMMIT, 24.0),
                Map.entry(Kind.ISOLATE_LEADER, 35.0), Map.entry(Kind.PARTITION, 10.0), Map.entry(Kind.SLOW_DISK, 10.0),
                Map.entry(Kind.QUIET, 6.0), Map.entry(Kind.ISOLATE_AFTER_COMMIT, 10.0),
                Map.entry(Kind.CRASH_AFTER_PERSIST, 5.0), Map.entry(Kind.CRASH_CANDIDATE, 5.0)));

        /** Targeted faults, crashes and quiet periods. */
        private static final Map<Kind, Double> TARGETED = new EnumMap<>(Map.ofEntries(
                Map.entry(Kind.CRASH, 10.0), Map.entry(Kind.QUIET, 5.0),
                Map.entry(Kind.CUT_FROM_LEADER, 10.0), Map.entry(Kind.ISOLATE_AFTER_COMMIT, 5.0),
                Map.entry(Kind.CRASH_AFTER_PERSIST, 5.0), Map.entry(Kind.CRASH_CANDIDATE, 5.0),
                Map.entry(Kind.PAUSE_ACROSS_LEASE_END, 5.0), Map.entry(Kind.SNAPSHOT_DURING_TRANSFER, 10.0),
                Map.entry(Kind.SLOW_FAILOVER, 10.0)));

        static Mix draw(SplittableRandom r, Palette palette) {
            boolean churn = palette == Palette.CHURN;
            Map<Kind, Double> base = switch (palette) {
                case CLASSIC, REPLACEMENTS -> BASE;
                case CHURN -> CHURN;
                case TARGETED -> TARGETED;
            };
            List<Kind> kinds = new ArrayList<>();
            List<Double> weights = new ArrayList<>();
            int shape = r.nextInt(4);
            if (shape == 0) {
                kinds.addAll(base.keySet()); // the classic mix
                base.values().forEach(weights::add);
            } else if (shape == 1) {
                // one or two kinds only
                List<Kind> all = new ArrayList<>(base.keySet());
                for (int i = 1 + r.nextInt(2); i > 0; i--) {
                    kinds.add(all.remove(r.nextInt(all.size())));
                    weights.add(1.0);
                }
            } else {
                // each kind on or off, at a weight between a quarter and four times its base weight
                for (Map.Entry<Kind, Double> e : base.entrySet()) {
                    if (r.nextBoolean()) {
                        kinds.add(e.getKey());
                        weights.add(e.getValue() * Math.pow(4, r.nextDouble(-1, 1)));
                    }
                }
                if (kinds.isEmpty()) {
                    kinds.add(Kind.CRASH_LEADER);
                    weights.add(1.0);
                }
            }
            // mean time between faults: 100 ms to 1 s, log-uniform (churn: 70 to 500 ms)
            double gapMs = churn ? 70 * Math.pow(500.0 / 70, r.nextDouble()) : 100 * Math.pow(10, r.nextDouble());
            return new Mix(List.copyOf(kinds), weights.stream().mapToDouble(Double::doubleValue).toArray(), gapMs * MS);
        }

        Kind pick(SplittableRandom r) {
            double total = 0;
            for (double w : weights) {
                total += w;
            }
            double x = r.nextDouble(total);
            for (int i = 0; i < weights.length - 1; i++) {
                x -= weights[i];
                if (x < 0) {
                    return kinds.get(i);
                }
            }
            return kinds.get(kinds.size() - 1);
        }
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

    /**
     * Every member the cluster started with is replaced, one at a time, then the whole cluster
     * restarts: with 5 nodes of which the first 3 vote, the leader adds node 3 as a learner,
     * promotes it and removes node 0, and the operator retires node 0 for good (its process stops
     * and never returns, as a removed node's must); the same for node 4 in place of node 1; then
     * every remaining node crashes at once and restarts with the start-up configuration it was first
     * given (operators do not edit it), while the log says the voters are nodes 2, 3 and 4. Of the
     * start-up voters only node 2 is left: a node that took its start-up configuration as the
     * committed one would need a majority of it and never commit again.
     */
    static List<Fault> generateReplacements(long seed, long electionTimeout) {
        SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + 71);
        List<Fault> out = new ArrayList<>();
        int id = 0;
        long t = r.nextLong(300 * MS, 600 * MS);
        for (int round = 0; round < 2; round++) {
            int fresh = 3 + round;
            out.add(new Fault(id++, t, Kind.RECONFIGURE, fresh, 0, 0, GROW));
            t += r.nextLong(2 * electionTimeout, 4 * electionTimeout);
            out.add(new Fault(id++, t, Kind.RECONFIGURE, fresh, 0, 0, GROW));
            t += r.nextLong(2 * electionTimeout, 4 * electionTimeout);
            out.add(new Fault(id++, t, Kind.RECONFIGURE, round, 0, 0, SHRINK));
            t += r.nextLong(3 * electionTimeout, 6 * electionTimeout);
            out.add(new Fault(id++, t, Kind.RETIRE, round, 0, 0, 0));
            t += r.nextLong(electionTimeout, 3 * electionTimeout);
        }
        // a whole-cluster outage: power lost everywhere, back after a while, nodes in any order
        for (int n = 2; n < 5; n++) {
            out.add(new Fault(id++, t + r.nextLong(0, 20 * MS), Kind.CRASH, n, 0,
                    r.nextLong(100 * MS, 3 * electionTimeout), 0));
        }
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
            case RETIRE -> "retire n" + node + " for good once its removal committed";
            case RECONFIGURE -> "the leader adds, promotes or removes n" + node;
            case RECONFIGURE_ON_ELECTION -> "the next new leader " + (node < 0 ? "removes the last leader cut off"
                    : "adds, promotes or removes n" + node) + " as soon as it wins";
            case PARTITION_ON_ELECTION -> "the next new leader and one follower are cut off from the rest as soon as"
                    + " it wins, for " + duration / MS + "ms";
            case CUT_FROM_LEADER -> "cut the leader's link with one follower for " + duration / MS + "ms"
                    + (value < 0.7 ? ", no client writes meanwhile" : "");
            case ISOLATE_AFTER_COMMIT -> "cut the next leader to commit off from everyone right after the commit, for "
                    + duration / MS + "ms";
            case CRASH_AFTER_PERSIST -> "crash n" + node + " after its next write of " + (value < 0.5 ? "a term or vote"
                    : "anything") + " is durable, before it sends, for " + duration / MS + "ms";
            case CRASH_CANDIDATE -> "crash the next candidate once its vote for itself is durable, for "
                    + duration / MS + "ms";
            case PAUSE_ACROSS_LEASE_END -> "pause the leader until " + duration / MS + "ms after its lease ends";
            case SNAPSHOT_DURING_TRANSFER -> "the next leader to start sending a snapshot takes a new one at once";
            case SLOW_FAILOVER -> String.format("crash the leader while messages take up to %.0fms, for %dms", value,
                    duration / MS);
            case RETIME -> String.format("restart %s with election timeout %.0fms, heartbeat %dms, after %dms down",
                    node < 0 ? "the next node of a rolling change (the leader last)" : "n" + node, value, other,
                    duration / MS);
        };
        return "#" + id + " @" + at / MS + "ms " + what;
    }
}
