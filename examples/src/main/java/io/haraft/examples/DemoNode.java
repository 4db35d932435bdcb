package io.haraft.examples;

import io.haraft.FencingToken;
import io.haraft.Leadership;
import io.haraft.LeadershipListener;
import io.haraft.NodeStatus;
import io.haraft.RaftNode;
import io.haraft.RevokeReason;
import io.haraft.fencing.jdbc.JdbcFence;
import io.haraft.fencing.jdbc.StaleTokenException;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * One node of the local demo cluster, run as its own process by {@link LocalClusterDemo}.
 *
 * <p>Prints one event per line on stdout, with the host's monotonic clock (shared by all
 * processes on Linux) so the driver can time failovers: {@code ELECTED <node> <token> <nanos>},
 * {@code REVOKED <node> <token> <reason> <nanos>}, {@code FOLLOWING <node> <leader>}. Reads commands
 * from stdin: {@code transfer <id>}, {@code stats}, {@code close}, and with {@code --jdbc URL USER
 * PASSWORD RESOURCE} also {@code prepare} (check the lease, keep the token) and {@code write <label>} (a
 * fenced insert with the kept token: {@code WROTE} or {@code REJECTED <node> <token> <current>}).
 *
 * <p>Usage: {@code node <id> <dataDir> <id=host:port>... [--jdbc URL USER PASSWORD RESOURCE]}
 */
public final class DemoNode {
    private DemoNode() {
    }

    public static void main(String[] args) throws Exception {
        String self = args[0];
        Path dataDir = Path.of(args[1]);
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        RaftNode.Builder b = builder("demo", self, dataDir, Duration.ofMillis(300))
                .listener(new LeadershipListener() {
                    @Override
                    public void elected(Leadership l) {
                        out.println("ELECTED " + self + " " + l.token().value() + " " + System.nanoTime());
                    }

                    @Override
                    public void revoked(Leadership l, RevokeReason why) {
                        out.println("REVOKED " + self + " " + l.token().value() + " " + why + " " + System.nanoTime());
                    }
                });
        JdbcFence fenced = null;
        for (int i = 2; i < args.length; i++) {
            if (args[i].equals("--jdbc")) {
                String url = args[++i];
                String user = args[++i];
                String password = args[++i];
                String resource = args[++i];
                fenced = JdbcFence.builder(() -> DriverManager.getConnection(url, user, password)).resource(resource)
                        .build();
                continue;
            }
            String[] kv = args[i].split("=", 2);
            b.member(kv[0], kv[1]);
        }
        FencingToken prepared = null;
        try (RaftNode node = b.build()) {
            node.start();
            ScheduledExecutorService watcher = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "demo-leader-watch");
                t.setDaemon(true);
                return t;
            });
            String[] last = {null};
            watcher.scheduleWithFixedDelay(() -> {
                String leader = node.status().leaderId().orElse(null);
                if (leader != null && !leader.equals(last[0])) {
                    out.println("FOLLOWING " + self + " " + leader);
                    last[0] = leader;
                }
            }, 0, 20, TimeUnit.MILLISECONDS);
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            String line;
            while ((line = in.readLine()) != null) {
                String[] cmd = line.trim().split(" +");
                switch (cmd[0]) {
                    case "transfer" -> {
                        try {
                            node.transferLeadership(cmd[1]).get(5, TimeUnit.SECONDS);
                        } catch (Exception e) {
                            out.println("TRANSFER-FAILED " + e);
                        }
                    }
                    case "stats" -> printStats(node.status(), out);
                    case "prepare" -> {
                        // check the lease and take the token, as a writer does right before it writes
                        try {
                            prepared = node.leadership().orElseThrow(() -> new IllegalStateException("not leader"))
                                    .checkValid();
                            out.println("PREPARED " + self + " " + prepared.value());
                        } catch (RuntimeException e) {
                            out.println("NOT-PREPARED " + self + " " + e.getMessage().replace(' ', '_'));
                        }
                    }
                    case "write" -> {
                        long t = prepared == null ? 0 : prepared.value();
                        try {
                            String label = cmd[1];
                            FencingToken token = prepared;
                            fenced.write(token, c -> {
                                try (PreparedStatement p = c.prepareStatement(
                                        "INSERT INTO demo_ledger(writer, token, label) VALUES (?, ?, ?)")) {
                                    p.setString(1, self);
                                    p.setLong(2, token.value());
                                    p.setString(3, label);
                                    return p.executeUpdate();
                                }
                            });
                            out.println("WROTE " + self + " " + t + " " + label);
                        } catch (StaleTokenException e) {
                            out.println("REJECTED " + self + " " + t + " " + e.highest().value());
                        }
                    }
                    case "close" -> {
                        return;
                    }
                    default -> out.println("UNKNOWN " + line);
                }
            }
        }
    }

    /** The builder of node {@code self} of a local demo cluster on loopback: a heartbeat every 100 ms. */
    static RaftNode.Builder builder(String clusterId, String self, Path dataDir, Duration electionTimeout) {
        return RaftNode.builder()
                .clusterId(clusterId)
                .nodeId(self)
                .dataDir(dataDir)
                .heartbeatInterval(Duration.ofMillis(100))
                .electionTimeout(electionTimeout);
    }

    private static void printStats(NodeStatus s, PrintStream out) {
        for (NodeStatus.PeerStats p : s.peers()) {
            out.printf("STATS %s->%s rtt_p50_ms=%.2f rtt_p99_ms=%.2f rtt_max_ms=%.2f answered=%d/%d reliability=%.4f%n",
                    s.nodeId(), p.peerId(), p.rttP50().toNanos() / 1e6, p.rttP99().toNanos() / 1e6,
                    p.rttMax().toNanos() / 1e6,
                    p.heartbeatsAnswered(), p.heartbeatsSent(), p.reliability());
        }
        out.println("STATS END");
    }
}
