package io.haraft.transport;

import io.haraft.RaftConfigException;
import io.haraft.TlsConfig;
import io.haraft.core.Message;
import io.haraft.transport.TransportTesting.LogCapture;
import io.haraft.transport.TransportTesting.RecordingListener;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import static io.haraft.transport.TransportTesting.address;
import static io.haraft.transport.TransportTesting.awaitTrue;
import static io.haraft.transport.TransportTesting.freePort;
import static io.haraft.transport.TransportTesting.loopback;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A TLS certificate speaks for the node it was issued for, and the files are checked at start. */
class CertificateBindingTest {

    @TempDir
    static Path dir;

    private static TlsConfig n1;
    private static TlsConfig n2;
    private static TlsConfig n3;
    private static TlsConfig hostOnly;

    private final List<GrpcTransport> started = new ArrayList<>();

    @BeforeAll
    static void makeCertificates() {
        TestCertificates.Authority ca = TestCertificates.authority(dir, "ca");
        var c1 = CompletableFuture.supplyAsync(() -> ca.issue("n1", ca.certificate(), "dns:n1,dns:localhost,ip:127.0.0.1"));
        var c2 = CompletableFuture.supplyAsync(() -> ca.issue("n2", ca.certificate(), "dns:n2,dns:localhost,ip:127.0.0.1"));
        var c3 = CompletableFuture.supplyAsync(() -> ca.issue("n3", ca.certificate(), "dns:n3,dns:localhost,ip:127.0.0.1"));
        var h = CompletableFuture.supplyAsync(() -> ca.issue("host", ca.certificate()));
        n1 = c1.join();
        n2 = c2.join();
        n3 = c3.join();
        hostOnly = h.join();
    }

    @AfterEach
    void closeAll() {
        started.forEach(GrpcTransport::close);
    }

    private GrpcTransport start(String self, int port, TlsConfig tls, RecordingListener listener, String... peers) {
        GrpcTransportConfig.Builder b = GrpcTransportConfig.builder().clusterId("orders").selfId(self)
                .listenAddress(loopback(port)).tls(tls).reconnectBackoff(Duration.ofMillis(20), Duration.ofMillis(200));
        for (int i = 0; i < peers.length; i += 2) {
            b.peer(peers[i], peers[i + 1]);
        }
        GrpcTransport t = GrpcTransport.create(b.build());
        started.add(t);
        t.start(listener);
        return t;
    }

    @Test
    void aNodeWithItsOwnCertificateIsAcceptedAndOneWithAnotherNodesCertificateIsRefusedBothWays() {
        int p1 = freePort();
        int p2 = freePort();
        int p3 = freePort();
        RecordingListener l1 = new RecordingListener();
        RecordingListener l3 = new RecordingListener();
        try (LogCapture logs = new LogCapture()) {
            GrpcTransport real1 = start("n1", p1, n1, l1, "n2", address(p2), "n3", address(p3));
            GrpcTransport real3 = start("n3", p3, n3, l3, "n1", address(p1), "n2", address(p2));
            // Holds n3's (trusted) certificate, and claims to be n2 at n2's address.
            GrpcTransport impostor = start("n2", p2, n3, new RecordingListener(), "n1", address(p1), "n3", address(p3));

            real3.send(new Message.Heartbeat("n3", "n1", 5, 0, 1));
            l1.awaitMessage("n3, with its own certificate, gets through", m -> m.from().equals("n3"));
            impostor.send(new Message.Heartbeat("n2", "n1", 666, 0, 1));
            awaitTrue("n1 refuses the impostor's streams", () -> real1.stats().streamsRejected() >= 2);
            awaitTrue("n1 logs the claimed id and the certificate's names", () -> logs.contains("WARN",
                    "the sender claims to be node 'n2' but its certificate") && logs.contains("WARN", "DNS:n3"));
            // n1 dials n2's address, reaches the impostor, and refuses to write to it
            awaitTrue("n1 refuses the certificate of whoever answers at n2's address", () -> logs.contains("WARN",
                    "Closing the stream to n2: the peer at " + address(p2) + " answered as node 'n2' but its"
                            + " certificate"));
            // n1's own stream to n3 (not the one n3 opened, which carried the heartbeat) may still be
            // connecting on a busy machine: wait for it; a stream to the impostor is never accepted.
            awaitTrue("n1's outbound stream to n3 is accepted", () -> real1.stats().connectedPeers().contains("n3"));
            assertThat(real1.stats().connectedPeers()).containsExactly("n3");
            assertThat(impostor.stats().connectedPeers()).doesNotContain("n1");
            assertThat(l1.messages()).noneMatch(m -> m.from().equals("n2"));
            long refusalLines = logs.lines().stream().filter(l -> l.contains("Refused a stream to node n1")).count();
            assertThat(refusalLines).as("n1 logs its refusals once per address and interval").isEqualTo(1);
        }
    }

