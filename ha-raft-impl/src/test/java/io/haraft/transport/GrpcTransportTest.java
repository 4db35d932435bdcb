package io.haraft.transport;

import io.haraft.core.Message;
import io.haraft.core.log.Entry;
import io.haraft.transport.TransportTesting.LogCapture;
import io.haraft.transport.TransportTesting.RecordingListener;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;

import static io.haraft.transport.TransportTesting.address;
import static io.haraft.transport.TransportTesting.awaitTrue;
import static io.haraft.transport.TransportTesting.everyMessageType;
import static io.haraft.transport.TransportTesting.freePort;
import static io.haraft.transport.TransportTesting.loopback;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** GrpcTransport over real sockets on loopback. */
class GrpcTransportTest {

    private static final String CLUSTER = "orders";

    private final List<GrpcTransport> started = new ArrayList<>();

    @AfterEach
    void closeAll() {
        started.forEach(GrpcTransport::close);
    }

    private GrpcTransportConfig.Builder config(String self, int port, Map<String, Integer> peers) {
        GrpcTransportConfig.Builder b = GrpcTransportConfig.builder()
                .clusterId(CLUSTER).selfId(self).listenAddress(loopback(port))
                .reconnectBackoff(Duration.ofMillis(20), Duration.ofMillis(200));
        peers.forEach((id, p) -> {
            if (!id.equals(self)) {
                b.peer(id, address(p));
            }
        });
        return b;
    }

    private GrpcTransport start(GrpcTransportConfig config, RecordingListener listener) {
        GrpcTransport t = GrpcTransport.create(config);
        started.add(t);
        t.start(listener);
        return t;
    }

    private static Map<String, Integer> ports(String... ids) {
        Map<String, Integer> ports = new LinkedHashMap<>();
        for (String id : ids) {
            ports.put(id, freePort());
        }
        return ports;
    }

    @Test
    void threeTransportsExchangeEveryMessageTypeInOrder() {
        Map<String, Integer> ports = ports("n1", "n2", "n3");
        Map<String, RecordingListener> listeners = new LinkedHashMap<>();
        Map<String, GrpcTransport> transports = new LinkedHashMap<>();
        for (String id : ports.keySet()) {
            listeners.put(id, new RecordingListener());
            transports.put(id, start(config(id, ports.get(id), ports).build(), listeners.get(id)));
        }
        Map<String, List<Message>> expected = new LinkedHashMap<>();
        for (String from : ports.keySet()) {
            for (String to : ports.keySet()) {
                if (!from.equals(to)) {
                    List<Message> batch = everyMessageType(from, to, 5);
                    batch.forEach(transports.get(from)::send);
                    expected.put(from + "->" + to, batch);
                }
            }
        }
        expected.forEach((link, batch) -> {
            String from = link.substring(0, 2);
            String to = link.substring(4);
            RecordingListener l = listeners.get(to);
            awaitTrue("all messages of " + link + " arrive", () -> l.from(from).size() >= batch.size());
            assertThat(l.from(from)).as(link).containsExactlyElementsOf(batch);
        });
        for (GrpcTransport t : transports.values()) {
            assertThat(t.stats().messagesReceived()).isEqualTo(18);
            assertThat(t.stats().messagesSent()).isEqualTo(18);
            assertThat(t.stats().streamsRejected()).isZero();
            assertThat(t.stats().connectedPeers()).hasSize(2);
        }
    }

    @Test
    void lastHeardSaysWhenAPeerWasHeardAndWhetherItsProcessHasGoneSince() {
        Map<String, Integer> ports = ports("n1", "n2");
        RecordingListener l1 = new RecordingListener();
        GrpcTransport n1 = start(config("n1", ports.get("n1"), ports).build(), l1);
        assertThat(n1.lastHeard("n2")).as("never heard").isEmpty();
        GrpcTransport n2 = start(config("n2", ports.get("n2"), ports).build(), new RecordingListener());
        n2.setDrained(true);
        n2.send(new Message.Heartbeat("n2", "n1", 7, 1, 1));
        l1.awaitMessage("n2's heartbeat", m -> m.term() == 7);
        GrpcTransport.PeerSignal heard = n1.lastHeard("n2").orElseThrow();
        assertThat(heard.drained()).as("n2 said it is drained").isTrue();
        assertThat(heard.refusedSince()).isFalse();

        // n2's process goes away: n1's next connection to it is refused, and lastHeard says so.
        n2.close();
        n1.send(new Message.Heartbeat("n1", "n2", 8, 1, 1));
        awaitTrue("n1's connection to n2 is refused", () -> l1.refusedCount("n2") >= 1);
        awaitTrue("lastHeard says a connection was refused since", () -> n1.lastHeard("n2").orElseThrow().refusedSince());

        // Heard again: no longer.
        GrpcTransport back = start(config("n2", ports.get("n2"), ports).build(), new RecordingListener());
        back.send(new Message.Heartbeat("n2", "n1", 9, 1, 1));
        l1.awaitMessage("the restarted n2's heartbeat", m -> m.term() == 9);
        awaitTrue("heard again: nothing refused since", () -> !n1.lastHeard("n2").orElseThrow().refusedSince());
        assertThat(n1.lastHeard("n2").orElseThrow().drained()).as("a restarted node is not drained").isFalse();
    }

