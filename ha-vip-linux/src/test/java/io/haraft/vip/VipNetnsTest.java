package io.haraft.vip;

import io.haraft.RevokeReason;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The VIP holder with real {@code ip} and {@code arping} commands, inside a LAN of network
 * namespaces that each test builds and removes ({@link NetnsLan}). Skipped when not root; failed
 * when CI=true and a prerequisite is missing.
 */
class VipNetnsTest {

    private static final String VIP = "192.0.2.50";
    private static final Duration WAIT = Duration.ofSeconds(15);

    private NetnsLan lan;
    private final List<VipHolder> holders = new ArrayList<>();
    private final ScheduledExecutorService heartbeats = Executors.newScheduledThreadPool(1);

    @BeforeEach
    void lan() {
        NetnsLan.requirePrerequisites();
        lan = new NetnsLan(2);
    }

    @AfterEach
    void cleanUp() {
        heartbeats.shutdownNow();
        holders.forEach(VipHolder::close);
        if (lan != null) {
            lan.close();
        }
    }

    private VipHolder holder(String ns, VipConfig.Builder config) {
        VipHolder h = VipHolder.create(config.build(), NetnsLan.in(ns));
        holders.add(h);
        return h;
    }

    private static VipConfig.Builder config() {
        return VipConfig.builder(VIP + "/24", "eth0").ipCommand(Path.of(NetnsLan.IP))
                .arpingCommand(Path.of("/usr/bin/arping"));
    }

    /** A leadership whose lease a heartbeat task renews every 100 ms until the returned future is cancelled. */
    private ScheduledFuture<?> renew(FakeLeadership l, Duration lease) {
        return heartbeats.scheduleAtFixedRate(() -> l.renew(lease), 100, 100, TimeUnit.MILLISECONDS);
    }

    private void awaitPing(String what) {
        long t0 = System.nanoTime();
        Await.until(WAIT, () -> lan.clientPings(VIP), () -> what);
        System.out.printf("%s: client ping answered after %d ms%n", what, (System.nanoTime() - t0) / 1_000_000);
    }

    @Test
    void electedAddsTheVipWhichAnswersPingAndRevokedRemovesIt() {
        String n1 = lan.nodes.get(0);
        VipHolder h = holder(n1, config());
        h.start();
        FakeLeadership l = new FakeLeadership(1, Duration.ofSeconds(60));

        h.elected(l);

        assertThat(NetnsLan.has(n1, VIP)).as("VIP on %s after elected", n1).isTrue();
        assertThat(h.status().holding()).isTrue();
        awaitPing("after elected");

        h.revoked(l, RevokeReason.STEPPED_DOWN);

        assertThat(NetnsLan.has(n1, VIP)).as("VIP on %s after revoked", n1).isFalse();
        assertThat(lan.clientPings(VIP)).as("the VIP still answers ping after revoked").isFalse();
        assertThat(h.status().lastError()).isEmpty();
    }

    @Test
    void startRemovesAVipLeftOnThisHost() {
        String n1 = lan.nodes.get(0);
        NetnsLan.sh(NetnsLan.IP, "-n", n1, "addr", "add", VIP + "/24", "dev", "eth0");
        VipHolder h = holder(n1, config());
        h.start();
        assertThat(NetnsLan.has(n1, VIP)).isFalse();
        assertThat(h.status().lastReleaseReason()).hasValueSatisfying(r -> assertThat(r).contains("start-up"));
    }

    @Test
    void startFailsForAMissingInterface() {
        VipHolder h = holder(lan.nodes.get(0), VipConfig.builder(VIP + "/24", "nosuch0").ipCommand(Path.of(NetnsLan.IP))
                .arpingCommand(Path.of("/usr/bin/arping")));
        assertThatThrownBy(h::start).isInstanceOf(VipSetupException.class)
                .hasMessageContaining("interface nosuch0 does not exist");
    }

