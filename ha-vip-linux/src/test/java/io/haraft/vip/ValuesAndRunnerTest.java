package io.haraft.vip;

import io.haraft.FencingToken;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ValuesAndRunnerTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "192.0.2.10/24       | 192.0.2.10/24    | false",
            " 10.1.2.3/32        | 10.1.2.3/32      | false",
            "2001:db8:0:0::10/64 | 2001:db8::10/64  | true",
            "2001:DB8::1/128     | 2001:db8::1/128  | true",
            "192.0.2.0/31        | 192.0.2.0/31     | false",
            "192.0.2.255/31      | 192.0.2.255/31   | false",
            "192.0.2.0/32        | 192.0.2.0/32     | false",
            "2001:db8::/127      | 2001:db8::/127   | true",
            "2001:db8::/128      | 2001:db8::/128   | true",
            "fe80::1/64          | fe80::1/64       | true"})
    void parsesIpv4AndIpv6(String text, String cidr, boolean v6) {
        VipAddress a = VipAddress.parse(text);
        assertThat(a.cidr()).isEqualTo(cidr);
        assertThat(a.isIpv6()).isEqualTo(v6);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "192.0.2.10          | has no prefix length",
            "192.0.2.10/x        | is not a number",
            "192.0.2.10/33       | between 1 and 32",
            "192.0.2.10/0        | between 1 and 32",
            "2001:db8::1/129     | between 1 and 128",
            "192.0.2.300/24      | above 255",
            "vip.example.com/24  | host names are not accepted",
            "2001:db8::g/64      | not a valid IPv6",
            "2001:db8:::1/64     | not a valid IPv6",
            "fe80::1%eth0/64     | zone",
            "0.0.0.0/24          | unspecified",
            "127.0.0.5/8         | loopback",
            "224.0.0.5/24        | multicast",
            "255.255.255.255/32  | broadcast",
            "::ffff:192.0.2.1/96 | IPv4-mapped",
            "192.0.2.0/24        | the network address of its prefix",
            "192.0.2.255/24      | the broadcast address of its prefix",
            "10.1.2.3/30         | the broadcast address of its prefix",
            "10.1.2.4/30         | the network address of its prefix",
            "10.0.0.0/8          | the network address of its prefix",
            "2001:db8::/64       | the subnet-router anycast address of its prefix",
            "2001:db8::100/120   | the subnet-router anycast address of its prefix"})
    void rejectsBadAddressesSayingWhy(String text, String why) {
        assertThatThrownBy(() -> VipAddress.parse(text)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(why);
    }

    @Test
    void configDefaultsAreKeepalivedLike() {
        VipConfig c = VipConfig.builder("192.0.2.10/24", "eth0").build();
        assertThat(c.garpCount()).isEqualTo(5);
        assertThat(c.garpRepeatCount()).isEqualTo(5);
        assertThat(c.garpRepeatDelay()).isEqualTo(Duration.ofSeconds(5));
        assertThat(c.releaseMargin()).isEqualTo(Duration.ofMillis(100));
        assertThat(c.sysctlCommand().isAbsolute()).isTrue();
        assertThat(c.duplicateProbe()).isFalse();
        assertThat(c.fencer()).isEmpty();
        assertThat(c.ipCommand().isAbsolute()).isTrue();
        assertThat(c.arpingCommand().isAbsolute()).isTrue();
    }

    @Test
    void configRejectsBadValuesSayingWhy() {
        assertThatThrownBy(() -> VipConfig.builder("192.0.2.10/24", "eth0:1").build())
                .hasMessageContaining("not a Linux interface name");
        assertThatThrownBy(() -> VipConfig.builder("192.0.2.10/24", "averyveryverylongname").build())
                .hasMessageContaining("1 to 15");
        assertThatThrownBy(() -> VipConfig.builder("192.0.2.10/24", "eth0").garpCount(-1).build())
                .hasMessageContaining("garpCount");
        assertThatThrownBy(() -> VipConfig.builder("192.0.2.10/24", "eth0").ipCommand(Path.of("ip")).build())
                .hasMessageContaining("absolute path");
        assertThatThrownBy(() -> VipConfig.builder("2001:db8::1/64", "eth0").duplicateProbe(true).build())
                .hasMessageContaining("IPv4 only");
        assertThatThrownBy(() -> VipConfig.builder("192.0.2.10/24", "eth0").probeTimeout(Duration.ofMillis(300)).build())
                .hasMessageContaining("whole seconds");
        assertThatThrownBy(() -> VipConfig.builder("192.0.2.10/24", "eth0").releaseMargin(Duration.ofMillis(-1)).build())
                .hasMessageContaining("releaseMargin");
        assertThatThrownBy(() -> VipConfig.builder("192.0.2.10/24", "eth0").commandTimeout(Duration.ZERO).build())
                .hasMessageContaining("commandTimeout");
    }

    @Test
    void theSystemRunnerCapturesOutputAndExitCodeWithoutAShell() {
        Commands.Result r = Commands.system().run(List.of("/bin/echo", "a b", "$HOME;", "*"), Duration.ofSeconds(5));
        assertThat(r.ok()).isTrue();
        assertThat(r.output()).isEqualTo("a b $HOME; *");
        Commands.Result f = Commands.system().run(List.of("/bin/false"), Duration.ofSeconds(5));
        assertThat(f.ok()).isFalse();
        assertThat(f.exitCode()).isEqualTo(1);
    }

    @Test
    void theSystemRunnerKillsAProgramThatRunsPastItsTimeout() {
        long t0 = System.nanoTime();
        Commands.Result r = Commands.system().run(List.of("/bin/sleep", "30"), Duration.ofMillis(200));
        assertThat(r.timedOut()).isTrue();
        assertThat(r.exitCode()).isEqualTo(Commands.TIMED_OUT);
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
        assertThat(r.toString()).contains("timed out");
    }

    @Test
    void theSystemRunnerReportsAMissingProgram() {
        Commands.Result r = Commands.system().run(List.of("/nonexistent/ip"), Duration.ofSeconds(1));
        assertThat(r.exitCode()).isEqualTo(Commands.START_FAILED);
        assertThat(r.toString()).contains("could not start");
    }

    @Test
    void aPreparedIpCommandRunsWhenHandedOverAndReportsLikeRun() {
        Assumptions.assumeTrue(java.nio.file.Files.isExecutable(Path.of("/usr/sbin/ip")), "needs /usr/sbin/ip");
        // read-only ip commands, so no root is needed: the same path as the holder's prepared ip addr del
        Commands.Standby ok = Commands.system().standby(List.of("/usr/sbin/ip", "-o"), List.of("link", "show", "dev",
                "lo"));
        Commands.Result r = ok.run(Duration.ofSeconds(5));
        assertThat(r.ok()).as(r.toString()).isTrue();
        assertThat(r.output()).contains("1: lo");
        assertThat(r.argv()).containsExactly("/usr/sbin/ip", "-o", "link", "show", "dev", "lo");
        assertThatThrownBy(() -> ok.run(Duration.ofSeconds(5))).isInstanceOf(IllegalStateException.class);

        Commands.Result f = Commands.system().standby(List.of("/usr/sbin/ip", "-o"), List.of("link", "show", "dev",
                "nosuch0")).run(Duration.ofSeconds(5));
        assertThat(f.ok()).isFalse();
        assertThat(f.output()).contains("nosuch0");

        Commands.Standby cancelled = Commands.system().standby(List.of("/usr/sbin/ip"), List.of("link", "show"));
        cancelled.cancel();
        cancelled.cancel();
        assertThatThrownBy(() -> cancelled.run(Duration.ofSeconds(5))).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void aPreparedCommandWhoseProgramCannotStartFallsBackToRun() {
        Commands.Result r = Commands.system().standby(List.of("/nonexistent/ip"), List.of("link", "show"))
                .run(Duration.ofSeconds(1));
        assertThat(r.exitCode()).isEqualTo(Commands.START_FAILED);
        assertThat(r.argv()).containsExactly("/nonexistent/ip", "link", "show");
    }

    private static Fencer.FenceRequest request() {
        return new Fencer.FenceRequest(VipAddress.parse("192.0.2.10/24"), "eth0", Optional.of("aa:bb:cc:00:11:22"),
                FencingToken.of(9));
    }

    @Test
    void theCommandFencerFillsPlaceholdersAndSucceedsOnExitZero() throws Exception {
        List<List<String>> ran = new ArrayList<>();
        CommandFencer f = CommandFencer.of(List.of("/usr/local/bin/pdu", "off", "--mac={mac}", "{vip}", "{cidr}",
                "{interface}", "{token}"), Duration.ofSeconds(3), (argv, timeout) -> {
                    ran.add(argv);
                    return Commands.Result.ok(argv, "outlet 4 off");
                });
        f.fence(request());
        assertThat(ran).containsExactly(List.of("/usr/local/bin/pdu", "off", "--mac=aa:bb:cc:00:11:22", "192.0.2.10",
                "192.0.2.10/24", "eth0", "9"));
    }

    @Test
    void theCommandFencerFailsOnNonZeroExitAndOnTimeout() {
        assertThatThrownBy(() -> CommandFencer.of(List.of("/bin/false"), Duration.ofSeconds(3)).fence(request()))
                .isInstanceOf(Fencer.FenceException.class).hasMessageContaining("fence command failed");
        assertThatThrownBy(() -> CommandFencer.of(List.of("/bin/sleep", "30"), Duration.ofMillis(200)).fence(request()))
                .isInstanceOf(Fencer.FenceException.class).hasMessageContaining("timed out");
        assertThatThrownBy(() -> CommandFencer.of(List.of("pdu"), Duration.ofSeconds(1)))
                .hasMessageContaining("absolute path");
    }

    @Test
    void theCommandFencerRefusesUnknownPlaceholdersButPassesOtherBraces() {
        assertThatThrownBy(() -> CommandFencer.of(List.of("/usr/local/bin/pdu", "--ip={vpi}"), Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("the fence command has an unknown placeholder {vpi} (in '--ip={vpi}'); the known ones are"
                        + " {vip} {cidr} {interface} {mac} {token}");
        assertThatThrownBy(() -> CommandFencer.of(List.of("/usr/local/bin/pdu", "{vip}", "{ip}"), Duration.ofSeconds(1)))
                .hasMessageContaining("unknown placeholder {ip}");
        CommandFencer json = CommandFencer.of(List.of("/usr/local/bin/pdu", "{\"outlet\": 4}", "{}", "{mac}"),
                Duration.ofSeconds(1));
        assertThat(json.command()).contains("{\"outlet\": 4}");
    }

    @Test
    void theCommandFencerReportsAProgramThatCannotRun(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        assertThat(CommandFencer.of(List.of("/bin/true"), Duration.ofSeconds(1)).setupProblems()).isEmpty();
        assertThat(CommandFencer.of(List.of("/nonexistent/pdu"), Duration.ofSeconds(1)).setupProblems())
                .singleElement().asString().startsWith("the fence command /nonexistent/pdu does not exist; install it"
                        + " there or correct the fence command's path");
        assertThat(CommandFencer.of(List.of(dir.toString()), Duration.ofSeconds(1)).setupProblems())
                .singleElement().asString().contains("is not a regular file");
        Path script = java.nio.file.Files.writeString(dir.resolve("pdu"), "#!/bin/sh\n");
        java.nio.file.Files.setPosixFilePermissions(script,
                java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        org.junit.jupiter.api.Assumptions.assumeFalse(java.nio.file.Files.isExecutable(script),
                "root may execute any file with no x bit at all? (not on Linux: needs one x bit)");
        assertThat(CommandFencer.of(List.of(script.toString()), Duration.ofSeconds(1)).setupProblems())
                .singleElement().asString().contains("is not executable by this process; chmod +x it");
        Fencer lambda = request -> { };
        assertThat(lambda.setupProblems()).as("the default reports nothing").isEmpty();
    }
}
