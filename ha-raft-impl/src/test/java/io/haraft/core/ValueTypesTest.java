package io.haraft.core;

import io.haraft.core.log.Entry;
import io.haraft.core.quorum.Membership;
import io.haraft.core.read.ReadState;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The value types the core hands out and takes in: the limits a configuration accepts (each at
 * its exact edge), equality of the messages and chunks that carry bytes (by content, field by
 * field), what counts as something to persist, and which entries a witness stores whole.
 */
class ValueTypesTest {
    private static final long MS = 1_000_000L;
    private static final Membership THREE = Membership.ofVoters(List.of("n1", "n2", "n3"));
    private static final UUID CLUSTER = UUID.fromString("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");

    private static CoreConfig config(long heartbeat, long election, double drift, int batchEntries, long batchBytes,
                                     int inflight, long promoteMaxLag) {
        return new CoreConfig("n1", THREE, heartbeat, election, drift, batchEntries, batchBytes, inflight, true,
                promoteMaxLag);
    }

    @Test
    void aConfigurationIsAcceptedExactlyAtEachLimit() {
        CoreConfig c = config(100 * MS, 200 * MS, 0, 1, 1, 1, 0);
        assertThat(c.electionTimeoutNanos()).as("an election timeout of exactly two heartbeats").isEqualTo(200 * MS);
        assertThat(c.driftBound()).isZero();
        assertThat(c.promoteMaxLag()).isZero();
        assertThat(config(1, Bounds.MAX_STICKINESS_NANOS, 0.099, 1, 1, 1, 0).electionTimeoutNanos())
                .as("the longest election timeout a follower honours as stickiness")
                .isEqualTo(Bounds.MAX_STICKINESS_NANOS);
    }

