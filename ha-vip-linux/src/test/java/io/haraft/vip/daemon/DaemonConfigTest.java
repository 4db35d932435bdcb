package io.haraft.vip.daemon;

import io.haraft.vip.CommandFencer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Parsing of the ha-vipd properties file, each of its error messages, and the command line. */
class DaemonConfigTest {

    private static final Path FILE = Path.of("/etc/ha-vipd/vip.properties");
    private static final String MINIMAL = """
            cluster.id = orders-vip
            node.id = n1
            members = n1=192.0.2.1:7001, n2=192.0.2.2:7001,n3=192.0.2.3:7001
            data.dir = /var/lib/ha-vipd
            vip = 192.0.2.50/24
            interface = eth0
            """;

    private static final io.haraft.LeadershipListener NO_LISTENER = new io.haraft.LeadershipListener() {
        @Override
        public void elected(io.haraft.Leadership l) {
        }

        @Override
        public void revoked(io.haraft.Leadership l, io.haraft.RevokeReason r) {
        }
    };

    @TempDir
    Path dir;

    private static DaemonConfig parse(String text) {
        return DaemonConfig.parse(FILE, text, new ArrayList<>());
    }

    /** Writes {@code text}, with its data directory moved under the temporary directory, readable by its owner only. */
    private Path file(String name, String text) throws java.io.IOException {
        Path f = Files.writeString(dir.resolve(name), text.replace("/var/lib/ha-vipd", dir.resolve("data").toString()));
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
        return f;
    }

    private static String without(String key) {
        return MINIMAL.lines().filter(l -> !l.startsWith(key + " ")).reduce("", (a, b) -> a + b + "\n");
    }

    @Test
    void minimalFileGetsTheDefaults() {
        DaemonConfig c = parse("# comment\n\n" + MINIMAL);
        assertThat(c.raftConfig().clusterId()).isEqualTo("orders-vip");
        assertThat(c.raftConfig().nodeId()).isEqualTo("n1");
        assertThat(c.raftConfig().members()).hasSize(3);
        assertThat(c.raftConfig().self().address()).isEqualTo("192.0.2.1:7001");
        assertThat(c.raftConfig().heartbeatInterval()).isEqualTo(Duration.ofMillis(100));
        assertThat(c.raftConfig().electionTimeout()).isEqualTo(Duration.ofMillis(300));
        assertThat(c.raftConfig().tls()).isEmpty();
        assertThat(c.vipConfig().address().cidr()).isEqualTo("192.0.2.50/24");
        assertThat(c.vipConfig().interfaceName()).isEqualTo("eth0");
        assertThat(c.vipConfig().garpCount()).isEqualTo(5);
        assertThat(c.vipConfig().garpRepeatCount()).isEqualTo(5);
        // (294 ms lease - 100 ms heartbeat) / 2 = 97 ms, a little below the library's 100 ms
        assertThat(c.vipConfig().releaseMargin()).isEqualTo(Duration.ofMillis(97));
        assertThat(c.vipConfig().duplicateProbe()).isFalse();
        assertThat(c.vipConfig().fencer()).isEmpty();
        assertThat(c.summary()).anyMatch(l -> l.contains("heartbeat 100 ms (default)"));
        assertThat(c.summary()).anyMatch(l -> l.contains("release margin 97 ms (a renewal may come 97 ms late)"));
        assertThat(c.warnings()).isEmpty();
        assertThat(c.nodeBuilder(NO_LISTENER).config()).isEqualTo(c.raftConfig());
    }

    @Test
    void everyOptionalKeyIsApplied() {
        DaemonConfig c = parse(MINIMAL + """
                heartbeat.ms = 50
                election.ms = 200
                fast.failover = false
                garp.count = 3
                garp.repeat.count = 0
                garp.repeat.delay.ms = 2000
                release.margin.ms = 80
                command.timeout.ms = 1500
                ip.command = /sbin/ip
                arping.command = /usr/sbin/arping
                sysctl.command = /sbin/sysctl
                probe.timeout.s = 2
                fence.command = /usr/local/bin/pdu-off --outlet {mac}  --vip {vip}
                fence.timeout.ms = 7000
                """);
        assertThat(c.raftConfig().heartbeatInterval()).isEqualTo(Duration.ofMillis(50));
        assertThat(c.raftConfig().electionTimeout()).isEqualTo(Duration.ofMillis(200));
        assertThat(c.raftConfig().fastFailoverOnRefusedConnection()).isFalse();
        assertThat(c.vipConfig().garpCount()).isEqualTo(3);
        assertThat(c.vipConfig().garpRepeatCount()).isZero();
        assertThat(c.vipConfig().garpRepeatDelay()).isEqualTo(Duration.ofSeconds(2));
        assertThat(c.vipConfig().releaseMargin()).isEqualTo(Duration.ofMillis(80));
        assertThat(c.vipConfig().commandTimeout()).isEqualTo(Duration.ofMillis(1500));
        assertThat(c.vipConfig().ipCommand()).isEqualTo(Path.of("/sbin/ip"));
        assertThat(c.vipConfig().arpingCommand()).isEqualTo(Path.of("/usr/sbin/arping"));
        assertThat(c.vipConfig().sysctlCommand()).isEqualTo(Path.of("/sbin/sysctl"));
        assertThat(c.vipConfig().probeTimeout()).isEqualTo(Duration.ofSeconds(2));
        assertThat(c.vipConfig().duplicateProbe()).as("a fence command turns the probe on").isTrue();
        assertThat(c.vipConfig().fenceTimeout()).isEqualTo(Duration.ofSeconds(7));
        CommandFencer f = (CommandFencer) c.vipConfig().fencer().orElseThrow();
        assertThat(f.command()).containsExactly("/usr/local/bin/pdu-off", "--outlet", "{mac}", "--vip", "{vip}");
        assertThat(f.timeout()).isEqualTo(Duration.ofSeconds(7));
    }

