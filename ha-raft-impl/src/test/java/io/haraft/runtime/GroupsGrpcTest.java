package io.haraft.runtime;

import io.haraft.GroupNames;
import io.haraft.GroupOptions;
import io.haraft.Leadership;
import io.haraft.LeadershipListener;
import io.haraft.RaftConfigException;
import io.haraft.RaftGroups;
import io.haraft.RaftNode;
import io.haraft.RevokeReason;
import io.haraft.transport.GrpcTransport;
import io.haraft.transport.GrpcTransportConfig;
import io.haraft.transport.TransportTesting;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Nodes hosting many Raft groups over real gRPC on loopback and real files: every group elects,
 * the groups share one port, one data directory and a fixed set of threads, groups come and go
 * while the nodes run, a closed node's groups move to the survivors, and messages are routed by
 * group (without a group: the default group; for a group not hosted: dropped, nothing else harmed).
 */
class GroupsGrpcTest {
    private static final Duration HEARTBEAT = Duration.ofMillis(100);
    private static final Duration ELECTION = Duration.ofMillis(500);
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path root;

    private final Map<String, Integer> ports = new LinkedHashMap<>();
    private final Map<String, RaftGroups> nodes = new LinkedHashMap<>();
    private final List<AutoCloseable> others = new ArrayList<>();
    /** Every elected() of every group on every node, as the listener on that node saw it. */
    private final List<Leadership> elections = new CopyOnWriteArrayList<>();
    private final List<String> violations = new CopyOnWriteArrayList<>();
    /** Per (node, group): the listener's last elected term, to check alternation and growth per group. */
    private final Map<String, Long> lastTerm = new ConcurrentHashMap<>();

    @AfterEach
    void closeAll() throws Exception {
        for (RaftGroups n : nodes.values()) {
            n.close();
        }
        for (AutoCloseable c : others) {
            c.close();
        }
    }

    private void ids(String... ids) {
        for (String id : ids) {
            ports.put(id, TransportTesting.freePort());
        }
    }

    private RaftNode.Builder builder(String id) {
        RaftNode.Builder b = RaftNode.builder().clusterId("groups").nodeId(id)
                .dataDir(root.resolve(id)).heartbeatInterval(HEARTBEAT).electionTimeout(ELECTION);
        ports.forEach((m, port) -> b.member(m, "127.0.0.1:" + port));
        return b;
    }

    /** A node hosting groups, started, whose listener records every transition of every group. */
    private RaftGroups startGroupsNode(String id) {
        RaftGroups n = builder(id).listener(recorder(id)).buildGroups();
        nodes.put(id, n);
        n.start();
        return n;
    }

    private LeadershipListener recorder(String id) {
        return new LeadershipListener() {
            @Override
            public void elected(Leadership l) {
                Long before = lastTerm.put(id + "/" + l.group(), l.term());
                if (before != null && before >= l.term()) {
                    violations.add(id + "/" + l.group() + ": token " + l.term() + " not above " + before);
                }
                if (!l.nodeId().equals(id)) {
                    violations.add(id + "/" + l.group() + ": leadership names node " + l.nodeId());
                }
                elections.add(l);
            }

            @Override
            public void revoked(Leadership l, RevokeReason reason) {
            }
        };
    }

    private void createEverywhere(String group) {
        for (RaftGroups n : nodes.values()) {
            n.newGroup(group);
        }
    }

    /** The node leading {@code group} now, by its own handle (valid lease), if exactly one does. */
    private Optional<String> leaderOf(String group) {
        List<String> leaders = new ArrayList<>();
        nodes.forEach((id, n) -> n.group(group).filter(RaftNode::isLeader).ifPresent(h -> leaders.add(id)));
        return leaders.size() == 1 ? Optional.of(leaders.get(0)) : Optional.empty();
    }

    /**
     * The node leading {@code group}, waited for: leases can be lost at any time on a loaded
     * machine, so a test never assumes that a leader it saw earlier still leads.
     */
    private String awaitLeader(String group) {
        AtomicReference<String> found = new AtomicReference<>();
        Await.until(WAIT, () -> {
            Optional<String> l = leaderOf(group);
            l.ifPresent(found::set);
            return l.isPresent();
        }, "a leader of group " + group);
        return found.get();
    }

    /** Submits {@code command} to {@code group}'s leader, again on another leader if leadership moves meanwhile. */
    private long submitToLeader(String group, byte[] command) {
        AtomicReference<Long> index = new AtomicReference<>();
        Await.until(WAIT, () -> {
            try {
                index.set(nodes.get(awaitLeader(group)).group(group).orElseThrow().submit(command)
                        .get(10, TimeUnit.SECONDS).index());
                return true;
            } catch (Exception e) {
                return false;   // not leader any more, or the outcome is unknown: try again
            }
        }, "a command committed in group " + group);
        return index.get();
    }

    /** Makes {@code target} lead {@code group}: asks whichever handle leads now to transfer, until it does. */
    private void moveLeadershipTo(String group, String targetId, RaftNode target) {
        Await.until(WAIT, () -> {
            if (target.isLeader()) {
                return true;
            }
            for (RaftGroups n : nodes.values()) {
                Optional<RaftNode> h = n.group(group).filter(RaftNode::isLeader);
                if (h.isPresent()) {
                    try {
                        h.get().transferLeadership(targetId).get(10, TimeUnit.SECONDS);
                    } catch (Exception e) {
                        // lost leadership meanwhile, or the transfer timed out: look again
                    }
                }
            }
            return target.isLeader();
        }, targetId + " leads group " + group);
    }