    /**
     * The lease stops being renewed and no {@code revoked} comes (a Raft loop that is stuck, or a
     * partition): with the default release margin the holder's own watchdog removes the VIP, and
     * {@code ip addr del} has finished before the lease ends. The VIP is IPv6 here.
     */
    @Test
    void theWatchdogReleasesWithTheDefaultMarginBeforeTheLeaseEndsWhenRenewalsStop() {
        String n1 = lan.nodes.get(0);
        AtomicReference<FakeLeadership> leadership = new AtomicReference<>();
        AtomicReference<Long> leftWhenDelStarted = new AtomicReference<>();
        AtomicReference<Long> leftWhenDeleted = new AtomicReference<>();
        Commands inN1 = NetnsLan.in(n1);
        Commands recording = new Commands() {
            @Override
            public Result run(List<String> argv, Duration timeout) {
                return inN1.run(argv, timeout);
            }

            @Override
            public Standby standby(List<String> ip, List<String> command) {
                Standby prepared = inN1.standby(ip, command); // the release's ip addr del, started ahead
                return new Standby() {
                    @Override
                    public Result run(Duration timeout) {
                        FakeLeadership l = leadership.get();
                        long before = l.nanosLeft();
                        Result r = prepared.run(timeout);
                        if (r.ok()) {
                            leftWhenDelStarted.set(before);
                            leftWhenDeleted.set(l.nanosLeft()); // taken when ip addr del has finished
                        }
                        return r;
                    }

                    @Override
                    public void cancel() {
                        prepared.cancel();
                    }
                };
            }
        };
        VipConfig config = VipConfig.builder("2001:db8::50/64", "eth0").ipCommand(Path.of(NetnsLan.IP)).build();
        assertThat(config.releaseMargin()).isEqualTo(Duration.ofMillis(VipConfig.DEFAULT_RELEASE_MARGIN_MS));
        VipHolder h = VipHolder.create(config, recording);
        holders.add(h);
        h.start();
        // a second of lease: time for the holder to start the release's ip process after the takeover
        FakeLeadership l = new FakeLeadership(1, Duration.ofSeconds(1));
        leadership.set(l);
        h.elected(l);
        assertThat(NetnsLan.has(n1, "2001:db8::50")).isTrue();
        Await.until(WAIT, () -> leftWhenDeleted.get() != null, () -> "IPv6 VIP never removed from " + n1);
        System.out.printf("watchdog: ip addr del started %.1f ms and finished %.1f ms before the lease end%n",
                leftWhenDelStarted.get() / 1e6, leftWhenDeleted.get() / 1e6);
        assertThat(NetnsLan.has(n1, "2001:db8::50")).isFalse();
        assertThat(leftWhenDelStarted.get()).as("lease left when ip addr del started: not before the margin (ns)")
                .isLessThanOrEqualTo(config.releaseMargin().toNanos());
        assertThat(leftWhenDeleted.get()).as("lease left when ip addr del had finished (ns)").isPositive();
    }

    /**
     * An IPv6 VIP moves from n1 to n2, and the client's neighbour cache entry for it switches to
     * n2's MAC with no packet from the client in between: only the unsolicited neighbour
     * advertisement that the kernel sends when n2 adds the VIP can have told it.
     */
    @Test
    void anIpv6TakeoverAnnouncesItselfWithAnUnsolicitedNeighbourAdvertisement() {
        String n1 = lan.nodes.get(0);
        String n2 = lan.nodes.get(1);
        String vip6 = "2001:db8::50";
        NetnsLan.sh(NetnsLan.IP, "-n", lan.client, "addr", "add", "2001:db8::100/64", "dev", "eth0", "nodad");
        VipConfig.Builder v6 = VipConfig.builder(vip6 + "/64", "eth0").ipCommand(Path.of(NetnsLan.IP))
                .sysctlCommand(Path.of(NetnsLan.SYSCTL));
        VipHolder h1 = holder(n1, v6);
        VipHolder h2 = holder(n2, v6);
        h1.start();
        h2.start();
        assertThat(NetnsLan.sysctl(n2, "net.ipv6.conf.eth0.ndisc_notify")).as("set by start()").isEqualTo("1");
        assertThat(NetnsLan.sysctl(n2, "net.ipv6.conf.eth0.accept_dad")).as("set by start()").isEqualTo("0");

        FakeLeadership l1 = new FakeLeadership(1, Duration.ofSeconds(60));
        h1.elected(l1);
        Await.until(WAIT, () -> lan.clientPings6(vip6), () -> "the client cannot ping the IPv6 VIP on " + n1);
        assertThat(lan.clientNeighbour(vip6)).as("the client's entry after its ping")
                .contains("lladdr " + NetnsLan.mac(n1)).contains("REACHABLE");

        h1.revoked(l1, RevokeReason.STEPPED_DOWN);
        h2.elected(new FakeLeadership(2, Duration.ofSeconds(60)));

        Await.until(WAIT, () -> lan.clientNeighbour(vip6).contains("lladdr " + NetnsLan.mac(n2)),
                () -> "the client's neighbour entry for " + vip6 + " still says " + lan.clientNeighbour(vip6)
                        + "; n2 is " + NetnsLan.mac(n2));
        assertThat(h2.status().lastError()).isEmpty();
    }