    @Test
    void aReleaseMarginThatLeavesRenewalsLittleRoomIsWarnedAbout() {
        DaemonConfig c = parse(MINIMAL + "release.margin.ms = 150\n");
        assertThat(c.warnings()).singleElement().satisfies(w -> assertThat(w)
                .contains("a lease renewal that comes more than 44 ms late (lease 294 ms - heartbeat 100 ms - margin)"
                        + " removes the VIP"));
    }

    @Test
    void theDefaultReleaseMarginIsAtMost100MsAndHalfTheSpareLease() {
        assertThat(parse(MINIMAL + "heartbeat.ms = 50\n").vipConfig().releaseMargin())
                .as("lease 147 ms, heartbeat 50 ms").isEqualTo(Duration.ofMillis(48));
        assertThat(parse(MINIMAL + "heartbeat.ms = 1000\nelection.ms = 3000\n").vipConfig().releaseMargin())
                .isEqualTo(Duration.ofMillis(100));
    }

    @Test
    void onlyHeartbeatSetDerivesTheElectionTimeout() {
        assertThat(parse(MINIMAL + "heartbeat.ms = 50\n").raftConfig().electionTimeout())
                .isEqualTo(Duration.ofMillis(150));
    }

    @Test
    void tlsNeedsAllThreeFilesAndChecksThem() throws Exception {
        Path cert = Files.writeString(dir.resolve("n1.crt"), "x");
        Path key = Files.writeString(dir.resolve("n1.key"), "x");
        Path ca = Files.writeString(dir.resolve("ca.crt"), "x");
        DaemonConfig c = parse(MINIMAL + "tls.cert = " + cert + "\ntls.key = " + key + "\ntls.ca = " + ca + "\n");
        assertThat(c.raftConfig().tls()).isPresent();
        assertThatThrownBy(() -> parse(MINIMAL + "tls.cert = " + cert + "\n"))
                .hasMessage(FILE + ": tls.key is missing: mutual TLS needs all three of tls.cert, tls.key and tls.ca"
                        + " (or none of them for plain TCP)\n" + FILE + ": tls.ca is missing: mutual TLS needs all three"
                        + " of tls.cert, tls.key and tls.ca (or none of them for plain TCP)");
        assertThatThrownBy(() -> parse(MINIMAL + "tls.cert = " + cert + "\ntls.key = " + key + "\ntls.ca = "
                + dir.resolve("nope.crt") + "\n"))
                .hasMessageStartingWith(FILE + ": tls.ca = " + dir.resolve("nope.crt") + ": ")
                .hasMessageContaining("does not exist");
    }

