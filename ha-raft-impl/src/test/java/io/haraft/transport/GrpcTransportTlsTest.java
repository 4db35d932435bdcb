package io.haraft.transport;

import io.haraft.TlsConfig;
import io.haraft.core.Message;
import io.haraft.transport.TransportTesting.LogCapture;
import io.haraft.transport.TransportTesting.RecordingListener;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static io.haraft.transport.TransportTesting.address;
import static io.haraft.transport.TransportTesting.awaitTrue;
import static io.haraft.transport.TransportTesting.everyMessageType;
import static io.haraft.transport.TransportTesting.freePort;
import static io.haraft.transport.TransportTesting.loopback;
import static org.assertj.core.api.Assertions.assertThat;

/** Mutual TLS between transports, with certificates made at test time. */
class GrpcTransportTlsTest {

    @TempDir
    static Path dir;

    private static TlsConfig n1Tls;
    private static TlsConfig n2Tls;
    private static TlsConfig strangerTls;

    private final List<GrpcTransport> started = new ArrayList<>();

    @BeforeAll
    static void makeCertificates() {
        // keytool runs as a process; run the independent ones side by side.
        var ca1 = CompletableFuture.supplyAsync(() -> TestCertificates.authority(dir, "ca1"));
        var ca2 = CompletableFuture.supplyAsync(() -> TestCertificates.authority(dir, "ca2"));
        TestCertificates.Authority trusted = ca1.join();
        TestCertificates.Authority untrusted = ca2.join();
        var n1 = CompletableFuture.supplyAsync(() -> trusted.issue("n1"));
        var n2 = CompletableFuture.supplyAsync(() -> trusted.issue("n2"));
        // Signed by ca2, which n1 and n2 do not trust; the stranger itself trusts both, so the
        // refusal tested below is n1's and n2's doing.
        var n3 = CompletableFuture.supplyAsync(() -> untrusted.issue("n3",
                TestCertificates.bundle(dir.resolve("both.pem"), trusted, untrusted)));
        n1Tls = n1.join();
        n2Tls = n2.join();
        strangerTls = n3.join();
    }

    @AfterEach
    void closeAll() {
        started.forEach(GrpcTransport::close);
    }

    private GrpcTransport start(String self, TlsConfig tls, Map<String, Integer> ports, RecordingListener l) {
        GrpcTransportConfig.Builder b = GrpcTransportConfig.builder()
                .clusterId("orders").selfId(self).listenAddress(loopback(ports.get(self))).tls(tls)
                .reconnectBackoff(Duration.ofMillis(20), Duration.ofMillis(200));
        ports.forEach((id, port) -> {
            if (!id.equals(self)) {
                b.peer(id, address(port));
            }
        });
        GrpcTransport t = GrpcTransport.create(b.build());
        started.add(t);
        t.start(l);
        return t;
    }

    @Test
    void trustedPeersCommunicateAndAPeerWithAnUntrustedCertificateIsRefused() {
        Map<String, Integer> ports = new LinkedHashMap<>();
        ports.put("n1", freePort());
        ports.put("n2", freePort());
        ports.put("n3", freePort());
        RecordingListener l1 = new RecordingListener();
        RecordingListener l2 = new RecordingListener();
        RecordingListener l3 = new RecordingListener();
        try (LogCapture logs = new LogCapture()) {
            GrpcTransport n1 = start("n1", n1Tls, ports, l1);
            GrpcTransport n2 = start("n2", n2Tls, ports, l2);
            GrpcTransport n3 = start("n3", strangerTls, ports, l3);

            everyMessageType("n1", "n2", 4).forEach(n1::send);
            everyMessageType("n2", "n1", 4).forEach(n2::send);
            n3.send(new Message.Heartbeat("n3", "n1", 666, 0, 1));
            n3.send(new Message.Heartbeat("n3", "n2", 666, 0, 1));
            n1.send(new Message.Heartbeat("n1", "n3", 5, 0, 1));

            awaitTrue("n2 gets n1's messages over TLS", () -> l2.from("n1").size() >= 9);
            awaitTrue("n1 gets n2's messages over TLS", () -> l1.from("n2").size() >= 9);
            assertThat(l2.from("n1")).containsExactlyElementsOf(everyMessageType("n1", "n2", 4));
            assertThat(l1.from("n2")).containsExactlyElementsOf(everyMessageType("n2", "n1", 4));

            // Everyone listens now: refusals counted so far come from start-up order. From here on the
            // stranger's attempts fail in the TLS handshake, repeatedly, in both directions.
            int refused1 = l1.refusedCount("n3");
            int refused3 = l3.refusedCount("n1") + l3.refusedCount("n2");
            long failed3 = n3.stats().failedAttempts();
            long failed1 = n1.stats().failedAttempts();
            awaitTrue("n3 fails to reach n1 and n2 several times", () -> n3.stats().failedAttempts() >= failed3 + 4);
            awaitTrue("n1 fails to reach n3 several times", () -> n1.stats().failedAttempts() >= failed1 + 2);
            awaitTrue("the failed handshake is logged as a warning",
                    () -> logs.contains("WARN", "Cannot connect to n1") && logs.contains("WARN", "Cannot connect to n3"));
            assertThat(n3.stats().connectedPeers()).isEmpty();
            assertThat(n1.stats().connectedPeers()).containsExactly("n2");
            assertThat(l1.messages()).noneMatch(m -> m.from().equals("n3"));
            assertThat(l2.messages()).noneMatch(m -> m.from().equals("n3"));
            assertThat(l3.messages()).isEmpty();
            // A TLS failure is not a refused connection: the fast-failover path must not fire.
            assertThat(l1.refusedCount("n3")).isEqualTo(refused1);
            assertThat(l3.refusedCount("n1") + l3.refusedCount("n2")).isEqualTo(refused3);
        }
    }

    @Test
    void aPlainTextPeerCannotTalkToATlsNode() {
        Map<String, Integer> ports = new LinkedHashMap<>();
        ports.put("n1", freePort());
        ports.put("n2", freePort());
        RecordingListener l1 = new RecordingListener();
        start("n1", n1Tls, ports, l1);
        GrpcTransportConfig plain = GrpcTransportConfig.builder().clusterId("orders").selfId("n2")
                .listenAddress(loopback(ports.get("n2"))).peer("n1", address(ports.get("n1")))
                .reconnectBackoff(Duration.ofMillis(20), Duration.ofMillis(200)).build();
        GrpcTransport n2 = GrpcTransport.create(plain);
        started.add(n2);
        n2.start(new RecordingListener());
        n2.send(new Message.Heartbeat("n2", "n1", 666, 0, 1));
        awaitTrue("plain-text attempts fail", () -> n2.stats().failedAttempts() >= 2);
        assertThat(n2.stats().connectedPeers()).isEmpty();
        assertThat(l1.messages()).isEmpty();
    }
}
