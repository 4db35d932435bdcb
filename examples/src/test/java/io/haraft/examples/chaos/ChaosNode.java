package io.haraft.examples.chaos;

import io.haraft.ClusterConfiguration;
import io.haraft.Committed;
import io.haraft.IndeterminateOutcomeException;
import io.haraft.Leadership;
import io.haraft.LeadershipListener;
import io.haraft.MemberRole;
import io.haraft.MembershipChangeException;
import io.haraft.NodeStatus;
import io.haraft.NotLeaderException;
import io.haraft.RaftConfig;
import io.haraft.RaftNode;
import io.haraft.RevokeReason;
import io.haraft.examples.fenced.FencedJdbc;
import io.haraft.examples.fenced.StaleTokenException;
import io.haraft.runtime.MonotonicClock;
import io.haraft.runtime.RaftNodeProvider;
import io.haraft.transport.FaultyTransport;
import io.haraft.transport.GrpcTransport;
import io.haraft.transport.GrpcTransportConfig;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.Writer;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * One node of the chaos cluster, run as its own JVM by {@link ChaosController}. TEST CODE: it
 * lives in the test sources because it wraps its transport with {@link FaultyTransport} and can
 * be told to partition itself, and because it carries planted bugs behind a switch.
 *
 * <p>Usage: {@code <id> <dataDir> <adminPort> <jdbcUrl> <user> <password> <resource> <bug|none>
 * <id=host:port[=learner]>...}: the start-up members, a voter unless marked {@code =learner}. A node
 * that joins a running cluster is started with the current voters and itself as a learner; a
 * restarted node uses the configuration stored in its data directory, whatever these say.
 *
 * <p>Prints on stdout, times from {@link System#nanoTime()}:
 * <ul>
 *   <li>{@code ELECTED <node> <token> <nanos>}, {@code REVOKED <node> <token> <reason> <nanos>};</li>
 *   <li>{@code VALID <node> <token> <nanos>} every ~20 ms while the lease is valid: the lease was
 *       observed valid at or after that instant;</li>
 *   <li>{@code WRITE <node> <token> <seq> <leaseValid> <startNanos> <endNanos> ACCEPTED|REJECTED|ERROR}
 *       for every fenced write attempted on PostgreSQL.</li>
 * </ul>
 *
 * <p>Admin and client commands on a loopback socket, one per line, {@code <reqId> <command...>};
 * each is answered by one line {@code <reqId> OK <value...>}, {@code <reqId> NOTLEADER <leader|->},
 * {@code <reqId> UNKNOWN <why>} or {@code <reqId> FAIL <why>}: {@code inc <op>}, {@code write <op> <v>},
 * {@code cas <op> <expect> <new>}, {@code nop <op>}, {@code read counter|register} (behind
 * {@link RaftNode#readIndex()}), {@code partition <peer>...}, {@code heal}, {@code transfer <id>},
 * {@code summary}, {@code results}, {@code status}; membership, forwarded to the {@link RaftNode}
 * methods of the same names: {@code addlearner <id> <host:port>}, {@code promote <id>},
 * {@code remove <id>}, {@code replace <old> <new> <host:port>} (answered {@code OK <index>
 * <id:ROLE,...>} with the committed configuration, {@code NOTLEADER <leader|->}, {@code REFUSED
 * <reason>} for a {@link MembershipChangeException}, or {@code FAIL <why>}), and {@code members}
 * ({@code OK <pending> <removed> <id:ROLE,...>}: the configuration this node uses).
 *
 * <p>Planted bugs (argument 8): {@code stale-writer} keeps writing with the token of its last
 * election, never checking the lease nor stopping when revoked; {@code follower-read} answers
 * reads from local state without a read barrier, on any node.
 */
public final class ChaosNode {
    private static final PrintStream OUT = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    /** How long {@code promote} and {@code replace} wait for a learner to catch up (the controller waits longer). */
    private static final Duration CATCH_UP = Duration.ofSeconds(20);

    private final String self;
    private final String bug;
    private final RaftNode node;
    private final ChaosStateMachine state;
    private final FaultyTransport.Faults faults;
    private final String resource;
    private final ExecutorService responders = Executors.newCachedThreadPool(daemon("chaos-respond"));
    private volatile Leadership leadership;

    private ChaosNode(String self, String bug, String resource, RaftNode node, ChaosStateMachine state,
                      FaultyTransport.Faults faults) {
        this.self = self;
        this.bug = bug;
        this.node = node;
        this.state = state;
        this.faults = faults;
        this.resource = resource;
    }

    public static void main(String[] args) throws Exception {
        String self = args[0];
        Path dataDir = Path.of(args[1]);
        int adminPort = Integer.parseInt(args[2]);
        String url = args[3];
        String user = args[4];
        String password = args[5];
        String resource = args[6];
        String bug = args[7];
        ChaosStateMachine state = new ChaosStateMachine();
        ChaosNode[] holder = new ChaosNode[1];
        RaftNode.Builder b = RaftNode.builder()
                .clusterId("chaos")
                .nodeId(self)
                .dataDir(dataDir)
                .heartbeatInterval(Duration.ofMillis(100))
                .electionTimeout(Duration.ofMillis(300))
                .stateMachine(state);
        for (String member : Arrays.copyOfRange(args, 8, args.length)) {
            String[] kv = member.split("=", 3);
            b.member(kv[0], kv[1], kv.length > 2 && kv[2].equals("learner") ? MemberRole.LEARNER : MemberRole.VOTER);
        }
        FaultyTransport.Faults faults = new FaultyTransport.Faults();
        RaftNodeProvider provider = new RaftNodeProvider(
                config -> new FaultyTransport(GrpcTransport.create(GrpcTransportConfig.from(config)), faults),
                null, MonotonicClock.system());
        RaftConfig config = b.config().prepareDataDir();
        RaftNode raft = provider.create(config, listenerOf(holder, self), state);
        ChaosNode chaos = new ChaosNode(self, bug, resource, raft, state, faults);
        holder[0] = chaos;
        if (!bug.equals("none")) {
            System.err.println("chaos node " + self + ": PLANTED BUG " + bug + " is switched on");
        }
        FencedJdbc fenced = new FencedJdbc(() -> DriverManager.getConnection(url, user, password), resource);
        raft.start();
        chaos.startLeaseSampler();
        chaos.startWriter(fenced);
        chaos.serve(adminPort);
    }

    /** The listener: prints transitions and tracks the current leadership for the writer and sampler. */
    private static LeadershipListener listenerOf(ChaosNode[] holder, String self) {
        return new LeadershipListener() {
            @Override
            public void elected(Leadership l) {
                holder[0].leadership = l;
                OUT.println("ELECTED " + self + " " + l.token().value() + " " + System.nanoTime());
            }

            @Override
            public void revoked(Leadership l, RevokeReason why) {
                if (!holder[0].bug.equals("stale-writer")) {
                    holder[0].leadership = null;
                }
                OUT.println("REVOKED " + self + " " + l.token().value() + " " + why + " " + System.nanoTime());
            }
        };
    }

    private void startLeaseSampler() {
        Thread t = new Thread(() -> {
            while (true) {
                Leadership l = leadership;
                if (l != null) {
                    long before = System.nanoTime();
                    if (l.isValid()) {
                        OUT.println("VALID " + self + " " + l.token().value() + " " + before);
                    }
                }
                sleepMillis(20);
            }
        }, "chaos-lease-sampler");
        t.setDaemon(true);
        t.start();
    }

    private void startWriter(FencedJdbc fenced) {
        Thread t = new Thread(() -> {
            long seq = 0;
            while (true) {
                sleepMillis(50);
                Leadership l = leadership;
                if (l == null) {
                    continue;
                }
                boolean valid = l.isValid();
                if (!valid && !bug.equals("stale-writer")) {
                    continue; // the lease ran out: a correct writer stops here
                }
                long token = l.token().value();
                long s = ++seq;
                long start = System.nanoTime();
                String outcome;
                try {
                    fenced.write(l.token(), c -> {
                        try (PreparedStatement p = c.prepareStatement(
                                "INSERT INTO chaos_ledger(resource, writer, token, seq) VALUES (?, ?, ?, ?)")) {
                            p.setString(1, resource);
                            p.setString(2, self);
                            p.setLong(3, token);
                            p.setLong(4, s);
                            return p.executeUpdate();
                        }
                    });
                    outcome = "ACCEPTED";
                } catch (StaleTokenException e) {
                    outcome = "REJECTED";
                } catch (Exception e) {
                    outcome = "ERROR";
                    System.err.println("chaos node " + self + ": write failed: " + e);
                }
                OUT.println("WRITE " + self + " " + token + " " + s + " " + valid + " " + start + " "
                        + System.nanoTime() + " " + outcome);
            }
        }, "chaos-writer");
        t.setDaemon(true);
        t.start();
    }

    private void serve(int port) throws IOException {
        try (ServerSocket server = new ServerSocket(port, 50, InetAddress.getLoopbackAddress())) {
            while (true) {
                Socket s = server.accept();
                Thread t = new Thread(() -> connection(s), "chaos-admin");
                t.setDaemon(true);
                t.start();
            }
        }
    }

    private void connection(Socket s) {
        try (s; BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
             Writer out = new java.io.OutputStreamWriter(s.getOutputStream(), StandardCharsets.UTF_8)) {
            s.setTcpNoDelay(true);
            String line;
            while ((line = in.readLine()) != null) {
                String[] f = line.trim().split(" +");
                String reqId = f[0];
                handle(f).whenCompleteAsync((answer, error) -> {
                    String text = error == null ? answer : "FAIL " + oneWord(error);
                    synchronized (out) {
                        try {
                            out.write(reqId + " " + text + "\n");
                            out.flush();
                        } catch (IOException ignored) {
                            // the client gave up on this connection
                        }
                    }
                }, responders);
            }
        } catch (IOException ignored) {
            // client went away
        }
    }

    private CompletableFuture<String> handle(String[] f) {
        try {
            return switch (f[1]) {
                case "inc" -> submit(ChaosStateMachine.INC, Long.parseLong(f[2]), 0, 0);
                case "write" -> submit(ChaosStateMachine.WRITE, Long.parseLong(f[2]), Long.parseLong(f[3]), 0);
                case "cas" -> submit(ChaosStateMachine.CAS, Long.parseLong(f[2]), Long.parseLong(f[3]),
                        Long.parseLong(f[4]));
                case "nop" -> submit(ChaosStateMachine.NOP, Long.parseLong(f[2]), 0, 0);
                case "read" -> read(f[2].equals("counter") ? state::counter : state::register);
                case "partition" -> {
                    faults.heal();
                    faults.partition(Set.of(self), Set.copyOf(Arrays.asList(f).subList(2, f.length)));
                    yield CompletableFuture.completedFuture("OK");
                }
                case "heal" -> {
                    faults.heal();
                    yield CompletableFuture.completedFuture("OK");
                }
                case "transfer" -> node.transferLeadership(f[2]).handle((v, e) -> e == null ? "OK" : failure(e));
                case "summary" -> CompletableFuture.completedFuture("OK " + state.summary());
                case "results" -> CompletableFuture.completedFuture("OK " + state.results());
                case "status" -> {
                    NodeStatus st = node.status();
                    yield CompletableFuture.completedFuture("OK " + st.role() + " " + st.term() + " "
                            + st.leaderId().orElse("-") + " " + st.commitIndex() + " " + st.appliedIndex());
                }
                case "members" -> {
                    NodeStatus st = node.status();
                    yield CompletableFuture.completedFuture("OK " + st.configurationPending() + " " + st.removed() + " "
                            + String.join(",", st.members().stream().map(m -> m.id() + ":" + m.role()).toList()));
                }
                case "addlearner" -> membership(node.addLearner(f[2], f[3]));
                case "promote" -> membership(node.promote(f[2], CATCH_UP));
                case "remove" -> membership(node.removeMember(f[2]));
                case "replace" -> membership(node.replaceMember(f[2], f[3], f[4], CATCH_UP));
                default -> CompletableFuture.completedFuture("FAIL unknown_command");
            };
        } catch (RuntimeException e) {
            return CompletableFuture.completedFuture("FAIL " + oneWord(e));
        }
    }

    private CompletableFuture<String> submit(byte type, long opId, long a, long b) {
        return node.submit(ChaosStateMachine.encode(type, opId, a, b))
                .handle((Committed c, Throwable e) -> e == null
                        ? "OK " + ChaosStateMachine.decodeResult(c.data()) : failure(e));
    }

    private CompletableFuture<String> read(Supplier<Long> value) {
        if (bug.equals("follower-read")) {
            return CompletableFuture.completedFuture("OK " + value.get()); // PLANTED BUG: no read barrier
        }
        return node.readIndex().handle((c, e) -> e == null ? "OK " + value.get() : failure(e));
    }

    private static CompletableFuture<String> membership(CompletableFuture<ClusterConfiguration> change) {
        return change.handle((c, e) -> {
            if (e == null) {
                return "OK " + c.index() + " " + String.join(",",
                        c.members().stream().map(m -> m.id() + ":" + m.role()).toList());
            }
            Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            if (cause instanceof MembershipChangeException mce) {
                return "REFUSED " + mce.reason();
            }
            return cause instanceof NotLeaderException ? failure(cause) : "FAIL " + oneWord(cause);
        });
    }

    private static String failure(Throwable e) {
        Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
        if (cause instanceof NotLeaderException nle) {
            return "NOTLEADER " + nle.leaderId().orElse("-");
        }
        if (cause instanceof IndeterminateOutcomeException) {
            return "UNKNOWN indeterminate";
        }
        return "UNKNOWN " + oneWord(cause);
    }

    private static String oneWord(Throwable e) {
        return e.getClass().getSimpleName();
    }

    private static void sleepMillis(long ms) {
        try {
            TimeUnit.MILLISECONDS.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }
}