    /**
     * Hands the VIP back and forth between two holders the way Raft would: the old leader's lease is
     * no longer renewed (a partition: no revoked callback at all), and the new leader is elected
     * only once that lease has ended. A sampler reads both namespaces every ~10 ms; no sample may
     * show the VIP on both.
     */
    @Test
    void twoHoldersHandingOverNeverBothShowTheVip() throws Exception {
        String n1 = lan.nodes.get(0);
        String n2 = lan.nodes.get(1);
        // the default release margin: it must cover one `ip addr del` started from this JVM
        VipHolder h1 = holder(n1, config().garpRepeatCount(0));
        VipHolder h2 = holder(n2, config().garpRepeatCount(0));
        h1.start();
        h2.start();

        AtomicInteger samples = new AtomicInteger();
        AtomicReference<String> dual = new AtomicReference<>();
        Thread sampler = new Thread(() -> {
            long next = System.nanoTime();
            boolean flip = false;
            try (AddrReader r1 = new AddrReader(n1, VIP); AddrReader r2 = new AddrReader(n2, VIP)) {
                while (!Thread.currentThread().isInterrupted() && dual.get() == null) {
                    AddrReader a = flip ? r2 : r1;
                    AddrReader b = flip ? r1 : r2;
                    flip = !flip;
                    // a, b, a: if a holds at both ends and b in the middle, a held it the whole time
                    // (a release and re-take by a needs a new leadership, far slower than one sample)
                    boolean a1 = a.holds();
                    boolean b1 = b.holds();
                    boolean a2 = a1 && b1 && a.holds();
                    samples.incrementAndGet();
                    if (a1 && b1 && a2) {
                        dual.set("sample " + samples.get() + ": VIP on both " + a.namespace() + " and "
                                + b.namespace());
                    }
                    next += 10_000_000;
                    LockSupport.parkNanos(next - System.nanoTime());
                }
            } catch (java.io.IOException e) {
                if (!Thread.currentThread().isInterrupted()) {
                    dual.set("sampler failed: " + e);
                }
            }
        }, "vip-sampler");
        sampler.setDaemon(true);
        sampler.start();
        try {
            Duration lease = Duration.ofMillis(400);
            VipHolder[] hs = {h1, h2};
            String[] ns = {n1, n2};
            for (int term = 1; term <= 4; term++) {
                int i = (term - 1) % 2;
                FakeLeadership l = new FakeLeadership(term, lease);
                ScheduledFuture<?> beats = renew(l, lease);
                long t0 = System.nanoTime();
                hs[i].elected(l);
                assertThat(NetnsLan.has(ns[i], VIP)).as("term %d: VIP on %s", term, ns[i]).isTrue();
                awaitPing("term " + term + " (" + ns[i] + ")");
                // partition the leader: its lease stops being renewed, no revoked() arrives
                beats.cancel(false);
                Await.until(WAIT, () -> l.nanosLeft() <= 0, () -> "lease never ended");
                assertThat(NetnsLan.has(ns[i], VIP)).as("term %d: VIP still on %s after its lease ended", term, ns[i])
                        .isFalse();
                hs[i].revoked(l, RevokeReason.LEASE_EXPIRED); // arrives later; must be a no-op
                System.out.printf("term %d on %s: held %d ms%n", term, ns[i], (System.nanoTime() - t0) / 1_000_000);
            }
        } finally {
            sampler.interrupt();
            sampler.join(5000);
        }
        System.out.printf("dual-holder check: %d samples%n", samples.get());
        assertThat(dual.get()).isNull();
        assertThat(samples.get()).as("samples taken").isGreaterThan(20);
        assertThat(h1.status().lastError()).isEmpty();
        assertThat(h2.status().lastError()).isEmpty();
    }

    /**
     * A leftover VIP (a node killed with kill -9 keeps its address) answers the duplicate probe; the
     * new holder fences it with a command (here: setting the old node's port down, as a power switch
     * would) and takes over.
     */
    @Test
    void aLeftoverVipIsFencedByTheFenceCommandBeforeTakeover() {
        String n1 = lan.nodes.get(0);
        String n2 = lan.nodes.get(1);
        NetnsLan.sh(NetnsLan.IP, "-n", n1, "addr", "add", VIP + "/24", "dev", "eth0"); // the dead node's leftover
        CommandFencer fence = CommandFencer.of(List.of(NetnsLan.IP, "-n", lan.bridge, "link", "set", "p1", "down"),
                Duration.ofSeconds(5));
        VipHolder h2 = holder(n2, config().duplicateProbe(true).fencer(fence));
        h2.start();

        h2.elected(new FakeLeadership(2, Duration.ofSeconds(60)));

        assertThat(NetnsLan.has(n2, VIP)).isTrue();
        assertThat(h2.status().lastError()).isEmpty();
        awaitPing("after fencing");
    }

    @Test
    void aFailingFenceCommandBlocksTheTakeover() {
        String n1 = lan.nodes.get(0);
        String n2 = lan.nodes.get(1);
        NetnsLan.sh(NetnsLan.IP, "-n", n1, "addr", "add", VIP + "/24", "dev", "eth0");
        VipHolder h2 = holder(n2, config().duplicateProbe(true)
                .fencer(CommandFencer.of(List.of("/bin/false"), Duration.ofSeconds(5))));
        h2.start();

        h2.elected(new FakeLeadership(2, Duration.ofSeconds(60)));

        assertThat(NetnsLan.has(n2, VIP)).isFalse();
        assertThat(h2.status().holding()).isFalse();
        assertThat(h2.status().lastError()).hasValueSatisfying(e -> assertThat(e).contains("fence command failed"));
    }
}
