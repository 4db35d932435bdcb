package io.haraft.runtime;

import io.haraft.Leadership;
import io.haraft.RevokeReason;
import io.haraft.transport.TransportTesting.LogCapture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The guarantees of {@link io.haraft.LeadershipListener} per listener when a node has several,
 * some on executors of their own: close() with one of them blocked, a listener added to a leader,
 * an executor that refuses work, and a handover that waits for every listener's {@code revoked}.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SeveralListenersTest {

    private static final Duration PATIENCE = Duration.ofSeconds(15);

    private LocalCluster cluster;
    private final CountDownLatch release = new CountDownLatch(1);
    private final NamedExecutors executors = new NamedExecutors();

    @AfterEach
    void tearDown() {
        release.countDown();
        LocalCluster.closeAndCheck(cluster);
        executors.close();
    }

    @Test
    void closeWaitsBoundedForAListenerBlockedOnItsOwnExecutorAndDeliversItsQueueLater() throws Exception {
        cluster = LocalCluster.ofThree().start();
        String a = cluster.awaitLeader();
        RaftNodeImpl node = cluster.node(a);
        Leadership leadership = node.leadership().orElseThrow();
        CountDownLatch blocked = new CountDownLatch(1);
        RecordingListener slow = new RecordingListener(a);
        slow.onElected = l -> {
            blocked.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
        node.addListener(slow, executors.named("slow-" + a));
        assertThat(blocked.await(PATIENCE.toSeconds(), TimeUnit.SECONDS)).as("added to a leader: elected first").isTrue();
        node.callbackDrainForTest(Duration.ofMillis(500));

        RecordingListener builderListener = cluster.listener(a);
        try (LogCapture logs = new LogCapture()) {
            long start = System.nanoTime();
            node.close();
            assertThat(Duration.ofNanos(System.nanoTime() - start)).as("close is bounded by its waits")
                    .isLessThan(Duration.ofSeconds(8));
            assertThat(leadership.isValid()).isFalse();
            assertThat(builderListener.last().elected()).as("the free listener got its revoked before close returned")
                    .isFalse();
            assertThat(slow.events).as("the slow one still blocks in elected").hasSize(1);
            assertThat(logs.lines()).as("an ERROR names the blocked callback, its thread and listener").anyMatch(l ->
                    l.contains("ERROR") && l.contains("node " + a + ": the leadership listener has been running elected(term "
                            + leadership.term() + ")") && l.contains("slow-" + a) && l.contains(slow.toString()));
        }
        release.countDown();
        Await.until(PATIENCE, () -> slow.events.size() == 2, "the revoked queued behind the blocked call");
        assertThat(slow.events.get(1).leadership()).isSameAs(leadership);
        assertThat(slow.events.get(1).thread()).isEqualTo("slow-" + a);
        assertThat(slow.violations).isEmpty();
    }

    @Test
    void anExecutorThatRefusesWorkFallsBackToTheCallbackThread() throws Exception {
        cluster = LocalCluster.ofThree().start();
        String a = cluster.awaitLeader();
        RaftNodeImpl node = cluster.node(a);
        ExecutorService dead = executors.named("dead");
        dead.shutdown();
        RecordingListener l = new RecordingListener(a);
        try (LogCapture logs = new LogCapture()) {
            node.addListener(l, dead);
            Await.until(PATIENCE, () -> !l.events.isEmpty(), "elected delivered although the executor refuses");
            assertThat(logs.lines()).anyMatch(line -> line.contains("WARN") && line.contains("refused a call")
                    && line.contains("callback thread instead"));
        }
        assertThat(l.events.get(0).elected()).isTrue();
        assertThat(l.events.get(0).thread()).isEqualTo("haraft-callback-" + a);
        node.close();
        assertThat(l.last().elected()).as("revoked delivered before close returned").isFalse();
        assertThat(l.violations).isEmpty();
    }

    @Test
    void aHandoverWaitsForTheRevokedOfEveryListener() throws Exception {
        // A long election timeout: within it, only the handover's TimeoutNow can make another node leader.
        cluster = new LocalCluster(3, Duration.ofMillis(100), Duration.ofSeconds(5), 0.01).start();
        String a = cluster.awaitLeader(cluster.ids, Duration.ofSeconds(40));
        String target = cluster.others(a).get(0);
        List<String> othersLeadingDuringRevoked = new CopyOnWriteArrayList<>();   // recorded in the callback
        RecordingListener slow = new RecordingListener(a);
        slow.onRevoked = l -> {
            for (int i = 0; i < 20; i++) {          // 200 ms or more inside revoked, looking around
                for (String other : cluster.others(a)) {
                    if (cluster.node(other).leadership().isPresent()) {
                        othersLeadingDuringRevoked.add(other);
                    }
                }
                java.util.concurrent.locks.LockSupport.parkNanos(10_000_000);
            }
        };
        cluster.node(a).addListener(slow, executors.named("slow-" + a));
        Await.until(PATIENCE, () -> !slow.events.isEmpty(), "the added listener gets elected");
        cluster.node(a).transferLeadership(target).get(30, TimeUnit.SECONDS);
        assertThat(slow.revocations(slow.events.get(0).term())).singleElement()
                .extracting(RecordingListener.Event::reason).isEqualTo(RevokeReason.LEADERSHIP_TRANSFERRED);
        assertThat(othersLeadingDuringRevoked).as("no other node led while a listener of the old leader was in revoked")
                .isEmpty();
    }
}