    @ParameterizedTest(name = "missing {0}")
    @CsvSource({"cluster.id", "node.id", "members", "data.dir", "vip", "interface"})
    void aMissingRequiredKeyIsNamed(String key) {
        assertThatThrownBy(() -> parse(without(key))).isInstanceOf(DaemonConfigException.class)
                .hasMessageStartingWith(FILE + ": " + key + " is missing: " + DaemonConfig.KEYS.get(key));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            garbage line                | /etc/ha-vipd/vip.properties line 7: expected 'key = value', got 'garbage line'
            vip.interface = eth1        | /etc/ha-vipd/vip.properties line 7: unknown key 'vip.interface'
            election.timeout.ms = 300   | /etc/ha-vipd/vip.properties line 7: unknown key 'election.timeout.ms'
            interfce = eth1             | /etc/ha-vipd/vip.properties line 7: unknown key 'interfce' (did you mean 'interface'?)
            vip = 192.0.2.51/24         | /etc/ha-vipd/vip.properties line 7: vip is set a second time; keep one line per key
            heartbeat.ms =              | /etc/ha-vipd/vip.properties line 7: heartbeat.ms has an empty value; give one (leader heartbeat interval (default 100, or election.ms / 3)) or remove the line
            heartbeat.ms = 100ms        | /etc/ha-vipd/vip.properties: heartbeat.ms = 100ms: not a whole number of milliseconds (write 300, not 300ms or 0.3)
            election.ms = 0             | /etc/ha-vipd/vip.properties: election.ms = 0: must be a positive number of milliseconds
            release.margin.ms = -5      | /etc/ha-vipd/vip.properties: release.margin.ms = -5: must not be negative
            release.margin.ms = 194     | /etc/ha-vipd/vip.properties: release.margin.ms = 194 is too large: the lease (294 ms, election.ms x 0.98) minus the heartbeat (100 ms) leaves no room, so the VIP would be removed before every renewal. Lower release.margin.ms (default 100) or raise election.ms
            sysctl.command = sysctl     | /etc/ha-vipd/vip.properties: sysctl.command = sysctl: must be an absolute path
            garp.count = -1             | /etc/ha-vipd/vip.properties: garp.count = -1: must be 0 or more
            garp.count = 101            | /etc/ha-vipd/vip.properties: garp.count must be 0 to 100 (keepalived sends 5), got 101
            probe.timeout.s = x         | /etc/ha-vipd/vip.properties: probe.timeout.s = x: not a whole number of seconds
            fast.failover = yes         | /etc/ha-vipd/vip.properties: fast.failover = yes: write true or false
            ip.command = ip             | /etc/ha-vipd/vip.properties: ip.command = ip: must be an absolute path (no PATH lookup at failover time), like /usr/sbin/ip
            fence.command = pdu-off {mac} | /etc/ha-vipd/vip.properties: fence.command = pdu-off {mac}: the fence command must start with an absolute path (no shell, no PATH lookup), got 'pdu-off'
            fence.timeout.ms = 1000     | /etc/ha-vipd/vip.properties: fence.timeout.ms is set without fence.command; set both or neither
            admin.bind = 127.0.0.1      | /etc/ha-vipd/vip.properties line 7: admin.bind is no longer supported: the admin endpoint is no longer a TCP port (which anyone on the host could use to change the members) but a Unix-domain socket that only the daemon's user (root) may open, in admin.socket.dir (default /run/ha-vipd). Remove admin.bind and admin.port; ha-vipd admin finds the socket from this file
            admin.port = 8001           | /etc/ha-vipd/vip.properties line 7: admin.port is no longer supported: the admin endpoint is no longer a TCP port
            admin.socket.dir = run      | /etc/ha-vipd/vip.properties: admin.socket.dir = run: must be an absolute path
            fence.command = /usr/local/bin/pdu --ip={ip} | /etc/ha-vipd/vip.properties: fence.command = /usr/local/bin/pdu --ip={ip}: the fence command has an unknown placeholder {ip} (in '--ip={ip}'); the known ones are {vip} {cidr} {interface} {mac} {token}
            vip = 192.0.2.0/24          | /etc/ha-vipd/vip.properties line 7: vip is set a second time
            """)
    void eachBadLineHasItsMessage(String line, String message) {
        assertThatThrownBy(() -> parse(MINIMAL + line + "\n")).isInstanceOf(DaemonConfigException.class)
                .hasMessageStartingWith(message);
    }

    @Test
    void unknownKeysListTheKnownOnes() {
        assertThatThrownBy(() -> parse(MINIMAL + "colour = blue\n"))
                .hasMessageEndingWith("Known keys: " + String.join(", ", DaemonConfig.KEYS.keySet()));
    }

    @Test
    void fenceCommandWithTheProbeOffWouldNeverRun() {
        assertThatThrownBy(() -> parse(MINIMAL + "fence.command = /bin/true\nduplicate.probe = false\n"))
                .hasMessage(FILE + ": fence.command is set but duplicate.probe = false: the fence command runs only"
                        + " when the arping -D probe finds another host answering for the VIP, so it would never"
                        + " run. Set duplicate.probe = true or remove fence.command");
    }

    @Test
    void badValuesForTheNodeAndTheVipNameTheKey() {
        assertThatThrownBy(() -> parse(MINIMAL.replace("vip = 192.0.2.50/24", "vip = 192.0.2.50")))
                .hasMessageStartingWith(FILE + ": vip = 192.0.2.50: the VIP '192.0.2.50' has no prefix length");
        assertThatThrownBy(() -> parse(MINIMAL.replace("interface = eth0", "interface = eth0:1")))
                .hasMessageStartingWith(FILE + ": 'eth0:1' is not a Linux interface name");
        assertThatThrownBy(() -> parse(MINIMAL.replace("n2=192.0.2.2:7001,", "n2,")))
                .hasMessageStartingWith(FILE + ": members = ")
                .hasMessageContaining("'n2' is not id=host:port");
        assertThatThrownBy(() -> parse(MINIMAL.replace("n2=192.0.2.2:7001,", "n2=192.0.2.2,")))
                .hasMessageStartingWith(FILE + ": members = ");
        assertThatThrownBy(() -> parse(MINIMAL.replace("node.id = n1", "node.id = n9")))
                .hasMessageStartingWith(FILE + ": This node's id \"n9\" is not among the members [n1, n2, n3].");
        assertThatThrownBy(() -> parse(MINIMAL.replace(",n3=192.0.2.3:7001", "")))
                .hasMessageStartingWith(FILE + ": 2 voters are configured");
        assertThatThrownBy(() -> parse(MINIMAL + "heartbeat.ms = 200\nelection.ms = 300\n"))
                .hasMessageStartingWith(FILE + ": election.ms 300 ms is less than 2 x heartbeat.ms (200 ms)");
    }

    @Test
    void groupOrWorldWritableFileIsWarnedAbout() throws Exception {
        Path f = file("vip.properties", MINIMAL);
        assertThat(DaemonConfig.parse(f).warnings()).isEmpty();
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-rw-r--"));
        assertThat(DaemonConfig.parse(f).warnings()).containsExactly(f + " is group-writable (rw-rw-r--): whoever can"
                + " write it can make this daemon run any fence.command with its privileges. Fix: chmod go-w " + f);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--rw-"));
        assertThat(DaemonConfig.parse(f).warnings()).singleElement().asString().contains("is world-writable");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-rw-rw-"));
        assertThat(DaemonConfig.parse(f).warnings()).singleElement().asString()
                .contains("is group- and world-writable");
    }

    @Test
    void anUnreadableFileSaysSo() {
        Path missing = dir.resolve("nope.properties");
        assertThatThrownBy(() -> DaemonConfig.parse(missing))
                .hasMessageStartingWith(missing + ": cannot read it (")
                .hasMessageEndingWith("); check the path given to --config and that this user may read it");
    }

    // ------------------------------------------------------------------ roles, witness, admin endpoint

    private static final String WITNESS = """
            cluster.id = orders-vip
            node.id = w1
            members = n1=192.0.2.1:7001,n2=192.0.2.2:7001,w1=192.0.2.9:7001/witness
            data.dir = /var/lib/ha-vipd
            admin.socket.dir = /var/lib/ha-vipd/admin
            """;

    @Test
    void membersCarryRolesAsSuffixes() {
        DaemonConfig c = parse(MINIMAL.replace("n3=192.0.2.3:7001", "w1=192.0.2.9:7001/witness,"
                + " n4=192.0.2.4:7001/learner, w2=[fd00::9]:7001/witness-learner"));
        assertThat(c.raftConfig().members()).extracting(m -> m.id() + " " + m.role())
                .containsExactly("n1 VOTER", "n2 VOTER", "w1 WITNESS", "n4 LEARNER", "w2 WITNESS_LEARNER");
        assertThat(c.raftConfig().member("w2").orElseThrow().address()).isEqualTo("[fd00::9]:7001");
        assertThat(c.isWitness()).isFalse();
        assertThat(c.nodeBuilder(NO_LISTENER).config().members()).isEqualTo(c.raftConfig().members());
        assertThat(MemberList.entry("w2", "[fd00::9]:7001", io.haraft.MemberRole.WITNESS_LEARNER))
                .isEqualTo("w2=[fd00::9]:7001/witness-learner");
        assertThatThrownBy(() -> parse(MINIMAL.replace("n3=192.0.2.3:7001", "n3=192.0.2.3:7001/observer")))
                .hasMessageStartingWith(FILE + ": members = ")
                .hasMessageContaining("'n3=192.0.2.3:7001/observer' has an unknown role '/observer'; use no suffix for"
                        + " a voter, or /learner, /witness, /witness-learner");
    }

    @Test
    void aWitnessNeedsNoVip() {
        DaemonConfig c = parse(WITNESS);
        assertThat(c.isWitness()).isTrue();
        assertThat(c.warnings()).isEmpty();
        assertThat(c.summary()).contains("witness: never leads, holds no VIP");
        assertThatThrownBy(c::vipConfig).isInstanceOf(IllegalStateException.class);

        List<String> warnings = new ArrayList<>();
        DaemonConfig copied = DaemonConfig.parse(FILE, WITNESS + "vip = 192.0.2.50/24\ninterface = eth0\n", warnings);
        assertThat(copied.isWitness()).isTrue();
        assertThat(warnings).containsExactly("w1 is a witness: it never leads, so this daemon runs no VIP holder; the"
                + " VIP keys (vip, interface, ...) are not used (they are still checked)");
        assertThatThrownBy(() -> parse(WITNESS + "vip = 192.0.2.50\ninterface = eth0\n"))
                .hasMessageStartingWith(FILE + ": vip = 192.0.2.50: ");
        assertThatThrownBy(() -> parse(WITNESS.replace("w1=192.0.2.9:7001/witness", "w1=192.0.2.9:7001")))
                .hasMessageStartingWith(FILE + ": vip is missing");
    }

    @Test
    void checkOfAWitnessDoesNotLookForIpOrArping() throws Exception {
        Path f = file("w1.properties", WITNESS);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int code = VipDaemon.check(f, new PrintStream(out, true, StandardCharsets.UTF_8), true);
        assertThat(code).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("witness: never leads, holds no VIP",
                "OK: ha-vipd can run witness w1 on this host (no VIP, so ip and arping are not needed; the port 7001"
                        + " is checked when the node starts)");
    }

    @Test
    void theAdminSocketIsNamedAfterClusterAndNodeInItsDirectory() {
        AdminSettings a = parse(MINIMAL).admin();
        assertThat(a.socket()).isEqualTo(Path.of("/run/ha-vipd/orders-vip-n1.sock"));
        assertThat(a.socketOf("n2")).isEqualTo(Path.of("/run/ha-vipd/orders-vip-n2.sock"));
        assertThat(parse(MINIMAL).summary()).contains("admin socket /run/ha-vipd/orders-vip-n1.sock (default"
                + " directory), for the daemon's user (and root) only: run ha-vipd admin on this host as that user");
        assertThat(parse(MINIMAL + "admin.socket.dir = /var/run/vip\n").admin().socket())
                .isEqualTo(Path.of("/var/run/vip/orders-vip-n1.sock"));
        String longDir = "/var/lib/" + "x".repeat(90);
        assertThatThrownBy(() -> parse(MINIMAL + "admin.socket.dir = " + longDir + "\n"))
                .hasMessage(FILE + ": admin.socket.dir = " + longDir + ": the admin socket's path " + longDir
                        + "/orders-vip-n1.sock is 118 bytes long, and Linux allows 107 for a Unix-domain socket; choose"
                        + " a shorter directory");
    }

    // ------------------------------------------------------------------ every problem, the VIP against the members

    @Test
    void everyProblemIsReportedNotOnlyTheFirst() {
        String text = MINIMAL.replace("vip = 192.0.2.50/24", "vip = 192.0.2.1/24") + """
                colour = blue
                heartbeat.ms = 100ms
                garp.count = -1
                admin.port = 8001
                fence.command = /usr/local/bin/pdu {vpi}
                """;
        assertThatThrownBy(() -> parse(text)).isInstanceOfSatisfying(DaemonConfigException.class, e -> {
            assertThat(e.problems()).hasSize(5);
            assertThat(e.problems().get(0)).startsWith(FILE + " line 7: unknown key 'colour'");
            assertThat(e.problems().get(1)).startsWith(FILE + " line 10: admin.port is no longer supported");
            assertThat(e.problems().get(2)).startsWith(FILE + ": heartbeat.ms = 100ms: not a whole number");
            assertThat(e.problems().get(3)).startsWith(FILE + ": garp.count = -1: must be 0 or more");
            assertThat(e.problems().get(4)).contains("unknown placeholder {vpi}");
            assertThat(e.getMessage()).isEqualTo(String.join("\n", e.problems()));
        });
        DaemonConfig.Attempt a = DaemonConfig.read(FILE, MINIMAL + "colour = blue\n", new ArrayList<>());
        assertThat(a.config()).isEmpty();
        assertThat(a.vip()).as("the VIP settings are valid by themselves, so --check still checks the host")
                .hasValueSatisfying(v -> assertThat(v.address().cidr()).isEqualTo("192.0.2.50/24"));
        assertThat(a.dataDir()).hasValue(Path.of("/var/lib/ha-vipd"));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            vip = 192.0.2.1/24   | n1=192.0.2.1:7001      | member n1 (192.0.2.1:7001, this node)
            vip = 192.0.2.2/32   | n1=192.0.2.1:7001      | member n2 (192.0.2.2:7001)
            vip = 127.0.0.1/8    | n1=192.0.2.1:7001      | a loopback address
            vip = 2001:db8::1/64 | n1=[2001:db8::1]:7001  | member n1 ([2001:db8::1]:7001, this node)
            vip = 2001:db8::1/64 | n1=[2001:db8:0::1]:7001 | member n1 ([2001:db8:0::1]:7001, this node)
            """)
    void aVipThatIsAMembersAddressIsRefused(String vip, String self, String what) {
        String text = MINIMAL.replace("vip = 192.0.2.50/24", vip).replace("n1=192.0.2.1:7001", self);
        assertThatThrownBy(() -> parse(text)).isInstanceOf(DaemonConfigException.class).hasMessageContaining(what);
    }

