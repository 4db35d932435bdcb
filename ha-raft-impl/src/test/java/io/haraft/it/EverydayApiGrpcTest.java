package io.haraft.it;

import io.haraft.Committed;
import io.haraft.LeaderChange;
import io.haraft.LeaderChangeListener;
import io.haraft.Leadership;
import io.haraft.OverloadedException;
import io.haraft.RaftNode;
import io.haraft.RevokeReason;
import io.haraft.Subscription;
import io.haraft.runtime.NamedExecutors;
import io.haraft.runtime.RecordingListener;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static io.haraft.transport.TransportTesting.awaitTrue;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The everyday API on a real three-node cluster (gRPC on loopback, file stores): waiting for
 * leadership, several listeners each on its own executor, leader changes on followers, backpressure
 * on submit, and removing a listener. Every test records on the node where it happens who did what.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class EverydayApiGrpcTest {

    private static final Duration PATIENCE = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    private GrpcCluster cluster;
    private final NamedExecutors executors = new NamedExecutors();
    private final CountDownLatch release = new CountDownLatch(1);

    @AfterEach
    void tearDown() {
        release.countDown();
        if (cluster != null) {
            cluster.close();
            cluster.assertListenerContracts();
        }
        executors.close();
    }

    /** The leadership a node's builder listener received with {@code elected} for {@code term}, or null. */
    private Leadership electedOn(String id, long term) {
        RecordingListener.Event e = cluster.listener(id).elected(term);
        return e == null ? null : e.leadership();
    }

    @Test
    void awaitLeadershipCompletesOnTheElectedNodeOnlyAndFailsOnClose() throws Exception {
        cluster = GrpcCluster.ofThree(dir).createAll();
        // Asked before start, on every node; each completion records where it happened.
        Map<String, CompletableFuture<Leadership>> awaited = new LinkedHashMap<>();
        List<String> completedOn = new CopyOnWriteArrayList<>();
        for (String id : cluster.ids) {
            CompletableFuture<Leadership> f = cluster.node(id).awaitLeadership();
            f.thenRun(() -> completedOn.add(id));
            awaited.put(id, f);
        }
        cluster.start();
        awaitTrue("a node's awaitLeadership completes", PATIENCE, () -> !completedOn.isEmpty());
        String first = completedOn.get(0);
        Leadership l = awaited.get(first).join();
        assertThat(l.nodeId()).as("the leadership belongs to the node that awaited it").isEqualTo(first);
        awaitTrue(first + " delivers elected for term " + l.term(), PATIENCE, () -> electedOn(first, l.term()) != null);
        assertThat(electedOn(first, l.term())).as("the same leadership the listener received").isSameAs(l);

        // Every future that completed did so on a node that was elected, with that node's leadership.
        // (A node elected without its future completing is no error: a leadership that ended before the
        // future could be completed with it is skipped, which happens when a busy machine delays a lease.)
        for (Map.Entry<String, CompletableFuture<Leadership>> e : awaited.entrySet()) {
            if (e.getValue().isDone()) {
                Leadership got = e.getValue().join();
                assertThat(got.nodeId()).isEqualTo(e.getKey());
                awaitTrue(e.getKey() + " delivers elected(" + got.term() + ")", PATIENCE,
                        () -> electedOn(e.getKey(), got.term()) != null);
                assertThat(electedOn(e.getKey(), got.term())).isSameAs(got);
            }
        }

        // On the leader, the blocking form returns at once with its leadership.
        // (On a busy machine the leadership may move between the two calls: asked again then.)
        String leader = null;
        Optional<Leadership> now = Optional.empty();
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (now.isEmpty() && System.nanoTime() < deadline) {
            leader = cluster.awaitLeader();
            now = cluster.node(leader).awaitLeadership(Duration.ofMillis(200));
        }
        assertThat(now).as("a leader's awaitLeadership returns with its leadership").isPresent();
        assertThat(now.get().nodeId()).isEqualTo(leader);

        // A follower cut off from the others cannot be elected: its wait fails when it closes, and
        // every later one fails at once.
        String follower = cluster.others(leader).get(0);
        cluster.faults.isolate(follower, cluster.ids);
        awaitTrue(follower + " holds no leadership", PATIENCE, () -> cluster.node(follower).leadership().isEmpty());
        CompletableFuture<Leadership> waiting = cluster.node(follower).awaitLeadership();
        assertThat(cluster.node(follower).awaitLeadership(Duration.ZERO)).as("only checks").isEmpty();
        cluster.node(follower).close();
        Throwable failure = GrpcCluster.failure(waiting, PATIENCE);
        assertThat(failure).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("node " + follower + " was closed before it became leader");
        assertThat(cluster.node(follower).awaitLeadership()).isCompletedExceptionally();
        cluster.faults.heal();
    }

    @Test
    void awaitLeadershipOnANodeClosedBeforeItStartedFails() {
        cluster = GrpcCluster.ofThree(dir);
        RaftNode n1 = cluster.create("n1");
        CompletableFuture<Leadership> waiting = n1.awaitLeadership();
        assertThat(waiting).isNotDone();
        n1.close();
        assertThat(GrpcCluster.failure(waiting, PATIENCE)).isInstanceOf(IllegalStateException.class)
                .hasMessage("node n1 was closed before it became leader");
    }

    @Test
    void aListenerBlockedOnItsOwnExecutorDoesNotDelayTheOthers() throws Exception {
        cluster = new GrpcCluster("orders", 3, dir, Duration.ofMillis(100), Duration.ofMillis(300), 0.01).createAll();
        AtomicReference<String> blockedOn = new AtomicReference<>();   // recorded where it happens
        CountDownLatch blocked = new CountDownLatch(1);
        Map<String, RecordingListener> slow = new HashMap<>();
        for (String id : cluster.ids) {
            RecordingListener s = new RecordingListener(id);
            s.onElected = l -> {
                if (blockedOn.compareAndSet(null, id)) {
                    blocked.countDown();
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            };
            slow.put(id, s);
            cluster.node(id).addListener(s, executors.named("slow-listener-" + id));
        }
        cluster.start();
        assertThat(blocked.await(PATIENCE.toSeconds(), TimeUnit.SECONDS)).as("a slow listener blocks").isTrue();
        String a = blockedOn.get();
        Leadership first = slow.get(a).events.get(0).leadership();
        RecordingListener fast = cluster.listener(a);

        // While the slow listener blocks in elected, a loses its leadership: the other listener hears both.
        awaitTrue("the builder listener of " + a + " gets elected(" + first.term() + ")", PATIENCE,
                () -> fast.elected(first.term()) != null);
        cluster.faults.isolate(a, cluster.ids);
        awaitTrue("the builder listener of " + a + " gets revoked(" + first.term() + ")", PATIENCE,
                () -> !fast.revocations(first.term()).isEmpty());
        assertThat(fast.elected(first.term()).leadership()).isSameAs(first);
        assertThat(slow.get(a).events).as("the slow listener is still in its first call").hasSize(1);
        assertThat(fast.events).allMatch(e -> e.thread().equals("haraft-callback-" + a));
        cluster.faults.heal();

        // Released, the slow listener gets what it missed, in order, on its own executor.
        release.countDown();
        awaitTrue("the slow listener of " + a + " gets revoked(" + first.term() + ")", PATIENCE,
                () -> !slow.get(a).revocations(first.term()).isEmpty());
        RecordingListener.Event revoked = slow.get(a).revocations(first.term()).get(0);
        assertThat(revoked.leadership()).isSameAs(first);
        assertThat(revoked.reason()).isNotEqualTo(RevokeReason.SHUT_DOWN);
        assertThat(slow.get(a).events).allMatch(e -> e.thread().equals("slow-listener-" + a));
        for (RecordingListener s : slow.values()) {
            assertThat(s.violations).as("contract of the slow listener of %s", s.nodeId).isEmpty();
        }
    }

    /** One leader change as a listener on node {@code on} received it. */
    record Seen(String on, LeaderChange change, String thread) {
    }

    @Test
    void leaderChangesOnFollowersNameTheLeaderThatReportedItself() throws Exception {
        cluster = GrpcCluster.ofThree(dir).createAll();
        List<Seen> seen = new CopyOnWriteArrayList<>();
        for (String id : cluster.ids) {
            LeaderChangeListener l = c -> seen.add(new Seen(id, c, Thread.currentThread().getName()));
            if (id.equals("n1")) {
                cluster.node(id).addLeaderChangeListener(l, executors.named("changes-" + id));
            } else {
                cluster.node(id).addLeaderChangeListener(l);
            }
        }
        cluster.start();
        String leader = cluster.awaitLeader();
        long term = cluster.listener(leader).current().term();
        for (String follower : cluster.others(leader)) {
            awaitTrue(follower + " hears of a leader in term " + term, PATIENCE, () -> seen.stream().anyMatch(s ->
                    s.on().equals(follower) && s.change().term() == term && s.change().leaderId().isPresent()));
            Seen s = seen.stream().filter(x -> x.on().equals(follower) && x.change().term() == term
                    && x.change().leaderId().isPresent()).findFirst().orElseThrow();
            assertThat(s.change().leaderId()).as("the leader %s named itself in elected(%s)", leader, term)
                    .contains(leader);
        }
        assertThat(seen).filteredOn(s -> s.on().equals(leader) && s.change().term() == term)
                .anyMatch(s -> s.change().isLeader(leader));

        // Per node: terms never go back, two successive changes differ, right thread.
        for (String id : cluster.ids) {
            List<LeaderChange> mine = seen.stream().filter(s -> s.on().equals(id)).map(Seen::change).toList();
            for (int i = 1; i < mine.size(); i++) {
                assertThat(mine.get(i).term()).as("%s: %s", id, mine).isGreaterThanOrEqualTo(mine.get(i - 1).term());
                assertThat(mine.get(i)).as("%s: %s", id, mine).isNotEqualTo(mine.get(i - 1));
            }
            String thread = id.equals("n1") ? "changes-n1" : "haraft-callback-" + id;
            assertThat(seen).filteredOn(s -> s.on().equals(id)).allMatch(s -> s.thread().equals(thread));
        }
        // Across the cluster: whoever a node names as leader of a term is the one elected in it, if any.
        for (Seen s : seen) {
            s.change().leaderId().ifPresent(named -> {
                for (String id : cluster.ids) {
                    if (cluster.listener(id).elected(s.change().term()) != null) {
                        assertThat(named).as("leader of term %s", s.change().term()).isEqualTo(id);
                    }
                }
            });
        }
    }

    @Test
    void aFullNodeRefusesCommandsWithoutAppendingThemAndTakesThemAgainWhenDrained() throws Exception {
        cluster = new GrpcCluster("orders", 3, dir, Duration.ofMillis(100), Duration.ofMillis(500), 0.01);
        cluster.maxPendingProposals = id -> 3;
        cluster.start();
        String leader = cluster.awaitLeader();
        Commands sm = cluster.stateMachines.get(leader);
        CountDownLatch gate = new CountDownLatch(1);
        sm.gate = gate;                                   // the leader applies nothing for now
        RaftNode node = cluster.node(leader);
        List<CompletableFuture<Committed>> admitted = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            admitted.add(node.submit(bytes("c" + i)));
        }
        CompletableFuture<Committed> refused = node.submit(bytes("refused"));
        assertThat(refused).as("refused at once, not queued").isCompletedExceptionally();
        Throwable why = GrpcCluster.failure(refused, PATIENCE);
        assertThat(why).isInstanceOf(OverloadedException.class)
                .hasMessageContaining("3 commands are already in progress")
                .hasMessageContaining("not appended");
        assertThat(((OverloadedException) why).isRetrySafe()).isTrue();
        assertThat(admitted).noneMatch(CompletableFuture::isDone);

        // The followers apply c1..c3; the refused command is nowhere.
        for (String follower : cluster.others(leader)) {
            cluster.awaitApplied(follower, List.of("c1", "c2", "c3"), PATIENCE);
        }
        long commitAfterC3 = node.status().commitIndex();

        gate.countDown();                                 // drain
        sm.gate = null;
        for (CompletableFuture<Committed> f : admitted) {
            f.get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
        }
        Committed retried = node.submit(bytes("refused")).get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
        Committed c3 = admitted.get(2).join();
        if (retried.term() == c3.term()) {
            // Same leader throughout (the usual case): the retry took the index right after c3.
            assertThat(retried.index()).as("nothing was appended between c3 and the retry").isEqualTo(c3.index() + 1);
        }
        assertThat(commitAfterC3).as("c3 had committed while the leader's applies were held").isEqualTo(c3.index());
        for (String id : cluster.ids) {
            cluster.awaitApplied(id, List.of("c1", "c2", "c3", "refused"), PATIENCE);
            assertThat(cluster.stateMachines.get(id).commands()).as("applied on %s", id)
                    .containsSubsequence("c1", "c2", "c3", "refused")
                    .filteredOn("refused"::equals).hasSize(1);
        }
    }

    @Test
    void aRemovedListenerHearsNothingMore() throws Exception {
        cluster = GrpcCluster.ofThree(dir).start();
        String leader = cluster.awaitLeader();
        String follower = cluster.others(leader).get(0);
        RaftNode f = cluster.node(follower);
        List<LeaderChange> kept = new CopyOnWriteArrayList<>();
        List<LeaderChange> removed = new CopyOnWriteArrayList<>();
        f.addLeaderChangeListener(kept::add);
        Subscription cancelMe = f.addLeaderChangeListener(removed::add, executors.named("removed-changes"));
        RecordingListener keptLeadership = new RecordingListener(follower);
        RecordingListener removedLeadership = new RecordingListener(follower);
        f.addListener(keptLeadership, executors.named("kept-leadership"));
        Subscription cancelLeadership = f.addListener(removedLeadership);
        awaitTrue("both change listeners of " + follower + " know the leader", PATIENCE,
                () -> !kept.isEmpty() && !removed.isEmpty());
        cancelMe.cancel();
        cancelLeadership.cancel();
        cancelLeadership.close();                     // idempotent
        int removedBefore = removed.size();
        int keptBefore = kept.size();

        // Leadership moves to the follower: the kept listeners hear it, the removed ones do not.
        awaitTrue(follower + " becomes leader", PATIENCE, () -> {
            Optional<String> now = cluster.validLeader(cluster.ids);
            if (now.isPresent() && !now.get().equals(follower)) {
                try {
                    cluster.node(now.get()).transferLeadership(follower).get(5, TimeUnit.SECONDS);
                } catch (Exception e) {
                    // not caught up yet, or the leadership moved meanwhile: ask again
                }
            }
            return keptLeadership.current() != null;
        });
        awaitTrue("the kept change listener hears " + follower + " lead", PATIENCE,
                () -> kept.stream().anyMatch(c -> c.isLeader(follower)));
        assertThat(kept.size()).isGreaterThan(keptBefore);
        assertThat(removed).as("nothing after cancel").hasSize(removedBefore);
        assertThat(removedLeadership.events).as("nothing after cancel").isEmpty();
        assertThat(keptLeadership.violations).isEmpty();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
