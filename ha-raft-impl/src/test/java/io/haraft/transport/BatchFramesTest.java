package io.haraft.transport;

import io.grpc.Status;
import io.haraft.core.Message;
import io.haraft.transport.TransportTesting.RecordingListener;
import io.haraft.transport.proto.RaftMessage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static io.haraft.transport.TransportTesting.awaitTrue;
import static io.haraft.transport.TransportTesting.freePort;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Batch frames over real gRPC: periodic messages (heartbeats and their answers) to one peer wait
 * for each other and leave as one frame, anything else is written at once with what waits ahead
 * of it, a batch's messages are delivered one by one (one of a group the receiver does not host is
 * dropped alone), and a malformed batch closes the stream like any other bad frame.
 */
class BatchFramesTest {
    private static final int LIMIT = 64 * 1024;
    /** Longer than any test waits: a periodic message that is held arrives only when something flushes it. */
    private static final Duration FOREVER = Duration.ofHours(1);

    private final List<GrpcTransport> started = new CopyOnWriteArrayList<>();
    private int port1;
    private int port2;
    private RecordingListener l1;
    private GrpcTransport n1;
    private GrpcTransport n2;

    @BeforeEach
    void startTwoNodes() {
        port1 = freePort();
        port2 = freePort();
        l1 = new RecordingListener();
        n1 = start(TransportTesting.orders("n1", port1, "n2", port2, LIMIT), l1);
        n2 = start(TransportTesting.orders("n2", port2, "n1", port1, LIMIT), new RecordingListener());
    }

    @AfterEach
    void stop() {
        started.forEach(GrpcTransport::close);
    }

    private GrpcTransport start(GrpcTransportConfig config, RecordingListener listener) {
        GrpcTransport t = GrpcTransport.create(config);
        started.add(t);
        t.start(listener);
        return t;
    }

    /** n2's stream to n1 is accepted (and welcomed): a vote went through. */
    private void awaitConnected() {
        n2.send(new Message.Vote("n2", "n1", 1, 0, 0, false));
        l1.awaitMessage("n2's first vote", m -> m instanceof Message.Vote);
    }

    @Test
    void heartbeatsQueuedWithinTheLingerLeaveAsOneFrameInOrder() {
        awaitConnected();
        n2.coalescePeriodic(FOREVER);
        // A drain that the connection scheduled (or a stream becoming ready) writes whatever is
        // queued at that moment, held heartbeats included: an attempt it interferes with is
        // repeated. Each such drain happens once, so a few attempts suffice.
        for (int attempt = 0; attempt < 5; attempt++) {
            long term = 20 + attempt;
            long frames = n2.framesSent();
            long messages = n2.stats().messagesSent();
            long unknown = n1.unknownGroupMessages();
            for (int i = 1; i <= 10; i++) {
                n2.send("g" + i, new Message.Heartbeat("n2", "n1", term, 0, i));
            }
            boolean held = n2.framesSent() == frames;   // nothing written yet
            // a vote flushes them, ahead of itself, without waiting
            n2.send(new Message.Vote("n2", "n1", term, 0, 0, false));
            awaitTrue("ten heartbeats and the vote at n1",
                    () -> n1.unknownGroupMessages() - unknown == 10 && l1.received(m -> m.term() == term));
            long written = n2.framesSent() - frames;
            if (!held || written > 2) {
                continue;   // a drain of the connection's wrote some of them early
            }
            // RecordingListener hosts only the default group: it took the vote, the heartbeats of
            // groups g1..g10 were each dropped alone and counted
            assertThat(l1.messages().stream().filter(m -> m.term() == term)).hasSize(1);
            assertThat(n2.stats().messagesSent() - messages).isEqualTo(11);
            // the heartbeats in one batch frame, the vote alone in the next
            assertThat(written).as("frames for 11 messages").isEqualTo(2);
            return;
        }
        throw new AssertionError("the held heartbeats were written before the vote in every attempt");
    }

