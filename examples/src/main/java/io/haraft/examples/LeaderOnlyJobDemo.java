package io.haraft.examples;

import io.haraft.Leadership;
import io.haraft.LeadershipListener;
import io.haraft.RevokeReason;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Three nodes in this JVM, each with a {@link LeaderOnlyJob} "billing run" every 100 ms. The job
 * runs on the leader only; leadership is handed over once and the job follows it. Prints each run
 * and ends with {@code job: runs=<n> leaders=<k> runs_after_revoke=<0>}.
 */
public final class LeaderOnlyJobDemo {
    /** One run of the job: where, with which token, when (monotonic). */
    public record Run(String node, long token, long atNanos) { }

    private LeaderOnlyJobDemo() {
    }

    public static void main(String[] args) throws Exception {
        Result r = run(Duration.ofSeconds(2));
        System.out.printf("job: runs=%d leaders=%d runs_after_revoke=%d%n", r.runs().size(), r.leaders(),
                r.runsAfterRevoke());
        System.exit(r.runsAfterRevoke() == 0 && r.leaders() >= 2 ? 0 : 1);
    }

    /** What a run of the demo observed. */
    public record Result(List<Run> runs, int leaders, int runsAfterRevoke) { }

    public static Result run(Duration perLeader) throws Exception {
        List<Run> runs = new CopyOnWriteArrayList<>();
        Map<String, Long> revokedAt = new ConcurrentHashMap<>();
        List<LeaderOnlyJob> jobs = new ArrayList<>();
        try (InJvmCluster cluster = new InJvmCluster(List.of("n1", "n2", "n3"), id -> {
            LeaderOnlyJob job = new LeaderOnlyJob(100, l -> {
                runs.add(new Run(id, l.token().value(), System.nanoTime()));
                System.out.println("job: billing run on " + id + " with " + l.token());
            });
            jobs.add(job);
            return new LeadershipListener() {
                @Override
                public void elected(Leadership l) {
                    revokedAt.remove(id);
                    job.elected(l);
                }

                @Override
                public void revoked(Leadership l, RevokeReason why) {
                    job.revoked(l, why);
                    revokedAt.put(id, System.nanoTime());
                    System.out.println("job: " + id + " revoked (" + why + "); its job stopped");
                }
            };
        })) {
            String first = cluster.awaitLeader(Duration.ofSeconds(30));
            Thread.sleep(perLeader.toMillis());
            String target = cluster.nodes().keySet().stream().filter(id -> !id.equals(first)).findFirst().orElseThrow();
            cluster.nodes().get(first).transferLeadership(target).get();
            Thread.sleep(perLeader.toMillis());
            long after = runs.stream().filter(r -> r.node().equals(first) && revokedAt.containsKey(first)
                    && r.atNanos() > revokedAt.get(first)).count();
            long leaders = runs.stream().map(Run::node).distinct().count();
            return new Result(List.copyOf(runs), (int) leaders, (int) after);
        } finally {
            jobs.forEach(LeaderOnlyJob::close);
        }
    }
}
