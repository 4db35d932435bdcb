package io.haraft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class RaftConfigTest {

    @TempDir
    Path tmp;

    private RaftNode.Builder three() {
        return three(tmp);
    }

    /** A valid three-voter builder for node n1 with its data under {@code dir/raft}. */
    static RaftNode.Builder three(Path dir) {
        return RaftNode.builder()
                .clusterId("orders")
                .nodeId("n1")
                .member("n1", "10.0.0.1:7001")
                .member("n2", "10.0.0.2:7001")
                .member("n3", "10.0.0.3:7001")
                .dataDir(dir.resolve("raft"));
    }

    private static RaftNode.Builder withMembers(Path dir, int n) {
        RaftNode.Builder b = RaftNode.builder().clusterId("c").nodeId("n1").dataDir(dir);
        for (int i = 1; i <= n; i++) {
            b.member("n" + i, "10.0.0." + i + ":7001");
        }
        return b;
    }

    private static RaftConfig config(String clusterId, String nodeId, List<RaftConfig.Member> members, Path dir,
                                     Duration hb, Duration et, double drift, int maxBytes, long snap) {
        return new RaftConfig(clusterId, nodeId, members, dir, hb, et, drift, true, Optional.empty(), maxBytes, snap);
    }

    private RaftConfig valid() {
        return three().config();
    }

    @Test
    void twoVotersAreRefusedWithTheReasonAndTheFix() {
        assertThatThrownBy(() -> withMembers(tmp, 2).config())
                .isInstanceOf(RaftConfigException.class)
                .hasMessageContaining("2 voters are configured [n1, n2]")
                .hasMessageContaining("a majority of 2 is 2")
                .hasMessageContaining("either node fails")
                .hasMessageContaining("Use 3 voters")
                .hasMessageContaining("witness")
                .satisfies(e -> assertThat(((RaftConfigException) e).fix()).contains("Use 3 voters"));
    }

    @Test
    void twoVotersAreRefusedWithTheWitnessSpelledOutForThem() {
        assertThatThrownBy(() -> withMembers(tmp, 2).config())
                .isInstanceOfSatisfying(RaftConfigException.class, e -> assertThat(e.fix())
                        .contains(".member(\"n1\", \"10.0.0.1:7001\").member(\"n2\", \"10.0.0.2:7001\")"
                                + ".witness(\"w1\", \"host3:port\")")
                        .contains("stores no data and never leads"));
    }

    @Test
    void twoVotersAndAWitnessAreAllowed() {
        RaftConfig c = withMembers(tmp, 2).witness("w1", "10.0.0.9:7001").config();
        assertThat(c.voters()).extracting(RaftConfig.Member::id).containsExactly("n1", "n2", "w1");
        assertThat(c.quorum()).isEqualTo(2);
        assertThat(c.member("w1").orElseThrow().role()).isEqualTo(MemberRole.WITNESS);
        assertThat(c.member("n1").orElseThrow().role()).isEqualTo(MemberRole.VOTER);
        RaftConfig witnessItself = withMembers(tmp, 2).witness("w1", "10.0.0.9:7001").nodeId("w1").config();
        assertThat(witnessItself.self().role()).isEqualTo(MemberRole.WITNESS);
    }

    @Test
    void aWitnessNeedsTwoDataVoters() {
        assertThatThrownBy(() -> withMembers(tmp, 1).witness("w1", "10.0.0.8:7001").witness("w2", "10.0.0.9:7001")
                .config())
                .isInstanceOf(RaftConfigException.class)
                .hasMessageContaining("Witnesses [w1, w2]")
                .hasMessageContaining("1 data voter(s) [n1]")
                .hasMessageContaining("at least 2 voters");
    }

    @Test
    void learnersDoNotCountAsVoters() {
        RaftConfig c = withMembers(tmp, 3).learner("n4", "10.0.0.4:7001").nodeId("n4").config();
        assertThat(c.voters()).hasSize(3);
        assertThat(c.quorum()).isEqualTo(2);
        assertThat(c.self().role()).isEqualTo(MemberRole.LEARNER);
        assertThat(c.peers()).extracting(RaftConfig.Member::id).containsExactly("n1", "n2", "n3");
        assertThatThrownBy(() -> withMembers(tmp, 2).learner("n3", "10.0.0.3:7001").config())
                .isInstanceOf(RaftConfigException.class)
                .hasMessageContaining("2 voters are configured [n1, n2]");
        assertThatThrownBy(() -> withMembers(tmp, 1).witness("w1", "10.0.0.3:7001").config())
                .isInstanceOf(RaftConfigException.class)
                .hasMessageContaining("2 voting members are configured [n1, w1]");
    }

    @Test
    void promoteMaxLagHasADefaultAndMustNotBeNegative() {
        assertThat(valid().promoteMaxLag()).isEqualTo(RaftConfig.DEFAULT_PROMOTE_MAX_LAG).isEqualTo(1000);
        assertThat(three().promoteMaxLag(0).config().promoteMaxLag()).isZero();
        assertThatThrownBy(() -> three().promoteMaxLag(-1).config())
                .isInstanceOf(RaftConfigException.class)
                .hasMessageContaining("promoteMaxLag -1 is negative");
    }

    @Test
    void memberRolesAreParsedAndShown() {
        RaftConfig.Member w = RaftConfig.Member.parse("w1", "[fd00::9]:7001", MemberRole.WITNESS);
        assertThat(w).isEqualTo(new RaftConfig.Member("w1", "fd00::9", 7001, MemberRole.WITNESS));
        assertThat(w.toString()).isEqualTo("w1@[fd00::9]:7001 (witness)");
        assertThat(new RaftConfig.Member("n1", "h", 1)).isEqualTo(new RaftConfig.Member("n1", "h", 1, MemberRole.VOTER));
        assertThat(new RaftConfig.Member("n1", "h", 1).toString()).isEqualTo("n1@h:1");
        assertThat(RaftConfig.Member.parse("j", "h:2", MemberRole.WITNESS_LEARNER).toString())
                .isEqualTo("j@h:2 (witness learner)");
        assertThatThrownBy(() -> new RaftConfig.Member("n1", "h", 1, null))
                .isInstanceOf(RaftConfigException.class).hasMessageContaining("has no role");
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 3, 4, 5, 6, 7})
    void oneAndThreeToSevenVotersAreAllowed(int n) {
        RaftConfig c = withMembers(tmp, n).config();
        assertThat(c.members()).hasSize(n);
        assertThat(c.quorum()).isEqualTo(n / 2 + 1);
        assertThat(c.isSingleNode()).isEqualTo(n == 1);
    }

    @Test
    void moreThanSevenVotersAreRefused() {
        assertThatThrownBy(() -> withMembers(tmp, 8).config())
                .isInstanceOf(RaftConfigException.class)
                .hasMessageContaining("8 voters")
                .hasMessageContaining("at most 7")
                .hasMessageContaining("Use 5 voters");
    }

    @Test
    void noMembersIsRefused() {
        assertThatThrownBy(() -> RaftNode.builder().clusterId("c").nodeId("n1").dataDir(tmp).config())
                .isInstanceOf(RaftConfigException.class)
                .hasMessageContaining("No members")
                .hasMessageContaining("member(id, \"host:port\")");
    }

    @Test
    void electionTimeoutBelowTwiceTheHeartbeatIsRefused() {
        assertThatThrownBy(() -> three().heartbeatInterval(Duration.ofMillis(100))
                .electionTimeout(Duration.ofMillis(199)).config())
                .isInstanceOf(RaftConfigException.class)
                .hasMessageContaining("electionTimeout 199 ms is less than 2 x heartbeatInterval (100 ms)")
                .hasMessageContaining("at least 200 ms")
                .hasMessageContaining("3 missed heartbeats, i.e. 300 ms");
    }

    @Test
    void electionTimeoutAboveSixtySecondsIsRefusedAndSixtyIsAllowed() {
        assertThatThrownBy(() -> three().electionTimeout(Duration.ofMillis(60_001)).config())
                .isInstanceOf(RaftConfigException.class)
                .hasMessageContaining("electionTimeout 60001 ms is above the maximum of 1 min")
                .hasMessageContaining("check the unit");
        assertThat(three().electionTimeout(Duration.ofSeconds(60)).config().electionTimeout())
                .isEqualTo(RaftConfig.MAX_ELECTION_TIMEOUT);
    }

    @Test
    void electionTimeoutOfExactlyTwiceTheHeartbeatIsAllowed() {
        RaftConfig c = three().heartbeatInterval(Duration.ofMillis(100)).electionTimeout(Duration.ofMillis(200))
                .config();
        assertThat(c.electionTimeout()).isEqualTo(Duration.ofMillis(200));
    }

    static Stream<Arguments> nonPositiveDurations() {
        return Stream.of(
                Arguments.of("heartbeatInterval", Duration.ZERO, Duration.ofMillis(300)),
                Arguments.of("heartbeatInterval", Duration.ofMillis(-100), Duration.ofMillis(300)),
                Arguments.of("electionTimeout", Duration.ofMillis(100), Duration.ZERO),
                Arguments.of("electionTimeout", Duration.ofMillis(100), Duration.ofMillis(-1)));
    }

    @ParameterizedTest
    @MethodSource("nonPositiveDurations")
    void nonPositiveDurationsAreRefused(String name, Duration hb, Duration et) {
        assertThatThrownBy(() -> three().heartbeatInterval(hb).electionTimeout(et).config())
                .isInstanceOf(RaftConfigException.class)
                .hasMessageContaining(name + " must be positive")
                .hasMessageContaining("Use a positive duration");
    }

    @Test
    void nullDurationsAreRefusedByTheRecord() {
        RaftConfig v = valid();
        assertThatThrownBy(() -> config("c", "n1", v.members(), tmp, null, v.electionTimeout(), 0.01,
                RaftConfig.DEFAULT_MAX_MESSAGE_BYTES, 10))
                .isInstanceOf(RaftConfigException.class)
                .hasMessageContaining("heartbeatInterval is missing");
    }

    @Test
    void subMillisecondHeartbeatIsRefused() {
        assertThatThrownBy(() -> three().heartbeatInterval(Duration.ofNanos(500_000))
                .electionTimeout(Duration.ofMillis(10)).config())
                .isInstanceOf(RaftConfigException.class)
                .hasMessageContaining("below the minimum of 1 ms");
    }

    @Test
    void duplicateNodeIdsAreRefused() {
        assertThatThrownBy(() -> three().member("n2", "10.0.0.9:7001").config())
                .isInstanceOf(RaftConfigException.class)
                .hasMessageContaining("Node id \"n2\" is configured twice (at 10.0.0.2:7001 and at 10.0.0.9:7001)")
                .hasMessageContaining("Give every member a unique id");
    }

    @Test
    void duplicateAddressesAreRefusedIgnoringHostCase() {
        assertThatThrownBy(() -> RaftNode.builder().clusterId("c").nodeId("a").dataDir(tmp)
                .member("a", "Host1:7001").member("b", "host1:7001").member("c", "host1:7002").config())
                .isInstanceOf(RaftConfigException.class)
                .hasMessageContaining("Members \"a\" and \"b\" have the same address")
                .hasMessageContaining("nodes on one host need different ports");
    }

    @Test
    void thisNodeMustBeAMember() {
        assertThatThrownBy(() -> three().nodeId("n9").config())
                .isInstanceOf(RaftConfigException.class)
                .hasMessageContaining("\"n9\" is not among the members [n1, n2, n3]")
                .hasMessageContaining("Add member(\"n9\", \"host:port\")");
    }

    @Test
    void missingOrBlankClusterIdIsRefused() {
        assertThatThrownBy(() -> three().clusterId("  ").config())
                .isInstanceOf(RaftConfigException.class)
                .hasMessageContaining("clusterId is blank")
                .hasMessageContaining("same name on every node");
        RaftNode.Builder noCluster = RaftNode.builder().nodeId("n1").member("n1", "h:1").dataDir(tmp);
        assertThatThrownBy(noCluster::config)
                .isInstanceOf(RaftConfigException.class)
                .hasMessageContaining("clusterId is missing");
    }

    @ParameterizedTest
    @ValueSource(strings = {"has space", "slash/id", "-leading", "x\ny", "ä"})
    void idsWithUnsafeCharactersAreRefused(String id) {
        assertThatThrownBy(() -> three().clusterId(id).config())
                .isInstanceOf(RaftConfigException.class)
                .hasMessageContaining("clusterId")
                .hasMessageContaining("letters, digits");
    }

    @Test
    void missingNodeIdIsRefused() {
        RaftNode.Builder b = RaftNode.builder().clusterId("c").member("n1", "h:1").dataDir(tmp);
        assertThatThrownBy(b::config)
                .isInstanceOf(RaftConfigException.class)
                .hasMessageContaining("nodeId is missing")
                .hasMessageContaining("must also appear in member(id, address)");
    }

    @ParameterizedTest
    @ValueSource(doubles = {-0.01, 0.1, 0.5, 1.0, Double.NaN, Double.POSITIVE_INFINITY})
    void driftBoundOutsideRangeIsRefused(double drift) {
        assertThatThrownBy(() -> three().clockDriftBound(drift).config())
                .isInstanceOf(RaftConfigException.class)
                .hasMessageContaining("clockDriftBound " + drift + " is outside [0, 0.1)")
                .hasMessageContaining("0.01 (the default) means clocks may run 1 % apart");
    }

    @ParameterizedTest
    @ValueSource(doubles = {0.0, 0.01, 0.099})
    void driftBoundInsideRangeIsAllowed(double drift) {
        assertThat(three().clockDriftBound(drift).config().clockDriftBound()).isEqualTo(drift);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, -1, 65535, 1024 * 1024 * 1024 + 1})
    void maxMessageBytesOutsideRangeIsRefused(int bytes) {
        assertThatThrownBy(() -> three().maxMessageBytes(bytes).config())
                .isInstanceOf(RaftConfigException.class)
                .hasMessageContaining("maxMessageBytes " + bytes)
                .hasMessageContaining("larger than your biggest command");
    }

    @Test
    void nonPositiveSnapshotThresholdIsRefused() {
        assertThatThrownBy(() -> three().snapshotThreshold(0).config())
                .isInstanceOf(RaftConfigException.class)
                .hasMessageContaining("snapshotThreshold 0 is not positive");
    }

    @Test
    void missingDataDirIsRefused() {
        RaftNode.Builder b = RaftNode.builder().clusterId("c").nodeId("n1").member("n1", "h:1");
        assertThatThrownBy(b::config)
                .isInstanceOf(RaftConfigException.class)
                .hasMessageContaining("No data directory")
                .hasMessageContaining("dataDir(");
    }

    @Test
    void nullTlsOptionalIsRefused() {
        RaftConfig v = valid();
        assertThatThrownBy(() -> new RaftConfig("c", "n1", v.members(), tmp, v.heartbeatInterval(),
                v.electionTimeout(), 0.01, true, null, RaftConfig.DEFAULT_MAX_MESSAGE_BYTES, 10))
                .isInstanceOf(RaftConfigException.class)
                .hasMessageContaining("Optional.empty()");
    }

    @Test
    void prepareDataDirCreatesMissingDirectoriesAndLeavesNoProbeBehind() throws IOException {
        Path dir = tmp.resolve("a/b/c");
        RaftConfig c = three().dataDir(dir).config();
        assertThat(dir).doesNotExist();            // config() does not touch the file system
        assertThat(c.prepareDataDir()).isSameAs(c);
        assertThat(dir).isDirectory();
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files).isEmpty();
        }
    }

    @Test
    void dataDirThatIsAFileIsRefused() throws IOException {
        Path file = Files.writeString(tmp.resolve("file"), "x");
        assertThatThrownBy(() -> three().dataDir(file).config().prepareDataDir())
                .isInstanceOf(RaftConfigException.class)
                .hasMessageContaining("exists but is not a directory")
                .hasMessageContaining("Point dataDir(...) at a directory");
    }

    @Test
    void dataDirThatCannotBeCreatedIsRefused() throws IOException {
        // A regular file in the way of the parent path: fails even for root, unlike permissions.
        Path file = Files.writeString(tmp.resolve("file"), "x");
        assertThatThrownBy(() -> three().dataDir(file.resolve("raft")).config().prepareDataDir())
                .isInstanceOf(RaftConfigException.class)
                .hasMessageContaining("cannot be created")
                .hasMessageContaining("write access")
                .hasCauseInstanceOf(IOException.class);
    }

    @Test
    void anExistingDataDirectoryThatCannotBeWrittenIsRefused() {
        // Tests run as root, whom permission bits do not stop. sysfs refuses to create a file in its
        // directories whoever asks, so /sys/kernel is an existing directory nobody can write to.
        Path readOnly = Path.of("/sys/kernel");
        assertThat(readOnly).as("this test needs Linux sysfs").isDirectory();
        assertThatThrownBy(() -> three().dataDir(readOnly).config().prepareDataDir())
                .isInstanceOf(RaftConfigException.class)
                .hasMessageContaining("The data directory " + readOnly + " is not writable")
                .hasMessageContaining("write access")
                .hasCauseInstanceOf(IOException.class);
    }

    @Test
    void derivedValues() {
        RaftConfig c = valid();
        assertThat(c.self()).isEqualTo(new RaftConfig.Member("n1", "10.0.0.1", 7001));
        assertThat(c.peers()).extracting(RaftConfig.Member::id).containsExactly("n2", "n3");
        assertThat(c.member("n3")).map(RaftConfig.Member::address).contains("10.0.0.3:7001");
        assertThat(c.member("n4")).isEmpty();
        assertThat(c.quorum()).isEqualTo(2);
        assertThat(c.electionTimeoutMax()).isEqualTo(Duration.ofMillis(600));
        assertThat(c.leaseDuration()).isEqualTo(Duration.ofMillis(294));   // 300 ms * (1 - 2 * 0.01)
        assertThat(three().clockDriftBound(0).config().leaseDuration()).isEqualTo(Duration.ofMillis(300));
        assertThat(c.dataDir()).isAbsolute();
    }

    @Test
    void membersAreCopiedAndUnmodifiable() {
        List<RaftConfig.Member> members = new java.util.ArrayList<>(valid().members());
        RaftConfig c = config("c", "n1", members, tmp, Duration.ofMillis(100), Duration.ofMillis(300), 0.01,
                RaftConfig.DEFAULT_MAX_MESSAGE_BYTES, 10);
        members.clear();
        assertThat(c.members()).hasSize(3);
        assertThatThrownBy(() -> c.members().clear()).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void memberAddressesParse() {
        assertThat(RaftConfig.Member.parse("a", "db1.example.com:7001"))
                .isEqualTo(new RaftConfig.Member("a", "db1.example.com", 7001));
        RaftConfig.Member v6 = RaftConfig.Member.parse("b", "[fd00::2]:7001");
        assertThat(v6.host()).isEqualTo("fd00::2");
        assertThat(v6.address()).isEqualTo("[fd00::2]:7001");
        assertThat(v6).hasToString("b@[fd00::2]:7001");
    }

    @ParameterizedTest
    @ValueSource(strings = {"10.0.0.1", "10.0.0.1:", "10.0.0.1:http", "fd00::1:7001", "[fd00::1]7001", ":7001",
            "10.0.0.1:0", "10.0.0.1:65536", "a b:7001"})
    void malformedAddressesAreRefusedWithAnExample(String address) {
        assertThatThrownBy(() -> RaftConfig.Member.parse("n1", address))
                .isInstanceOf(RaftConfigException.class)
                .hasMessageContaining("\"n1\"")
                .satisfies(e -> assertThat(((RaftConfigException) e).fix()).isNotBlank());
    }
}