    @Test
    void messagesQueuedBeforeThePeerListensAreDeliveredWhenItComesUp() {
        Map<String, Integer> ports = ports("n1", "n2");
        GrpcTransport n1 = start(config("n1", ports.get("n1"), ports).build(), new RecordingListener());
        List<Message> early = everyMessageType("n1", "n2", 3);
        early.forEach(n1::send);
        RecordingListener l2 = new RecordingListener();
        start(config("n2", ports.get("n2"), ports).build(), l2);
        awaitTrue("queued messages arrive", () -> l2.messages().size() >= early.size());
        assertThat(l2.messages()).containsExactlyElementsOf(early);
    }

    @Test
    void wrongClusterIdIsRejectedAndLoggedAndNothingIsDelivered() {
        Map<String, Integer> ports = ports("n1", "n2");
        RecordingListener l1 = new RecordingListener();
        GrpcTransport n1 = start(config("n1", ports.get("n1"), ports).build(), l1);
        try (LogCapture logs = new LogCapture()) {
            // Claims to be n2, but of another cluster.
            GrpcTransport stranger = start(config("n2", freePort(), ports).clusterId("billing").build(),
                    new RecordingListener());
            stranger.send(new Message.Heartbeat("n2", "n1", 666, 1, 1));
            awaitTrue("n1 rejects the stranger's stream", () -> n1.stats().streamsRejected() >= 1);
            awaitTrue("the rejection is logged", () -> logs.contains("WARN",
                    "cluster id mismatch: the sender 'n2' belongs to cluster 'billing', this node to cluster 'orders'"));
            awaitTrue("the stranger sees its attempt fail", () -> stranger.stats().failedAttempts() >= 1);
            assertThat(stranger.stats().connectedPeers()).isEmpty();
            assertThat(stranger.stats().connectionsRefused()).isZero();
        }
        // A legitimate n2 still gets through; the stranger's message never did.
        GrpcTransport n2 = start(config("n2", ports.get("n2"), ports).build(), new RecordingListener());
        n2.send(new Message.Heartbeat("n2", "n1", 7, 1, 1));
        l1.awaitMessage("the real n2's heartbeat", m -> m.term() == 7);
        assertThat(l1.messages()).noneMatch(m -> m.term() == 666);
        assertThat(n1.stats().messagesReceived()).isEqualTo(1);
    }

    @Test
    void unknownSenderIsRejectedAndLogged() {
        Map<String, Integer> ports = ports("n1", "n2");
        RecordingListener l1 = new RecordingListener();
        GrpcTransport n1 = start(config("n1", ports.get("n1"), ports).build(), l1);
        try (LogCapture logs = new LogCapture()) {
            GrpcTransport intruder = start(config("n9", freePort(), Map.of("n1", ports.get("n1"))).build(),
                    new RecordingListener());
            intruder.send(new Message.Vote("n9", "n1", 99, 100, 99, true));
            awaitTrue("n1 rejects n9", () -> n1.stats().streamsRejected() >= 1);
            awaitTrue("the rejection is logged", () -> logs.contains("WARN",
                    "unknown sender: 'n9' is not a member of cluster 'orders'"));

        }
        assertThat(l1.messages()).isEmpty();
        assertThat(n1.stats().messagesReceived()).isZero();
    }

    @Test
    void aLeaderThisNodeDoesNotKnowYetGetsThroughWhenAPeerListsItAndIsAnsweredAtThatAddress() {
        Map<String, Integer> ports = ports("n1", "n2", "n5");
        // n1 was away while n5 was added: it knows n2 only; n2 knows n1 and n5.
        RecordingListener l1 = new RecordingListener();
        GrpcTransport n1 = start(config("n1", ports.get("n1"), Map.of("n2", ports.get("n2"))).build(), l1);
        GrpcTransport n2 = start(config("n2", ports.get("n2"), ports).build(), new RecordingListener());
        RecordingListener l5 = new RecordingListener();
        // n5 listens on the wildcard address, so its header gives no address of its own: n1 answers it
        // where n2 says n5 is.
        GrpcTransport n5 = start(config("n5", ports.get("n5"), ports)
                .listenAddress(new java.net.InetSocketAddress(ports.get("n5"))).build(), l5);
        awaitTrue("n1 is connected to n2", () -> n1.stats().connectedPeers().contains("n2"));
        awaitTrue("n5's heartbeat reaches n1 once n2's list vouches for n5", () -> {
            n5.send(new Message.Heartbeat("n5", "n1", 9, 0, 1));
            return l1.received(m -> m.term() == 9 && m.from().equals("n5"));
        });
        n1.send(new Message.HeartbeatResponse("n1", "n5", 9, 1));
        l5.awaitMessage("n1's answer to the unknown leader", m -> m.term() == 9 && m.from().equals("n1"));

        // n2's configuration drops n5: n1 hears it from n2 and refuses n5 from then on.
        try (LogCapture logs = new LogCapture()) {
            n2.updatePeers(Map.of("n1", address(ports.get("n1"))));
            awaitTrue("n1 learns that no peer lists n5", () -> logs.contains("INFO", "No peer of node n1 lists n5"));
        }
        long before = n1.stats().streamsRejected();
        n5.send(new Message.Heartbeat("n5", "n1", 10, 0, 2));
        awaitTrue("n1 refuses n5", () -> n1.stats().streamsRejected() > before);
        assertThat(l1.messages()).noneMatch(m -> m.term() == 10);

        // n2 lists n5 again, but a configuration of n1's own that dropped n5 wins: refused for good.
        n1.updatePeers(Map.of("n2", address(ports.get("n2")), "n5", address(ports.get("n5"))));
        n1.updatePeers(Map.of("n2", address(ports.get("n2"))));
        n2.updatePeers(Map.of("n1", address(ports.get("n1")), "n5", address(ports.get("n5"))));
        long rejectedBefore = n1.stats().streamsRejected();
        n5.send(new Message.Heartbeat("n5", "n1", 11, 0, 3));
        awaitTrue("n1 refuses the n5 it dropped itself", () -> n1.stats().streamsRejected() > rejectedBefore);
        assertThat(l1.messages()).noneMatch(m -> m.term() == 11);
    }

