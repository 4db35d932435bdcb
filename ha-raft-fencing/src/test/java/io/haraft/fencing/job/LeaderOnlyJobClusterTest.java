package io.haraft.fencing.job;

import io.haraft.Leadership;
import io.haraft.LeadershipListener;
import io.haraft.RaftNode;
import io.haraft.RevokeReason;
import io.haraft.fencing.Await;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link LeaderOnlyJob} as users register it: the listener of each of three real nodes (gRPC on
 * loopback, files on disk) in this JVM. The job runs on the leader only, with the leader's token,
 * and follows a handover.
 */
class LeaderOnlyJobClusterTest {

    /** One run: on which node, with which token. */
    record Run(String node, long token) { }

    @Test
    void theJobRunsOnlyOnTheLeaderWithItsTokenAndFollowsAHandover(@TempDir Path dir) throws Exception {
        List<Run> runs = new CopyOnWriteArrayList<>();
        Map<String, Set<Long>> electedWith = new ConcurrentHashMap<>();
        Map<String, LeaderOnlyJob> jobs = new LinkedHashMap<>();
        Map<String, RaftNode> nodes = new LinkedHashMap<>();
        Map<String, String> members = new LinkedHashMap<>();
        for (String id : List.of("n1", "n2", "n3")) {
            members.put(id, "127.0.0.1:" + freePort());
        }
        try {
            for (String id : members.keySet()) {
                LeaderOnlyJob job = LeaderOnlyJob.builder("billing-" + id,
                        l -> runs.add(new Run(id, l.token().value()))).fixedDelay(Duration.ofMillis(20)).build();
                jobs.put(id, job);
                RaftNode.Builder b = RaftNode.builder().clusterId("fencing-test").nodeId(id).dataDir(dir.resolve(id))
                        .heartbeatInterval(Duration.ofMillis(100)).electionTimeout(Duration.ofMillis(500))
                        .listener(new LeadershipListener() {
                            @Override
                            public void elected(Leadership l) {
                                electedWith.computeIfAbsent(id, k -> ConcurrentHashMap.newKeySet()).add(l.term());
                                job.elected(l);
                            }

                            @Override
                            public void revoked(Leadership l, RevokeReason why) {
                                job.revoked(l, why);
                            }
                        });
                members.forEach(b::member);
                nodes.put(id, b.build());
            }
            nodes.values().forEach(RaftNode::start);

            Await.until(() -> runs.size() >= 3, () -> "3 runs of the job; runs: " + runs);
            Run first = runs.get(0);
            handOver(nodes, first.node());
            Await.until(() -> runs.stream().filter(r -> r.token() > first.token()).count() >= 3,
                    () -> "3 runs with a token above " + first.token() + "; runs: " + runs);
            Await.until(() -> jobs.get(first.node()).leadership().isEmpty() && !jobs.get(first.node()).isRunning(),
                    () -> "the job on " + first.node() + " stopped after the handover");
            long oldRuns = runs.stream().filter(r -> r.token() == first.token()).count();
            long before = runs.size();
            Await.until(() -> runs.size() >= before + 3, () -> "3 more runs; runs: " + runs);

            assertThat(runs.stream().filter(r -> r.token() == first.token()).count())
                    .as("runs of the first leadership after its job stopped").isEqualTo(oldRuns);
            for (Run r : runs) {
                assertThat(electedWith.getOrDefault(r.node(), Set.of()))
                        .as("tokens %s was elected with, for its run %s", r.node(), r).contains(r.token());
            }
            assertThat(runs.stream().map(Run::token).distinct().count()).as("leaderships that ran the job")
                    .isGreaterThanOrEqualTo(2);
        } finally {
            for (RaftNode n : nodes.values()) {
                n.close();
            }
            jobs.values().forEach(LeaderOnlyJob::close);
        }
    }

    /** Hands leadership from {@code from} to another node, unless it has already moved on its own. */
    private static void handOver(Map<String, RaftNode> nodes, String from) throws InterruptedException {
        long deadline = System.nanoTime() + Await.LONG.toNanos();
        List<Exception> failures = new ArrayList<>();
        while (System.nanoTime() < deadline) {
            Optional<Leadership> l = nodes.get(from).leadership();
            if (l.isEmpty()) {
                return;
            }
            String to = nodes.keySet().stream().filter(id -> !id.equals(from)).findFirst().orElseThrow();
            try {
                nodes.get(from).transferLeadership(to).get(10, TimeUnit.SECONDS);
                return;
            } catch (Exception e) {
                failures.add(e);
                Thread.sleep(100);
            }
        }
        throw new AssertionError("could not hand leadership over from " + from + ": " + failures);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
