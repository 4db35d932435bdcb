package io.haraft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Operator mistakes: every invalid value of every setting is refused by {@code build()} with a
 * {@link RaftConfigException} that names the setting and the value, never with a raw runtime
 * exception, and a problem with a value the builder derived is blamed on the setting the user gave.
 */
class RaftConfigMistakesTest {

    @TempDir
    Path tmp;

    private RaftNode.Builder three() {
        return RaftConfigTest.three(tmp);
    }

    /** (what the operator did, the setting the message must name, the value it must show). */
    static Stream<Arguments> mistakes() {
        Duration centuries = Duration.ofDays(365 * 300);
        return Stream.of(
                mistake(b -> b.electionTimeout(centuries), "electionTimeout", "109500 days"),
                mistake(b -> b.heartbeatInterval(centuries), "heartbeatInterval", "109500 days"),
                mistake(b -> b.heartbeatInterval(Duration.ofMillis(100)).electionTimeout(centuries),
                        "electionTimeout", "109500 days"),
                mistake(b -> b.heartbeatInterval(Duration.ofSeconds(Long.MAX_VALUE)), "heartbeatInterval", "days"),
                mistake(b -> b.electionTimeout(Duration.ofSeconds(Long.MAX_VALUE, 999_999_999)), "electionTimeout",
                        "days"),
                mistake(b -> b.electionTimeout(Duration.ofMinutes(61)), "electionTimeout", "61 min"),
                mistake(b -> b.heartbeatInterval(Duration.ofMinutes(31)).electionTimeout(Duration.ofMinutes(60)),
                        "heartbeatInterval", "31 min"),
                mistake(b -> b.heartbeatInterval(Duration.ofMinutes(25)), "heartbeatInterval", "25 min"),
                mistake(b -> b.electionTimeout(Duration.ofMillis(2)), "electionTimeout", "2 ms"),
                mistake(b -> b.electionTimeout(Duration.ofMillis(-1)), "electionTimeout", "PT-0.001S"),
                mistake(b -> b.electionTimeout(Duration.ZERO), "electionTimeout", "0 ms"),
                mistake(b -> b.heartbeatInterval(Duration.ofNanos(-5)), "heartbeatInterval", "PT-0.000000005S"),
                mistake(b -> b.heartbeatInterval(Duration.ofNanos(999_999)), "heartbeatInterval", "999.999 µs"),
                mistake(b -> b.heartbeatInterval(Duration.ofMillis(200)).electionTimeout(Duration.ofMillis(300)),
                        "electionTimeout", "300 ms"),
                mistake(b -> b.clockDriftBound(Double.NaN), "clockDriftBound", "NaN"),
                mistake(b -> b.clockDriftBound(1), "clockDriftBound", "1.0"),
                mistake(b -> b.maxMessageBytes(Integer.MAX_VALUE), "maxMessageBytes", "2147483647"),
                mistake(b -> b.maxMessageBytes(-1), "maxMessageBytes", "-1"),
                mistake(b -> b.snapshotThreshold(0), "snapshotThreshold", "0"),
                mistake(b -> b.snapshotThresholdBytes(1000), "snapshotThresholdBytes", "1000"),
                mistake(b -> b.snapshotThresholdBytes(Long.MAX_VALUE), "snapshotThresholdBytes",
                        Long.toString(Long.MAX_VALUE)),
                mistake(b -> b.promoteMaxLag(-1), "promoteMaxLag", "-1"),
                mistake(b -> b.maxPendingProposals(0), "maxPendingProposals", "0"),
                mistake(b -> b.maxPendingProposals(10_000_001), "maxPendingProposals", "10000001"),
                mistake(b -> b.clusterId("a b"), "clusterId", "a b"),
                mistake(b -> b.nodeId("n9"), "n9", "n9"));
    }

    private static Arguments mistake(UnaryOperator<RaftNode.Builder> change, String setting, String value) {
        return Arguments.of(change, setting, value);
    }

    @ParameterizedTest
    @MethodSource("mistakes")
    void everyInvalidValueIsRefusedByBuildNamingTheSettingAndTheValue(UnaryOperator<RaftNode.Builder> change,
                                                                      String setting, String value) {
        // build(): validation comes before the implementation is looked up (none is on this class path)
        assertThatThrownBy(() -> change.apply(three()).build())
                .isInstanceOfSatisfying(RaftConfigException.class, e -> {
                    assertThat(e.problem()).contains(setting).contains(value);
                    assertThat(e.fix()).isNotBlank();
                });
    }

