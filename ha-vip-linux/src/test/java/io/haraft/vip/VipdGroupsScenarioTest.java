package io.haraft.vip;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Active-active {@code ha-vipd}: three real daemon processes ({@code java -jar ha-vipd.jar}), one per
 * node namespace of a {@link NetnsLan}, each configured with the same three VIPs, each VIP bound to
 * its own Raft group ({@code vip.GROUP.address}). A {@link VipSampler} reads the addresses of the
 * three namespaces in rounds started every 10 ms throughout, records where each VIP is, and fails
 * the test if any round (confirmed as {@link VipSampler} describes) shows two holders of one VIP.
 *
 * <p>The scenario: the three VIPs end on three different hosts; {@code kill -9} of one daemon moves
 * its VIP to a survivor (the killed process leaves its VIP on its interface, the one exception the
 * design allows, so that host is not counted until its restarted daemon has removed it); the
 * restarted daemon is given a VIP back by the balancer, one per host again; {@code ha-vipd admin
 * drain} on one host hands its VIP to the others, {@code status} shows it, a membership change is
 * refused (not supported with several VIPs yet), and {@code undrain} brings back one VIP per host. The
 * first VIP has a preferred host ({@code vip.web-1.preferred = n1}): it is on n1 after the start and
 * again after n1's {@code kill -9} and restart, and {@code status} shows the preference. Every step
 * waits on a condition with a generous deadline.
 *
 * <p>Runs in Maven's {@code integration-test} phase, after {@code ha-vipd.jar} is built (system
 * property {@code ha.vipd.jar}). Skipped when not root; with CI=true a missing prerequisite fails.
 */
class VipdGroupsScenarioTest {

    private static final List<String> GROUPS = List.of("web-1", "web-2", "web-3");
    private static final List<String> VIPS = List.of("192.0.2.51", "192.0.2.52", "192.0.2.53");
    private static final int PORT = 7001;
    /** web-1's VIP prefers n1 ({@code vip.web-1.preferred = n1}); the other two are placed by the balancer. */
    private static final int PREFERRED = 0;
    /** Bound for the first balanced state after the three JVMs start (JVM start, vote withholding, elections, handovers). */
    private static final Duration START = Duration.ofSeconds(45);
    /** How long one VIP per host must hold still to count as the end state of a step. */
    private static final Duration SETTLED = Duration.ofSeconds(1);
    /** Generous bound for the VIPs to move after a fault, a restart, drain or undrain. */
    private static final Duration FOLLOW = Duration.ofSeconds(25);

    @TempDir
    Path dir;

    private NetnsLan lan;
    private final Process[] daemons = new Process[3];
    private VipSampler sampler;

    @BeforeEach
    void setUp() throws Exception {
        NetnsLan.requirePrerequisites();
        VipdProcesses.jar();
        lan = new NetnsLan(3);
        sampler = new VipSampler(lan.nodes, VIPS);
        sampler.start();
        for (int i = 0; i < 3; i++) {
            start(i);
        }
    }

    @AfterEach
    void tearDown() throws Exception {
        if (sampler != null) {
            sampler.stop();
            System.out.println("---- where the VIPs " + VIPS + " were (time since the sampler started) ----");
            sampler.changes().forEach(System.out::println);
        }
        for (Process p : daemons) {
            if (p != null) {
                VipdProcesses.stop(p, true);
            }
        }
        if (lan != null) {
            lan.close();
            for (int i = 0; i < 3; i++) {
                VipdProcesses.printTransitions("ha-vipd n" + (i + 1), log(i));
            }
        }
    }