    @Test
    void aMessageOtherThanAHeartbeatNeverSharesAFrame() {
        awaitConnected();
        n2.coalescePeriodic(FOREVER);
        // As above: a drain the connection scheduled may write the first held heartbeat alone; an
        // attempt it interferes with (the heartbeats were not both still held) is repeated.
        for (int attempt = 0; attempt < 5; attempt++) {
            long term = 30 + attempt;
            long frames = n2.framesSent();
            n2.send("g1", new Message.Heartbeat("n2", "n1", term, 0, 1));
            n2.send("g2", new Message.Heartbeat("n2", "n1", term, 0, 2));
            boolean held = n2.framesSent() == frames;
            n2.send(new Message.Vote("n2", "n1", term, 0, 0, false));
            n2.send(new Message.Vote("n2", "n1", term, 0, 0, false));
            awaitTrue("both votes at n1", () -> l1.messages().stream().filter(m -> m.term() == term).count() == 2);
            if (!held) {
                continue;
            }
            // heartbeats g1+g2 as one frame (written by the first vote's drain, or by a scheduled
            // drain after both were queued), then each vote in a frame of its own
            assertThat(n2.framesSent() - frames).as("frames for 2 heartbeats and 2 votes").isEqualTo(3);
            return;
        }
        throw new AssertionError("a held heartbeat was written before the second was queued in every attempt");
    }

    @Test
    void heartbeatsOfTheDefaultGroupArriveInOrderInOneFrameAndTheLingerFlushesThem() {
        awaitConnected();
        n2.coalescePeriodic(Duration.ofMillis(5));
        long frames = n2.framesSent();
        for (int i = 1; i <= 5; i++) {
            n2.send(new Message.Heartbeat("n2", "n1", 3, 0, i));
        }
        awaitTrue("five heartbeats at n1", () -> l1.messages().stream().filter(m -> m.term() == 3).count() == 5);
        assertThat(l1.messages().stream().filter(m -> m.term() == 3).map(m -> ((Message.Heartbeat) m).round()))
                .containsExactly(1L, 2L, 3L, 4L, 5L);
        // written by the linger's flush; at most one frame per flush (the sends may straddle one),
        // plus one if a drain the connection scheduled wrote what was queued then
        assertThat(n2.framesSent() - frames).isBetween(1L, 3L);
    }

    @Test
    void withoutLingerEveryMessageIsWrittenAtOnce() {
        awaitConnected();
        long frames = n2.framesSent();
        n2.send(new Message.Heartbeat("n2", "n1", 4, 0, 1));
        awaitTrue("the heartbeat at n1", () -> l1.received(m -> m.term() == 4));
        assertThat(n2.framesSent() - frames).isEqualTo(1);
    }

    private static RaftMessage.Builder batchOf(Message... messages) {
        RaftMessage.Builder b = RaftMessage.newBuilder().setFrom("n2").setTo("n1");
        for (Message m : messages) {
            b.addBatch(MessageCodec.encode(m, null));
        }
        return b;
    }

    @Test
    void aBatchDeliversItsMessagesAndDropsOnlyTheOneOfAnUnknownGroup() {
        RaftMessage frame = RaftMessage.newBuilder().setFrom("n2").setTo("n1")
                .addBatch(MessageCodec.encode(new Message.Heartbeat("n2", "n1", 5, 0, 1), null))
                .addBatch(MessageCodec.encode(new Message.Heartbeat("n2", "n1", 5, 0, 2), "not-hosted"))
                .addBatch(MessageCodec.encode(new Message.Heartbeat("n2", "n1", 5, 0, 3), null))
                .build();
        Status status = TransportTesting.rawStream(port1, "orders", "n2", "n1", frame.toByteArray());
        assertThat(status.getCode()).isEqualTo(Status.Code.OK);
        assertThat(l1.messages().stream().filter(m -> m.term() == 5).map(m -> ((Message.Heartbeat) m).round()))
                .containsExactly(1L, 3L);
        assertThat(n1.unknownGroupMessages()).isEqualTo(1);
    }