    @Test
    void noExtremeTimingEscapesAsAnythingButRaftConfigException() {
        List<Duration> extremes = Arrays.asList(null, Duration.ofSeconds(Long.MIN_VALUE), Duration.ofNanos(-1),
                Duration.ZERO, Duration.ofNanos(1), Duration.ofNanos(999_999), Duration.ofMillis(1), Duration.ofMillis(2),
                Duration.ofMillis(3), Duration.ofSeconds(20), Duration.ofSeconds(30), Duration.ofSeconds(60),
                Duration.ofSeconds(60).plusNanos(1), Duration.ofHours(1), Duration.ofDays(365 * 300), Duration.ofSeconds(Long.MAX_VALUE, 999_999_999));
        int accepted = 0;
        for (Duration hb : extremes) {
            for (Duration et : extremes) {
                RaftNode.Builder b = three();
                if (hb != null) {
                    b.heartbeatInterval(hb);
                }
                if (et != null) {
                    b.electionTimeout(et);
                }
                try {
                    RaftConfig c = b.config();
                    assertThat(c.leaseDuration()).isPositive();
                    accepted++;
                } catch (RaftConfigException e) {
                    assertThat(e.problem()).as("heartbeat %s, election timeout %s", hb, et)
                            .containsAnyOf("heartbeatInterval", "electionTimeout");
                }
            }
        }
        assertThat(accepted).as("valid pairs among the extremes").isGreaterThan(5);
    }

    @Test
    void aTimeoutOfThreeHundredYearsIsRefusedWithTheUnitToCheck() {
        assertThatThrownBy(() -> three().electionTimeout(Duration.ofDays(365 * 300)).build())
                .isInstanceOfSatisfying(RaftConfigException.class, e -> {
                    assertThat(e.problem()).isEqualTo("electionTimeout 109500 days is above the maximum of 1 min:"
                            + " the cluster would wait that long to replace a dead leader, and other nodes refuse a"
                            + " longer one in a leader's messages (a leader asks its followers to withhold their votes"
                            + " for its election timeout).");
                    assertThat(e.fix()).contains("check the unit");
                });
    }

    @Test
    void aBadElectionTimeoutAloneIsBlamedOnTheElectionTimeoutNotOnTheDerivedHeartbeat() {
        assertThatThrownBy(() -> three().electionTimeout(Duration.ofMillis(2)).config())
                .isInstanceOfSatisfying(RaftConfigException.class, e -> {
                    assertThat(e.problem()).startsWith("electionTimeout 2 ms is too short")
                            .contains("as heartbeatInterval is not set");
                    assertThat(e.fix()).contains("electionTimeout of at least 3 ms");
                });
        assertThatThrownBy(() -> three().electionTimeout(Duration.ofMillis(-300)).config())
                .isInstanceOfSatisfying(RaftConfigException.class,
                        e -> assertThat(e.problem()).startsWith("electionTimeout must be positive"));
        assertThat(three().electionTimeout(Duration.ofMillis(3)).config().heartbeatInterval())
                .isEqualTo(Duration.ofMillis(1));
    }

    @Test
    void aBadHeartbeatAloneIsBlamedOnTheHeartbeatNotOnTheDerivedElectionTimeout() {
        assertThatThrownBy(() -> three().heartbeatInterval(Duration.ofSeconds(25)).config())
                .isInstanceOfSatisfying(RaftConfigException.class, e -> {
                    assertThat(e.problem()).startsWith("heartbeatInterval 25000 ms gives an electionTimeout of 75 s")
                            .contains("as electionTimeout is not set");
                    assertThat(e.fix()).contains("at most 20000 ms");
                });
        assertThatThrownBy(() -> three().heartbeatInterval(Duration.ZERO).config())
                .isInstanceOfSatisfying(RaftConfigException.class,
                        e -> assertThat(e.problem()).startsWith("heartbeatInterval must be positive"));
        assertThat(three().heartbeatInterval(Duration.ofSeconds(20)).config().electionTimeout())
                .isEqualTo(Duration.ofSeconds(60));
    }

    @Test
    void theLargestTimingsAllowedAreAccepted() {
        RaftConfig c = three().heartbeatInterval(RaftConfig.MAX_HEARTBEAT_INTERVAL)
                .electionTimeout(RaftConfig.MAX_ELECTION_TIMEOUT).config();
        assertThat(c.electionTimeoutMax()).isEqualTo(Duration.ofSeconds(120));
        assertThat(c.leaseDuration()).isBetween(Duration.ofMillis(58_799), Duration.ofMillis(58_800));
    }