    @Test
    void aStrangerWithTheRightClusterIdDeliversNothingNotEvenAHigherTermLeadersMessage() {
        Map<String, Integer> ports = ports("n1", "n2");
        RecordingListener l1 = new RecordingListener();
        GrpcTransport n1 = start(config("n1", ports.get("n1"), ports).build(), l1);
        start(config("n2", ports.get("n2"), ports).build(), new RecordingListener());
        awaitTrue("n1 is connected to n2", () -> n1.stats().connectedPeers().contains("n2"));
        RecordingListener l9 = new RecordingListener();
        try (LogCapture logs = new LogCapture()) {
            // n9 knows the cluster id and n1's address; neither n1 nor its peer n2 lists it.
            GrpcTransport n9 = start(config("n9", freePort(), Map.of("n1", ports.get("n1"))).build(), l9);
            n9.send(new Message.Heartbeat("n9", "n1", 99, 0, 1));
            n9.send(new Message.Append("n9", "n1", 99, 0, 0, List.of(), 0, 2));
            awaitTrue("n1 refuses n9's streams again and again", () -> n1.stats().streamsRejected() >= 3);
            awaitTrue("the refusal is logged", () -> logs.contains("WARN", "unknown sender: 'n9'")
                    && logs.contains("WARN", "none of those peers lists it"));
            awaitTrue("n9 hears that it is not a member to n1", () -> l9.rejectedAsNonMember.contains("n1"));
            assertThat(n9.stats().messagesSent()).as("no stream of n9 was ever accepted").isZero();
        }
        assertThat(l1.messages()).isEmpty();
        assertThat(n1.stats().messagesReceived()).isZero();
    }

    @Test
    void reconnectBackoffDoublesFromTheMinimumUpToTheMaximumWithBoundedJitter() {
        Duration min = Duration.ofMillis(50);
        Duration max = Duration.ofSeconds(2);
        long previous = 0;
        for (int failed = 0; failed < 64; failed++) {
            long expected = failed < 30 ? Math.min(2000, 50L << failed) : 2000;
            long middle = PeerLink.backoffMillis(failed, min, max, 0.5);   // jitter factor 1.0
            assertThat(middle).as("wait after %s failures", failed).isEqualTo(expected);
            assertThat(middle).as("never shrinks").isGreaterThanOrEqualTo(previous);
            previous = middle;
            assertThat(PeerLink.backoffMillis(failed, min, max, 0.0)).isEqualTo((long) (expected * 0.8));
            assertThat(PeerLink.backoffMillis(failed, min, max, 0.999_999))
                    .isBetween(expected, Math.min(2000, (long) (expected * 1.2)));
        }
        assertThat(PeerLink.backoffMillis(5, min, max, 0.5)).isEqualTo(1600);
        assertThat(PeerLink.backoffMillis(6, min, max, 0.999_999)).as("capped").isEqualTo(2000);
        assertThat(PeerLink.backoffMillis(Integer.MAX_VALUE, min, max, 0.5)).isEqualTo(2000);
        assertThat(PeerLink.backoffMillis(0, Duration.ofNanos(1), Duration.ofNanos(1), 0.0))
                .as("never less than 1 ms").isEqualTo(1);
    }

    @Test
    void attemptsToAnAbsentPeerBackOffToTheMaximumAndKeepComing() {
        Map<String, Integer> ports = ports("n1", "n2");   // n2 never starts: every attempt is refused
        GrpcTransport n1 = start(config("n1", ports.get("n1"), ports)
                .reconnectBackoff(Duration.ofMillis(5), Duration.ofMillis(40)).build(), new RecordingListener());
        // Waits of 5, 10, 20, then 40 ms (jitter: 32 to 40 ms) from the fourth failure on.
        awaitTrue("five failed attempts", () -> n1.stats().failedAttempts() >= 5);
        long seen = n1.stats().failedAttempts();
        long t0 = System.nanoTime();
        // Bounded: ten more attempts come well within the deadline (unbounded doubling from 40 ms would
        // need 40 s). Grown: each of the nine waits between them is at least 32 ms.
        awaitTrue("ten more attempts", () -> n1.stats().failedAttempts() >= seen + 10);
        long elapsed = System.nanoTime() - t0;
        assertThat(Duration.ofNanos(elapsed)).as("ten attempts at the maximum backoff")
                .isGreaterThanOrEqualTo(Duration.ofMillis(9 * 32));
        assertThat(n1.stats().connectionsRefused()).isGreaterThanOrEqualTo(seen + 10);
    }

