package io.haraft.transport;

import io.grpc.Status;
import io.haraft.core.Message;
import io.haraft.transport.TransportTesting.LogCapture;
import io.haraft.transport.TransportTesting.RecordingListener;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static io.haraft.transport.TransportTesting.awaitTrue;
import static io.haraft.transport.TransportTesting.freePort;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Junk on the Raft port: random bytes, HTTP/1.1, a malformed protobuf and an oversized message.
 * Each is answered or closed, the node keeps working, and the log gets a bounded number of
 * one-line refusals instead of a java.util.logging stack trace per connection.
 */
class HostileTrafficTest {
    private static final int LIMIT = 64 * 1024;

    private final List<GrpcTransport> started = new CopyOnWriteArrayList<>();
    /** What gRPC and Netty logged through java.util.logging on n1's threads, as the application's handlers see it. */
    private final List<LogRecord> julOnN1 = new CopyOnWriteArrayList<>();
    private final Handler julCounter = new Handler() {
        @Override
        public void publish(LogRecord record) {
            if (Thread.currentThread().getName().startsWith("haraft-transport-n1-") && record.getLevel().intValue()
                    >= Level.INFO.intValue()) {
                julOnN1.add(record);
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    private int port1;
    private int port2;
    private RecordingListener l1;
    private GrpcTransport n2;

    @BeforeEach
    void startTwoNodes() {
        Logger.getLogger("").addHandler(julCounter);
        port1 = freePort();
        port2 = freePort();
        l1 = new RecordingListener();
        start(TransportTesting.orders("n1", port1, "n2", port2, LIMIT), l1);
        n2 = start(TransportTesting.orders("n2", port2, "n1", port1, LIMIT), new RecordingListener());
    }

    @AfterEach
    void stop() {
        started.forEach(GrpcTransport::close);
        Logger.getLogger("").removeHandler(julCounter);
    }

    private GrpcTransport start(GrpcTransportConfig config, RecordingListener listener) {
        GrpcTransport t = GrpcTransport.create(config);
        started.add(t);
        t.start(listener);
        return t;
    }

    @Test
    void randomBytesAndHttpRequestsAreClosedAndLoggedOncePerAddress() throws Exception {
        try (LogCapture logs = new LogCapture()) {
            Random random = new Random(42);
            int connections = 60;
            for (int i = 0; i < connections; i++) {
                byte[] junk = new byte[1 + random.nextInt(300)];
                random.nextBytes(junk);
                assertThat(sendAndAwaitClose(junk)).as("connection %d is closed", i).isTrue();
                assertThat(sendAndAwaitClose("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII)))
                        .as("HTTP request %d is closed", i).isTrue();
            }
            assertStillWorks();
            awaitTrue("the refusal is logged", () -> logs.contains("WARN", "Refused a connection from 127.0.0.1:"));
            List<String> refusals = logs.lines().stream().filter(l -> l.contains("Refused a connection")).toList();
            assertThat(refusals).as("one line per address and interval for %d connections", 2 * connections)
                    .hasSizeLessThanOrEqualTo(2);
            assertThat(refusals.get(0)).contains("HTTP/2 client preface string missing or corrupt")
                    .doesNotContain("Hex dump");
            assertThat(logs.lines()).noneMatch(l -> l.startsWith("\tat ") || l.contains("Http2Exception:") && !l.contains("Refused"));
        }
        assertThat(julOnN1).as("records gRPC/Netty logged through java.util.logging").isEmpty();
    }

    @Test
    void malformedProtobufIsAnsweredWithInvalidArgument() {
        try (LogCapture logs = new LogCapture()) {
            byte[] garbage = {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x0f, 0x01, 0x02};
            for (int i = 0; i < 20; i++) {
                Status status = rawStream(garbage);
                assertThat(status.getCode()).as("attempt %d", i).isEqualTo(Status.Code.INVALID_ARGUMENT);
                assertThat(status.getDescription()).contains("malformed message");
            }
            assertStillWorks();
            List<String> refusals = logs.lines().stream().filter(l -> l.contains("Refused a message from 'n2'")).toList();
            assertThat(refusals).hasSize(1);
            assertThat(refusals.get(0)).contains("malformed message");
        }
        assertThat(julOnN1).isEmpty();
    }

    @Test
    void oversizedMessageResetsTheStreamAndIsLoggedOnceNotAsATrace() {
        try (LogCapture logs = new LogCapture()) {
            for (int i = 0; i < 10; i++) {
                Status status = rawStream(new byte[LIMIT * 4]);
                // gRPC refuses it (RESOURCE_EXHAUSTED on n1's side) and resets the stream: the sender
                // sees the reset as CANCELLED
                assertThat(status.getCode()).as("attempt %d", i)
                        .isIn(Status.Code.CANCELLED, Status.Code.RESOURCE_EXHAUSTED);
            }
            assertStillWorks();
            List<String> refusals = logs.lines().stream().filter(l -> l.contains("Refused a connection from")).toList();
            assertThat(refusals).hasSize(1);
            assertThat(refusals.get(0)).contains("RESOURCE_EXHAUSTED: gRPC message exceeds maximum size 65536");
            assertThat(logs.lines()).noneMatch(l -> l.startsWith("\tat "));
        }
        assertThat(julOnN1).isEmpty();
    }

    /** n2, a real peer, still gets its messages to n1 through. */
    private void assertStillWorks() {
        long round = System.nanoTime();
        n2.send(new Message.Heartbeat("n2", "n1", 3, 0, round));
        l1.awaitMessage("a heartbeat from n2 after the junk", m -> m instanceof Message.Heartbeat h && h.round() == round);
    }

    /** Writes {@code bytes} on a new connection to n1; whether n1 closed it within the patience. */
    private boolean sendAndAwaitClose(byte[] bytes) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port1), 5000);
            s.setSoTimeout((int) TransportTesting.PATIENCE.toMillis());
            OutputStream out = s.getOutputStream();
            out.write(bytes);
            out.flush();
            InputStream in = s.getInputStream();
            byte[] buffer = new byte[4096];
            try {
                while (in.read(buffer) >= 0) {
                    // whatever n1 answers (an HTTP/2 GOAWAY), then the end of the stream
                }
                return true;
            } catch (SocketTimeoutException e) {
                return false;
            } catch (IOException e) {
                return true;   // reset by n1
            }
        }
    }

    /**
     * Opens a stream to n1 as n2 would (valid header), writes {@code payload} as one gRPC message,
     * and returns the status n1 ends the stream with.
     */
    private Status rawStream(byte[] payload) {
        return TransportTesting.rawStream(port1, "orders", "n2", "n1", payload);
    }
}
