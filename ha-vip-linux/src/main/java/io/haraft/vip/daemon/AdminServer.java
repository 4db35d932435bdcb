package io.haraft.vip.daemon;

import io.haraft.RaftNode;
import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The admin socket of a running {@code ha-vipd}: a Unix-domain socket, apart from the Raft port,
 * where {@code ha-vipd admin} ({@link AdminCli}) asks this daemon's node for its status or for a
 * membership change ({@link MembershipCommands}). A daemon with several VIPs ({@link VipGroups})
 * answers {@code status} with each VIP, its group and whether this host holds it, serves
 * {@code drain} and {@code undrain}, and refuses membership changes ({@code NOT_SUPPORTED}); a
 * daemon with one VIP refuses {@code drain} and {@code undrain}. The line protocol is described on
 * {@link AdminReply}.
 *
 * <pre>{@code
 * try (AdminServer admin = AdminServer.start(node, "orders-vip", Path.of("/run/ha-vipd/orders-vip-n1.sock"))) {
 *     ...   // ha-vipd admin --config FILE status
 * }
 * }</pre>
 *
 * <p><b>Authentication.</b> Only the daemon's own user (and root) can connect: the socket's
 * directory is created with mode 0700 and must not be writable by group or others, the socket is
 * bound under a temporary name, set to mode 0600, and only then renamed to its final name, so it
 * is never reachable with wider permissions. Each accepted connection's peer credentials
 * ({@code SO_PEERCRED}, checked by the kernel) must name the daemon's user or root, otherwise it is
 * refused with {@code NOT_ALLOWED} (this holds even if someone widens the file's permissions).
 * A connection is refused unless its first line names this cluster.
 *
 * <p><b>Guarantees.</b> No client can stall another: each connection is served on its own thread,
 * its request must arrive within {@value #REQUEST_TIMEOUT_SECONDS} s and each reply line must be
 * taken within {@value #WRITE_TIMEOUT_SECONDS} s, otherwise the connection is closed. At most
 * {@value #MAX_CONNECTIONS} connections are served at once; one more is answered {@code BUSY} at
 * once and closed. One membership change at a time runs through this socket; a second one is
 * refused at once with {@code CHANGE_IN_PROGRESS} (the node refuses concurrent changes from other
 * endpoints itself). {@code status} is served while a change runs. Every command and its outcome
 * is logged, and every refused peer (at most once a minute per user).
 *
 * <p><b>Limits.</b> The socket serves this host only: a command for the leader on another host is
 * run there. A client that disconnects does not stop a change. A stale socket file left by a
 * killed daemon is replaced; a socket that answers belongs to a running daemon, and then this one
 * does not start.
 */
final class AdminServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AdminServer.class);
    private static final int MAX_LINE = 1024;
    static final int REQUEST_TIMEOUT_SECONDS = 5;
    static final int WRITE_TIMEOUT_SECONDS = 10;
    static final int MAX_CONNECTIONS = 16;
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(REQUEST_TIMEOUT_SECONDS);
    private static final Duration WRITE_TIMEOUT = Duration.ofSeconds(WRITE_TIMEOUT_SECONDS);
    private static final long REFUSAL_LOG_INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);
    static final String NOT_ALLOWED = "NOT_ALLOWED";
    static final String BUSY = "BUSY";
    static final String NOT_SUPPORTED = "NOT_SUPPORTED";

    private final ServerSocketChannel server;
    private final Path socket;
    private final String clusterId;
    /** Null with several VIPs, which have no membership commands yet. */
    private final MembershipCommands commands;
    /** Null with a single VIP. */
    private final VipGroups groups;
    private final ExecutorService handlers;
    private final Semaphore slots = new Semaphore(MAX_CONNECTIONS);
    private final Deadlines deadlines = new Deadlines("ha-vipd-admin-deadlines");
    private final Thread acceptor;
    private final AtomicReference<Running> running = new AtomicReference<>();
    private final Map<String, Long> lastRefusalLog = new ConcurrentHashMap<>();
    private final String ownUser = System.getProperty("user.name");
    private volatile boolean closed;

    /** The change that runs through this socket, for the "change in progress" answer. */
    private record Running(String command, long startNanos) {
    }

    private AdminServer(ServerSocketChannel server, Path socket, String clusterId, RaftNode node, VipGroups groups) {
        this.server = server;
        this.socket = socket;
        this.clusterId = clusterId;
        this.commands = node == null ? null : new MembershipCommands(node);
        this.groups = groups;
        AtomicInteger n = new AtomicInteger();
        this.handlers = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "ha-vipd-admin-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.acceptor = new Thread(this::accept, "ha-vipd-admin-accept");
        this.acceptor.setDaemon(true);
    }

    /**
     * Creates the socket at {@code socket} (and its directory, mode 0700, if missing) and starts
     * serving {@code node} (started or not: a node that does not run answers as a follower that
     * knows no leader).
     *
     * @throws IOException if the directory is unsafe (group or world writable, not a directory),
     *                     another daemon answers on the socket, or the socket cannot be created;
     *                     the message says which and what to do
     */
    static AdminServer start(RaftNode node, String clusterId, Path socket) throws IOException {
        return start(Objects.requireNonNull(node, "node"), null, clusterId, socket);
    }

    /**
     * Like {@link #start(RaftNode, String, Path)} for a daemon with several VIPs: {@code status}
     * shows every VIP, its group and whether this host holds it; {@code drain} and {@code undrain}
     * drain the node, also across restarts of the daemon, and end that ({@link VipGroups#drain});
     * membership changes are refused.
     */
    static AdminServer start(VipGroups groups, Path socket) throws IOException {
        return start(null, Objects.requireNonNull(groups, "groups"), groups.clusterId(), socket);
    }

    private static AdminServer start(RaftNode node, VipGroups groups, String clusterId, Path socket)
            throws IOException {
        Objects.requireNonNull(clusterId, "clusterId");
        Path dir = socket.toAbsolutePath().getParent();
        prepareDirectory(dir);
        removeStale(socket);
        Path temporary = dir.resolve("." + socket.getFileName() + "." + ProcessHandle.current().pid() + ".new");
        Files.deleteIfExists(temporary);
        ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            s.bind(UnixDomainSocketAddress.of(temporary), MAX_CONNECTIONS);
            Files.setPosixFilePermissions(temporary, PosixFilePermissions.fromString("rw-------"));
            Files.move(temporary, socket, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            s.close();
            Files.deleteIfExists(temporary);
            throw e;
        }
        AdminServer server = new AdminServer(s, socket, clusterId, node, groups);
        server.acceptor.start();
        return server;
    }

    /** Creates {@code dir} with mode 0700, or checks that an existing one is a directory others cannot write. */
    private static void prepareDirectory(Path dir) throws IOException {
        Set<PosixFilePermission> ownerOnly = PosixFilePermissions.fromString("rwx------");
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            try {
                Files.createDirectories(dir.getParent());
                Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(ownerOnly));
                Files.setPosixFilePermissions(dir, ownerOnly);
                return;
            } catch (FileAlreadyExistsException e) {
                // created meanwhile: check it like an existing one
            } catch (IOException e) {
                throw new IOException("cannot create the admin socket directory " + dir + " (" + e + "); create it"
                        + " for the daemon's user with mode 0700, or set admin.socket.dir to a directory this user"
                        + " may create", e);
            }
        }
        if (!Files.isDirectory(dir)) {
            throw new IOException("the admin socket directory " + dir + " is not a directory; set admin.socket.dir"
                    + " to a directory (it is created with mode 0700 if missing)");
        }
        Set<PosixFilePermission> p = Files.getPosixFilePermissions(dir);
        if (p.contains(PosixFilePermission.GROUP_WRITE) || p.contains(PosixFilePermission.OTHERS_WRITE)) {
            throw new IOException("the admin socket directory " + dir + " is writable by "
                    + (p.contains(PosixFilePermission.OTHERS_WRITE) ? "every user" : "its group") + " ("
                    + PosixFilePermissions.toString(p) + "), so another user could replace the socket; use a directory"
                    + " of its own for admin.socket.dir (it is created with mode 0700), or chmod 0700 " + dir);
        }
    }

    /** Removes a socket file that nobody answers on; fails if a daemon answers, or if the file is no socket. */
    private static void removeStale(Path socket) throws IOException {
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(socket, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (java.nio.file.NoSuchFileException e) {
            return;
        }
        if (!a.isOther()) {
            throw new IOException(socket + " exists and is not a socket; remove it, or set admin.socket.dir to"
                    + " another directory");
        }
        try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            throw new IOException("another ha-vipd answers on the admin socket " + socket + ": is node already"
                    + " running? Stop it first (two daemons must not run one node)");
        } catch (ConnectException e) {
            Files.deleteIfExists(socket);   // left by a daemon that was killed
        }
    }

    /** The socket's path. */
    Path socket() {
        return socket;
    }

    /** Stops listening, removes the socket file and abandons running commands (their changes go on in the node). Idempotent. */
    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException e) {
            LOG.debug("closing the admin socket", e);
        }
        try {
            Files.deleteIfExists(socket);
        } catch (IOException e) {
            LOG.debug("removing the admin socket file", e);
        }
        handlers.shutdownNow();
        deadlines.close();
        try {
            acceptor.join(TimeUnit.SECONDS.toMillis(2));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void accept() {
        while (!closed) {
            SocketChannel c;
            try {
                c = server.accept();
            } catch (IOException e) {
                if (!closed) {
                    LOG.warn("admin socket: accept failed: {}", e.toString());
                }
                continue;
            }
            if (!slots.tryAcquire()) {
                refuseAtOnce(c, AdminReply.failed(BUSY, MAX_CONNECTIONS + " admin connections are open at once;"
                        + " nothing was changed. Run the command again in a few seconds"));
                continue;
            }
            try {
                handlers.execute(() -> {
                    try {
                        serve(c);
                    } finally {
                        slots.release();
                    }
                });
            } catch (java.util.concurrent.RejectedExecutionException e) {
                slots.release();
                closeQuietly(c);
            }
        }
    }

    /** Writes {@code reply} without blocking (a fresh socket's buffer takes one line) and closes. */
    private static void refuseAtOnce(SocketChannel c, AdminReply reply) {
        try (c) {
            c.configureBlocking(false);
            c.write(ByteBuffer.wrap((reply.line() + "\n").getBytes(StandardCharsets.UTF_8)));
        } catch (IOException e) {
            // the client learns nothing more than a closed connection
        }
    }

    private void serve(SocketChannel c) {
        String peer = "?";
        try (c) {
            peer = peerName(c);
            Optional<String> hello;
            Optional<String> request;
            try (Deadlines.Armed d = deadlines.arm(c, REQUEST_TIMEOUT)) {
                hello = readLine(c);
                request = hello.isPresent() ? readLine(c) : Optional.empty();
            }
            // the request is read first (and ignored if refused), so that the client's write succeeds and it
            // reads the refusal rather than a broken pipe
            Optional<String> refusal = checkPeer(c);
            if (refusal.isPresent()) {
                write(c, AdminReply.failed(NOT_ALLOWED, refusal.get()).line());
                return;
            }
            AdminReply reply = handle(hello, request, peer, line -> write(c, line));
            write(c, reply.line());
        } catch (IOException | java.io.UncheckedIOException e) {
            LOG.info("admin socket: connection from {} ended: {}", peer, c.isOpen() ? e.toString()
                    : "closed (it sent no request within " + REQUEST_TIMEOUT_SECONDS + " s, or took no reply line"
                    + " within " + WRITE_TIMEOUT_SECONDS + " s)");
        }
    }

    /** Empty if the peer's user is this daemon's user or root; else why it is refused (and logged). */
    private Optional<String> checkPeer(SocketChannel c) throws IOException {
        UnixDomainPrincipal p;
        try {
            p = c.getOption(ExtendedSocketOptions.SO_PEERCRED);
        } catch (UnsupportedOperationException e) {
            return Optional.empty();   // no peer credentials here: the file permissions alone protect the socket
        }
        String user = p.user().getName();
        if (user.equals(ownUser) || user.equals("root")) {
            return Optional.empty();
        }
        long now = System.nanoTime();
        Long last = lastRefusalLog.get(user);
        if (last == null || now - last > REFUSAL_LOG_INTERVAL_NANOS) {
            lastRefusalLog.put(user, now);
            LOG.warn("admin socket: refused a connection from user {} (only {} may use it; check the permissions"
                    + " of {}: they should be rw-------)", user, ownUser.equals("root") ? "root" : ownUser + " and root",
                    socket);
        }
        return Optional.of("user " + user + " may not use this admin socket; run ha-vipd admin as "
                + (ownUser.equals("root") ? "root (the daemon's user)" : ownUser + " (the daemon's user) or root")
                + ". Nothing was changed");
    }

    private static String peerName(SocketChannel c) {
        try {
            UnixDomainPrincipal p = c.getOption(ExtendedSocketOptions.SO_PEERCRED);
            return "user " + p.user().getName();
        } catch (IOException | UnsupportedOperationException e) {
            return "a local client";
        }
    }

    /** Writes one line, closing the connection if the client does not take it within the write timeout. */
    private void write(SocketChannel c, String line) {
        ByteBuffer b = ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8));
        try (Deadlines.Armed d = deadlines.arm(c, WRITE_TIMEOUT)) {
            while (b.hasRemaining()) {
                c.write(b);
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Where INFO and LEADER lines go while a command runs. */
    private interface Lines {
        void send(String line);
    }

    private AdminReply handle(Optional<String> hello, Optional<String> request, String peer, Lines out) {
        if (hello.isEmpty() || !hello.get().startsWith(AdminReply.HELLO + " ")) {
            return AdminReply.failed(AdminReply.BAD_REQUEST, "this is the ha-vipd admin endpoint; talk to it with"
                    + " 'java -jar ha-vipd.jar admin --config FILE COMMAND'");
        }
        String theirCluster = hello.get().substring(AdminReply.HELLO.length() + 1);
        if (!theirCluster.equals(clusterId)) {
            LOG.warn("admin endpoint: refused {}: it asked for cluster '{}', this is '{}'", peer, theirCluster,
                    clusterId);
            return AdminReply.failed(AdminReply.WRONG_CLUSTER, "this daemon runs cluster '" + clusterId + "', not '"
                    + theirCluster + "': check admin.socket.dir and cluster.id in the config file. Nothing was changed");
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
                out.send(AdminReply.INFO + " " + AdminReply.oneLine(line));
            }

            @Override
            public void leader(String id, String address) {
                out.send(AdminReply.LEADER + " " + id + " " + address);
            }
        };
        if (f[1].equals("status") && f.length == 2) {
            return groups != null ? groups.status(sink) : commands.status(sink);
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
        if (c.equals("drain") || c.equals("undrain")) {
            if (args != 0) {
                return AdminReply.failed(AdminReply.BAD_REQUEST, "wrong number of arguments for '" + c + "'");
            }
            if (groups == null) {
                return AdminReply.failed(NOT_SUPPORTED, c + " is for a daemon with several VIPs (vip.GROUP.address"
                        + " keys); this one holds a single VIP: stop it (SIGTERM) to hand the VIP over. Nothing was"
                        + " changed");
            }
            return c.equals("drain") ? groups.drain(out) : groups.undrain(out);
        }
        if (groups != null) {
            return AdminReply.failed(NOT_SUPPORTED, "'" + c + "' is not supported yet for a daemon with several VIPs"
                    + " (vip.GROUP.address keys): every group has the members of the members line. Nothing was"
                    + " changed");
        }
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
    private static Optional<String> readLine(SocketChannel c) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        ByteBuffer one = ByteBuffer.allocate(1);
        while (true) {
            one.clear();
            if (c.read(one) < 0) {
                return line.size() == 0 ? Optional.empty() : Optional.of(line.toString(StandardCharsets.UTF_8));
            }
            byte b = one.get(0);
            if (b == '\n') {
                return Optional.of(line.toString(StandardCharsets.UTF_8).stripTrailing());
            }
            if (line.size() >= MAX_LINE) {
                throw new IOException("request line longer than " + MAX_LINE + " bytes");
            }
            line.write(b);
        }
    }

    private static void closeQuietly(SocketChannel c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // nothing to do
        }
    }
}
