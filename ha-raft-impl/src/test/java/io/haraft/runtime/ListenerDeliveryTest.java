package io.haraft.runtime;

import io.haraft.Leadership;
import io.haraft.LeaseExpiredException;
import io.haraft.NodeStatus;
import io.haraft.RevokeReason;
import io.haraft.transport.TransportTesting.LogCapture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The listener contract under pressure: transitions queued behind a blocked callback, a close()
 * while the listener blocks, and a lease read whose lease ends while it runs.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ListenerDeliveryTest {

    private static final Duration PATIENCE = Duration.ofSeconds(15);

    private LocalCluster cluster;
    private final CountDownLatch blocked = new CountDownLatch(1);
    private final CountDownLatch release = new CountDownLatch(1);

    @AfterEach
    void tearDown() {
        release.countDown();
        if (cluster != null) {
            cluster.close();
            cluster.assertListenerContracts();
        }
    }

    /** The first {@code elected} in the cluster blocks until {@link #release}; returns that node's id. */
    private String startWithTheFirstElectedBlocking() throws InterruptedException {
        AtomicReference<String> first = new AtomicReference<>();   // recorded where it happens
        for (String id : cluster.ids) {
            cluster.listener(id).onElected = l -> {
                if (first.compareAndSet(null, id)) {
                    blocked.countDown();
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            };
        }
        cluster.start();
        assertThat(blocked.await(PATIENCE.toSeconds(), TimeUnit.SECONDS)).as("a node was elected").isTrue();
        return first.get();
    }

    @Test
    void transitionsQueuedBehindABlockedCallbackAreAllDeliveredInOrderOnOneThread() throws Exception {
        cluster = LocalCluster.ofThree();
        String a = startWithTheFirstElectedBlocking();
        RaftNodeImpl nodeA = cluster.node(a);
        RecordingListener listenerA = cluster.listener(a);
        Leadership firstLeadership = listenerA.events.get(0).leadership();
        List<String> others = cluster.others(a);

        // 1. While its listener blocks in elected, a is cut off and its lease runs out: revoked is queued.
        cluster.network.isolate(a, others);
        cluster.awaitLeader(others, PATIENCE);
        Await.until(PATIENCE, () -> !firstLeadership.isValid() && nodeA.status().role() != NodeStatus.Role.LEADER,
                "a's first leadership ended");
        // 2. a becomes leader again (the current leader hands over to it): a second elected is queued.
        cluster.network.heal();
        Await.until(PATIENCE, () -> {
            if (nodeA.leadership().isPresent()) {
                return true;
            }
            Optional<String> leader = cluster.validLeader(others);
            if (leader.isPresent()) {
                try {
                    cluster.node(leader.get()).transferLeadership(a).get(5, TimeUnit.SECONDS);
                } catch (Exception e) {
                    // a was not caught up yet, or the leadership moved meanwhile: ask again
                }
            }
            return nodeA.leadership().isPresent();
        }, "a leads again while its listener still blocks");
        assertThat(listenerA.events).as("nothing more delivered while the callback blocks").hasSize(1);
        assertThat(NodeTestHooks.queuedTransitions(nodeA)).as("revoked and elected wait behind the blocked elected")
                .isGreaterThanOrEqualTo(2);

        release.countDown();
        Await.until(PATIENCE, () -> listenerA.events.size() >= 3 && NodeTestHooks.queuedTransitions(nodeA) == 0,
                "the queued transitions are delivered");
        List<RecordingListener.Event> events = List.copyOf(listenerA.events);
        assertThat(events.get(0).elected()).isTrue();
        assertThat(events.get(1).elected()).isFalse();
        assertThat(events.get(1).leadership()).as("revoked names the blocked leadership").isSameAs(firstLeadership);
        assertThat(events.get(1).reason()).isIn(RevokeReason.LEASE_EXPIRED, RevokeReason.STEPPED_DOWN,
                RevokeReason.HIGHER_TERM);
        assertThat(events.get(2).elected()).isTrue();
        assertThat(events.get(2).term()).isGreaterThan(firstLeadership.term());
        for (int i = 0; i < events.size(); i++) {
            RecordingListener.Event e = events.get(i);
            assertThat(e.elected()).as("call %s alternates: %s", i, listenerA).isEqualTo(i % 2 == 0);
            assertThat(e.threadId()).as("call %s runs on the thread of the first call", i)
                    .isEqualTo(events.get(0).threadId());
            assertThat(e.thread()).as("call %s", i).isEqualTo("haraft-callback-" + a);
        }
        assertThat(listenerA.violations).isEmpty();
    }

    @Test
    void closeReportsAListenerBlockedForLongerThanItWaitsAndStillDeliversWhatIsQueued() throws Exception {
        cluster = LocalCluster.ofThree();
        String a = startWithTheFirstElectedBlocking();
        RaftNodeImpl nodeA = cluster.node(a);
        RecordingListener listenerA = cluster.listener(a);
        Leadership leadership = listenerA.events.get(0).leadership();
        nodeA.callbackDrainForTest(Duration.ofMillis(500));

        long closeNanos;
        int queued;
        try (LogCapture logs = new LogCapture()) {
            long start = System.nanoTime();
            nodeA.close();
            closeNanos = System.nanoTime() - start;
            assertThat(leadership.isValid()).as("revoked before close returned").isFalse();
            assertThat(listenerA.events).as("the listener still blocks in elected").hasSize(1);
            // At least the revoked of the blocked leadership; more if a loaded machine cost a lease and
            // the node was elected again before close.
            queued = NodeTestHooks.queuedTransitions(nodeA);
            assertThat(queued).as("transitions waiting behind the blocked callback").isPositive();
            assertThat(logs.lines()).as("an ERROR names the blocked callback and its thread").anyMatch(l ->
                    l.contains("ERROR") && l.contains("node " + a + ": the leadership listener has been running"
                            + " elected(term " + leadership.term() + ")") && l.contains("haraft-callback-" + a)
                            && l.contains(" transition(s) queued behind it are not dropped"));
        }
        assertThat(Duration.ofNanos(closeNanos)).as("close is bounded by its waits").isLessThan(Duration.ofSeconds(8));

        release.countDown();
        Await.until(PATIENCE, () -> listenerA.events.size() == 1 + queued, "the transitions queued behind it");
        List<RecordingListener.Event> events = List.copyOf(listenerA.events);
        assertThat(events.get(1).elected()).isFalse();
        assertThat(events.get(1).leadership()).isSameAs(leadership);
        RecordingListener.Event last = events.get(events.size() - 1);
        assertThat(last.elected()).as("the last call after a close is a revoked").isFalse();
        assertThat(last.reason()).isIn(RevokeReason.LEADERSHIP_TRANSFERRED, RevokeReason.SHUT_DOWN,
                RevokeReason.LEASE_EXPIRED, RevokeReason.STEPPED_DOWN, RevokeReason.HIGHER_TERM);
        for (RecordingListener.Event e : events) {
            assertThat(e.threadId()).as("one callback thread").isEqualTo(events.get(0).threadId());
        }
        assertThat(listenerA.violations).isEmpty();
        cluster.awaitLeader(cluster.others(a), PATIENCE);
    }

    @Test
    void aLeaseReadDuringWhichTheLeaseEndsThrows() {
        cluster = LocalCluster.ofThree().start();
        String leaderId = cluster.awaitLeader();
        RaftNodeImpl leader = cluster.node(leaderId);
        AtomicBoolean readRan = new AtomicBoolean();
        assertThatThrownBy(() -> leader.leaseRead(l -> {
            readRan.set(true);
            assertThat(l.isValid()).as("valid when the read starts").isTrue();
            cluster.network.isolate(leaderId, cluster.others(leaderId));
            Await.until(PATIENCE, () -> !l.isValid(), "the lease runs out during the read");
            return "read under a lease that ended";
        })).isInstanceOf(LeaseExpiredException.class);
        assertThat(readRan).isTrue();
    }
}
