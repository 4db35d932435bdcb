package io.haraft.vip.daemon;

import io.haraft.RaftNode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The admin endpoint of a running {@code ha-vipd}: a TCP socket, apart from the Raft port, where
 * {@code ha-vipd admin} ({@link AdminCli}) asks this daemon's node for its status or for a
 * membership change ({@link MembershipCommands}). The line protocol is described on
 * {@link AdminReply}.
 *
 * <pre>{@code
 * try (AdminServer admin = AdminServer.start(node, "orders-vip", new InetSocketAddress("127.0.0.1", 8001))) {
 *     ...   // ha-vipd admin --config FILE status
 * }
 * }</pre>
 *
 * <p><b>Guarantees.</b> A connection is refused unless its first line names this cluster. One
 * membership change at a time runs through this endpoint; a second one is refused at once with
 * {@code CHANGE_IN_PROGRESS} (the node refuses concurrent changes from other endpoints itself).
 * {@code status} is served while a change runs. Every command and its outcome is logged.
 *
 * <p><b>Limits.</b> No authentication and no encryption: whoever can connect can change the
 * cluster's members. Bind it to loopback (the default of {@code admin.bind}) unless a firewall
 * keeps everyone but the cluster's hosts out. A client that disconnects does not stop a change.
 */
final class AdminServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AdminServer.class);
    private static final int MAX_LINE = 1024;
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);
    private static final int HANDLERS = 4;

    private final ServerSocket socket;
    private final String clusterId;
    private final MembershipCommands commands;
    private final ExecutorService handlers;
    private final Thread acceptor;
    private final AtomicReference<Running> running = new AtomicReference<>();
    private volatile boolean closed;

    /** The change that runs through this endpoint, for the "change in progress" answer. */
    private record Running(String command, long startNanos) {
    }

    private AdminServer(ServerSocket socket, String clusterId, RaftNode node) {
        this.socket = socket;
        this.clusterId = clusterId;
        this.commands = new MembershipCommands(node);
        AtomicInteger n = new AtomicInteger();
        this.handlers = Executors.newFixedThreadPool(HANDLERS, r -> {
            Thread t = new Thread(r, "ha-vipd-admin-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.acceptor = new Thread(this::accept, "ha-vipd-admin-accept");
        this.acceptor.setDaemon(true);
    }

    /**
     * Binds {@code listen} and starts serving {@code node} (started or not: a node that does not
     * run answers as a follower that knows no leader).
     *
     * @throws IOException if the address cannot be bound (in use, not local)
     */
    static AdminServer start(RaftNode node, String clusterId, InetSocketAddress listen) throws IOException {
        Objects.requireNonNull(node, "node");
        Objects.requireNonNull(clusterId, "clusterId");
        ServerSocket s = new ServerSocket();
        try {
            s.setReuseAddress(true);
            s.bind(listen, 16);
        } catch (IOException e) {
            s.close();
            throw e;
        }
        AdminServer server = new AdminServer(s, clusterId, node);
        server.acceptor.start();
        return server;
    }

    /** The address it listens on. */
    InetSocketAddress address() {
        return (InetSocketAddress) socket.getLocalSocketAddress();
    }

    /** Stops listening and abandons running commands (their changes go on in the node). Idempotent. */
    @Override
    public void close() {
        closed = true;
        try {
            socket.close();
        } catch (IOException e) {
            LOG.debug("closing the admin socket", e);
        }
        handlers.shutdownNow();
        try {
            acceptor.join(TimeUnit.SECONDS.toMillis(2));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void accept() {
        while (!closed) {
            Socket c;
            try {
                c = socket.accept();
            } catch (IOException e) {
                if (!closed) {
                    LOG.warn("admin endpoint: accept failed: {}", e.toString());
                }
                continue;
            }
            try {
                handlers.execute(() -> serve(c));
            } catch (java.util.concurrent.RejectedExecutionException e) {
                closeQuietly(c);
            }
        }
    }

    private void serve(Socket c) {
        String peer = String.valueOf(c.getRemoteSocketAddress());
        try (c) {
            c.setSoTimeout((int) REQUEST_TIMEOUT.toMillis());
            InputStream in = c.getInputStream();
            PrintWriter out = new PrintWriter(new OutputStreamWriter(c.getOutputStream(), StandardCharsets.UTF_8));
            AdminReply reply = handle(readLine(in), readLine(in), peer, out);
            out.print(reply.line() + "\n");
            out.flush();
        } catch (IOException e) {
            LOG.info("admin endpoint: connection from {} failed: {}", peer, e.toString());
        }
    }

    private AdminReply handle(Optional<String> hello, Optional<String> request, String peer, PrintWriter out) {
        if (hello.isEmpty() || !hello.get().startsWith(AdminReply.HELLO + " ")) {
            return AdminReply.failed(AdminReply.BAD_REQUEST, "this is the ha-vipd admin endpoint; talk to it with"
                    + " 'java -jar ha-vipd.jar admin --config FILE COMMAND'");
        }
        String theirCluster = hello.get().substring(AdminReply.HELLO.length() + 1);
        if (!theirCluster.equals(clusterId)) {
            LOG.warn("admin endpoint: refused {}: it asked for cluster '{}', this is '{}'", peer, theirCluster,
                    clusterId);
            return AdminReply.failed(AdminReply.WRONG_CLUSTER, "this daemon runs cluster '" + clusterId + "', not '"
                    + theirCluster + "': check admin.port and cluster.id in the config file. Nothing was changed");
        }
        String[] f = request.orElse("").split(" ");
        long timeoutMs;
        try {
            timeoutMs = Long.parseLong(f[0]);
        } catch (NumberFormatException e) {
            return AdminReply.failed(AdminReply.BAD_REQUEST, "malformed request '" + request.orElse("") + "'");
        }
        if (f.length < 2 || timeoutMs < 0) {
            return AdminReply.failed(AdminReply.BAD_REQUEST, "malformed request '" + request.orElse("") + "'");
        }
        String command = String.join(" ", java.util.Arrays.copyOfRange(f, 1, f.length));
        MembershipCommands.Out sink = new MembershipCommands.Out() {
            @Override
            public void info(String line) {
                out.print(AdminReply.INFO + " " + AdminReply.oneLine(line) + "\n");
                out.flush();
            }

            @Override
            public void leader(String id, String address) {
                out.print(AdminReply.LEADER + " " + id + " " + address + "\n");
                out.flush();
            }
        };
        if (f[1].equals("status") && f.length == 2) {
            return commands.status(sink);
        }
        Running me = new Running(command, System.nanoTime());
        if (!running.compareAndSet(null, me)) {
            Running other = running.get();
            String since = other == null ? "" : " for " + Duration.ofNanos(System.nanoTime() - other.startNanos())
                    .toSeconds() + " s";
            return AdminReply.failed("CHANGE_IN_PROGRESS", "change in progress: '" + (other == null ? "?"
                    : other.command()) + "' has been running through this daemon" + since + "; only one membership"
                    + " change runs at a time. Nothing was changed; run the command again once it is done (status"
                    + " shows the configuration)");
        }
        try {
            LOG.info("admin: '{}' from {}", command, peer);
            AdminReply reply = change(f, Duration.ofMillis(timeoutMs), sink);
            LOG.info("admin: '{}' from {}: {}", command, peer, reply.line());
            return reply;
        } finally {
            running.set(null);
        }
    }

    private AdminReply change(String[] f, Duration catchUp, MembershipCommands.Out out) {
        String c = f[1];
        int args = f.length - 2;
        switch (c) {
            case "add", "add-learner", "add-witness" -> {
                if (args == 2) {
                    return commands.add(f[2], f[3], c.equals("add-witness"), !c.equals("add-learner"), catchUp, out);
                }
            }
            case "promote" -> {
                if (args == 1) {
                    return commands.promote(f[2], catchUp, out);
                }
            }
            case "remove" -> {
                if (args == 1) {
                    return commands.remove(f[2], out);
                }
            }
            case "replace" -> {
                if (args == 3) {
                    return commands.replace(f[2], f[3], f[4], catchUp, out);
                }
            }
            default -> {
                return AdminReply.failed(AdminReply.BAD_REQUEST, "unknown command '" + c + "'");
            }
        }
        return AdminReply.failed(AdminReply.BAD_REQUEST, "wrong number of arguments for '" + c + "'");
    }

    /** One line of at most {@value #MAX_LINE} bytes without its end; empty at the end of the stream. */
    private static Optional<String> readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        while (true) {
            int b = in.read();
            if (b < 0) {
                return line.size() == 0 ? Optional.empty() : Optional.of(line.toString(StandardCharsets.UTF_8));
            }
            if (b == '\n') {
                return Optional.of(line.toString(StandardCharsets.UTF_8).stripTrailing());
            }
            if (line.size() >= MAX_LINE) {
                throw new IOException("request line longer than " + MAX_LINE + " bytes");
            }
            line.write(b);
        }
    }

    private static void closeQuietly(Socket c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // nothing to do
        }
    }
}
