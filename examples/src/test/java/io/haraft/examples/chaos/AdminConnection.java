package io.haraft.examples.chaos;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * A synchronous client of one {@link ChaosNode}'s loopback command socket: one request at a time.
 * After a timeout or an I/O error the connection is unusable (an answer may still be on its way);
 * close it and open a new one. Not thread-safe.
 */
final class AdminConnection implements AutoCloseable {

    /** Nothing was sent: the node could not be reached. Retrying is safe. */
    static final class NotSentException extends IOException {
        NotSentException(IOException cause) {
            super("not sent: " + cause.getMessage(), cause);
        }
    }

    private final Socket socket;
    private final BufferedReader in;
    private final Writer out;
    private long nextRequest;

    private AdminConnection(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
        this.out = new OutputStreamWriter(socket.getOutputStream(), StandardCharsets.UTF_8);
    }

    static AdminConnection open(int port) throws NotSentException {
        Socket s = new Socket();
        try {
            s.setTcpNoDelay(true);
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 500);
            return new AdminConnection(s);
        } catch (IOException e) {
            try {
                s.close();
            } catch (IOException ignored) {
                // nothing to release
            }
            throw new NotSentException(e);
        }
    }

    /**
     * Sends {@code command} and returns the answer without its request id, e.g. {@code "OK 42"}.
     *
     * @throws java.net.SocketTimeoutException if no answer came within {@code timeout}
     * @throws IOException                     if the connection broke (the command may have run)
     */
    String call(String command, Duration timeout) throws IOException {
        long id = ++nextRequest;
        socket.setSoTimeout((int) Math.max(1, timeout.toMillis()));
        out.write(id + " " + command + "\n");
        out.flush();
        String line = in.readLine();
        if (line == null) {
            throw new IOException("connection closed by the node");
        }
        int sp = line.indexOf(' ');
        if (sp < 0 || Long.parseLong(line.substring(0, sp)) != id) {
            throw new IOException("unexpected answer " + line);
        }
        return line.substring(sp + 1);
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }
}