    @Test
    void aVipThatIsTheAddressAMembersNameResolvesToIsRefused() throws Exception {
        java.net.InetAddress self = java.net.InetAddress.getLocalHost();
        org.junit.jupiter.api.Assumptions.assumeTrue(self instanceof java.net.Inet4Address
                && !self.isLoopbackAddress(), "this host's name resolves to a non-loopback IPv4 address");
        String name = self.getHostName();
        String text = MINIMAL.replace("vip = 192.0.2.50/24", "vip = " + self.getHostAddress() + "/32")
                .replace("n2=192.0.2.2:7001", "n2=" + name + ":7001");
        assertThatThrownBy(() -> parse(text)).hasMessageContaining("is the address of member n2 (" + name + ":7001, "
                + name + " is " + self.getHostAddress() + ")");
    }

    @Test
    void theNetworkAndBroadcastAddressesOfTheVipsPrefixAreRefused() {
        assertThatThrownBy(() -> parse(MINIMAL.replace("vip = 192.0.2.50/24", "vip = 192.0.2.255/24")))
                .hasMessageStartingWith(FILE + ": vip = 192.0.2.255/24: the VIP 192.0.2.255/24 is the broadcast"
                        + " address of its prefix");
        assertThatThrownBy(() -> parse(MINIMAL.replace("vip = 192.0.2.50/24", "vip = 192.0.2.0/24")))
                .hasMessageContaining("is the network address of its prefix");
        assertThatThrownBy(() -> parse(MINIMAL.replace("vip = 192.0.2.50/24", "vip = 2001:db8::/64")))
                .hasMessageContaining("is the subnet-router anycast address of its prefix");
    }