    @Test
    void threeVipsOnThreeHostsFollowKillRestartAndDrain() throws Exception {
        long t0 = System.nanoTime();
        awaitOneVipPerHost(START, "after the three daemons started");
        System.out.printf(Locale.ROOT, "MEASURED one VIP per host %.1f s after the daemons were started: %s%n",
                seconds(t0), sampler.holdersNow());
        int[] at = awaitFirstVipOnItsPreferredHost("after the three daemons started");

        // kill -9 of the host of the first VIP, its preferred host: the survivors take its VIP over
        int victim = at[0];
        sampler.exempt(victim); // a killed process keeps its VIP on its interface: the exception the design allows
        long killedAt = System.nanoTime();
        VipdProcesses.stop(daemons[victim], true);
        awaitEveryVipOnOneOf(survivors(victim), "after kill -9 of n" + (victim + 1));
        System.out.printf(Locale.ROOT, "MEASURED every VIP on a survivor %.1f s after kill -9 of n%d: %s%n",
                seconds(killedAt), victim + 1, sampler.holdersNow());

        // restart: once the daemon runs (its holders removed the leftover VIP before the node started),
        // its host counts again, and the balancer hands it one VIP back
        long logBefore = Files.size(log(victim));
        long restartedAt = System.nanoTime();
        start(victim);
        Await.until(START, () -> {
            failOnTwoHolders();
            return logSince(victim, logBefore).contains("running node n" + (victim + 1));
        }, () -> "the restarted daemon n" + (victim + 1) + " did not start: " + logSince(victim, logBefore));
        sampler.unexempt(victim);
        awaitOneVipPerHost(FOLLOW, "after n" + (victim + 1) + " restarted");
        System.out.printf(Locale.ROOT, "MEASURED one VIP per host again %.1f s after the restart of n%d: %s%n",
                seconds(restartedAt), victim + 1, sampler.holdersNow());
        awaitFirstVipOnItsPreferredHost("after its preferred host n" + (victim + 1) + " restarted");

        // drain hands every VIP of a host away; undrain gives it one back
        int drained = (victim + 1) % 3;
        VipdProcesses.Cli drain = VipdProcesses.admin(lan.nodes.get(drained), config(drained), "drain");
        System.out.println("---- ha-vipd admin drain on n" + (drained + 1) + ", exit " + drain.code() + ":\n"
                + drain.output());
        assertThat(drain.code()).as(drain.output()).isZero();
        assertThat(drain.output()).contains("is drained and leads no group");
        awaitEveryVipOnOneOf(survivors(drained), "after drain of n" + (drained + 1));
        VipdProcesses.Cli status = VipdProcesses.admin(lan.nodes.get(drained), config(drained), "status");
        System.out.println("---- ha-vipd admin status on n" + (drained + 1) + ", exit " + status.code() + ":\n"
                + status.output());
        assertThat(status.code()).as(status.output()).isZero();
        assertThat(status.output()).contains("DRAINED", "holds 0 of 3 VIPs");
        for (int v = 0; v < 3; v++) {
            assertThat(status.output()).containsPattern(GROUPS.get(v) + " +" + VIPS.get(v).replace(".", "\\.")
                    + "/24 +" + (v == 0 ? "n" + (PREFERRED + 1) : "-") + " +n[123] ");
        }
        VipdProcesses.Cli add = VipdProcesses.admin(lan.nodes.get(drained), config(drained), "add",
                "n4=" + NetnsLan.SUBNET_PREFIX + "4:" + PORT);
        assertThat(add.code()).as(add.output()).isEqualTo(1);
        assertThat(add.output()).contains("refused (NOT_SUPPORTED): 'add' is not supported yet for a daemon with"
                + " several VIPs");
        VipdProcesses.Cli undrain = VipdProcesses.admin(lan.nodes.get(drained), config(drained), "undrain");
        assertThat(undrain.code()).as(undrain.output()).isZero();
        int[] after = awaitOneVipPerHost(FOLLOW, "after undrain of n" + (drained + 1));
        int v = indexOf(after, drained);
        status = VipdProcesses.admin(lan.nodes.get(drained), config(drained), "status");
        System.out.println("---- ha-vipd admin status on n" + (drained + 1) + " after undrain, exit " + status.code()
                + ":\n" + status.output());
        assertThat(status.output()).contains("not drained");
        // the VIP may move again meanwhile (a lease lost under CPU load); what the host said must then
        // still have been true when it answered, which the sampler checks: here only its form
        assertThat(status.output()).containsPattern("holds [01] of 3 VIPs");
        System.out.printf(Locale.ROOT, "MEASURED scenario %.1f s in all; n%d holds %s after undrain%n", seconds(t0),
                drained + 1, VIPS.get(v));
        sampler.stopAndAssertNoTwoHolders("threeVipsOnThreeHostsFollowKillRestartAndDrain");
    }

    // ------------------------------------------------------------------ steps

    /**
     * Waits until every VIP has exactly one holder, the three holders are three different hosts, and
     * that has not changed for {@link #SETTLED} (so that a handover still under way is not taken for
     * the end state); returns the holder of each VIP.
     */
    private int[] awaitOneVipPerHost(Duration bound, String when) {
        int[] at = new int[VIPS.size()];
        int[] seen = new int[VIPS.size()];
        long[] since = {0};
        Await.until(bound, () -> {
            failOnTwoHolders();
            Set<Integer> hosts = new HashSet<>();
            for (int v = 0; v < VIPS.size(); v++) {
                at[v] = sampler.soleHolder(v);
                if (at[v] < 0 || !hosts.add(at[v])) {
                    since[0] = 0;
                    return false;
                }
            }
            long now = System.nanoTime();
            if (since[0] == 0 || !java.util.Arrays.equals(at, seen)) {
                System.arraycopy(at, 0, seen, 0, at.length);
                since[0] = now;
            }
            return now - since[0] >= SETTLED.toNanos();
        }, () -> when + ": the VIPs are not one per host for " + SETTLED.toMillis() + " ms; now "
                + sampler.holdersNow());
        return seen.clone();
    }