    @Test
    void peersFollowTheConfigurationAddedNodesGetThroughAndRemovedOnesAreRefused() {
        Map<String, Integer> ports = ports("n1", "n2", "n4");
        RecordingListener l1 = new RecordingListener();
        GrpcTransport n1 = start(config("n1", ports.get("n1"), Map.of("n1", ports.get("n1"), "n2", ports.get("n2")))
                .build(), l1);
        RecordingListener l2 = new RecordingListener();
        GrpcTransport n2 = start(config("n2", ports.get("n2"), ports).build(), l2);
        RecordingListener l4 = new RecordingListener();
        GrpcTransport n4 = start(config("n4", ports.get("n4"), ports).build(), l4);
        try (LogCapture logs = new LogCapture()) {
            // n4 is not yet in n1's configuration: anything but a leader's message is refused, with a
            // message that says why.
            n4.send(new Message.PreVote("n4", "n1", 3, 0, 0));
            awaitTrue("n1 refuses n4", () -> n1.stats().streamsRejected() >= 1);
            awaitTrue("the refusal is logged", () -> logs.contains("WARN", "unknown sender: 'n4'")
                    && logs.contains("WARN", "a node added since is accepted once this node has the new configuration"));
            awaitTrue("n4 hears that n1 does not know it as a member", () -> l4.rejectedAsNonMember.contains("n1"));
            assertThat(l1.messages()).isEmpty();
            n1.send(new Message.Heartbeat("n1", "n4", 3, 0, 2));
            awaitTrue("n1 drops a message to a node it does not know", () -> n1.stats().messagesDropped() >= 1);
        }
        // n4 joins: n1 connects to it and accepts its (re)connecting stream.
        n1.updatePeers(Map.of("n2", address(ports.get("n2")), "n4", address(ports.get("n4"))));
        assertThat(n1.peers()).containsOnlyKeys("n2", "n4");
        n1.send(new Message.Heartbeat("n1", "n4", 3, 0, 3));
        l4.awaitMessage("n1's heartbeat to the new peer", m -> m.term() == 3 && m.from().equals("n1"));
        n4.send(new Message.Heartbeat("n4", "n1", 4, 0, 1));
        l1.awaitMessage("the new peer's heartbeat", m -> m.term() == 4 && m.from().equals("n4"));
        // n2 leaves: a last message queued before the update still goes out, then n2 is refused, also
        // on the stream it opened before.
        awaitTrue("n1 is connected to n2", () -> n1.stats().connectedPeers().contains("n2"));
        n2.send(new Message.Heartbeat("n2", "n1", 2, 0, 1));
        l1.awaitMessage("n2's stream is open", m -> m.term() == 2 && m.from().equals("n2"));
        n1.send(new Message.Heartbeat("n1", "n2", 5, 0, 1));
        n1.updatePeers(Map.of("n4", address(ports.get("n4"))));
        l2.awaitMessage("the last heartbeat to the removed peer", m -> m.term() == 5);
        long rejectedBefore = n1.stats().streamsRejected();
        n2.send(new Message.Heartbeat("n2", "n1", 6, 0, 1));
        awaitTrue("n1 refuses the removed n2", () -> n1.stats().streamsRejected() > rejectedBefore);
        awaitTrue("n2 hears that it is no longer a member to n1", () -> l2.rejectedAsNonMember.contains("n1"));
        assertThat(l1.messages()).noneMatch(m -> m.term() == 6);
        assertThat(n1.stats().connectedPeers()).containsExactly("n4");
        assertThatThrownBy(() -> n1.updatePeers(Map.of("n1", address(ports.get("n1")))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("own id 'n1'");
        assertThatThrownBy(() -> n1.updatePeers(Map.of("n5", "nowhere")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'nowhere' of peer 'n5'");
    }

    @Test
    void streamAddressedToAnotherNodeIsRejected() {
        Map<String, Integer> ports = ports("n1", "n2", "n3");
        RecordingListener l1 = new RecordingListener();
        GrpcTransport n1 = start(config("n1", ports.get("n1"), ports).build(), l1);
        try (LogCapture logs = new LogCapture()) {
            // n2 believes n3 lives at n1's address.
            Map<String, Integer> wrong = new LinkedHashMap<>(ports);
            wrong.put("n3", ports.get("n1"));
            wrong.remove("n1");
            GrpcTransport n2 = start(config("n2", ports.get("n2"), wrong).build(), new RecordingListener());
            n2.send(new Message.Heartbeat("n2", "n3", 4, 1, 1));
            awaitTrue("n1 rejects a stream meant for n3", () -> n1.stats().streamsRejected() >= 1);
            awaitTrue("logged", () -> logs.contains("WARN", "receiver id mismatch"));
        }
        assertThat(l1.messages()).isEmpty();
    }

    @Test
    void sendersLearnTheReceiversLimitSplitAppendsToFitAndDropOnlyWhatCannotFit() {
        Map<String, Integer> ports = ports("n1", "n2");
        RecordingListener l2 = new RecordingListener();
        GrpcTransport n2 = start(config("n2", ports.get("n2"), ports).maxMessageBytes(64 * 1024).build(), l2);
        GrpcTransport n1 = start(config("n1", ports.get("n1"), ports).maxMessageBytes(1024 * 1024).build(),
                new RecordingListener());
        n1.send(new Message.Heartbeat("n1", "n2", 1, 0, 1));
        l2.awaitMessage("first heartbeat", m -> m instanceof Message.Heartbeat h && h.round() == 1);
        assertThat(n1.maxMessageBytesOf("n2")).as("learned from n2's Welcome").hasValue(64 * 1024);
        awaitTrue("n2 learns n1's limit from its header", () -> n2.maxMessageBytesOf("n1").isPresent());
        assertThat(n2.maxMessageBytesOf("n1")).hasValue(1024 * 1024);

        // Larger than the sender's own limit: dropped before it is written; the stream stays up.
        n1.send(append(2 * 1024 * 1024, 2));
        // Within the sender's limit but above the receiver's, one entry: dropped by the sender too,
        // instead of making the receiver reset the stream again and again.
        n1.send(append(200 * 1024, 3));
        // Several entries that fit one by one but not together: split into appends that fit.
        byte[] payload = new byte[40 * 1024];
        List<Entry> entries = List.of(Entry.command(5, 1, payload), Entry.command(6, 1, payload),
                Entry.command(7, 2, payload), Entry.command(8, 2, payload));
        n1.send(new Message.Append("n1", "n2", 2, 4, 1, entries, 6, 4));
        n1.send(new Message.Heartbeat("n1", "n2", 2, 0, 5));
        l2.awaitMessage("heartbeat after the appends", m -> m instanceof Message.Heartbeat h && h.round() == 5);
        assertThat(n1.stats().oversizedDropped()).isEqualTo(2);
        assertThat(n1.stats().failedAttempts()).as("no stream was reset").isZero();
        List<Message.Append> pieces = l2.messages().stream().filter(m -> m instanceof Message.Append)
                .map(m -> (Message.Append) m).toList();
        assertThat(pieces).hasSizeGreaterThan(1);
        assertThat(pieces.stream().flatMap(p -> p.entries().stream()).toList()).isEqualTo(entries);
        long prevIndex = 4;
        long prevTerm = 1;
        for (Message.Append p : pieces) {
            assertThat(p.prevIndex()).isEqualTo(prevIndex);
            assertThat(p.prevTerm()).isEqualTo(prevTerm);
            assertThat(p.term()).isEqualTo(2);
            assertThat(p.commit()).isEqualTo(6);
            assertThat(p.round()).isEqualTo(4);
            assertThat(MessageCodec.encode(p).getSerializedSize()).isLessThanOrEqualTo(64 * 1024);
            prevIndex = p.entries().get(p.entries().size() - 1).index();
            prevTerm = p.entries().get(p.entries().size() - 1).term();
        }
    }

    private static Message.Append append(int payloadBytes, long round) {
        return new Message.Append("n1", "n2", 1, 0, 0, List.of(Entry.command(1, 1, new byte[payloadBytes])), 0, round);
    }

    @Test
    void peerRestartReconnectsAndDeliveryResumes() {
        Map<String, Integer> ports = ports("n1", "n2");
        GrpcTransport n1 = start(config("n1", ports.get("n1"), ports).build(), new RecordingListener());
        RecordingListener before = new RecordingListener();
        GrpcTransport n2 = start(config("n2", ports.get("n2"), ports).build(), before);
        n1.send(new Message.Heartbeat("n1", "n2", 1, 0, 1));
        before.awaitMessage("heartbeat before restart", m -> m.term() == 1);

        n2.close();
        awaitTrue("n1 notices n2 is gone", () -> !n1.stats().connectedPeers().contains("n2"));

        RecordingListener after = new RecordingListener();
        start(config("n2", ports.get("n2"), ports).build(), after);
        awaitTrue("n1 reconnects to the restarted n2", () -> n1.stats().connectedPeers().contains("n2"));
        for (int round = 2; round <= 4; round++) {
            n1.send(new Message.Heartbeat("n1", "n2", 2, 0, round));
        }
        awaitTrue("three heartbeats after restart", () -> after.messages().size() >= 3);
        assertThat(after.messages()).extracting(m -> ((Message.Heartbeat) m).round()).containsExactly(2L, 3L, 4L);
    }

    @Test
    void connectionRefusedFiresOnlyForThePeerWithoutListener() throws Exception {
        Map<String, Integer> ports = ports("n1", "n2", "n3");   // n3: nobody listens
        RecordingListener l1 = new RecordingListener();
        try (ServerSocket silent = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            // n4 listens at the TCP level but never answers (like a paused process): not refused.
            ports.put("n4", silent.getLocalPort());
            start(config("n2", ports.get("n2"), ports).build(), new RecordingListener());   // listening first
            GrpcTransport n1 = start(config("n1", ports.get("n1"), ports).build(), l1);
            awaitTrue("refused fires for n3 repeatedly", () -> l1.refusedCount("n3") >= 3);
            awaitTrue("n1 is connected to n2", () -> n1.stats().connectedPeers().contains("n2"));
            assertThat(l1.refusedCount("n2")).isZero();
            assertThat(l1.refusedCount("n4")).isZero();
            assertThat(n1.stats().connectionsRefused()).isEqualTo(l1.refusedCount("n3"));
        }
    }

    @Test
    void connectionRefusedFiresAfterAPeerStopsListening() {
        Map<String, Integer> ports = ports("n1", "n2");
        RecordingListener l1 = new RecordingListener();
        GrpcTransport n2 = start(config("n2", ports.get("n2"), ports).build(), new RecordingListener());
        GrpcTransport n1 = start(config("n1", ports.get("n1"), ports).build(), l1);   // n2 already listens
        awaitTrue("connected", () -> n1.stats().connectedPeers().contains("n2"));
        assertThat(l1.refusedCount("n2")).isZero();
        long t0 = System.nanoTime();
        n2.close();
        awaitTrue("refused after n2 closed", () -> l1.refusedCount("n2") >= 1);
        // The first attempt after a broken stream is immediate: the fast path costs no backoff.
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(2));
    }

    @Test
    void refusedClassificationIgnoresTimeoutsTlsAndRejections() {
        var refused = new java.net.ConnectException("finishConnect(..) failed: Connection refused: /127.0.0.1:7001");
        assertThat(PeerLink.isConnectionRefused(io.grpc.Status.UNAVAILABLE.withCause(refused))).isTrue();
        assertThat(PeerLink.isConnectionRefused(io.grpc.Status.UNAVAILABLE.withCause(
                new RuntimeException("wrapped", refused)))).isTrue();
        assertThat(PeerLink.isConnectionRefused(io.grpc.Status.UNAVAILABLE.withCause(
                new io.grpc.netty.shaded.io.netty.channel.ConnectTimeoutException(
                        "connection timed out after 1000 ms: /10.0.0.9:7001")))).isFalse();
        assertThat(PeerLink.isConnectionRefused(io.grpc.Status.UNAVAILABLE.withCause(
                new java.net.ConnectException("connect(..) failed: No route to host")))).isFalse();
        assertThat(PeerLink.isConnectionRefused(io.grpc.Status.UNAVAILABLE.withCause(
                new javax.net.ssl.SSLHandshakeException("certificate_unknown")))).isFalse();
        assertThat(PeerLink.isConnectionRefused(io.grpc.Status.PERMISSION_DENIED.withCause(refused))).isFalse();
        assertThat(PeerLink.isConnectionRefused(io.grpc.Status.UNAVAILABLE)).isFalse();
    }

    @Test
    void sendNeverBlocksAndDropsTheOldestWhenTheQueueIsFull() {
        Map<String, Integer> ports = ports("n1", "n2");   // n2 never starts
        GrpcTransport n1 = start(config("n1", ports.get("n1"), ports).sendQueueCapacity(3).build(),
                new RecordingListener());
        for (int round = 1; round <= 10; round++) {
            n1.send(new Message.Heartbeat("n1", "n2", 1, 0, round));
        }
        assertThat(n1.stats().messagesDropped()).isEqualTo(7);
        RecordingListener l2 = new RecordingListener();
        start(config("n2", ports.get("n2"), ports).build(), l2);
        awaitTrue("the newest three arrive", () -> l2.messages().size() >= 3);
        assertThat(l2.messages()).extracting(m -> ((Message.Heartbeat) m).round()).containsExactly(8L, 9L, 10L);
    }

    @Test
    void sendToUnknownPeerOrFromAnotherNodeIsDropped() {
        Map<String, Integer> ports = ports("n1", "n2");
        GrpcTransport n1 = start(config("n1", ports.get("n1"), ports).build(), new RecordingListener());
        n1.send(new Message.Heartbeat("n1", "n7", 1, 0, 1));
        n1.send(new Message.Heartbeat("n3", "n2", 1, 0, 1));
        assertThat(n1.stats().messagesDropped()).isEqualTo(2);
    }

    @Test
    void lifecycle() {
        Map<String, Integer> ports = ports("n1", "n2");
        GrpcTransport n1 = GrpcTransport.create(config("n1", ports.get("n1"), ports).build());
        assertThatThrownBy(n1::localAddress).isInstanceOf(IllegalStateException.class);
        n1.start(new RecordingListener());
        assertThat(n1.localAddress().getPort()).isEqualTo(ports.get("n1"));
        assertThatThrownBy(() -> n1.start(new RecordingListener())).isInstanceOf(IllegalStateException.class);
        n1.close();
        n1.close();
        n1.send(new Message.Heartbeat("n1", "n2", 1, 0, 1));
        assertThatThrownBy(() -> n1.start(new RecordingListener())).isInstanceOf(IllegalStateException.class);
        // The port is free again: stop-listening really happened.
        GrpcTransport again = start(config("n1", ports.get("n1"), ports).build(), new RecordingListener());
        assertThat(again.localAddress().getPort()).isEqualTo(ports.get("n1"));
    }

    @Test
    void portZeroPicksAFreePort() {
        GrpcTransport t = start(config("n1", 0, Map.of("n2", freePort())).build(), new RecordingListener());
        assertThat(t.localAddress().getPort()).isPositive();
    }

    @Test
    void bindFailureIsReportedAndReleasesEverything() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            GrpcTransport t = GrpcTransport.create(config("n1", taken.getLocalPort(), Map.of("n2", freePort())).build());
            assertThatThrownBy(() -> t.start(new RecordingListener()))
                    .isInstanceOf(java.io.UncheckedIOException.class)
                    .hasMessageStartingWith("Node n1 cannot listen on 127.0.0.1:" + taken.getLocalPort()
                            + ": the address is already in use")
                    .hasMessageContaining("give node n1 a free port in its member address");
            t.close();
        }
    }

    @Test
    void closeFlushesQueuedMessagesOnAcceptedStreams() {
        Map<String, Integer> ports = ports("n1", "n2");
        RecordingListener l2 = new RecordingListener();
        start(config("n2", ports.get("n2"), ports).build(), l2);
        GrpcTransport n1 = start(config("n1", ports.get("n1"), ports).build(), new RecordingListener());
        awaitTrue("connected", () -> n1.stats().connectedPeers().contains("n2"));
        n1.send(new Message.TimeoutNow("n1", "n2", 9));
        n1.close();
        l2.awaitMessage("TimeoutNow sent just before close", m -> m instanceof Message.TimeoutNow);
    }

    @Test
    void configIsValidated() {
        UnaryOperator<GrpcTransportConfig.Builder> base = b -> b.clusterId("c").selfId("n1").listenAddress(loopback(1));
        assertThatThrownBy(() -> base.apply(GrpcTransportConfig.builder()).peer("n1", "h:1").build())
                .hasMessageContaining("own id");
        assertThatThrownBy(() -> base.apply(GrpcTransportConfig.builder()).peer("n2", "nohost").build())
                .hasMessageContaining("host:port");
        assertThatThrownBy(() -> base.apply(GrpcTransportConfig.builder()).peer("n2", "h:70000").build())
                .hasMessageContaining("host:port");
        assertThatThrownBy(() -> base.apply(GrpcTransportConfig.builder()).maxMessageBytes(1000).build())
                .hasMessageContaining("maxMessageBytes");
        assertThatThrownBy(() -> base.apply(GrpcTransportConfig.builder())
                .reconnectBackoff(Duration.ofSeconds(2), Duration.ofSeconds(1)).build())
                .hasMessageContaining("reconnectBackoffMax");
        assertThatThrownBy(() -> base.apply(GrpcTransportConfig.builder()).sendQueueCapacity(0).build())
                .hasMessageContaining("sendQueueCapacity");
        GrpcTransportConfig ok = base.apply(GrpcTransportConfig.builder()).peer("n2", "[::1]:7002").build();
        assertThat(ok.maxMessageBytes()).isEqualTo(4 * 1024 * 1024);
        assertThat(ok.peerAddress("n2").getHostString()).isEqualTo("::1");
        assertThat(ok.peers()).isEqualTo(Map.of("n2", "[::1]:7002"));
        assertThat(Set.copyOf(ok.peers().keySet())).containsExactly("n2");
    }

    @Test
    void configFromRaftConfigTakesClusterNodePeersAndLimits(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        io.haraft.RaftConfig raft = io.haraft.RaftNode.builder()
                .clusterId("orders").nodeId("n2")
                .member("n1", "10.0.0.1:7001").member("n2", "10.0.0.2:7002").member("n3", "[::1]:7003")
                .dataDir(dir).maxMessageBytes(128 * 1024)
                .config();
        GrpcTransportConfig c = GrpcTransportConfig.from(raft);
        assertThat(c.clusterId()).isEqualTo("orders");
        assertThat(c.selfId()).isEqualTo("n2");
        assertThat(c.listenAddress().getPort()).isEqualTo(7002);
        assertThat(c.listenAddress().getHostString()).isEqualTo("10.0.0.2");
        assertThat(c.peers()).containsExactly(Map.entry("n1", "10.0.0.1:7001"), Map.entry("n3", "[::1]:7003"));
        assertThat(c.maxMessageBytes()).isEqualTo(128 * 1024);
        assertThat(c.tls()).isEmpty();
        // a healed link is usable within an election timeout (300 ms by default)
        assertThat(c.reconnectBackoffMax()).isEqualTo(Duration.ofMillis(150));
        assertThat(c.connectTimeout()).isEqualTo(Duration.ofMillis(300));
    }

    // ------------------------------------------------------------------ cluster identity

    /** Two transports n1 and n2 of cluster "orders"; each learns {@code id1} / {@code id2} (null: none) before it starts. */
    private GrpcTransport[] pairWithIdentities(java.util.UUID id1, java.util.UUID id2, RecordingListener l1,
                                               RecordingListener l2) {
        Map<String, Integer> ports = ports("n1", "n2");
        GrpcTransport n1 = GrpcTransport.create(config("n1", ports.get("n1"), ports).build());
        GrpcTransport n2 = GrpcTransport.create(config("n2", ports.get("n2"), ports).build());
        n1.learnClusterUuid(id1);
        n2.learnClusterUuid(id2);
        started.add(n1);
        started.add(n2);
        n1.start(l1);
        n2.start(l2);
        return new GrpcTransport[] {n1, n2};
    }

    private static long identityRefusalsLogged(LogCapture logs, String node) {
        return logs.lines().stream().filter(l -> l.contains("WARN") && l.contains("Refused a stream to node " + node)
                && l.contains("cluster identity mismatch")).count();
    }

    @Test
    void streamsBetweenTwoClusterIncarnationsAreRefusedBothWaysWithOneWarnEachNamingBoth() {
        java.util.UUID a = java.util.UUID.randomUUID();
        java.util.UUID b = java.util.UUID.randomUUID();
        RecordingListener l1 = new RecordingListener();
        RecordingListener l2 = new RecordingListener();
        try (LogCapture logs = new LogCapture()) {
            GrpcTransport[] t = pairWithIdentities(a, b, l1, l2);
            t[0].send(new Message.Heartbeat("n1", "n2", 5, 1, 1));
            t[1].send(new Message.Heartbeat("n2", "n1", 7, 1, 1));
            // both keep reconnecting (backoff 20..200 ms) and are refused every time
            awaitTrue("both refuse several streams", () -> t[0].stats().streamsRejected() >= 3
                    && t[1].stats().streamsRejected() >= 3);
            assertThat(l1.messages()).as("delivered to n1").isEmpty();
            assertThat(l2.messages()).as("delivered to n2").isEmpty();
            assertThat(t[0].stats().connectedPeers()).isEmpty();
            assertThat(t[1].stats().connectedPeers()).isEmpty();
            String warn = logs.lines().stream().filter(l -> l.contains("Refused a stream to node n1")
                    && l.contains("cluster identity mismatch")).findFirst().orElseThrow();
            assertThat(warn).contains("WARN", "the sender 'n2' belongs to cluster incarnation " + b,
                    "this node to incarnation " + a, "move its data directory away", "new node id");
            assertThat(identityRefusalsLogged(logs, "n1")).as("rate limited: one WARN per minute").isEqualTo(1);
            assertThat(identityRefusalsLogged(logs, "n2")).as("rate limited: one WARN per minute").isEqualTo(1);
        }
    }

    @Test
    void theSameIncarnationOrANodeThatKnowsNoneYetIsAccepted() {
        java.util.UUID a = java.util.UUID.randomUUID();
        RecordingListener l1 = new RecordingListener();
        RecordingListener l2 = new RecordingListener();
        GrpcTransport[] same = pairWithIdentities(a, a, l1, l2);
        same[0].send(new Message.Heartbeat("n1", "n2", 5, 1, 1));
        l2.awaitMessage("n2 accepts n1 of the same incarnation", m -> m.term() == 5);
        RecordingListener l3 = new RecordingListener();
        RecordingListener l4 = new RecordingListener();
        GrpcTransport[] fresh = pairWithIdentities(null, a, l3, l4);
        fresh[0].send(new Message.Heartbeat("n1", "n2", 6, 1, 1));
        fresh[1].send(new Message.Heartbeat("n2", "n1", 6, 1, 1));
        l4.awaitMessage("a node that knows the identity accepts one that knows none", m -> m.term() == 6);
        l3.awaitMessage("a node that knows none accepts one that knows it", m -> m.term() == 6);
        assertThat(fresh[0].stats().streamsRejected() + fresh[1].stats().streamsRejected()).isZero();
    }

    @Test
    void learningTheIdentityClosesTheOpenStreamsOfAnotherBothWays() {
        java.util.UUID a = java.util.UUID.randomUUID();
        java.util.UUID b = java.util.UUID.randomUUID();
        RecordingListener l1 = new RecordingListener();
        RecordingListener l2 = new RecordingListener();
        try (LogCapture logs = new LogCapture()) {
            GrpcTransport[] t = pairWithIdentities(null, b, l1, l2);   // n1 knows none yet
            t[1].send(new Message.Heartbeat("n2", "n1", 5, 1, 1));
            t[0].send(new Message.Heartbeat("n1", "n2", 5, 1, 1));
            l1.awaitMessage("n1 accepts n2's stream while it knows no identity", m -> m.term() == 5);
            l2.awaitMessage("n2 accepts n1's stream, whose header carries none", m -> m.term() == 5);

            t[0].learnClusterUuid(a);   // n1's log committed another identity than n2's
            awaitTrue("n1 closes both streams with n2 and both refuse the next ones, again and again", () ->
                    t[0].stats().streamsRejected() >= 2 && t[1].stats().streamsRejected() >= 2);
            awaitTrue("no stream is up either way", () -> t[0].stats().connectedPeers().isEmpty()
                    && t[1].stats().connectedPeers().isEmpty());
            int before1 = l1.messages().size();
            int before2 = l2.messages().size();
            t[1].send(new Message.Heartbeat("n2", "n1", 9, 1, 1));
            t[0].send(new Message.Heartbeat("n1", "n2", 9, 1, 1));
            long rejected1 = t[0].stats().streamsRejected();
            long rejected2 = t[1].stats().streamsRejected();
            awaitTrue("later attempts are refused too", () -> t[0].stats().streamsRejected() >= rejected1 + 2
                    && t[1].stats().streamsRejected() >= rejected2 + 2);
            assertThat(l1.messages()).hasSize(before1);
            assertThat(l2.messages()).hasSize(before2);
            assertThat(logs.contains("WARN", "this node to incarnation " + a)).isTrue();
            assertThat(t[0].clusterUuid()).contains(a);
        }
    }
}