    @Test
    void theSnapshotByteBoundHasADefaultAndBounds() {
        assertThat(three().config().snapshotThresholdBytes()).isEqualTo(64L * 1024 * 1024);
        assertThat(three().snapshotThresholdBytes(64 * 1024).config().snapshotThresholdBytes()).isEqualTo(65_536);
        assertThat(three().snapshotThresholdBytes(1L << 40).config().snapshotThresholdBytes()).isEqualTo(1L << 40);
        assertThatThrownBy(() -> three().snapshotThresholdBytes(64 * 1024 - 1).config())
                .isInstanceOfSatisfying(RaftConfigException.class, e -> {
                    assertThat(e.problem()).contains("snapshotThresholdBytes 65535 is outside").contains("64 KiB to 1 TiB");
                    assertThat(e.fix()).contains("heap");
                });
        RaftConfig v = three().config();
        RaftConfig older = new RaftConfig(v.clusterId(), v.nodeId(), v.members(), v.dataDir(), v.heartbeatInterval(),
                v.electionTimeout(), v.clockDriftBound(), true, v.tls(), v.maxMessageBytes(), v.snapshotThreshold(), 5);
        assertThat(older.snapshotThresholdBytes()).isEqualTo(RaftConfig.DEFAULT_SNAPSHOT_THRESHOLD_BYTES);
        assertThat(older.promoteMaxLag()).isEqualTo(5);
    }

    @Test
    void thePendingProposalBoundHasADefaultAndBoundsAndOlderConstructorsKeepTheDefault() {
        assertThat(three().config().maxPendingProposals()).isEqualTo(RaftConfig.DEFAULT_MAX_PENDING_PROPOSALS)
                .isEqualTo(10_000);
        assertThat(three().maxPendingProposals(1).config().maxPendingProposals()).isEqualTo(1);
        assertThat(three().maxPendingProposals(10_000_000).config().maxPendingProposals()).isEqualTo(10_000_000);
        assertThatThrownBy(() -> three().maxPendingProposals(-5).config())
                .isInstanceOfSatisfying(RaftConfigException.class, e -> {
                    assertThat(e.problem()).contains("maxPendingProposals -5 is outside [1, 10000000]");
                    assertThat(e.fix()).contains("OverloadedException").contains("10000 (the default)");
                });
        RaftConfig v = three().snapshotThresholdBytes(1L << 20).config();
        RaftConfig older = new RaftConfig(v.clusterId(), v.nodeId(), v.members(), v.dataDir(), v.heartbeatInterval(),
                v.electionTimeout(), v.clockDriftBound(), true, v.tls(), v.maxMessageBytes(), v.snapshotThreshold(),
                v.promoteMaxLag(), v.snapshotThresholdBytes());
        assertThat(older.maxPendingProposals()).isEqualTo(RaftConfig.DEFAULT_MAX_PENDING_PROPOSALS);
        assertThat(older.snapshotThresholdBytes()).isEqualTo(1L << 20);
        assertThat(older).isEqualTo(v);
    }

    @ParameterizedTest
    @ValueSource(strings = {"256.1.1.1:7403", "10.0.0.300:7001", "1.2.3:7001", "1.2.3.4.5:7001", "010.0.0.1:7001",
            "10..0.1:7001", "[fd00::1::2]:7001", "[fd00:zz::1]:7001", "[1:2:3:4:5:6:7]:7001", "[1:2:3:4:5:6:7:8:9]:7001",
            "[::ffff:1.2.3.256]:7001", "[fe80::1%]:7001", "-db.example.com:7001", "db..example.com:7001",
            "db$1:7001", "[::1]x:7001"})
    void malformedHostsAreRefusedAtBuildWithTheReason(String address) {
        assertThatThrownBy(() -> three().member("n4", address).build())
                .isInstanceOfSatisfying(RaftConfigException.class, e -> {
                    assertThat(e.problem()).contains("\"n4\"");
                    assertThat(e.fix()).contains("e.g.");
                });
    }

    @Test
    void anIpv4PartAbove255IsExplained() {
        assertThatThrownBy(() -> RaftConfig.Member.parse("n4", "256.1.1.1:7403"))
                .isInstanceOfSatisfying(RaftConfigException.class, e -> assertThat(e.problem())
                        .isEqualTo("Member \"n4\" has an invalid host \"256.1.1.1\": its IPv4 part 256 is above 255."));
    }

    @ParameterizedTest
    @ValueSource(strings = {"10.0.0.1:7001", "0.0.0.0:7001", "255.255.255.255:7001", "[::1]:7001", "[::]:7001",
            "[fd00::2]:7001", "[fe80::1%eth0]:7001", "[::ffff:10.0.0.1]:7001", "[1:2:3:4:5:6:7:8]:7001",
            "[1:2:3:4:5:6:7::]:7001", "localhost:7001", "h:1", "db-1.example.com:7001", "db-1.example.com.:7001",
            "my_host:7001", "Host1:7001", "10.0.0.1a:7001", "1e100.net:443"})
    void wellFormedHostsAreAccepted(String address) {
        assertThat(RaftConfig.Member.parse("n4", address).address()).isEqualTo(address);
    }
}