    /**
     * Waits until the first VIP is held by its preferred host and the VIPs are one per host (held
     * still for {@link #SETTLED}); returns the holder of each VIP.
     */
    private int[] awaitFirstVipOnItsPreferredHost(String when) {
        Await.until(FOLLOW, () -> {
            failOnTwoHolders();
            return sampler.soleHolder(0) == PREFERRED;
        }, () -> when + ": " + VIPS.get(0) + " is not on its preferred host n" + (PREFERRED + 1) + "; now "
                + sampler.holdersNow());
        int[] at = awaitOneVipPerHost(FOLLOW, when + ", with " + VIPS.get(0) + " on its preferred host");
        assertThat(at[0]).as(when + ": " + VIPS.get(0) + " left its preferred host; now " + sampler.holdersNow())
                .isEqualTo(PREFERRED);
        return at;
    }

    /** Waits until every VIP has exactly one holder among {@code hosts} (and none elsewhere, exempt hosts aside). */
    private void awaitEveryVipOnOneOf(List<Integer> hosts, String when) {
        Await.until(FOLLOW, () -> {
            failOnTwoHolders();
            for (int v = 0; v < VIPS.size(); v++) {
                if (!hosts.contains(sampler.soleHolder(v))) {
                    return false;
                }
            }
            return true;
        }, () -> when + ": not every VIP is held by exactly one of " + hosts.stream().map(h -> "n" + (h + 1)).toList()
                + "; now " + sampler.holdersNow());
    }

    /** Fails at once, rather than at the end, when the sampler has seen two holders of one VIP. */
    private void failOnTwoHolders() {
        List<String> dual = sampler.dual();
        if (!dual.isEmpty()) {
            throw new AssertionError("two holders of one VIP at once: " + dual);
        }
    }

    private static List<Integer> survivors(int gone) {
        List<Integer> s = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            if (i != gone) {
                s.add(i);
            }
        }
        return s;
    }

    private static int indexOf(int[] at, int host) {
        for (int v = 0; v < at.length; v++) {
            if (at[v] == host) {
                return v;
            }
        }
        throw new AssertionError("n" + (host + 1) + " holds no VIP");
    }

    private static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }

    // ------------------------------------------------------------------ daemons

    private Path log(int i) {
        return dir.resolve("n" + (i + 1) + ".log");
    }

    /** What daemon {@code i} logged after the first {@code from} bytes of its log. */
    private String logSince(int i, long from) {
        try {
            byte[] all = Files.readAllBytes(log(i));
            return new String(all, (int) Math.min(from, all.length), (int) Math.max(0, all.length - from),
                    StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new AssertionError("cannot read " + log(i), e);
        }
    }

    private void start(int i) throws IOException {
        daemons[i] = VipdProcesses.start(lan.nodes.get(i), config(i), log(i));
    }

    private Path config(int i) throws IOException {
        StringBuilder text = new StringBuilder();
        text.append("cluster.id = vipd-groups-test\n")
                .append("node.id = n").append(i + 1).append('\n')
                .append("members = ");
        for (int j = 0; j < 3; j++) {
            text.append(j == 0 ? "" : ",").append('n').append(j + 1).append('=').append(NetnsLan.SUBNET_PREFIX)
                    .append(j + 1).append(':').append(PORT);
        }
        text.append('\n')
                .append("data.dir = ").append(dir.resolve("data-n" + (i + 1))).append('\n')
                // Three holders per host run `ip` at the same moments; on a loaded 2-core machine one
                // `ip addr del` took 285 ms, more than the default 100 ms release margin, and a new
                // leader added the VIP first (the daemon warns of exactly that). So: a margin that
                // covers such a host, and a lease long enough to leave room for renewals.
                .append("heartbeat.ms = 100\n")
                .append("election.ms = 1000\n")
                .append("release.margin.ms = 450\n");
        for (int v = 0; v < VIPS.size(); v++) {
            text.append("vip.").append(GROUPS.get(v)).append(".address = ").append(VIPS.get(v)).append("/24\n");
        }
        text.append("vip.").append(GROUPS.get(0)).append(".preferred = n").append(PREFERRED + 1).append('\n');
        text.append("interface = eth0\n")
                .append("ip.command = ").append(NetnsLan.IP).append('\n')
                .append("arping.command = /usr/bin/arping\n")
                .append("garp.repeat.delay.ms = 1000\n")
                .append("admin.socket.dir = ").append(dir.resolve("admin")).append('\n');
        Path file = dir.resolve("n" + (i + 1) + ".properties");
        Files.writeString(file, text);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        return file;
    }
}