    @Test
    void malformedBatchesCloseTheStreamAndDeliverNothingAfter() {
        Message hb = new Message.Heartbeat("n2", "n1", 6, 0, 1);
        List<RaftMessage> bad = List.of(
                batchOf(hb).setHeartbeat(io.haraft.transport.proto.Heartbeat.newBuilder()).build(),   // a body too
                batchOf(hb).setGroup("g").build(),                                                   // a group too
                batchOf(hb).setFrom("n3").build(),                                                   // another sender
                batchOf(hb).addBatch(batchOf(hb)).build(),                                           // nested
                batchOf(hb).addBatch(RaftMessage.newBuilder().setFrom("n2").setTo("n1")).build());  // no body
        for (RaftMessage frame : bad) {
            Status status = TransportTesting.rawStream(port1, "orders", "n2", "n1", frame.toByteArray(),
                    MessageCodec.encode(new Message.Heartbeat("n2", "n1", 7, 0, 1), null).toByteArray());
            assertThat(status.getCode()).as("%s", frame).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(status.getDescription()).as("%s", frame).containsAnyOf("batch", "no body", "malformed");
        }
        // the well-formed batches (first element) before the refusal of elements 4 and 5 were delivered;
        // nothing after a refused frame ever was
        assertThat(l1.received(m -> m.term() == 7)).isFalse();
    }

    @Test
    void anOversizedBatchIsRefusedLikeAnyOversizedFrame() {
        RaftMessage.Builder b = RaftMessage.newBuilder().setFrom("n2").setTo("n1");
        while (b.build().getSerializedSize() <= LIMIT * 2) {
            b.addBatch(MessageCodec.encode(new Message.Heartbeat("n2", "n1", 8, 0, 1), "some-group-name"));
        }
        Status status = TransportTesting.rawStream(port1, "orders", "n2", "n1", b.build().toByteArray());
        assertThat(status.getCode()).isIn(Status.Code.CANCELLED, Status.Code.RESOURCE_EXHAUSTED);
        assertThat(l1.received(m -> m.term() == 8)).isFalse();
    }

    /**
     * A bare gRPC server that answers as node n9 of cluster "orders" with {@code welcome}'s flags
     * (as a node of an older version does) and records every frame it gets.
     */
    private static io.grpc.Server olderPeer(int port, List<RaftMessage> frames,
                                            io.haraft.transport.proto.Welcome.Builder welcome) throws IOException {
        return io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder
                .forAddress(TransportTesting.loopback(port))
                .addService(new io.haraft.transport.proto.RaftTransportGrpc.RaftTransportImplBase() {
                    @Override
                    public io.grpc.stub.StreamObserver<RaftMessage> connect(
                            io.grpc.stub.StreamObserver<io.haraft.transport.proto.ServerFrame> out) {
                        out.onNext(io.haraft.transport.proto.ServerFrame.newBuilder().setWelcome(
                                welcome.setClusterId("orders").setNodeId("n9").setMaxMessageBytes(LIMIT)).build());
                        return new io.grpc.stub.StreamObserver<>() {
                            @Override
                            public void onNext(RaftMessage frame) {
                                frames.add(frame);
                            }

                            @Override
                            public void onError(Throwable t) {
                            }

                            @Override
                            public void onCompleted() {
                                out.onCompleted();
                            }
                        };
                    }
                }).build().start();
    }

    /**
     * A peer whose Welcome does not say it accepts batch frames (a node of an older version that
     * hosts groups): every message reaches it in a frame of its own, held heartbeats included,
     * and none of them waits for the linger.
     */
    @Test
    void aPeerThatDoesNotAcceptBatchesGetsEveryMessageAlone() throws Exception {
        int olderPort = freePort();
        List<RaftMessage> frames = new CopyOnWriteArrayList<>();
        io.grpc.Server older = olderPeer(olderPort, frames,
                io.haraft.transport.proto.Welcome.newBuilder().setAcceptsGroups(true));   // no accepts_batches
        try {
            GrpcTransport n3 = start(TransportTesting.orders("n3", freePort(), "n9", olderPort, LIMIT),
                    new RecordingListener());
            n3.coalescePeriodic(FOREVER);
            for (int i = 1; i <= 5; i++) {
                n3.send("g" + i, new Message.Heartbeat("n3", "n9", 1, 0, i));
            }
            awaitTrue("five heartbeats at the older peer", () -> frames.size() == 5);
            assertThat(frames).allSatisfy(f -> {
                assertThat(f.getBatchCount()).isZero();
                assertThat(f.hasHeartbeat()).isTrue();
            });
            assertThat(frames).extracting(RaftMessage::getGroup).containsExactly("g1", "g2", "g3", "g4", "g5");
        } finally {
            older.shutdownNow();
        }
    }

