package io.haraft.transport;

import io.haraft.core.Message;
import io.haraft.transport.TransportTesting.RecordingListener;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static io.haraft.transport.TransportTesting.address;
import static io.haraft.transport.TransportTesting.awaitTrue;
import static io.haraft.transport.TransportTesting.freePort;
import static io.haraft.transport.TransportTesting.loopback;
import static org.assertj.core.api.Assertions.assertThat;

/** The test-only fault filter, over real gRPC transports. */
class FaultyTransportTest {

    private final List<Transport> started = new ArrayList<>();
    private final FaultyTransport.Faults faults = new FaultyTransport.Faults();
    private final Map<String, FaultyTransport> nodes = new LinkedHashMap<>();
    private final Map<String, RecordingListener> listeners = new LinkedHashMap<>();

    @AfterEach
    void closeAll() {
        started.forEach(Transport::close);
    }

    private void startCluster(String... ids) {
        Map<String, Integer> ports = new LinkedHashMap<>();
        for (String id : ids) {
            ports.put(id, freePort());
        }
        for (String id : ids) {
            GrpcTransportConfig.Builder b = GrpcTransportConfig.builder()
                    .clusterId("c").selfId(id).listenAddress(loopback(ports.get(id)));
            ports.forEach((peer, port) -> {
                if (!peer.equals(id)) {
                    b.peer(peer, address(port));
                }
            });
            FaultyTransport t = new FaultyTransport(GrpcTransport.create(b.build()), faults);
            RecordingListener l = new RecordingListener();
            started.add(t);
            t.start(l);
            nodes.put(id, t);
            listeners.put(id, l);
        }
    }

    private void send(String from, String to, long round) {
        nodes.get(from).send(new Message.Heartbeat(from, to, 1, 0, round));
    }

    private boolean got(String at, String from, long round) {
        return listeners.get(at).received(m -> m.from().equals(from) && ((Message.Heartbeat) m).round() == round);
    }

    @Test
    void partitionDropsBothWaysUntilHealed() {
        startCluster("n1", "n2", "n3");
        faults.partition(Set.of("n1"), Set.of("n2", "n3"));
        send("n1", "n2", 1);
        send("n2", "n1", 1);
        send("n2", "n3", 1);   // inside the majority side: delivered
        awaitTrue("n3 hears n2", () -> got("n3", "n2", 1));
        assertThat(nodes.get("n1").droppedOutbound()).isEqualTo(1);
        assertThat(nodes.get("n2").droppedOutbound()).isEqualTo(1);

        faults.heal();
        send("n1", "n2", 2);
        send("n2", "n1", 2);
        awaitTrue("n2 hears n1 after heal", () -> got("n2", "n1", 2));
        awaitTrue("n1 hears n2 after heal", () -> got("n1", "n2", 2));
        // What was sent during the partition never arrives.
        assertThat(got("n2", "n1", 1)).isFalse();
        assertThat(got("n1", "n2", 1)).isFalse();
        // The partition is loss, not a refused connection.
        assertThat(listeners.values()).allSatisfy(l -> assertThat(l.refusedCount("n1")).isZero());
    }

    @Test
    void oneWayDropLeavesTheOtherDirection() {
        startCluster("n1", "n2");
        faults.dropOneWay("n1", "n2");
        send("n1", "n2", 1);
        send("n2", "n1", 1);
        awaitTrue("n1 hears n2", () -> got("n1", "n2", 1));
        assertThat(nodes.get("n1").droppedOutbound()).isEqualTo(1);
        faults.restoreOneWay("n1", "n2");
        send("n1", "n2", 2);
        awaitTrue("n2 hears n1 once restored", () -> got("n2", "n1", 2));
        assertThat(got("n2", "n1", 1)).isFalse();
    }

    @Test
    void inboundFilterHoldsWhenOnlyTheReceiverIsWrapped() {
        int p1 = freePort();
        int p2 = freePort();
        FaultyTransport.Faults local = new FaultyTransport.Faults().dropOneWay("n2", "n1");
        RecordingListener l1 = new RecordingListener();
        FaultyTransport n1 = new FaultyTransport(GrpcTransport.create(GrpcTransportConfig.builder().clusterId("c")
                .selfId("n1").listenAddress(loopback(p1)).peer("n2", address(p2)).build()), local);
        started.add(n1);
        n1.start(l1);
        GrpcTransport n2 = GrpcTransport.create(GrpcTransportConfig.builder().clusterId("c")
                .selfId("n2").listenAddress(loopback(p2)).peer("n1", address(p1)).build());
        started.add(n2);
        n2.start(new RecordingListener());
        n2.send(new Message.Heartbeat("n2", "n1", 1, 0, 1));
        awaitTrue("the wrapper drops it on the way in", () -> n1.droppedInbound() == 1);
        assertThat(l1.messages()).isEmpty();
    }
}