    @Test
    void aConfigurationIsRefusedJustPastEachLimit() {
        assertThatThrownBy(() -> config(100 * MS, 200 * MS - 1, 0, 1, 1, 1, 0))
                .as("an election timeout shorter than two heartbeats").isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> config(0, 200 * MS, 0, 1, 1, 1, 0)).as("no heartbeat")
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> config(1, Bounds.MAX_STICKINESS_NANOS + 1, 0, 1, 1, 1, 0))
                .as("an election timeout no follower would honour").isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> config(100 * MS, 300 * MS, 0.1, 1, 1, 1, 0)).as("a drift bound of 10%")
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> config(100 * MS, 300 * MS, -0.001, 1, 1, 1, 0)).as("a negative drift bound")
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> config(100 * MS, 300 * MS, 0, 0, 1, 1, 0)).as("empty batches")
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> config(100 * MS, 300 * MS, 0, 1, 0, 1, 0)).as("batches of no bytes")
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> config(100 * MS, 300 * MS, 0, 1, 1, 0, 0)).as("no message in flight")
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> config(100 * MS, 300 * MS, 0, 1, 1, 1, -1)).as("a negative promotion lag")
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new CoreConfig("n4", THREE, 100 * MS, 300 * MS, 0, 1, 1, 1, true, 0))
                .as("a node outside the configuration").isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aConfigurationKeepsWhatItIsNotToldToChange() {
        CoreConfig c = CoreConfig.defaults("n1", List.of("n1", "n2", "n3"));
        assertThat(c.voters()).containsExactlyInAnyOrder("n1", "n2", "n3");
        CoreConfig lag = c.withPromoteMaxLag(7);
        assertThat(lag.promoteMaxLag()).isEqualTo(7);
        assertThat(lag.withPromoteMaxLag(CoreConfig.DEFAULT_PROMOTE_MAX_LAG)).isEqualTo(c);
        assertThat(c.withTimes(50 * MS, 150 * MS)).isEqualTo(new CoreConfig("n1", c.membership(), 50 * MS, 150 * MS,
                c.driftBound(), c.maxBatchEntries(), c.maxBatchBytes(), c.maxInflight(), c.fastFailover(),
                c.promoteMaxLag()));
    }

    @Test
    void aHardStateAcceptsTermAndStickinessZeroButNothingNegative() {
        assertThat(new HardState(0, null, 0)).isEqualTo(HardState.INITIAL);
        assertThatThrownBy(() -> new HardState(-1, null, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new HardState(1, null, -1)).isInstanceOf(IllegalArgumentException.class);
        HardState voted = new HardState(4, "n2", 900 * MS);
        assertThat(voted.withTerm(5)).as("a new term forgets the vote, keeps the promise")
                .isEqualTo(new HardState(5, null, 900 * MS));
    }

    private static Message.InstallSnapshot chunk(String from, String to, long term, long snapIndex, long snapTerm,
                                                 long offset, byte[] data, boolean last, long round,
                                                 Membership membership, long stickiness, UUID cluster) {
        return new Message.InstallSnapshot(from, to, term, snapIndex, snapTerm, offset, data, last, round, membership,
                stickiness, cluster);
    }

    @Test
    void snapshotChunksOnTheWireAreEqualByContentAndDifferInAnyField() {
        byte[] bytes = {1, 2, 3};
        Message.InstallSnapshot m = chunk("n1", "n2", 3, 10, 2, 0, bytes, true, 5, THREE, 900 * MS, CLUSTER);
        Message.InstallSnapshot same = chunk("n1", "n2", 3, 10, 2, 0, new byte[] {1, 2, 3}, true, 5,
                Membership.ofVoters(List.of("n1", "n2", "n3")), 900 * MS, CLUSTER);
        assertThat(m).isEqualTo(same);
        assertThat(m.hashCode()).isEqualTo(same.hashCode());
        bytes[0] = 9;
        assertThat(m).as("the bytes were copied on the way in").isEqualTo(same);
        m.data()[1] = 9;
        assertThat(m).as("and on the way out").isEqualTo(same);
        assertThat(m.size()).isEqualTo(3);

        List<Message.InstallSnapshot> others = List.of(
                chunk("n3", "n2", 3, 10, 2, 0, new byte[] {1, 2, 3}, true, 5, THREE, 900 * MS, CLUSTER),
                chunk("n1", "n3", 3, 10, 2, 0, new byte[] {1, 2, 3}, true, 5, THREE, 900 * MS, CLUSTER),
                chunk("n1", "n2", 4, 10, 2, 0, new byte[] {1, 2, 3}, true, 5, THREE, 900 * MS, CLUSTER),
                chunk("n1", "n2", 3, 11, 2, 0, new byte[] {1, 2, 3}, true, 5, THREE, 900 * MS, CLUSTER),
                chunk("n1", "n2", 3, 10, 3, 0, new byte[] {1, 2, 3}, true, 5, THREE, 900 * MS, CLUSTER),
                chunk("n1", "n2", 3, 10, 2, 1, new byte[] {1, 2, 3}, true, 5, THREE, 900 * MS, CLUSTER),
                chunk("n1", "n2", 3, 10, 2, 0, new byte[] {1, 2, 4}, true, 5, THREE, 900 * MS, CLUSTER),
                chunk("n1", "n2", 3, 10, 2, 0, new byte[] {1, 2, 3}, false, 5, THREE, 900 * MS, CLUSTER),
                chunk("n1", "n2", 3, 10, 2, 0, new byte[] {1, 2, 3}, true, 6, THREE, 900 * MS, CLUSTER),
                chunk("n1", "n2", 3, 10, 2, 0, new byte[] {1, 2, 3}, true, 5, null, 900 * MS, CLUSTER),
                chunk("n1", "n2", 3, 10, 2, 0, new byte[] {1, 2, 3}, true, 5, THREE, 0, CLUSTER),
                chunk("n1", "n2", 3, 10, 2, 0, new byte[] {1, 2, 3}, true, 5, THREE, 900 * MS, null));
        for (Message.InstallSnapshot other : others) {
            assertThat(m).as("differs from %s", other).isNotEqualTo(other);
        }
        assertThat(m).isNotEqualTo(new Message.Heartbeat("n1", "n2", 3, 0, 5, 900 * MS));
        Set<Integer> hashes = Stream.concat(Stream.of(m), others.stream()).map(Object::hashCode)
                .collect(Collectors.toSet());
        assertThat(hashes).as("the hash depends on the chunk's fields and bytes").hasSizeGreaterThan(8);
    }

    @Test
    void aSnapshotChunkOnTheWireSaysWhatItIs() {
        Message.InstallSnapshot last = chunk("n1", "n2", 3, 10, 2, 4, new byte[] {1, 2, 3}, true, 5, null, 0, CLUSTER);
        assertThat(last.toString()).contains("from=n1", "to=n2", "snap=10@2", "offset=4", "3B", ", last",
                "cluster=" + CLUSTER);
        Message.InstallSnapshot middle = new Message.InstallSnapshot("n1", "n2", 3, 10, 2, 0, new byte[2], false, 5);
        assertThat(middle.toString()).contains("2B").doesNotContain("last").doesNotContain("cluster=");
    }

    @Test
    void aReceivedSnapshotChunkIsEqualByContentAndSaysWhatItIs() {
        Ready.SnapshotChunk c = new Ready.SnapshotChunk(10, 2, 0, new byte[] {1, 2, 3}, true, THREE);
        Ready.SnapshotChunk same = new Ready.SnapshotChunk(10, 2, 0, new byte[] {1, 2, 3}, true,
                Membership.ofVoters(List.of("n1", "n2", "n3")));
        assertThat(c).isEqualTo(same).hasSameHashCodeAs(same);
        assertThat(c.size()).isEqualTo(3);
        List<Ready.SnapshotChunk> others = List.of(
                new Ready.SnapshotChunk(11, 2, 0, new byte[] {1, 2, 3}, true, THREE),
                new Ready.SnapshotChunk(10, 3, 0, new byte[] {1, 2, 3}, true, THREE),
                new Ready.SnapshotChunk(10, 2, 3, new byte[] {1, 2, 3}, true, THREE),
                new Ready.SnapshotChunk(10, 2, 0, new byte[] {1, 2, 4}, true, THREE),
                new Ready.SnapshotChunk(10, 2, 0, new byte[] {1, 2, 3}, false, THREE),
                new Ready.SnapshotChunk(10, 2, 0, new byte[] {1, 2, 3}, true));
        for (Ready.SnapshotChunk other : others) {
            assertThat(c).as("differs from %s", other).isNotEqualTo(other);
        }
        Set<Integer> hashes = Stream.concat(Stream.of(c), others.stream()).map(Object::hashCode)
                .collect(Collectors.toSet());
        assertThat(hashes).as("the hash depends on the chunk's fields and bytes").hasSizeGreaterThan(4);
        assertThat(c.toString()).contains("10@2", "offset=0", "3B", ", last", THREE.toString());
        assertThat(others.get(4).toString()).doesNotContain("last");
        assertThat(others.get(5).toString()).endsWith("3B, last]");
    }

    private static Ready ready(HardState hs, List<Entry> entries, List<Ready.SnapshotChunk> chunks,
                               Ready.SnapshotPoint install) {
        return new Ready(hs, entries, List.of(), List.of(), List.of(), List.of(), chunks, install, List.of(), null,
                null);
    }

    @Test
    void aReadyHasSomethingToPersistIfAnyDurablePartIsSet() {
        assertThat(ready(null, List.of(), List.of(), null).nothingToPersist()).isTrue();
        assertThat(new Ready(null, List.of(), List.of(new Message.Heartbeat("n1", "n2", 3, 0, 1, 0)),
                List.of(Entry.noop(1, 1)), List.of(), List.of(new ReadState(1, 1)), List.of(), null,
                List.of(new Ready.SnapshotRequest("n2", 5, 1, 0)), THREE, CLUSTER).nothingToPersist())
                .as("messages, commits, reads, requests, a configuration and the identity are not persisted here")
                .isTrue();
        assertThat(ready(new HardState(1, null), List.of(), List.of(), null).nothingToPersist()).isFalse();
        assertThat(ready(null, List.of(Entry.noop(1, 1)), List.of(), null).nothingToPersist()).isFalse();
        assertThat(ready(null, List.of(), List.of(new Ready.SnapshotChunk(5, 1, 0, new byte[1], false)), null)
                .nothingToPersist()).isFalse();
        assertThat(ready(null, List.of(), List.of(), new Ready.SnapshotPoint(5, 1)).nothingToPersist()).isFalse();
    }

    @Test
    void aReadAnswerFailedOnlyWithANegativeIndex() {
        assertThat(new ReadState(1, -1).failed()).isTrue();
        assertThat(new ReadState(1, 0).failed()).as("index 0: an empty log, still a confirmed read").isFalse();
        assertThat(new ReadState(1, 7).failed()).isFalse();
    }

    @Test
    void theClusterIdentityIsTheSixteenBytesOfTheFirstNoOpAndNothingElse() {
        byte[] b = ClusterIdentity.encode(CLUSTER);
        assertThat(b).containsExactly(0x0f, 0x1e, 0x2d, 0x3c, 0x4b, 0x5a, 0x69, 0x78, 0x87, 0x96, 0xa5, 0xb4, 0xc3,
                0xd2, 0xe1, 0xf0);
        assertThat(ClusterIdentity.decode(b)).isEqualTo(CLUSTER);
        UUID high = new UUID(-1L, Long.MIN_VALUE);
        assertThat(ClusterIdentity.decode(ClusterIdentity.encode(high))).isEqualTo(high);
        assertThatThrownBy(() -> ClusterIdentity.decode(new byte[15])).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ClusterIdentity.decode(new byte[17])).isInstanceOf(IllegalArgumentException.class);

        Entry first = ClusterIdentity.entry(3, CLUSTER);
        assertThat(first.index()).isEqualTo(1);
        assertThat(first.term()).isEqualTo(3);
        assertThat(ClusterIdentity.of(first)).isEqualTo(CLUSTER);
        assertThat(ClusterIdentity.of(Entry.of(2, 3, Entry.Kind.NOOP, b))).as("not index 1").isNull();
        assertThat(ClusterIdentity.of(Entry.of(1, 3, Entry.Kind.COMMAND, b))).as("a command").isNull();
        assertThat(ClusterIdentity.of(Entry.of(1, 3, Entry.Kind.CONFIG, b))).as("a configuration").isNull();
        assertThat(ClusterIdentity.of(Entry.noop(1, 3))).as("an older version's empty first no-op").isNull();
        assertThat(ClusterIdentity.of(Entry.of(1, 3, Entry.Kind.NOOP, new byte[17]))).isNull();
    }
}
