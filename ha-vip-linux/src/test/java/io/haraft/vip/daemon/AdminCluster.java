package io.haraft.vip.daemon;

import io.haraft.Leadership;
import io.haraft.LeadershipListener;
import io.haraft.MemberRole;
import io.haraft.NodeStatus;
import io.haraft.RaftNode;
import io.haraft.RevokeReason;
import io.haraft.vip.Await;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Daemons without the VIP, in this JVM: for each node an {@code ha-vipd} config file, the
 * {@link RaftNode} that {@link DaemonConfig#nodeBuilder} builds from it (real gRPC on loopback,
 * real files) and its {@link AdminServer} on the socket the file gives (all in one directory, as
 * for daemons on one host). {@link #admin} runs
 * {@code ha-vipd admin} through {@link VipDaemon#run}, the command line entry point.
 */
final class AdminCluster implements AutoCloseable {
    static final Duration WAIT = Duration.ofSeconds(30);
    static final String CLUSTER = "admin-test";

    private final Path root;
    /** The bootstrap members line: every node started later lists these plus itself. */
    private final String bootstrap;
    private final Map<String, Integer> ports = new LinkedHashMap<>();
    private final Map<String, RaftNode> nodes = new LinkedHashMap<>();
    private final Map<String, AdminServer> servers = new LinkedHashMap<>();
    private final Map<String, Path> files = new LinkedHashMap<>();
    /** Extra lines for the next config files written. */
    String extraKeys = "";

    /** Three voters n1..n3, not started. */
    AdminCluster(Path root) {
        this.root = root;
        for (String id : List.of("n1", "n2", "n3")) {
            ports.put(id, freePort());
        }
        this.bootstrap = ports.keySet().stream().map(id -> id + "=" + address(id)).collect(Collectors.joining(","));
    }

    /** Starts n1..n3 and waits for a leader. */
    AdminCluster startVoters() {
        for (String id : List.of("n1", "n2", "n3")) {
            start(id, MemberRole.VOTER);
        }
        leader();
        return this;
    }

    String address(String id) {
        return "127.0.0.1:" + ports.computeIfAbsent(id, x -> freePort());
    }

    /** A config file for {@code id}: the bootstrap members, plus itself in {@code role} if it joins. */
    Path file(String id, MemberRole role) {
        return files.computeIfAbsent(id, x -> {
            String members = bootstrap + (bootstrap.contains(id + "=") ? ""
                    : "," + MemberList.entry(id, address(id), role));
            String vip = role.isWitness() ? "" : "vip = 192.0.2.50/24\ninterface = eth0\n";
            // a 1 s election timeout: the 2-core build machine, shared with other builds, pauses the
            // nodes long enough to lose a 300 ms lease now and then, and these tests are about the
            // admin commands, not about failover (they still pass through leader changes: see
            // AdminCli's retries)
            String text = "cluster.id = " + CLUSTER + "\nnode.id = " + id + "\nmembers = " + members + "\ndata.dir = "
                    + root.resolve(id + "-data") + "\nheartbeat.ms = 100\nelection.ms = 1000\nadmin.socket.dir = "
                    + socketDir() + "\n" + vip + extraKeys;
            try {
                Path f = root.resolve(id + ".properties");
                Files.writeString(f, text);
                Files.setPosixFilePermissions(f, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
                return f;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    Path file(String id) {
        return files.get(id);
    }

    /** Starts {@code id}'s node and admin endpoint the way the daemon does, without a VIP. */
    RaftNode start(String id, MemberRole role) {
        DaemonConfig c = DaemonConfig.parse(file(id, role));
        RaftNode node = c.nodeBuilder(new LeadershipListener() {
            @Override
            public void elected(Leadership leadership) {
            }

            @Override
            public void revoked(Leadership leadership, RevokeReason reason) {
            }
        }).build();
        nodes.put(id, node);
        try {
            servers.put(id, AdminServer.start(node, c.raftConfig().clusterId(), c.admin().socket()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        node.start();
        return node;
    }

    RaftNode node(String id) {
        return nodes.get(id);
    }

    /** Stops {@code id}'s admin endpoint; its node keeps running. */
    void stopAdmin(String id) {
        servers.remove(id).close();
    }

    /** The one running node that leads with a valid lease, once there is one. */
    String leader() {
        List<String> leaders = new ArrayList<>();
        Await.until(WAIT, () -> {
            leaders.clear();
            nodes.forEach((id, n) -> {
                if (n.leadership().isPresent()) {
                    leaders.add(id);
                }
            });
            return leaders.size() == 1;
        }, () -> "one leader among " + nodes.keySet() + ", found " + leaders);
        return leaders.get(0);
    }

    /** A running data voter (not a witness) that is not the leader. */
    String follower() {
        String leader = leader();
        return nodes.entrySet().stream().filter(e -> !e.getKey().equals(leader))
                .filter(e -> e.getValue().status().member(e.getKey()).map(m -> m.role() == MemberRole.VOTER)
                        .orElse(false))
                .filter(e -> !e.getValue().status().removed()).map(Map.Entry::getKey).findFirst().orElseThrow();
    }

    /** The leader's view of the configuration: {@code id role} pairs. */
    List<String> configuration() {
        NodeStatus s = nodes.get(leader()).status();
        return s.members().stream().map(m -> m.id() + " " + m.role()).toList();
    }

    /** What a run of the command line printed and returned. */
    record Run(int code, String out, String err) {
        @Override
        public String toString() {
            return "exit " + code + "\n--- out\n" + out + "--- err\n" + err;
        }
    }

    /** Runs {@code ha-vipd admin --config <file of id> args...}. */
    Run admin(String id, String... args) {
        return run(Stream.concat(Stream.of("admin", "--config", files.get(id).toString()), Stream.of(args))
                .toArray(String[]::new));
    }

    static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = VipDaemon.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** The directory of every node's admin socket. */
    Path socketDir() {
        return root.resolve("admin");
    }

    /** Raft ports already handed out in this JVM: a released one is free again. */
    private static final java.util.Set<Integer> HANDED_OUT = new java.util.HashSet<>();

    /**
     * A free loopback port not handed out before in this JVM, below the range the OS gives the
     * local ports of outgoing connections from (32768 and up on Linux), so that a daemon restarted
     * on its port never finds it taken by a connection made while it was down.
     */
    static synchronized int freePort() {
        java.util.Random random = new java.util.Random();
        for (int attempt = 0; attempt < 1000; attempt++) {
            int port = 15000 + random.nextInt(17001);
            if (!HANDED_OUT.contains(port) && bindable(port)) {
                HANDED_OUT.add(port);
                return port;
            }
        }
        throw new IllegalStateException("no free port on loopback between 15000 and 32000");
    }

    private static boolean bindable(int port) {
        try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public void close() {
        servers.values().forEach(AdminServer::close);
        nodes.values().parallelStream().forEach(RaftNode::close);
    }
}