    private void awaitLeaders(List<String> groups) {
        Await.until(WAIT, () -> groups.stream().allMatch(g -> leaderOf(g).isPresent()),
                "a leader in every one of " + groups.size() + " groups");
    }

    private static List<String> names(String prefix, int from, int count) {
        List<String> out = new ArrayList<>();
        for (int i = from; i < from + count; i++) {
            out.add(prefix + i);
        }
        return out;
    }

    private static int threadCount() {
        return ManagementFactory.getThreadMXBean().getThreadCount();
    }

    /** Nodes n1, n2 and n3 hosting groups, started (the balancer is on). */
    private void startThreeGroupsNodes() {
        ids("n1", "n2", "n3");
        for (String id : ports.keySet()) {
            startGroupsNode(id);
        }
    }

    /** Three nodes hosting groups g0..g{count-1}, each of which has a leader. */
    private List<String> threeNodesWithLedGroups(int count) {
        startThreeGroupsNodes();
        List<String> groups = names("g", 0, count);
        groups.forEach(this::createEverywhere);
        awaitLeaders(groups);
        return groups;
    }

    @Test
    void twentyGroupsOnThreeNodesEachElectALeaderWithTokensOfTheirOwn() {
        List<String> groups = threeNodesWithLedGroups(20);

        // One node, one port: every group's messages went over the node's one transport.
        for (RaftGroups n : nodes.values()) {
            assertThat(n.groupNames()).containsExactlyElementsOf(new java.util.TreeSet<>(groups));
            GrpcTransport t = ((RaftGroupsImpl) n).transport();
            assertThat(t.localAddress().getPort()).isEqualTo(ports.get(n.config().nodeId()));
            for (String g : groups) {
                assertThat(n.group(g).orElseThrow().config().dataDir())
                        .isEqualTo(n.config().dataDir().resolve("groups").resolve(g));
                assertThat(n.config().dataDir().resolve("groups").resolve(g)).isDirectory();
            }
        }
        // Each leadership names its group; within a group, no term has two leaders.
        Map<String, Map<Long, String>> leaderOfTerm = new HashMap<>();
        for (Leadership l : elections) {
            assertThat(groups).contains(l.group());
            String other = leaderOfTerm.computeIfAbsent(l.group(), g -> new HashMap<>()).putIfAbsent(l.term(), l.nodeId());
            assertThat(other == null || other.equals(l.nodeId()))
                    .as("group %s term %d led by %s and %s", l.group(), l.term(), other, l.nodeId()).isTrue();
        }
        for (String g : groups) {
            Leadership now = nodes.get(awaitLeader(g)).group(g).orElseThrow().leadership().orElse(null);
            if (now != null) {
                assertThat(now.group()).isEqualTo(g);
                assertThat(now.token().value()).isEqualTo(now.term());
            }
        }
        assertThat(violations).isEmpty();

        // A command commits in one group and not in another.
        assertThat(submitToLeader(groups.get(0), "x".getBytes(StandardCharsets.UTF_8))).isPositive();
    }

    @Test
    void theThreadCountDoesNotGrowWithTheNumberOfGroups() {
        ids("n1", "n2", "n3");
        for (String id : ports.keySet()) {
            startGroupsNode(id);
        }
        List<String> first = names("a", 0, 5);
        first.forEach(this::createEverywhere);
        awaitLeaders(first);
        int before = threadCount();

        List<String> more = names("b", 0, 40);
        more.forEach(this::createEverywhere);
        awaitLeaders(more);
        int after = threadCount();

        // 120 more groups in this JVM (40 on each of 3 nodes); a thread per group and role would add
        // hundreds. Only shared pools that had not yet started all their threads may add a few.
        int poolThreads = SharedEnvironment.LOOP_THREADS + SharedEnvironment.APPLY_THREADS
                + SharedEnvironment.CALLBACK_THREADS + SharedEnvironment.SNAPSHOT_THREADS
                + SharedEnvironment.STORAGE_THREADS + SharedEnvironment.APART_THREADS + 1;
        assertThat(after - before).as("threads before %d, after %d", before, after)
                .isLessThanOrEqualTo(3 * poolThreads / 2);
        assertThat(after - before).isLessThan(120);
    }

    @Test
    void groupsLedByAClosedNodeMoveToTheSurvivors() {
        ids("n1", "n2", "n3");
        for (String id : ports.keySet()) {
            startGroupsNode(id);
        }
        List<String> groups = names("p", 0, 12);
        groups.forEach(this::createEverywhere);
        awaitLeaders(groups);

        // The node that leads the most groups now, and which (by its own handles).
        Map<String, List<String>> led = new HashMap<>();
        Map<String, Long> terms = new HashMap<>();
        for (String g : groups) {
            String id = awaitLeader(g);
            led.computeIfAbsent(id, k -> new ArrayList<>()).add(g);
            terms.put(g, nodes.get(id).group(g).orElseThrow().status().term());
        }
        String victim = led.entrySet().stream().max(Map.Entry.comparingByValue(
                java.util.Comparator.comparingInt(List::size))).orElseThrow().getKey();
        List<String> moved = led.get(victim);
        nodes.remove(victim).close();
        // While it closed, its messages said it was drained: no balancer handed it back a group it
        // was about to hand away. It led groups, so it sent at least a handover after saying so.
        assertThat(nodes.values().stream().map(n -> ((RaftGroupsImpl) n).transport().lastHeard(victim))
                .anyMatch(h -> h.isPresent() && h.get().drained()))
                .as("a survivor heard the closing %s say it is drained", victim).isTrue();

        awaitLeaders(groups);
        for (String g : moved) {
            String now = awaitLeader(g);
            assertThat(now).isNotEqualTo(victim);
            assertThat(nodes.get(now).group(g).orElseThrow().status().term()).isGreaterThan(terms.get(g));
        }
        assertThat(violations).isEmpty();
    }

