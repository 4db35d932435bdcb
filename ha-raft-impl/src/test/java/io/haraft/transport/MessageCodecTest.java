package io.haraft.transport;

import io.haraft.core.Message;
import io.haraft.core.log.Entry;
import io.haraft.transport.proto.EntryKind;
import io.haraft.transport.proto.RaftMessage;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MessageCodecTest {

    /** One of every message type, with distinct non-default values in every field. */
    static List<Message> everyMessageType() {
        byte[] binary = new byte[256];
        for (int i = 0; i < binary.length; i++) {
            binary[i] = (byte) i;
        }
        return List.of(
                new Message.PreVote("n1", "n2", 8, 41, 7),
                new Message.PreVoteResponse("n2", "n1", 8, true),
                new Message.PreVoteResponse("n2", "n1", 9, false),
                new Message.Vote("n1", "n3", 8, 41, 7, false),
                new Message.Vote("n1", "n3", 9, 41, 7, true),
                new Message.VoteResponse("n3", "n1", 8, true),
                new Message.Append("n1", "n2", 8, 40, 7,
                        List.of(Entry.noop(41, 8), Entry.command(42, 8, binary), Entry.command(43, 8, new byte[0])),
                        39, 17),
                new Message.Append("n1", "n2", 8, 43, 8, List.of(), 43, 18),
                new Message.Append("n1", "n2", 8, 43, 8, List.of(Entry.config(44, 8, io.haraft.core.quorum.Membership.of(
                        List.of(new io.haraft.core.quorum.Membership.Member("n1", "127.0.0.1:7001",
                                        io.haraft.core.quorum.Membership.Role.VOTER),
                                new io.haraft.core.quorum.Membership.Member("n4", "[::1]:7004",
                                        io.haraft.core.quorum.Membership.Role.WITNESS_LEARNER))))), 43, 18),
                new Message.AppendResponse("n2", "n1", 8, true, 43, 0, 0, 17),
                new Message.AppendResponse("n2", "n1", 8, false, 40, 35, 6, 18),
                new Message.Heartbeat("n1", "n3", 8, 43, 19),
                new Message.HeartbeatResponse("n3", "n1", 8, 19),
                new Message.TimeoutNow("n1", "n2", 8),
                new Message.TimeoutNow("n1", "n2", 8, true),
                new Message.InstallSnapshot("n1", "n4", 8, 500, 7, 0, new byte[0], true, 22,
                        io.haraft.core.quorum.Membership.ofVoters(List.of("n1", "n2", "n3"))),
                new Message.InstallSnapshot("n1", "n2", 8, 500, 7, 4096, binary, false, 20),
                new Message.InstallSnapshot("n1", "n2", 8, 500, 7, 8192, new byte[0], true, 21),
                new Message.InstallSnapshotResponse("n2", "n1", 8, 500, 8192, false, 20),
                new Message.InstallSnapshotResponse("n2", "n1", 8, 500, -1, true, 21),
                new Message.Heartbeat("n1", "n3", Long.MAX_VALUE, Long.MAX_VALUE - 1, Long.MAX_VALUE - 2),
                // the stickiness a leader relies on, and the one a follower echoes
                new Message.Append("n1", "n2", 8, 43, 8, List.of(), 43, 18, 1_000_000_000L),
                new Message.AppendResponse("n2", "n1", 8, true, 43, 0, 0, 17, 1_000_000_000L),
                new Message.Heartbeat("n1", "n3", 8, 43, 19, 300_000_000L),
                new Message.HeartbeatResponse("n3", "n1", 8, 19, 300_000_000L),
                new Message.InstallSnapshot("n1", "n2", 8, 500, 7, 0, binary, false, 20, null, 300_000_000L),
                new Message.InstallSnapshotResponse("n2", "n1", 8, 500, 8192, false, 20, 300_000_000L),
                // the leader's cluster identity with a snapshot, and the bootstrap no-op that carries it
                new Message.InstallSnapshot("n1", "n2", 8, 500, 7, 0, binary, true, 20, null, 0,
                        java.util.UUID.fromString("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0")),
                new Message.Append("n1", "n2", 1, 0, 0, List.of(Entry.of(1, 1, Entry.Kind.NOOP,
                        io.haraft.core.ClusterIdentity.encode(java.util.UUID.fromString(
                                "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0")))), 0, 1));
    }

    @Test
    void aClusterIdentityOfAnotherLengthIsRejected() {
        RaftMessage wire = MessageCodec.encode(new Message.InstallSnapshot("n1", "n2", 8, 500, 7, 0, new byte[0], true,
                20, null, 0, java.util.UUID.randomUUID()));
        RaftMessage cut = wire.toBuilder().setInstallSnapshot(wire.getInstallSnapshot().toBuilder()
                .setClusterUuid(com.google.protobuf.ByteString.copyFrom(new byte[7]))).build();
        assertThatThrownBy(() -> MessageCodec.decode(cut))
                .isInstanceOf(MessageCodec.MalformedMessageException.class)
                .hasMessageContaining("cluster identity of 7 bytes");
    }

    @ParameterizedTest
    @MethodSource("everyMessageType")
    void roundTripsThroughBytes(Message message) throws Exception {
        byte[] bytes = MessageCodec.encode(message).toByteArray();
        Message back = MessageCodec.decode(RaftMessage.parseFrom(bytes));
        assertThat(back).isEqualTo(message);
    }

    @Test
    void theTestCoversEveryMessageTypeAndEntryKind() {
        Set<Class<?>> covered = everyMessageType().stream().map(Object::getClass).collect(Collectors.toSet());
        assertThat(covered).containsExactlyInAnyOrder(Message.class.getPermittedSubclasses());
        Set<Entry.Kind> kinds = everyMessageType().stream()
                .filter(m -> m instanceof Message.Append)
                .flatMap(m -> ((Message.Append) m).entries().stream())
                .map(Entry::kind)
                .collect(Collectors.toCollection(() -> EnumSet.noneOf(Entry.Kind.class)));
        assertThat(kinds).containsExactlyInAnyOrder(Entry.Kind.values());
    }

    @Test
    void theDrainedFlagAndTheGroupAreInTheEnvelopeOnlyAndLeaveTheMessageAlone() {
        Message m = new Message.Heartbeat("n1", "n2", 7, 40, 12);
        RaftMessage plain = MessageCodec.encode(m, null, false);
        assertThat(plain).isEqualTo(MessageCodec.encode(m));
        assertThat(plain.getSenderDrained()).isFalse();
        RaftMessage drained = MessageCodec.encode(m, null, true);
        assertThat(drained.getSenderDrained()).isTrue();
        assertThat(drained.getGroup()).isEmpty();
        RaftMessage grouped = MessageCodec.encode(m, "g1", true);
        assertThat(grouped.getGroup()).isEqualTo("g1");
        assertThat(grouped.getSenderDrained()).isTrue();
        assertThat(MessageCodec.encode(m, "g1", false).getSenderDrained()).isFalse();
        for (RaftMessage wire : List.of(plain, drained, grouped)) {
            assertThat(MessageCodec.decode(wire)).isEqualTo(m);
        }
        // a node that knows nothing of drain sends no flag: absent reads as not drained
        assertThat(plain.getSerializedSize()).isLessThan(drained.getSerializedSize());
    }

    @Test
    void binaryPayloadSurvivesExactly() throws Exception {
        byte[] payload = {0, (byte) 0xff, (byte) 0x80, 0x7f, 0, 0, (byte) 0xc3, 0x28};
        Message.Append append = new Message.Append("a", "b", 2, 0, 0, List.of(Entry.command(1, 2, payload)), 0, 1);
        Message.Append back = (Message.Append) MessageCodec.decode(
                RaftMessage.parseFrom(MessageCodec.encode(append).toByteArray()));
        assertThat(back.entries().get(0).data()).containsExactly(payload);
        assertThat(back.entries().get(0).kind()).isEqualTo(Entry.Kind.COMMAND);
    }

    @Test
    void messageWithoutBodyIsRejected() {
        RaftMessage empty = RaftMessage.newBuilder().setFrom("n1").setTo("n2").setTerm(3).build();
        assertThatThrownBy(() -> MessageCodec.decode(empty))
                .isInstanceOf(MessageCodec.MalformedMessageException.class)
                .hasMessageContaining("no body");
    }

    @Test
    void entryOfUnknownKindOrInvalidPositionIsRejected() {
        RaftMessage unknownKind = MessageCodec.encode(
                new Message.Append("n1", "n2", 2, 0, 0, List.of(Entry.noop(1, 2)), 0, 1)).toBuilder()
                .setAppend(io.haraft.transport.proto.Append.newBuilder()
                        .addEntries(io.haraft.transport.proto.Entry.newBuilder()
                                .setIndex(1).setTerm(2).setKindValue(99)))
                .build();
        assertThatThrownBy(() -> MessageCodec.decode(unknownKind))
                .isInstanceOf(MessageCodec.MalformedMessageException.class)
                .hasMessageContaining("kind 99");
        RaftMessage unspecified = unknownKind.toBuilder()
                .setAppend(io.haraft.transport.proto.Append.newBuilder()
                        .addEntries(io.haraft.transport.proto.Entry.newBuilder().setIndex(1).setTerm(2)))
                .build();
        assertThatThrownBy(() -> MessageCodec.decode(unspecified))
                .isInstanceOf(MessageCodec.MalformedMessageException.class);
        RaftMessage zeroIndex = unknownKind.toBuilder()
                .setAppend(io.haraft.transport.proto.Append.newBuilder()
                        .addEntries(io.haraft.transport.proto.Entry.newBuilder()
                                .setIndex(0).setTerm(2).setKind(EntryKind.ENTRY_KIND_NOOP)))
                .build();
        assertThatThrownBy(() -> MessageCodec.decode(zeroIndex))
                .isInstanceOf(MessageCodec.MalformedMessageException.class)
                .hasMessageContaining("index");
    }
}
