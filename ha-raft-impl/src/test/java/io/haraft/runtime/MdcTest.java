package io.haraft.runtime;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.MDC;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every thread a node starts logs with the MDC keys {@code cluster} and {@code node}, and the Raft
 * loop also with {@code term}: checked on the real file store and gRPC transport, and on the
 * short-lived threads that stop a node (after its removal, after a fatal error).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MdcTest {

    private static final Duration PATIENCE = Duration.ofSeconds(15);
    private static MdcRecorder mdc;

    @TempDir
    Path dir;

    private LocalCluster cluster;

    @BeforeAll
    static void recordMdc() {
        mdc = new MdcRecorder().install();
    }

    @AfterAll
    static void restoreMdc() {
        mdc.uninstall();
    }

    @AfterEach
    void tearDown() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static Set<Thread> haraftThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("haraft-"))
                .collect(Collectors.toSet());
    }

    /** Whether {@code name} is the name of one of {@code nodeId}'s threads (they all carry its id). */
    private static boolean belongsTo(String name, String nodeId) {
        return name.endsWith("-" + nodeId) || name.contains("-" + nodeId + "-") || name.endsWith("[" + nodeId + "]");
    }

    @Test
    void everyThreadOfANodeCarriesItsClusterAndNodeAndTheLoopItsTerm() throws Exception {
        Set<Thread> before = haraftThreads();   // threads of earlier tests (this JVM runs many) are not judged
        cluster = LocalCluster.onDisk(dir, 1_000, 1 << 20, true).start();
        String leaderId = cluster.awaitLeader();
        cluster.node(leaderId).submit("x".getBytes(StandardCharsets.UTF_8)).get(10, TimeUnit.SECONDS);
        for (String id : cluster.ids) {
            long deadline = System.nanoTime() + PATIENCE.toNanos();
            List<String> problems = problems(id, before);
            while (!problems.isEmpty() && System.nanoTime() - deadline < 0) {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));   // a thread just started sets its MDC first
                problems = problems(id, before);
            }
            assertThat(problems).as("threads of %s without their MDC", id).isEmpty();
        }
        // The caller's thread gets its own MDC back after start().
        assertThat(MDC.get("node")).isNull();
    }

    /**
     * What is wrong with the MDC of {@code id}'s threads started after {@code before}: a kind of
     * thread missing, a thread without cluster and node, a loop thread without its current term.
     */
    private List<String> problems(String id, Set<Thread> before) {
        List<String> problems = new ArrayList<>();
        List<Thread> mine = haraftThreads().stream().filter(t -> !before.contains(t) && t.isAlive()
                && belongsTo(t.getName(), id)).toList();
        for (String kind : List.of("haraft-loop-", "haraft-apply-", "haraft-transport-", "haraft-storage-writer[",
                "haraft-storage-prealloc[")) {
            if (mine.stream().noneMatch(t -> t.getName().startsWith(kind))) {
                problems.add("no " + kind + " thread");
            }
        }
        String term = String.valueOf(cluster.node(id).status().term());
        for (Thread t : mine) {
            Map<String, String> context = mdc.contextOf(t);
            if (!"test".equals(context.get("cluster")) || !id.equals(context.get("node"))
                    || t.getName().startsWith("haraft-loop-") && !term.equals(context.get("term"))) {
                problems.add(t.getName() + " has MDC " + context + (t.getName().startsWith("haraft-loop-")
                        ? " (term " + term + " expected)" : ""));
            }
        }
        return problems;
    }

    @Test
    void theThreadsThatStopANodeCarryItsClusterAndNode() throws Exception {
        cluster = new LocalCluster(4, Duration.ofMillis(50), Duration.ofMillis(300), 0.01);
        Map<String, Map<String, String>> closedWith = new ConcurrentHashMap<>();
        cluster.storeWrap = (id, store) -> new ContextOnClose(store, closedWith);
        cluster.ids.forEach(cluster::create);
        cluster.start();
        String leaderId = cluster.awaitLeader();
        RaftNodeImpl leader = cluster.node(leaderId);

        // Removed: the node stops itself on a thread of its own.
        String removed = cluster.others(leaderId).get(0);
        leader.removeMember(removed).get(20, TimeUnit.SECONDS);
        Await.until(PATIENCE, () -> closedWith.containsKey("haraft-removed-stop-" + removed),
                removed + " stops itself; closed stores: " + closedWith.keySet());
        assertThat(closedWith.get("haraft-removed-stop-" + removed))
                .containsEntry("cluster", "test").containsEntry("node", removed);

        // A fatal error (a state machine that throws): the node stops on a thread of its own.
        cluster.stateMachines.get(leaderId).poison = "boom";
        leader.submit("boom".getBytes(StandardCharsets.UTF_8));
        Await.until(PATIENCE, () -> closedWith.containsKey("haraft-fatal-stop-" + leaderId),
                leaderId + " stops after the fatal error; closed stores: " + closedWith.keySet());
        assertThat(closedWith.get("haraft-fatal-stop-" + leaderId))
                .containsEntry("cluster", "test").containsEntry("node", leaderId);
    }

    /** A store that records, when it is closed, the closing thread's name and MDC. */
    private static final class ContextOnClose extends ForwardingLogStore {
        private final Map<String, Map<String, String>> closedWith;

        ContextOnClose(LogStore inner, Map<String, Map<String, String>> closedWith) {
            super(inner);
            this.closedWith = closedWith;
        }

        @Override
        public void close() {
            Map<String, String> context = MDC.getCopyOfContextMap();
            closedWith.put(Thread.currentThread().getName(), context == null ? Map.of() : context);
            super.close();
        }
    }
}
