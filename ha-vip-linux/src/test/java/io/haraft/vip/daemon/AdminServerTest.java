package io.haraft.vip.daemon;

import io.haraft.MemberRole;
import io.haraft.vip.Await;
import io.haraft.vip.daemon.AdminCluster.Run;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The admin socket: who may connect, and that no client stalls another. Real nodes and sockets;
 * the tests that run a client as another user need root and {@code setpriv} (util-linux).
 */
class AdminServerTest {

    private static final String SETPRIV = "/usr/bin/setpriv";

    @TempDir
    Path dir;

    private static SocketChannel connect(Path socket) throws IOException {
        return SocketChannel.open(UnixDomainSocketAddress.of(socket));
    }

    @Test
    void theSocketAndItsDirectoryAreForTheOwnerOnly() throws Exception {
        try (AdminCluster c = new AdminCluster(dir)) {
            c.start("n1", MemberRole.VOTER);
            Path socket = c.socketDir().resolve("admin-test-n1.sock");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(c.socketDir())))
                    .isEqualTo("rwx------");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket))).isEqualTo("rw-------");
            assertThat(Files.list(c.socketDir()).map(p -> p.getFileName().toString()))
                    .as("no temporary name is left").containsExactly("admin-test-n1.sock");
            c.stopAdmin("n1");
            assertThat(socket).as("closing removes the socket file").doesNotExist();
        }
    }

    /**
     * Idle clients that sent half a request and never finish it (more of them than the earlier
     * fixed pool of 4 handlers had threads) do not stall {@code status}, and each of them is cut
     * off by the request deadline.
     */
    @Test
    void idleClientsWithAHalfSentRequestDoNotStallStatusAndAreCutOff() throws Exception {
        try (AdminCluster c = new AdminCluster(dir)) {
            c.start("n1", MemberRole.VOTER);
            Path socket = c.socketDir().resolve("admin-test-n1.sock");
            List<SocketChannel> idle = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                SocketChannel s = connect(socket);
                s.write(ByteBuffer.wrap("ha-vipd-admin/1 admin-".getBytes(StandardCharsets.UTF_8)));
                idle.add(s);
            }
            CompletableFuture<Run> status = CompletableFuture.supplyAsync(() -> c.admin("n1", "status"));
            Run r = status.get(60, TimeUnit.SECONDS);
            assertThat(r.code()).as(r.toString()).isZero();
            assertThat(r.out()).contains("node n1: ");
            for (SocketChannel s : idle) {
                // the server closes each: a read sees the end of the stream, or the reply to a cut-off request
                ByteBuffer b = ByteBuffer.allocate(256);
                Await.until(Duration.ofSeconds(60), () -> {
                    try {
                        b.clear();
                        return s.read(b) < 0;
                    } catch (IOException e) {
                        return true;
                    }
                }, () -> "the server closes a client that never finishes its request");
                s.close();
            }
        }
    }

    @Test
    void beyondTheConnectionLimitAClientIsToldBusyAtOnce() throws Exception {
        try (AdminCluster c = new AdminCluster(dir)) {
            c.start("n1", MemberRole.VOTER);
            Path socket = c.socketDir().resolve("admin-test-n1.sock");
            List<SocketChannel> held = new ArrayList<>();
            try {
                for (int i = 0; i < AdminServer.MAX_CONNECTIONS; i++) {
                    held.add(connect(socket));
                }
                Run r = c.admin("n1", "status");
                if (r.code() == 0) {
                    // the request deadline freed a slot before the command connected (a very slow host)
                    assertThat(r.out()).contains("node n1: ");
                } else {
                    assertThat(r.err()).as(r.toString()).contains("refused (BUSY): " + AdminServer.MAX_CONNECTIONS
                            + " admin connections are open at once; nothing was changed");
                }
            } finally {
                for (SocketChannel s : held) {
                    s.close();
                }
            }
            Await.until(Duration.ofSeconds(30), () -> c.admin("n1", "status").code() == 0,
                    () -> "status works again once the connections are closed");
        }
    }

    @Test
    void drainAndUndrainAreForSeveralVipsAndASingleVipDaemonRefusesThem() throws Exception {
        try (AdminCluster c = new AdminCluster(dir)) {
            c.start("n1", MemberRole.VOTER);
            for (String command : List.of("drain", "undrain")) {
                Run r = c.admin("n1", command);
                assertThat(r.code()).as(r.toString()).isEqualTo(1);
                assertThat(r.err()).as(r.toString()).startsWith("ha-vipd admin: refused (NOT_SUPPORTED): " + command
                        + " is for a daemon with several VIPs (vip.GROUP.address keys); this one holds a single VIP:"
                        + " stop it (SIGTERM) to hand the VIP over. Nothing was changed");
            }
            Run extra = c.admin("n1", "drain", "n2");
            assertThat(extra.code()).isEqualTo(2);
            assertThat(extra.err()).startsWith("ha-vipd admin: 'drain' takes no argument, got 1");
        }
    }

    @Test
    void aClientOfAnotherClusterIsRefused() throws Exception {
        try (AdminCluster c = new AdminCluster(dir)) {
            c.start("n1", MemberRole.VOTER);
            String reply = probe(c.socketDir().resolve("admin-test-n1.sock"), "other");
            assertThat(reply).startsWith("REPLY: FAILED WRONG_CLUSTER this daemon runs cluster 'admin-test', not"
                    + " 'other'");
        }
    }

    @Test
    void aSecondDaemonForTheSameSocketDoesNotStartAndAStaleSocketIsReplaced() throws Exception {
        try (AdminCluster c = new AdminCluster(dir)) {
            io.haraft.RaftNode n1 = c.start("n1", MemberRole.VOTER);
            Path socket = c.socketDir().resolve("admin-test-n1.sock");
            assertThatThrownBy(() -> AdminServer.start(n1, AdminCluster.CLUSTER, socket))
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining("another ha-vipd answers on the admin socket " + socket);
            assertThat(c.admin("n1", "status").code()).as("the first one still serves").isZero();

            // a socket file nobody listens on, as a killed daemon leaves it
            Path stale = c.socketDir().resolve("admin-test-n9.sock");
            try (java.nio.channels.ServerSocketChannel s = java.nio.channels.ServerSocketChannel.open(
                    java.net.StandardProtocolFamily.UNIX)) {
                s.bind(UnixDomainSocketAddress.of(stale));
            }
            assertThat(stale).exists();
            try (AdminServer again = AdminServer.start(n1, AdminCluster.CLUSTER, stale)) {
                assertThat(probe(stale, AdminCluster.CLUSTER)).startsWith("REPLY: ");
            }

            Path notASocket = Files.writeString(c.socketDir().resolve("admin-test-n8.sock"), "x");
            assertThatThrownBy(() -> AdminServer.start(n1, AdminCluster.CLUSTER, notASocket))
                    .hasMessageContaining("exists and is not a socket");
        }
    }

    @Test
    void aDirectoryOthersCanWriteIsRefused() throws Exception {
        try (AdminCluster c = new AdminCluster(dir)) {
            io.haraft.RaftNode n1 = c.start("n1", MemberRole.VOTER);
            Path open = Files.createDirectory(dir.resolve("open"));
            Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxrwx"));
            assertThatThrownBy(() -> AdminServer.start(n1, AdminCluster.CLUSTER, open.resolve("x-n1.sock")))
                    .hasMessageContaining("is writable by every user (rwxrwxrwx), so another user could replace the"
                            + " socket");
        }
    }

    // ------------------------------------------------------------------ another user

    private static void requireRootAndSetpriv() {
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")), "needs root to run a client as nobody");
        Assumptions.assumeTrue(Files.isExecutable(Path.of(SETPRIV)), "needs setpriv (util-linux)");
    }

    /** Runs {@link SocketProbe} as this user, or as nobody when {@code asNobody}; returns its line. */
    private static String probe(Path socket, String cluster, boolean asNobody) throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> command = new ArrayList<>();
        if (asNobody) {
            command.addAll(List.of(SETPRIV, "--reuid=65534", "--regid=65534", "--clear-groups"));
        }
        command.addAll(List.of(java.toString(), "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", testClasses(),
                SocketProbe.class.getName(), socket.toString(), cluster));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return out;
    }

    private static String probe(Path socket, String cluster) throws Exception {
        return probe(socket, cluster, false);
    }

    /** The directory of this module's test classes (SocketProbe and AdminReply need nothing else). */
    private static String testClasses() {
        List<String> dirs = new ArrayList<>();
        for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (e.endsWith("test-classes") || e.endsWith("classes")) {
                dirs.add(Path.of(e).toAbsolutePath().toString());
            }
        }
        return String.join(File.pathSeparator, dirs);
    }

    @Test
    void anotherUserCannotConnect() throws Exception {
        requireRootAndSetpriv();
        try (AdminCluster c = new AdminCluster(dir)) {
            c.start("n1", MemberRole.VOTER);
            Path socket = c.socketDir().resolve("admin-test-n1.sock");
            assertThat(probe(socket, AdminCluster.CLUSTER)).as("root may").startsWith("REPLY: INFO node n1: ");
            assertThat(probe(socket, AdminCluster.CLUSTER, true)).as("nobody may not")
                    .startsWith("CONNECT FAILED: ").contains("Permission denied");
        }
    }

    /** Even if an operator opens the file permissions, the kernel-checked peer credentials keep others out. */
    @Test
    void anotherUserIsRefusedByItsCredentialsEvenWhenTheFileIsOpen() throws Exception {
        requireRootAndSetpriv();
        try (AdminCluster c = new AdminCluster(dir)) {
            c.start("n1", MemberRole.VOTER);
            Path socket = c.socketDir().resolve("admin-test-n1.sock");
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.setPosixFilePermissions(c.socketDir(), PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw-rw-"));
            assertThat(probe(socket, AdminCluster.CLUSTER, true))
                    .isEqualTo("REPLY: FAILED NOT_ALLOWED user nobody may not use this admin socket; run ha-vipd admin"
                            + " as root (the daemon's user). Nothing was changed");
        }
    }
}