    // ------------------------------------------------------------------ command line

    private record Run(int code, String out, String err) {
    }

    private static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = VipDaemon.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void commandLineErrorsExitWith2AndPrintUsage() {
        assertThat(run()).satisfies(r -> {
            assertThat(r.code()).isEqualTo(2);
            assertThat(r.err()).startsWith("ha-vipd: --config FILE is required\nusage: java -jar ha-vipd.jar");
        });
        assertThat(run("--config")).satisfies(r -> assertThat(r.err()).startsWith("ha-vipd: --config needs a file"));
        assertThat(run("--bogus")).satisfies(r -> assertThat(r.err()).startsWith("ha-vipd: unknown argument '--bogus'"));
        assertThat(run("--help")).satisfies(r -> {
            assertThat(r.code()).isZero();
            assertThat(r.out()).contains("--check").contains("fence.command");
        });
    }

    @Test
    void checkOfAnInvalidFileFailsWithTheMessage() throws Exception {
        Path f = Files.writeString(dir.resolve("bad.properties"), MINIMAL + "colour = blue\n");
        Run r = run("--config", f.toString(), "--check");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.out()).startsWith("FAILED: " + f + " line 7: unknown key 'colour'");
    }

    @Test
    void checkOfAValidFileReportsTheSettingsAndWarnings() throws Exception {
        Path f = Files.writeString(dir.resolve("ok.properties"), MINIMAL.replace("/var/lib/ha-vipd",
                dir.resolve("data").toString()));
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-rw-rw-"));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int code = VipDaemon.check(f, new PrintStream(out, true, StandardCharsets.UTF_8), false);
        String text = out.toString(StandardCharsets.UTF_8);
        assertThat(code).isZero();
        assertThat(text).contains("config " + f + ": valid", "cluster orders-vip, node n1 at 192.0.2.1:7001",
                "WARNING: " + f + " is group- and world-writable", "data dir " + dir.resolve("data") + ": usable");
    }

    @Test
    void dataDirProblems() throws Exception {
        assertThat(VipDaemon.dataDirProblem(dir)).isEmpty();
        assertThat(VipDaemon.dataDirProblem(dir.resolve("a/b"))).isEmpty();
        Path file = Files.writeString(dir.resolve("f"), "");
        assertThat(VipDaemon.dataDirProblem(file)).hasValue("data.dir " + file + " exists but is not a directory");
        assertThat(VipDaemon.dataDirProblem(file.resolve("sub")).orElseThrow())
                .contains("does not exist and cannot be created here");
        List<String> keys = new ArrayList<>(DaemonConfig.KEYS.keySet());
        assertThat(keys).startsWith("cluster.id", "node.id", "members");
    }

    // ------------------------------------------------------------------ several VIPs, one Raft group each

    private static final String SEVERAL = """
            cluster.id = orders-vip
            node.id = n1
            members = n1=192.0.2.1:7001, n2=192.0.2.2:7001,n3=192.0.2.3:7001
            data.dir = /var/lib/ha-vipd
            vip.web-1.address = 192.0.2.51/24
            vip.web-2.address = 192.0.2.52/24
            vip.web-3.address = 192.0.2.53/24
            interface = eth0
            """;

    @Test
    void severalVipsEachFollowTheirOwnGroupAndShareTheOtherSettings() {
        DaemonConfig c = parse(SEVERAL + "garp.count = 3\n");
        assertThat(c.hasGroups()).isTrue();
        assertThat(c.groups()).containsExactly("web-1", "web-2", "web-3");
        assertThat(c.groupVips().keySet()).containsExactly("web-1", "web-2", "web-3");
        assertThat(c.groupVips().values()).extracting(v -> v.address().cidr())
                .containsExactly("192.0.2.51/24", "192.0.2.52/24", "192.0.2.53/24");
        assertThat(c.groupVips().values()).allSatisfy(v -> {
            assertThat(v.interfaceName()).isEqualTo("eth0");
            assertThat(v.garpCount()).isEqualTo(3);
            assertThat(v.releaseMargin()).isEqualTo(Duration.ofMillis(97));
        });
        assertThatThrownBy(c::vipConfig).isInstanceOf(IllegalStateException.class);
        assertThat(c.summary()).contains("VIP 192.0.2.51/24 on eth0 follows the leader of group web-1",
                "VIP 192.0.2.53/24 on eth0 follows the leader of group web-3");
        assertThat(c.summary()).anyMatch(l -> l.startsWith("every VIP: release margin 97 ms"));
        assertThat(c.builder().config()).isEqualTo(c.raftConfig());
        assertThat(parse(MINIMAL).hasGroups()).as("a single vip runs one node, as before").isFalse();
        assertThat(parse(MINIMAL).groupVips()).isEmpty();
        assertThat(VipDaemon.help()).contains("vip.GROUP.address");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            vip.web-1.address = 192.0.2.54/24 | /etc/ha-vipd/vip.properties line 9: vip.web-1.address is set a second time; keep one line per key (group web-1 carries one VIP: give another VIP a group of its own)
            vip.web-4.address = 192.0.2.51/24 | /etc/ha-vipd/vip.properties: vip.web-4.address = 192.0.2.51/24: vip.web-1.address has the same address; two groups would each add it to their leader's host, so two hosts would answer for it. Give every group its own VIP
            vip.web-4.address = 192.0.2.52/32 | /etc/ha-vipd/vip.properties: vip.web-4.address = 192.0.2.52/32: vip.web-2.address has the same address
            vip.web-4.address = 192.0.2.300/24 | /etc/ha-vipd/vip.properties: vip.web-4.address = 192.0.2.300/24: 
            vip.web-4.address = 192.0.2.54   | /etc/ha-vipd/vip.properties: vip.web-4.address = 192.0.2.54: the VIP '192.0.2.54' has no prefix length
            vip.Web.address = 192.0.2.54/24  | /etc/ha-vipd/vip.properties: vip.Web.address: the part between vip. and .address names the VIP's Raft group: Invalid group name 'Web': it starts with 'W', not a lower-case letter or a digit
            vip.web_4!.address = 192.0.2.54/24 | /etc/ha-vipd/vip.properties: vip.web_4!.address: the part between vip. and .address names the VIP's Raft group: Invalid group name 'web_4!': character '!' at position 5 is not allowed
            vip..address = 192.0.2.54/24     | /etc/ha-vipd/vip.properties: vip..address: the part between vip. and .address names the VIP's Raft group: Invalid group name '': it is empty
            vip.web-4.address =              | /etc/ha-vipd/vip.properties line 9: vip.web-4.address has an empty value; give one (one of several VIPs, each led by its own Raft group GROUP
            vip = 192.0.2.50/24              | /etc/ha-vipd/vip.properties: vip = 192.0.2.50/24 is set together with vip.web-1.address, vip.web-2.address, vip.web-3.address: give either one VIP with vip, or every VIP with a vip.GROUP.address line of its own (write vip.NAME.address = 192.0.2.50/24 instead of vip)
            vip.web-4.address = 192.0.2.2/24 | /etc/ha-vipd/vip.properties: vip.web-4.address = 192.0.2.2/24 is the address of member n2 (192.0.2.2:7001)
            vip.web.adress = 192.0.2.54/24   | /etc/ha-vipd/vip.properties line 9: unknown key 'vip.web.adress'
            """)
    void eachBadVipOfSeveralHasItsMessage(String line, String message) {
        assertThatThrownBy(() -> parse(SEVERAL + line + "\n")).isInstanceOf(DaemonConfigException.class)
                .hasMessageStartingWith(message);
    }

    @Test
    void aVipOfSeveralMayNameItsPreferredHost() {
        DaemonConfig c = parse(SEVERAL + "vip.web-2.preferred = n3\n");
        assertThat(c.preferred("web-2")).hasValue("n3");
        assertThat(c.preferred("web-1")).as("no line, no preference").isEmpty();
        assertThat(c.preferred("web-3")).isEmpty();
        assertThat(c.summary()).contains("VIP 192.0.2.51/24 on eth0 follows the leader of group web-1",
                "VIP 192.0.2.52/24 on eth0 follows the leader of group web-2, preferred host n3");
        assertThat(DaemonConfig.KEYS).containsKey("vip.GROUP.preferred");
        assertThat(VipDaemon.help()).contains("vip.GROUP.preferred");
        List<String> warnings = new ArrayList<>();
        DaemonConfig w = DaemonConfig.parse(FILE, WITNESS + "vip.web-1.address = 192.0.2.51/24\n"
                + "vip.web-1.preferred = n2\n", warnings);
        assertThat(w.preferred("web-1")).as("a witness hosts the group, and its balancer knows the preference too")
                .hasValue("n2");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            vip.web-1.preferred = n9      | /etc/ha-vipd/vip.properties: vip.web-1.preferred = n9: n9 is not in members; name one of the voters [n1, n2, n3], or remove the line to let the balancer place the VIP
            vip.web-9.preferred = n2      | /etc/ha-vipd/vip.properties: vip.web-9.preferred = n2: there is no vip.web-9.address line, so no VIP for n2 to prefer. Add vip.web-9.address = CIDR, or name one of the groups [web-1, web-2, web-3], or remove the line
            vip.web-1.preferred =         | /etc/ha-vipd/vip.properties line 9: vip.web-1.preferred has an empty value; give one (the member id of the host that should hold the VIP of vip.GROUP.address whenever it is up and not drained, like vip.web-1.preferred = n2
            vip.web-1.preferred = n1\\nvip.web-1.preferred = n2 | /etc/ha-vipd/vip.properties line 10: vip.web-1.preferred is set a second time; keep one line per key (group web-1 has one preferred host)
            vip.web-1.prefered = n2       | /etc/ha-vipd/vip.properties line 9: unknown key 'vip.web-1.prefered'
            """)
    void eachBadPreferredHostHasItsMessage(String lines, String message) {
        assertThatThrownBy(() -> parse(SEVERAL + lines.replace("\\n", "\n") + "\n"))
                .isInstanceOf(DaemonConfigException.class).hasMessageStartingWith(message);
    }

    @Test
    void aPreferredHostMustBeAVoter() {
        String members = "members = n1=192.0.2.1:7001, n2=192.0.2.2:7001,n3=192.0.2.3:7001";
        String withOthers = SEVERAL.replace(members, members + ",w1=192.0.2.9:7001/witness,n4=192.0.2.4:7001/learner");
        assertThatThrownBy(() -> parse(withOthers + "vip.web-1.preferred = w1\n"))
                .isInstanceOf(DaemonConfigException.class)
                .hasMessage(FILE + ": vip.web-1.preferred = w1: w1 is a witness, which never leads and holds no VIP;"
                        + " name one of the voters [n1, n2, n3], or remove the line to let the balancer place the VIP");
        assertThatThrownBy(() -> parse(withOthers + "vip.web-1.preferred = n4\n"))
                .isInstanceOf(DaemonConfigException.class)
                .hasMessage(FILE + ": vip.web-1.preferred = n4: n4 is a learner (it does not vote yet), which cannot"
                        + " lead; name one of the voters [n1, n2, n3], or remove the line to let the balancer place the"
                        + " VIP");
        assertThatThrownBy(() -> parse(MINIMAL + "vip.web-1.preferred = n2\n"))
                .as("a single vip has no group to prefer a host for")
                .isInstanceOf(DaemonConfigException.class)
                .hasMessage(FILE + ": vip.web-1.preferred = n2: there is no vip.web-1.address line, so no VIP for n2 to"
                        + " prefer. Add vip.web-1.address = CIDR, or name one of the groups of vip.GROUP.address lines"
                        + " (with a single vip there is nothing to prefer: remove the line), or remove the line");
    }

    @Test
    void checkOfAFileWithSeveralVipsShowsThePreferredHost() throws Exception {
        Path f = file("preferred.properties", SEVERAL + "vip.web-3.preferred = n1\n");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int code = VipDaemon.check(f, new PrintStream(out, true, StandardCharsets.UTF_8), false);
        String text = out.toString(StandardCharsets.UTF_8);
        assertThat(code).as(text).isZero();
        assertThat(text).contains("  VIP 192.0.2.52/24 on eth0 follows the leader of group web-2\n",
                "  VIP 192.0.2.53/24 on eth0 follows the leader of group web-3, preferred host n1");
        Path bad = file("bad-preferred.properties", SEVERAL + "vip.web-3.preferred = n7\n");
        out.reset();
        code = VipDaemon.check(bad, new PrintStream(out, true, StandardCharsets.UTF_8), false);
        assertThat(code).isNotZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("vip.web-3.preferred = n7: n7 is not in members");
    }

    @Test
    void checkOfAFileWithSeveralVipsListsEveryVip() throws Exception {
        Path f = file("several.properties", SEVERAL);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int code = VipDaemon.check(f, new PrintStream(out, true, StandardCharsets.UTF_8), false);
        String text = out.toString(StandardCharsets.UTF_8);
        assertThat(code).as(text).isZero();
        assertThat(text).contains("config " + f + ": valid",
                "  VIP 192.0.2.51/24 on eth0 follows the leader of group web-1",
                "  VIP 192.0.2.52/24 on eth0 follows the leader of group web-2",
                "  VIP 192.0.2.53/24 on eth0 follows the leader of group web-3", "OK (host not checked)");
        DaemonConfig.Attempt a = DaemonConfig.read(f);
        assertThat(a.vip()).as("no single vip").isEmpty();
        assertThat(a.vips()).as("--check checks the host for each VIP").extracting(v -> v.address().cidr())
                .containsExactly("192.0.2.51/24", "192.0.2.52/24", "192.0.2.53/24");
    }

    @Test
    void severalVipsNeedTheInterfaceButNoVipKey() {
        assertThatThrownBy(() -> parse(SEVERAL.replace("interface = eth0\n", "")))
                .isInstanceOf(DaemonConfigException.class)
                .hasMessage(FILE + ": interface is missing: " + DaemonConfig.KEYS.get("interface"));
    }

    @Test
    void aSharedSettingThatIsWrongIsReportedOnceNotOncePerVip() {
        assertThatThrownBy(() -> parse(SEVERAL + "garp.count = 101\n"))
                .isInstanceOfSatisfying(DaemonConfigException.class, e -> assertThat(e.problems())
                        .containsExactly(FILE + ": garp.count must be 0 to 100 (keepalived sends 5), got 101"));
    }

    @Test
    void aWitnessHostsTheGroupsOfSeveralVipsButHoldsNone() {
        List<String> warnings = new ArrayList<>();
        DaemonConfig c = DaemonConfig.parse(FILE, WITNESS + "vip.web-1.address = 192.0.2.51/24\n"
                + "vip.web-2.address = 192.0.2.52/24\n", warnings);
        assertThat(c.isWitness()).isTrue();
        assertThat(c.hasGroups()).isTrue();
        assertThat(c.groups()).containsExactly("web-1", "web-2");
        assertThat(c.groupVips()).isEmpty();
        assertThat(c.summary()).contains("witness: never leads, holds no VIP; hosts the groups [web-1, web-2]");
        assertThat(warnings).containsExactly("w1 is a witness: it never leads, so this daemon runs no VIP holder; the"
                + " VIP keys (vip, interface, ...) are not used, except that it hosts the group of each"
                + " vip.GROUP.address, so that every group has a majority");
    }
}
