package io.haraft.examples;

import io.haraft.FencingToken;
import io.haraft.Leadership;
import io.haraft.LeadershipListener;
import io.haraft.LeaseExpiredException;
import io.haraft.RevokeReason;
import io.haraft.fencing.job.LeaderOnlyJob;

import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * Three nodes in this JVM, each with a {@link LeaderOnlyJob} "billing run" every 100 ms. The job
 * runs on the leader; once it ran {@code runsPerLeader} times, leadership is handed to another node
 * and the job follows it there. Every run and every leadership (from {@code elected} to the end of
 * {@code revoked}) is recorded with the monotonic clock; a run is recorded at the moment just
 * before its lease check ({@code checkValid()}), which it passed. Ends with
 * {@code job: runs=<n> leaderships=<k> runs_outside_leadership=<m> overlapping=<true|false>} and
 * exits 0 only when the job ran in at least two leaderships, never outside its node's leadership,
 * and never in two leaderships at once.
 */
public final class LeaderOnlyJobDemo {
    private static final Duration WAIT = Duration.ofSeconds(30);

    /** One run of the job: where, with which token, and when (monotonic) it checked its lease. */
    public record Run(String node, long token, long atNanos) { }

    /** One leadership of a node: from {@code elected} to the end of {@code revoked} (or the end of the demo). */
    public record Tenure(String node, long token, long electedNanos, long revokedNanos) {
        boolean holds(Run r) {
            return r.node().equals(node) && r.token() == token && r.atNanos() >= electedNanos
                    && r.atNanos() <= revokedNanos;
        }
    }

    /** What a run of the demo recorded. */
    public record Result(List<Run> runs, List<Tenure> tenures) {
        /** How many leaderships ran the job. */
        public long leaderships() {
            return runs.stream().map(Run::token).distinct().count();
        }

        /** On how many nodes the job ran. */
        public long nodes() {
            return runs.stream().map(Run::node).distinct().count();
        }

        /** Runs at a moment when their node did not hold the leadership whose token they carry. */
        public long runsOutsideLeadership() {
            return runs.stream().filter(r -> tenures.stream().noneMatch(t -> t.holds(r))).count();
        }

        /** Whether a run of an older leadership came after a run of a newer one: two leaderships at once. */
        public boolean overlapping() {
            List<Run> inTime = runs.stream().sorted(Comparator.comparingLong(Run::atNanos)).toList();
            for (int i = 1; i < inTime.size(); i++) {
                if (inTime.get(i).token() < inTime.get(i - 1).token()) {
                    return true;
                }
            }
            return false;
        }

        public boolean ok() {
            return leaderships() >= 2 && runsOutsideLeadership() == 0 && !overlapping();
        }
    }

    private LeaderOnlyJobDemo() {
    }

    public static void main(String[] args) throws Exception {
        Result r = run(5);
        System.out.printf("job: runs=%d leaderships=%d runs_outside_leadership=%d overlapping=%s%n", r.runs().size(),
                r.leaderships(), r.runsOutsideLeadership(), r.overlapping());
        System.exit(r.ok() ? 0 : 1);
    }

    /** Runs the demo: {@code runsPerLeader} runs on the first leader, a handover, as many on the next. */
    public static Result run(int runsPerLeader) throws Exception {
        List<Run> runs = new CopyOnWriteArrayList<>();
        List<Tenure> tenures = new CopyOnWriteArrayList<>();
        Map<String, Long> electedAt = new ConcurrentHashMap<>();
        List<LeaderOnlyJob> jobs = new CopyOnWriteArrayList<>();
        try (InJvmCluster cluster = new InJvmCluster(List.of("n1", "n2", "n3"), id -> {
            LeaderOnlyJob job = LeaderOnlyJob.builder("billing-" + id, l -> {
                long at = System.nanoTime();
                try {
                    FencingToken token = l.checkValid();   // the token each write of this run would carry
                    runs.add(new Run(id, token.value(), at));
                    System.out.println("job: billing run on " + id + " with " + token);
                } catch (LeaseExpiredException e) {
                    // the lease ended since the job's own check: no run
                }
            }).fixedRate(Duration.ofMillis(100)).build();
            jobs.add(job);
            return new LeadershipListener() {
                @Override
                public void elected(Leadership l) {
                    electedAt.put(id + "/" + l.term(), System.nanoTime());
                    job.elected(l);
                }

                @Override
                public void revoked(Leadership l, RevokeReason why) {
                    job.revoked(l, why);
                    Long from = electedAt.remove(id + "/" + l.term());   // null would break the listener contract
                    tenures.add(new Tenure(id, l.term(), from == null ? Long.MAX_VALUE : from, System.nanoTime()));
                    System.out.println("job: " + id + " revoked (" + why + "); its job stopped");
                }
            };
        })) {
            cluster.awaitLeader(WAIT);
            Run first = await(runs, runsPerLeader, r -> true);
            System.out.println("job: " + first.node() + " ran the job " + runsPerLeader + " times; handing over");
            handOver(cluster, first.node());
            await(runs, runsPerLeader, r -> !r.node().equals(first.node()) && r.token() > first.token());
        } finally {
            jobs.forEach(LeaderOnlyJob::close);
        }
        // leaderships that were never revoked end with the demo (close revokes them; none is left)
        long end = System.nanoTime();
        electedAt.forEach((k, t) -> tenures.add(new Tenure(k.split("/")[0], Long.parseLong(k.split("/")[1]), t, end)));
        return new Result(List.copyOf(runs), List.copyOf(tenures));
    }

    /** Waits until {@code count} runs match; returns the first of them. */
    private static Run await(List<Run> runs, int count, Predicate<Run> match) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            List<Run> matching = runs.stream().filter(match).toList();
            if (matching.size() >= count) {
                return matching.get(0);
            }
            Thread.sleep(20);
        }
        throw new IllegalStateException("the job did not run " + count + " times as expected within " + WAIT
                + "; runs so far: " + runs);
    }

    /** Hands leadership from {@code from} (or whoever leads now) to another node. */
    private static void handOver(InJvmCluster cluster, String from) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            String leader = cluster.awaitLeader(WAIT);
            if (!leader.equals(from)) {
                return;   // leadership moved on its own (a lease lost on a loaded machine): nothing to hand over
            }
            String to = cluster.nodes().keySet().stream().filter(id -> !id.equals(from)).findFirst().orElseThrow();
            try {
                cluster.nodes().get(from).transferLeadership(to).get(10, TimeUnit.SECONDS);
                return;
            } catch (Exception e) {
                System.out.println("job: handover to " + to + " failed (" + e + "); trying again");
            }
        }
        throw new IllegalStateException("could not hand leadership over within " + WAIT);
    }
}