    @Test
    void plainTextAndJunkOnATlsPortAreClosedAndLoggedOncePerAddress() throws Exception {
        int p1 = freePort();
        RecordingListener l1 = new RecordingListener();
        try (LogCapture logs = new LogCapture()) {
            start("n1", p1, n1, l1, "n2", address(freePort()));
            java.util.Random random = new java.util.Random(7);
            for (int i = 0; i < 30; i++) {
                byte[] junk = new byte[1 + random.nextInt(200)];
                random.nextBytes(junk);
                try (java.net.Socket s = new java.net.Socket("127.0.0.1", p1)) {
                    s.setSoTimeout((int) TransportTesting.PATIENCE.toMillis());
                    s.getOutputStream().write(junk);
                    s.getOutputStream().flush();
                    // End the junk: fewer than a TLS record header's 5 bytes would otherwise leave
                    // n1 waiting for the rest (that case is the stalled-handshake test below).
                    s.shutdownOutput();
                    try {
                        while (s.getInputStream().read() >= 0) {
                            // until n1 closes it
                        }
                    } catch (java.net.SocketException e) {
                        // reset by n1: closed too
                    }
                }
            }
            awaitTrue("the refusal is logged", () -> logs.contains("WARN", "Refused a connection from 127.0.0.1:"));
            List<String> refusals = logs.lines().stream().filter(l -> l.contains("Refused a connection")).toList();
            assertThat(refusals).hasSizeLessThanOrEqualTo(2);
            assertThat(logs.lines()).noneMatch(l -> l.startsWith("\tat "));
        }
    }

    @Test
    void aConnectionThatStallsInItsHandshakeIsClosedAndReported() throws Exception {
        int p1 = freePort();
        try (LogCapture logs = new LogCapture()) {
            start("n1", p1, n1, new RecordingListener(), "n2", address(freePort()));
            try (java.net.Socket s = new java.net.Socket("127.0.0.1", p1)) {
                s.setSoTimeout((int) (GrpcTransport.HANDSHAKE_TIMEOUT_SECONDS * 1000 + TransportTesting.PATIENCE.toMillis() * 3));
                s.getOutputStream().write(new byte[] {0x16, 0x03});   // the start of a TLS record, then silence
                s.getOutputStream().flush();
                int read;
                try {
                    read = s.getInputStream().read();
                } catch (java.net.SocketException e) {
                    read = -1;   // reset by n1: closed too
                }
                assertThat(read).as("n1 closes the stalled connection without answering").isEqualTo(-1);
            }
            awaitTrue("the stalled connection is reported", () -> logs.contains("WARN", "Refused a connection from 127.0.0.1:"));
            assertThat(logs.lines()).noneMatch(l -> l.startsWith("\tat "));
        }
    }

    @Test
    void theRuleNamesTheIdOrTheHostOfACertificateThatNamesNoOtherMember() throws Exception {
        X509Certificate own = leaf(n1);
        X509Certificate hosts = leaf(hostOnly);
        Set<String> members = Set.of("n1", "n2", "n3");
        assertThat(CertificateBinding.problem(own, "n1", "10.9.9.9", members)).isNull();
        assertThat(CertificateBinding.problem(own, "N1", "10.9.9.9", members)).as("DNS names ignore case").isNull();
        assertThat(CertificateBinding.problem(own, "n2", "127.0.0.1", members))
                .contains("belongs to node 'n1', not to 'n2'").contains("DNS:n1");
        assertThat(CertificateBinding.problem(hosts, "n2", "127.0.0.1", members)).isNull();
        assertThat(CertificateBinding.problem(hosts, "n2", "localhost", members)).isNull();
        assertThat(CertificateBinding.problem(hosts, "n2", "10.0.0.2", members))
                .contains("names neither the node id 'n2' nor its host '10.0.0.2'")
                .contains("DNS:localhost").contains("IP:127.0.0.1");
    }

    @Test
    void aKeyThatDoesNotBelongToTheCertificateFailsTheStartNamingBothFiles() {
        TlsConfig mismatched = new TlsConfig(n1.certificateChain(), n2.privateKey(), n1.trustCertificates());
        GrpcTransport t = GrpcTransport.create(GrpcTransportConfig.builder().clusterId("orders").selfId("n1")
                .listenAddress(loopback(freePort())).peer("n2", address(freePort())).tls(mismatched).build());
        started.add(t);
        assertThatThrownBy(() -> t.start(new RecordingListener()))
                .isInstanceOf(RaftConfigException.class)
                .hasMessageContaining("The TLS private key " + n2.privateKey() + " does not belong to the certificate "
                        + n1.certificateChain())
                .hasMessageContaining("openssl pkey -pubout -in " + n2.privateKey());
        assertThatThrownBy(t::localAddress).as("nothing listens").isInstanceOf(IllegalStateException.class);
    }

    @Test
    void aKeyFileThatIsNotPkcs8IsRefusedWithTheConversionCommand() throws Exception {
        Path pkcs1 = dir.resolve("rsa.key");
        Files.writeString(pkcs1, Files.readString(n1.privateKey()).replace("BEGIN PRIVATE KEY", "BEGIN RSA PRIVATE KEY")
                .replace("END PRIVATE KEY", "END RSA PRIVATE KEY"));
        GrpcTransport t = GrpcTransport.create(GrpcTransportConfig.builder().clusterId("orders").selfId("n1")
                .listenAddress(loopback(freePort())).peer("n2", address(freePort()))
                .tls(new TlsConfig(n1.certificateChain(), pkcs1, n1.trustCertificates())).build());
        started.add(t);
        assertThatThrownBy(() -> t.start(new RecordingListener()))
                .isInstanceOf(RaftConfigException.class)
                .hasMessageContaining(pkcs1.toString())
                .hasMessageContaining("openssl pkcs8 -topk8 -nocrypt");
    }

    private static X509Certificate leaf(TlsConfig tls) throws Exception {
        try (InputStream in = Files.newInputStream(tls.certificateChain())) {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificates(in).iterator().next();
        }
    }
}