    /**
     * A peer whose Welcome says neither that it accepts batches nor that it reads groups (a node of
     * a version that hosts one group, which would take any group's message for its own): it gets
     * the default group's messages, alone, and never one that names a group, batched or not.
     */
    @Test
    void aPeerThatDoesNotReadGroupsGetsOnlyTheDefaultGroupsMessages() throws Exception {
        int olderPort = freePort();
        List<RaftMessage> frames = new CopyOnWriteArrayList<>();
        io.grpc.Server older = olderPeer(olderPort, frames, io.haraft.transport.proto.Welcome.newBuilder());
        try {
            GrpcTransport n3 = start(TransportTesting.orders("n3", freePort(), "n9", olderPort, LIMIT),
                    new RecordingListener());
            n3.coalescePeriodic(FOREVER);
            awaitTrue("n3 connected to n9", () -> n3.stats().connectedPeers().contains("n9"));
            long droppedBefore = n3.stats().messagesDropped();
            for (int i = 1; i <= 3; i++) {
                n3.send("g" + i, new Message.Heartbeat("n3", "n9", 1, 0, i));
                n3.send("g" + i, new Message.Vote("n3", "n9", 7, 0, 0, false));
                n3.send(new Message.Heartbeat("n3", "n9", 1, 0, 10 + i));
            }
            awaitTrue("three default-group heartbeats at the older peer", () -> frames.size() >= 3);
            awaitTrue("six messages of named groups dropped", () -> n3.stats().messagesDropped() - droppedBefore == 6);
            n3.send(new Message.Heartbeat("n3", "n9", 1, 0, 99));   // after the drops: the stream goes on
            awaitTrue("the last default-group heartbeat", () -> frames.size() == 4);
            assertThat(frames).allSatisfy(f -> {
                assertThat(f.getBatchCount()).isZero();
                assertThat(f.getGroup()).isEmpty();
                assertThat(f.hasHeartbeat()).isTrue();
            });
            assertThat(frames).extracting(f -> f.getHeartbeat().getRound()).containsExactly(11L, 12L, 13L, 99L);
        } finally {
            older.shutdownNow();
        }
    }

    /**
     * A peer that accepts batches but does not read groups: the named groups' messages are dropped
     * from the batching path too, and the default group's heartbeats still travel together.
     */
    @Test
    void aPeerThatBatchesButDoesNotReadGroupsGetsOnlyTheDefaultGroupsMessages() throws Exception {
        int olderPort = freePort();
        List<RaftMessage> frames = new CopyOnWriteArrayList<>();
        io.grpc.Server older = olderPeer(olderPort, frames,
                io.haraft.transport.proto.Welcome.newBuilder().setAcceptsBatches(true));   // no accepts_groups
        try {
            GrpcTransport n3 = start(TransportTesting.orders("n3", freePort(), "n9", olderPort, LIMIT),
                    new RecordingListener());
            awaitTrue("n3 connected to n9", () -> n3.stats().connectedPeers().contains("n9"));
            n3.coalescePeriodic(FOREVER);    // held until a message that is not periodic comes
            long droppedBefore = n3.stats().messagesDropped();
            n3.send("g1", new Message.Heartbeat("n3", "n9", 1, 0, 1));
            n3.send(new Message.Heartbeat("n3", "n9", 1, 0, 2));
            n3.send("g2", new Message.Heartbeat("n3", "n9", 1, 0, 3));
            n3.send(new Message.Heartbeat("n3", "n9", 1, 0, 4));
            n3.send("g3", new Message.Vote("n3", "n9", 7, 0, 0, false));   // not periodic: flushes the held ones
            awaitTrue("three messages of named groups dropped", () -> n3.stats().messagesDropped() - droppedBefore == 3);
            // (a drain the connection scheduled may have written the first held ones early: the
            // messages are checked whatever their framing)
            awaitTrue("both default-group heartbeats at the peer", () -> frames.stream()
                    .mapToInt(f -> f.getBatchCount() > 0 ? f.getBatchCount() : 1).sum() == 2);
            List<RaftMessage> received = frames.stream()
                    .flatMap(f -> f.getBatchCount() > 0 ? f.getBatchList().stream() : java.util.stream.Stream.of(f))
                    .toList();
            assertThat(received).extracting(RaftMessage::getGroup).containsExactly("", "");
            assertThat(received).extracting(m -> m.getHeartbeat().getRound()).containsExactly(2L, 4L);
        } finally {
            older.shutdownNow();
        }
    }
}