    /**
     * A group created on a running node starts while the node's registry of groups is locked, and
     * a start can take long (a large log is read whole; here the application's metrics registry
     * blocks when the new group registers its meters). The node-wide heartbeat tick and the
     * balancer run on the shared timer thread, which also wakes every group at its deadline: they
     * must not wait for that lock. n1 leads every group; while its newGroup("slow") is held, its
     * heartbeats must go on being answered (with the tick waiting for the lock, they stopped at
     * once and the others elected new leaders).
     */
    @Test
    void aGroupThatStartsSlowlyDoesNotStopTheHeartbeatsOfTheOthers() throws Exception {
        ids("n1", "n2", "n3");
        RecordingMetrics recorded = new RecordingMetrics();
        java.util.concurrent.CountDownLatch entered = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        io.haraft.metrics.RaftMetrics blocking = new io.haraft.metrics.RaftMetrics() {
            @Override
            public Counter counter(io.haraft.metrics.MeterId id) {
                if ("slow".equals(id.tags().get("group"))) {
                    entered.countDown();
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                return recorded.counter(id);
            }

            @Override
            public Timer timer(io.haraft.metrics.MeterId id) {
                return recorded.timer(id);
            }

            @Override
            public Distribution distribution(io.haraft.metrics.MeterId id) {
                return recorded.distribution(id);
            }

            @Override
            public void gauge(io.haraft.metrics.MeterId id, java.util.function.DoubleSupplier value) {
                recorded.gauge(id, value);
            }

            @Override
            public void remove(io.haraft.metrics.MeterId id) {
                recorded.remove(id);
            }
        };
        RaftGroups n1 = builder("n1").listener(recorder("n1")).metrics(blocking).buildGroups();
        nodes.put("n1", n1);
        n1.start();
        n1.setBalancing(false);
        startGroupsNode("n2").setBalancing(false);
        startGroupsNode("n3").setBalancing(false);
        List<String> groups = names("h", 0, 3);
        groups.forEach(this::createEverywhere);
        awaitLeaders(groups);
        leadByHand("n1", groups);

        java.util.function.LongSupplier answered = () -> recorded.samples.entrySet().stream()
                .filter(e -> e.getKey().name().equals("haraft.heartbeat.rtt")).mapToLong(e -> e.getValue().size()).sum();
        Thread creator = new Thread(() -> n1.newGroup("slow"), "creator");
        creator.setDaemon(true);
        creator.start();
        try {
            assertThat(entered.await(WAIT.toSeconds(), TimeUnit.SECONDS)).as("newGroup(\"slow\") registers its meters")
                    .isTrue();
            long before = answered.getAsLong();
            Await.until(WAIT, () -> answered.getAsLong() >= before + 60,
                    "n1's heartbeats answered 60 more times while newGroup(\"slow\") is held");
            assertThat(creator.isAlive()).as("newGroup(\"slow\") still held").isTrue();
        } finally {
            release.countDown();
        }
        creator.join(WAIT.toMillis());
        assertThat(creator.isAlive()).isFalse();
        assertThat(n1.group("slow")).isPresent();
    }

    @Test
    void groupsOfAKilledNodeMoveToTheSurvivorsAndItRejoinsFromItsData() {
        ids("n1", "n2", "n3");
        for (String id : ports.keySet()) {
            startGroupsNode(id);
        }
        List<String> groups = names("k", 0, 12);
        groups.forEach(this::createEverywhere);
        awaitLeaders(groups);
        // kill a node that leads at least one group (which ones: by its own handles, now)
        String victim = awaitLeader(groups.get(0));
        List<String> moved = new ArrayList<>();
        Map<String, Long> terms = new HashMap<>();
        Await.until(WAIT, () -> {
            moved.clear();
            for (String g : groups) {
                RaftNode h = nodes.get(victim).group(g).orElseThrow();
                if (h.isLeader()) {
                    moved.add(g);
                    terms.put(g, h.status().term());
                }
            }
            return !moved.isEmpty();
        }, victim + " leads a group");
        RaftGroupsImpl dead = (RaftGroupsImpl) nodes.remove(victim);
        dead.crashForTest();

        awaitLeaders(groups);
        for (String g : moved) {
            String now = awaitLeader(g);
            assertThat(now).isNotEqualTo(victim);
            assertThat(nodes.get(now).group(g).orElseThrow().status().term()).isGreaterThan(terms.get(g));
        }

        // restarted on the same data directory and port: every group continues from its files
        RaftGroups back = startGroupsNode(victim);
        groups.forEach(back::newGroup);
        for (String g : groups) {
            assertThat(back.group(g).orElseThrow().status().term()).isGreaterThanOrEqualTo(terms.getOrDefault(g, 1L));
        }
        Await.until(WAIT, () -> groups.stream().allMatch(g -> leaderOf(g).isPresent()
                        && back.group(g).orElseThrow().status().leaderId().isPresent()),
                "every group has a leader that the restarted node knows");
        assertThat(violations).isEmpty();
    }

    @Test
    void groupsComeAndGoWhileTheNodesRun() throws Exception {
        ids("n1", "n2", "n3");
        for (String id : ports.keySet()) {
            startGroupsNode(id);
        }
        createEverywhere("keep");
        createEverywhere("gone");
        awaitLeaders(List.of("keep", "gone"));

        // created later, on running nodes: elects too
        createEverywhere("late");
        awaitLeaders(List.of("late"));

        // remove keeps the data: hosted again, the group continues from its term
        RaftGroups n1 = nodes.get("n1");
        long termBefore = n1.group("keep").orElseThrow().status().term();
        assertThat(n1.remove("keep")).isTrue();
        assertThat(n1.groupNames()).doesNotContain("keep");
        assertThat(n1.group("keep")).isEmpty();
        assertThat(n1.remove("keep")).isFalse();
        Path keepDir = n1.config().dataDir().resolve("groups").resolve("keep");
        assertThat(keepDir).isDirectory();
        RaftNode again = n1.newGroup("keep");
        assertThat(again.status().term()).isGreaterThanOrEqualTo(termBefore);
        awaitLeaders(List.of("keep"));

        // removeAndDeleteData: gone from every node, its directories too; the others go on
        for (RaftGroups n : nodes.values()) {
            assertThat(n.removeAndDeleteData("gone")).isTrue();
            assertThat(n.config().dataDir().resolve("groups").resolve("gone")).doesNotExist();
        }
        assertThat(n1.removeAndDeleteData("gone")).isFalse();
        assertThat(submitToLeader("late", new byte[] {1})).isPositive();

        // a handle's close() is remove()
        nodes.get("n2").group("late").orElseThrow().close();
        assertThat(nodes.get("n2").groupNames()).containsExactly("keep");
        assertThat(violations).isEmpty();
    }

    @Test
    void theDefaultGroupTalksToASingleGroupNodeAndUnknownGroupsAreDroppedHarmlessly() {
        ids("n1", "n2", "n3");
        startGroupsNode("n1");
        startGroupsNode("n2");
        // n3 is an ordinary single-group node: it sends and expects messages without a group name
        AtomicReference<GrpcTransport> n3Transport = new AtomicReference<>();
        RaftNode n3 = new RaftNodeProvider(cfg -> {
            GrpcTransport t = GrpcTransport.create(GrpcTransportConfig.from(cfg));
            n3Transport.set(t);
            return t;
        }, null, MonotonicClock.system()).create(builder("n3").config().prepareDataDir(),
                recorder("n3"), new CountingStateMachine());
        others.add(n3);
        n3.start();
        for (String id : List.of("n1", "n2")) {
            nodes.get(id).newGroup(GroupNames.DEFAULT);
            nodes.get(id).newGroup("other");
        }

        // the default group elects across both kinds of nodes; hand it to n3 to prove both directions
        Await.until(WAIT, () -> leaderOf(GroupNames.DEFAULT).isPresent() || n3.isLeader(), "a default-group leader");
        moveLeadershipTo(GroupNames.DEFAULT, "n3", n3);
        AtomicReference<Long> committed = new AtomicReference<>();
        Await.until(WAIT, () -> {
            try {
                Leadership l = n3.awaitLeadership().get(10, TimeUnit.SECONDS);
                assertThat(l.group()).isEqualTo(GroupNames.DEFAULT);
                committed.set(n3.submit(new byte[] {7}).get(10, TimeUnit.SECONDS).index());
                return true;
            } catch (Exception e) {
                moveLeadershipTo(GroupNames.DEFAULT, "n3", n3);   // lost it meanwhile: again
                return false;
            }
        }, "a command committed with n3 leading the default group");
        assertThat(committed.get()).isPositive();

        // "other" is hosted on n1 and n2 only: n3 drops its messages, and it elects with 2 of 3
        awaitLeaders(List.of("other"));
        Await.until(WAIT, () -> n3Transport.get().unknownGroupMessages() > 0, "n3 dropped messages of group 'other'");
        assertThat(n3.status().isRunning()).isTrue();

        // the default group's data carries the identity every connection is checked against: a
        // running node refuses to delete it (a new default group could commit another identity),
        // and keeps hosting the group and its data
        RaftGroups n1 = nodes.get("n1");
        Path defaultDir = n1.config().dataDir().resolve("groups").resolve(GroupNames.DEFAULT);
        assertThatThrownBy(() -> n1.removeAndDeleteData(GroupNames.DEFAULT))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("cluster identity").hasMessageContaining("once close() has returned");
        assertThat(n1.groupNames()).contains(GroupNames.DEFAULT);
        assertThat(defaultDir).isDirectory();
        assertThat(violations).isEmpty();
    }

    /**
     * Fifty idle groups on three nodes: each node writes about one frame per peer and heartbeat
     * interval for its groups' heartbeats and one for its answers, not one per group (which was
     * about fifty per peer and interval: every group's heartbeat or answer in a frame of its own).
     */
    @Test
    void fiftyIdleGroupsCostAFewFramesPerPeerAndHeartbeatInterval() {
        threeNodesWithLedGroups(50);
        Map<String, Long> frames = new HashMap<>();
        Map<String, Long> messages = new HashMap<>();
        nodes.forEach((id, n) -> {
            GrpcTransport t = ((RaftGroupsImpl) n).transport();
            frames.put(id, t.framesSent());
            messages.put(id, t.stats().messagesSent());
        });
        long start = System.nanoTime();
        long intervals = 30;
        Await.until(WAIT, () -> System.nanoTime() - start >= intervals * HEARTBEAT.toNanos(),
                intervals + " heartbeat intervals");
        double elapsedIntervals = (double) (System.nanoTime() - start) / HEARTBEAT.toNanos();
        nodes.forEach((id, n) -> {
            GrpcTransport t = ((RaftGroupsImpl) n).transport();
            long f = t.framesSent() - frames.get(id);
            long m = t.stats().messagesSent() - messages.get(id);
            double perPeerAndInterval = f / 2.0 / elapsedIntervals;
            // about 2.2 (one heartbeat batch, one batch of answers, per tick of 0.9 intervals); a
            // loaded machine adds an election or a straggler now and then: far below 50 all the same
            assertThat(perPeerAndInterval).as("frames per peer and heartbeat interval written by %s (%d frames,"
                    + " %d messages over %.1f intervals)", id, f, m, elapsedIntervals).isLessThan(10.0);
            assertThat(m).as("messages written by %s", id).isGreaterThan(5 * f);
        });
    }

    @Test
    void aNodeDropsMessagesOfAGroupItDoesNotHostAndItsOtherGroupsGoOn() {
        ids("n1", "n2", "n3");
        for (String id : ports.keySet()) {
            startGroupsNode(id);
        }
        createEverywhere("a");
        createEverywhere("b");
        nodes.get("n2").newGroup("c");
        nodes.get("n3").newGroup("c");
        awaitLeaders(List.of("a", "b", "c"));
        RaftGroupsImpl n1 = (RaftGroupsImpl) nodes.get("n1");
        Await.until(WAIT, () -> n1.transport().unknownGroupMessages() > 0, "n1 dropped messages of group 'c'");
        assertThat(n1.groupNames()).containsExactly("a", "b");
        // n1's groups still work: make it lead "a" and commit there
        RaftNode a1 = n1.group("a").orElseThrow();
        moveLeadershipTo("a", "n1", a1);
        assertThat(submitToLeader("a", new byte[] {1})).isPositive();
    }

    @Test
    void namesOptionsAndRefusedOperations() {
        ids("n1", "n2", "n3");
        RaftGroups n1 = builder("n1").buildGroups();
        nodes.put("n1", n1);
        // groups may be created before start; nothing runs until then
        CountingStateMachine sm = new CountingStateMachine();
        RaftNode g = n1.newGroup("orders-7", GroupOptions.defaults().withStateMachine(sm));
        assertThatThrownBy(() -> n1.newGroup("orders-7")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("hosted already");
        assertThatThrownBy(() -> n1.newGroup("Orders")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("Invalid group name 'Orders'");
        assertThatThrownBy(() -> n1.newGroup("../x")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(g::start).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("started by its RaftGroups");
        assertThatThrownBy(() -> g.addLearner("n4", "127.0.0.1:1")).isInstanceOf(UnsupportedOperationException.class)
                .hasMessageContaining("not supported on group 'orders-7' yet");
        assertThatThrownBy(() -> g.removeMember("n3")).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> builder("n2").stateMachine(new CountingStateMachine()).buildGroups())
                .isInstanceOf(RaftConfigException.class).hasMessageContaining("state machine");
        n1.close();
        assertThatThrownBy(() -> n1.newGroup("late")).isInstanceOf(IllegalStateException.class);
        assertThat(n1.groupNames()).isEmpty();
        assertThat(Files.exists(root.resolve("n1").resolve("groups").resolve("orders-7"))).isFalse();
    }

    /**
     * How many of {@code groups} each running node leads now, by its own handles, or empty while
     * some group has no leader or two nodes both think they lead one (a moment in a handover).
     */
    private Optional<Map<String, Integer>> ledCounts(List<String> groups) {
        Map<String, Integer> counts = new LinkedHashMap<>();
        nodes.keySet().forEach(id -> counts.put(id, 0));
        for (String g : groups) {
            Optional<String> l = leaderOf(g);
            if (l.isEmpty()) {
                return Optional.empty();
            }
            counts.merge(l.get(), 1, Integer::sum);
        }
        return Optional.of(counts);
    }

    /** Waits until every group has one leader and the nodes lead exactly {@code expected}; the failure shows the last counts seen. */
    private void awaitLedCounts(List<String> groups, Map<String, Integer> expected, String when) {
        AtomicReference<Object> seen = new AtomicReference<>("no moment with one leader in every group");
        Await.until(WAIT, () -> {
            Optional<Map<String, Integer>> c = ledCounts(groups);
            c.ifPresent(seen::set);
            return c.isPresent() && c.get().equals(expected);
        }, () -> when + ": leaders per node " + expected + "; last seen " + seen.get()
                + "; balancing " + balancingStates() + "; elections " + electionsOf(groups));
    }

    private Map<String, Boolean> balancingStates() {
        Map<String, Boolean> out = new LinkedHashMap<>();
        nodes.forEach((id, n) -> out.put(id, n.isBalancing() && !n.isDrained()));
        return out;
    }

    /** Who was elected in which group and term, in the order the listeners heard it. */
    private List<String> electionsOf(List<String> groups) {
        return elections.stream().filter(l -> groups.contains(l.group()))
                .map(l -> l.group() + "@" + l.term() + ":" + l.nodeId()).toList();
    }

    /** Nodes n1, n2 and n3 with groups {@code prefix0..11}, once they lead four each (the balancer is on). */
    private List<String> twelveGroupsBalancedOnThreeNodes(String prefix) {
        ids("n1", "n2", "n3");
        for (String id : ports.keySet()) {
            startGroupsNode(id);
        }
        List<String> groups = names(prefix, 0, 12);
        groups.forEach(this::createEverywhere);
        awaitLedCounts(groups, Map.of("n1", 4, "n2", 4, "n3", 4), "three nodes up");
        return groups;
    }

    /** Nodes n1, n2 and n3, started, none of them balancing. */
    private void startThreeNodesBalancingOff() {
        ids("n1", "n2", "n3");
        for (String id : ports.keySet()) {
            startGroupsNode(id).setBalancing(false);
        }
    }

    /** Makes node {@code id} lead every one of {@code groups} by transfers by hand. */
    private void leadByHand(String id, List<String> groups) {
        for (String g : groups) {
            moveLeadershipTo(g, id, nodes.get(id).group(g).orElseThrow());
        }
    }

    @Test
    void theBalancerSpreadsTwelveGroupsThatOneNodeLedOverThreeNodes() {
        startThreeNodesBalancingOff();
        List<String> groups = names("bal", 0, 12);
        groups.forEach(this::createEverywhere);
        awaitLeaders(groups);
        // By hand, with balancing off everywhere: n1 leads all twelve.
        leadByHand("n1", groups);
        awaitLedCounts(groups, Map.of("n1", 12, "n2", 0, "n3", 0), "all moved to n1 by hand, balancing off");
        // n1's terms now: every election since is later than these
        Map<String, Long> termsOnN1 = new HashMap<>();
        groups.forEach(g -> termsOnN1.put(g, nodes.get("n1").group(g).orElseThrow().status().term()));

        nodes.values().forEach(n -> n.setBalancing(true));
        awaitLedCounts(groups, Map.of("n1", 4, "n2", 4, "n3", 4), "balancing on");
        // The moves were elections of n2 and n3 in later terms: each of their listeners hears
        // elected() in at least four groups in a term after n1's (a moment after the handles lead,
        // so wait for them).
        for (String id : List.of("n2", "n3")) {
            Await.until(WAIT, () -> elections.stream().filter(l -> l.nodeId().equals(id)
                            && l.term() > termsOnN1.get(l.group())).map(Leadership::group).distinct().count() >= 4,
                    () -> id + " elected in 4 groups after n1 led them all (n1's terms " + termsOnN1 + "): "
                            + electionsOf(groups));
        }
        assertThat(violations).isEmpty();
    }

    @Test
    void theBalancerHandsAGroupOnlyToAMemberThatHostsIt() {
        startThreeNodesBalancingOff();
        // six groups on n1 and n2 only; n3 hosts "y" with them, so n1 hears from n3 and n3 leads none of the six
        List<String> groups = names("two", 0, 6);
        for (String g : groups) {
            nodes.get("n1").newGroup(g);
            nodes.get("n2").newGroup(g);
        }
        createEverywhere("y");
        awaitLeaders(groups);
        awaitLeaders(List.of("y"));
        leadByHand("n1", groups);
        awaitLedCounts(groups, Map.of("n1", 6, "n2", 0, "n3", 0), "all six moved to n1 by hand, balancing off");

        nodes.values().forEach(n -> n.setBalancing(true));
        awaitLedCounts(groups, Map.of("n1", 3, "n2", 3, "n3", 0), "balancing on; n3 hosts none of the six");
        assertThat(violations).isEmpty();
    }

    @Test
    void afterANodeDiesTheSurvivorsShareItsGroupsAndItGetsItsShareBackWhenItReturns() {
        List<String> groups = twelveGroupsBalancedOnThreeNodes("ret");

        RaftGroupsImpl dead = (RaftGroupsImpl) nodes.remove("n3");
        dead.crashForTest();
        awaitLedCounts(groups, Map.of("n1", 6, "n2", 6), "n3 killed");

        RaftGroups back = startGroupsNode("n3");
        groups.forEach(back::newGroup);
        awaitLedCounts(groups, Map.of("n1", 4, "n2", 4, "n3", 4), "n3 restarted on its data");
        assertThat(violations).isEmpty();
    }

    @Test
    void aDrainedNodeHandsItsGroupsToTheOthersAndGetsItsShareBackWhenUndrained() {
        List<String> groups = twelveGroupsBalancedOnThreeNodes("dr");

        RaftGroups n2 = nodes.get("n2");
        assertThat(n2.isDrained()).isFalse();
        n2.drain();
        assertThat(n2.isDrained()).isTrue();
        assertThat(n2.isBalancing()).isTrue();
        awaitLedCounts(groups, Map.of("n1", 6, "n2", 0, "n3", 6), "n2 drained");

        n2.undrain();
        assertThat(n2.isDrained()).isFalse();
        awaitLedCounts(groups, Map.of("n1", 4, "n2", 4, "n3", 4), "n2 undrained");
        assertThat(violations).isEmpty();
    }

    /**
     * Drains n1 until it leads none of twelve groups (n2 and n3 lead six each) and n1 and n3 have
     * caught up in every group (so n3 can win each), then stops n2 with {@code stop}: n3 must take
     * over all twelve, and n1's listener must hear no {@code elected} from then on in any group.
     */
    private void drainedN1IsNotElectedWhenN2Stops(String prefix, java.util.function.Consumer<RaftGroupsImpl> stop) {
        List<String> groups = twelveGroupsBalancedOnThreeNodes(prefix);
        nodes.get("n1").drain();
        awaitLedCounts(groups, Map.of("n1", 0, "n2", 6, "n3", 6), "n1 drained");
        for (String g : groups) {
            Await.until(WAIT, () -> nodes.values().stream()
                            .map(n -> n.group(g).orElseThrow().status().commitIndex()).distinct().count() == 1,
                    "the three nodes know one commit index in group " + g);
        }
        int mark = elections.size();
        stop.accept((RaftGroupsImpl) nodes.remove("n2"));
        awaitLedCounts(groups, Map.of("n1", 0, "n3", 12), "n2 stopped, n1 drained");
        // the listeners hear elected() a moment after the handles lead: wait for n3's six
        Await.until(WAIT, () -> electionsSince(mark).stream().filter(e -> e.endsWith(":n3")).count() >= 6,
                () -> "n3's listener elected in n2's six groups: " + electionsSince(mark));
        assertThat(electionsSince(mark)).as("elections after n2 stopped").noneMatch(e -> e.endsWith(":n1"));
        assertThat(violations).isEmpty();
    }

    private List<String> electionsSince(int mark) {
        return elections.subList(mark, elections.size()).stream()
                .map(l -> l.group() + "@" + l.term() + ":" + l.nodeId()).toList();
    }

    /**
     * A drained node defers its candidacy: when the node leading groups is killed (its connection
     * refused: the survivors take turns), the undrained survivor wins every one of its groups.
     */
    @Test
    void aDrainedNodeIsNotElectedWhenTheLeaderOfItsGroupsIsKilled() {
        drainedN1IsNotElectedWhenN2Stops("dk", RaftGroupsImpl::crashForTest);
    }

    /** A node closing gracefully hands each group it leads to a member that is not drained. */
    @Test
    void aClosingLeaderHandsItsGroupsToTheMemberThatIsNotDrained() {
        drainedN1IsNotElectedWhenN2Stops("dc", RaftGroupsImpl::close);
    }

    /**
     * A drain survives a restart: n1, drained and closed, is started again on its data directory
     * with its groups created before start. It is drained from its start, every message the others
     * hear from it since says so, it leads none of the twelve groups while n2 and n3 run, and when
     * n3 is killed n2 takes n3's groups although n1 would take its turn first if it did not defer
     * its candidacy (turns go by id). Undrained, it gets its share back.
     */
    @Test
    void aDrainedNodeStaysDrainedAcrossARestartUntilUndrained() {
        List<String> groups = twelveGroupsBalancedOnThreeNodes("rs");
        nodes.get("n1").drain();
        awaitLedCounts(groups, Map.of("n1", 0, "n2", 6, "n3", 6), "n1 drained");
        nodes.remove("n1").close();

        int restartMark = elections.size();
        long restartedAt = System.nanoTime();
        RaftGroups n1 = builder("n1").listener(recorder("n1")).buildGroups();
        nodes.put("n1", n1);
        groups.forEach(n1::newGroup);   // before start: each group must defer its candidacy from its start
        n1.start();
        assertThat(n1.isDrained()).as("right after start").isTrue();
        for (String peer : List.of("n2", "n3")) {
            GrpcTransport t = ((RaftGroupsImpl) nodes.get(peer)).transport();
            AtomicReference<GrpcTransport.PeerSignal> heard = new AtomicReference<>();
            Await.until(WAIT, () -> {
                long now = System.nanoTime();
                t.lastHeard("n1").filter(h -> h.silence().toNanos() < now - restartedAt).ifPresent(heard::set);
                return heard.get() != null;
            }, peer + " hears n1 after its restart");
            assertThat(heard.get().drained()).as(peer + ": n1's first messages after its restart say drained").isTrue();
        }
        for (String g : groups) {
            Await.until(WAIT, () -> nodes.values().stream()
                            .map(n -> n.group(g).orElseThrow().status().commitIndex()).distinct().count() == 1
                            && n1.group(g).orElseThrow().status().leaderId().isPresent(),
                    "the restarted n1 knows the leader of group " + g + " and has caught up");
        }
        awaitLedCounts(groups, Map.of("n1", 0, "n2", 6, "n3", 6), "n1 restarted drained");
        assertThat(electionsSince(restartMark)).as("elections since n1 restarted").noneMatch(e -> e.endsWith(":n1"));

        int killMark = elections.size();
        ((RaftGroupsImpl) nodes.remove("n3")).crashForTest();
        awaitLedCounts(groups, Map.of("n1", 0, "n2", 12), "n3 killed, n1 restarted drained");
        Await.until(WAIT, () -> electionsSince(killMark).stream().filter(e -> e.endsWith(":n2")).count() >= 6,
                () -> "n2's listener elected in n3's six groups: " + electionsSince(killMark));
        assertThat(electionsSince(restartMark)).as("elections since n1 restarted").noneMatch(e -> e.endsWith(":n1"));

        int undrainMark = elections.size();
        n1.undrain();
        assertThat(n1.isDrained()).isFalse();
        awaitLedCounts(groups, Map.of("n1", 6, "n2", 6), "n1 undrained");
        Await.until(WAIT, () -> electionsSince(undrainMark).stream().filter(e -> e.endsWith(":n1")).count() >= 6,
                () -> "n1's listener elected in six groups after undrain: " + electionsSince(undrainMark));
        assertThat(violations).isEmpty();
    }

    @Test
    void groupsWithAPreferredLeaderGoToItAndComeBackToItAfterItReturns() {
        startThreeGroupsNodes();
        List<String> preferring = names("pref", 0, 2);
        List<String> free = names("free", 0, 4);
        for (RaftGroups n : nodes.values()) {
            preferring.forEach(g -> n.newGroup(g, GroupOptions.defaults().withPreferredLeader("n3")));
            free.forEach(n::newGroup);
        }
        List<String> all = new ArrayList<>(preferring);
        all.addAll(free);
        awaitPreferredOnN3(preferring, "three nodes up");
        awaitLedCounts(all, Map.of("n1", 2, "n2", 2, "n3", 2), "three nodes up: n3 leads its two, the others two each");

        RaftGroupsImpl dead = (RaftGroupsImpl) nodes.remove("n3");
        dead.crashForTest();
        awaitLedCounts(all, Map.of("n1", 3, "n2", 3), "n3 killed: its groups led by the survivors");

        RaftGroups back = startGroupsNode("n3");
        preferring.forEach(g -> back.newGroup(g, GroupOptions.defaults().withPreferredLeader("n3")));
        free.forEach(back::newGroup);
        awaitPreferredOnN3(preferring, "n3 restarted on its data");
        awaitLedCounts(all, Map.of("n1", 2, "n2", 2, "n3", 2), "n3 restarted on its data");

        back.drain();
        awaitLedCounts(all, Map.of("n1", 3, "n2", 3, "n3", 0), "n3 drained: a preference does not hold a drained node");
        assertThat(violations).isEmpty();
        assertThatThrownBy(() -> back.newGroup("x", GroupOptions.defaults().withPreferredLeader("n9")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("preferred leader 'n9' is not a member that can lead");
    }

    @Test
    void everyGroupReportsItsMetersTaggedWithItsName() {
        ids("n1", "n2", "n3");
        RecordingMetrics metrics = new RecordingMetrics();
        RaftGroups n1 = builder("n1").listener(recorder("n1")).metrics(metrics).buildGroups();
        nodes.put("n1", n1);
        n1.start();
        startGroupsNode("n2");
        startGroupsNode("n3");
        List<String> groups = names("m", 0, 3);
        groups.forEach(this::createEverywhere);
        awaitLeaders(groups);
        for (String g : groups) {
            // Each group of n1 registered its leader gauge, tagged with the group, and it says what the handle says.
            Await.until(WAIT, () -> {
                Optional<io.haraft.metrics.MeterId> id = metrics.gauges.keySet().stream()
                        .filter(m -> m.name().equals("haraft.leader") && g.equals(m.tags().get("group"))).findFirst();
                return id.isPresent() && metrics.gauges.get(id.get()).getAsDouble()
                        == (n1.group(g).orElseThrow().isLeader() ? 1.0 : 0.0);
            }, "n1's haraft.leader gauge of group " + g + " agrees with its handle");
        }
        assertThat(metrics.gauges.keySet()).allSatisfy(id -> {
            assertThat(id.tags()).containsEntry("node", "n1").containsEntry("cluster", "groups");
            assertThat(groups).contains(id.tags().get("group"));
        });
        nodes.remove("n1").close();
        assertThat(metrics.removed).as("a closed node removes every group's meters")
                .anySatisfy(id -> assertThat(id.tags()).containsEntry("group", "m0"))
                .anySatisfy(id -> assertThat(id.tags()).containsEntry("group", "m2"));
    }

    private void awaitPreferredOnN3(List<String> groups, String when) {
        Await.until(WAIT, () -> groups.stream().allMatch(g -> leaderOf(g).filter("n3"::equals).isPresent()),
                () -> when + ": n3 leads " + groups + "; elections " + electionsOf(groups));
    }

    /** A state machine that counts applied commands; its snapshot is the count. */
    static final class CountingStateMachine implements io.haraft.StateMachine {
        private volatile long count;

        @Override
        public byte[] apply(io.haraft.Committed entry) {
            count++;
            return new byte[0];
        }

        @Override
        public void snapshot(java.io.OutputStream out) throws java.io.IOException {
            new java.io.DataOutputStream(out).writeLong(count);
        }

        @Override
        public void restore(java.io.InputStream in) throws java.io.IOException {
            count = new java.io.DataInputStream(in).readLong();
        }
    }
}
