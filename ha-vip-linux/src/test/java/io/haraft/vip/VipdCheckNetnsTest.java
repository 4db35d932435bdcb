package io.haraft.vip;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code ha-vipd --check} as an operator runs it on a host: a separate process (the daemon's main
 * class on this module's class path) started with {@code ip netns exec} inside a node namespace
 * of a {@link NetnsLan}, as root, or with a capability dropped from its bounding set by
 * {@code setpriv} (util-linux). Each test checks the exit status and the message an operator
 * would act on. Skipped when not root; failed when CI=true and a prerequisite is missing.
 */
class VipdCheckNetnsTest {

    private static final String VIP = "192.0.2.50";

    @TempDir
    Path dir;

    private NetnsLan lan;
    private String ns;

    @BeforeEach
    void lan() {
        NetnsLan.requirePrerequisites();
        lan = new NetnsLan(1);
        ns = lan.nodes.get(0);
    }

    @AfterEach
    void cleanUp() {
        if (lan != null) {
            lan.close();
        }
    }

    private record Check(int exit, String output) {
    }

    /** A config file for node n1 of a 3-node cluster with the given extra or replaced lines. */
    private Path config(String vip, String... lines) throws Exception {
        StringBuilder text = new StringBuilder("cluster.id = check-test\nnode.id = n1\n"
                + "members = n1=192.0.2.1:7001,n2=192.0.2.2:7001,n3=192.0.2.3:7001\n"
                + "data.dir = " + dir.resolve("data") + "\nvip = " + vip + "\n");
        List<String> extra = List.of(lines);
        if (extra.stream().noneMatch(l -> l.startsWith("interface"))) {
            text.append("interface = eth0\n");
        }
        extra.forEach(l -> text.append(l).append('\n'));
        Path file = dir.resolve("vip.properties");
        Files.writeString(file, text);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        return file;
    }

    /** Runs {@code ha-vipd --config FILE --check} in the node namespace, after {@code prefix} (e.g. setpriv). */
    private Check check(Path config, String... prefix) throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> command = new ArrayList<>(List.of(NetnsLan.IP, "netns", "exec", ns));
        command.addAll(List.of(prefix));
        command.addAll(List.of(java.toString(), "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", classPath(),
                "io.haraft.vip.daemon.VipDaemon", "--config", config.toString(), "--check"));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("ha-vipd --check ended").isTrue();
        System.out.println("---- ha-vipd --check " + String.join(" ", prefix) + " exit " + p.exitValue() + ":\n"
                + output);
        return new Check(p.exitValue(), output);
    }

    /** This JVM's class path (the module's classes and dependencies), absolute. */
    private static String classPath() {
        List<String> entries = new ArrayList<>();
        for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (!e.isEmpty()) {
                entries.add(Path.of(e).toAbsolutePath().toString());
            }
        }
        return String.join(File.pathSeparator, entries);
    }

    @Test
    void passesAsRootWithTheInterfacePresent() throws Exception {
        Check c = check(config(VIP + "/24"));
        assertThat(c.exit()).as(c.output()).isZero();
        assertThat(c.output())
                .contains("config " + dir.resolve("vip.properties") + ": valid")
                .contains("host: interface eth0 exists and is up")
                .contains("host: CAP_NET_ADMIN: this process may change addresses on eth0")
                .contains("host: VIP " + VIP + "/24 is not on this host now")
                .contains("host: CAP_NET_RAW: arping -D works on eth0; no other host answers for the VIP")
                .contains("OK: ha-vipd can run node n1 on this host")
                .doesNotContain("FAILED");
    }

    @Test
    void reportsAVipFoundOnThisHostAndChangesNothing() throws Exception {
        NetnsLan.sh(NetnsLan.IP, "-n", ns, "addr", "add", VIP + "/24", "dev", "eth0");
        Check c = check(config(VIP + "/24"));
        assertThat(c.exit()).as(c.output()).isZero();
        assertThat(c.output()).contains("host: VIP " + VIP + "/24 is on eth0 now");
        assertThat(NetnsLan.has(ns, VIP)).as("--check must not remove the VIP (a running leader holds it)").isTrue();
    }

    @Test
    void failsForAMissingInterface() throws Exception {
        Check c = check(config(VIP + "/24", "interface = nosuch0"));
        assertThat(c.exit()).as(c.output()).isEqualTo(1);
        assertThat(c.output()).contains("FAILED: the interface nosuch0 does not exist on this host")
                .contains("list interfaces with `ip link`");
    }

    @Test
    void failsForAMissingIpProgram() throws Exception {
        Check c = check(config(VIP + "/24", "ip.command = /nonexistent/ip"));
        assertThat(c.exit()).as(c.output()).isEqualTo(1);
        assertThat(c.output()).contains("FAILED: `ip` was not found or is not executable at /nonexistent/ip: install"
                + " iproute2 (`apt-get install iproute2` on Debian/Ubuntu)");
    }

    @Test
    void failsForAMissingArpingProgram() throws Exception {
        Check c = check(config(VIP + "/24", "arping.command = /nonexistent/arping"));
        assertThat(c.exit()).as(c.output()).isEqualTo(1);
        assertThat(c.output()).contains("FAILED: `arping` was not found or is not executable at /nonexistent/arping:"
                + " install iputils-arping (`apt-get install iputils-arping` on Debian/Ubuntu)");
    }

    @Test
    void failsWithoutCapNetAdmin() throws Exception {
        // root, but CAP_NET_ADMIN is not in the bounding set: neither the JVM nor the ip it starts has it
        Check c = check(config(VIP + "/24"), NetnsLan.SETPRIV, "--bounding-set=-net_admin");
        assertThat(c.exit()).as(c.output()).isEqualTo(1);
        assertThat(c.output()).contains("FAILED: this process may not change addresses on eth0: CAP_NET_ADMIN is"
                        + " missing (this process: CAP_NET_ADMIN effective no, ambient no)")
                .contains("Operation not permitted")
                .contains("AmbientCapabilities=CAP_NET_ADMIN CAP_NET_RAW");
    }

    @Test
    void failsWithoutCapNetRaw() throws Exception {
        // iputils arping carries the file capability cap_net_raw, which a bounding set without it forbids
        Check c = check(config(VIP + "/24"), NetnsLan.SETPRIV, "--bounding-set=-net_raw");
        assertThat(c.exit()).as(c.output()).isEqualTo(1);
        assertThat(c.output()).contains("FAILED: arping may not send on eth0").contains("grant CAP_NET_RAW");
    }

    @Test
    void anIpv6VipReportsTheKernelAnnouncementSettingsWithoutChangingThem() throws Exception {
        String before = NetnsLan.sysctl(ns, "net.ipv6.conf.eth0.accept_dad") + "/"
                + NetnsLan.sysctl(ns, "net.ipv6.conf.eth0.ndisc_notify");
        Check c = check(config("2001:db8::50/64"));
        assertThat(c.exit()).as(c.output()).isZero();
        assertThat(c.output()).contains("host: ip /usr/sbin/ip and sysctl " + NetnsLan.SYSCTL + " found")
                .contains("host: IPv6: net.ipv6.conf.eth0.accept_dad = 1, net.ipv6.conf.eth0.ndisc_notify = 0; the"
                        + " daemon sets net.ipv6.conf.eth0.accept_dad = 0, net.ipv6.conf.eth0.ndisc_notify = 1 when it"
                        + " starts");
        assertThat(NetnsLan.sysctl(ns, "net.ipv6.conf.eth0.accept_dad") + "/"
                + NetnsLan.sysctl(ns, "net.ipv6.conf.eth0.ndisc_notify")).as("--check changes no setting")
                .isEqualTo(before).isEqualTo("1/0");
    }

    @Test
    void anIpv6VipFailsWithoutSysctl() throws Exception {
        Check c = check(config("2001:db8::50/64", "sysctl.command = /nonexistent/sysctl"));
        assertThat(c.exit()).as(c.output()).isEqualTo(1);
        assertThat(c.output()).contains("FAILED: `sysctl` was not found or is not executable at /nonexistent/sysctl:"
                + " install procps (`apt-get install procps` on Debian/Ubuntu)");
    }

    /**
     * The mistakes of an operator all at once: the VIP is this node's own address (its member
     * address, and on eth0 with another prefix), the fence program and arping are missing. Each is
     * reported on its own FAILED line, and the host's address stays.
     */
    @Test
    void reportsEveryProblemAtOnceAndKeepsTheHostsOwnAddress() throws Exception {
        String own = NetnsLan.SUBNET_PREFIX + "1";
        assertThat(NetnsLan.has(ns, own)).as("the namespace's own address").isTrue();
        Check c = check(config(own + "/32", "arping.command = /nonexistent/arping",
                "fence.command = /nonexistent/pdu-off --outlet {mac}"));
        assertThat(c.exit()).as(c.output()).isEqualTo(1);
        assertThat(c.output().lines().filter(l -> l.startsWith("FAILED: ")).toList()).as(c.output()).satisfiesExactly(
                l -> assertThat(l).contains("vip = " + own + "/32 is the address of member n1 (" + own + ":7001, this"
                        + " node)").contains("Choose a free address for the VIP"),
                l -> assertThat(l).contains("`arping` was not found or is not executable at /nonexistent/arping"),
                l -> assertThat(l).contains("the fence command /nonexistent/pdu-off does not exist"),
                l -> assertThat(l).contains("the VIP " + own + " is already an address of this host: " + own
                        + "/24 on eth0").contains("Choose a VIP that no host uses"));
        assertThat(c.output()).contains("NOT READY: 4 problems");
        assertThat(NetnsLan.has(ns, own)).as("nothing removed").isTrue();
    }
}
