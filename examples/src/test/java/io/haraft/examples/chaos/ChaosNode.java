package io.haraft.examples.chaos;

import io.haraft.ClusterConfiguration;
import io.haraft.Committed;
import io.haraft.IndeterminateOutcomeException;
import io.haraft.Leadership;
import io.haraft.LeadershipListener;
import io.haraft.LeaseExpiredException;
import io.haraft.MemberRole;
import io.haraft.MembershipChangeException;
import io.haraft.NodeStatus;
import io.haraft.NotLeaderException;
import io.haraft.RaftConfig;
import io.haraft.RaftNode;
import io.haraft.RevokeReason;
import io.haraft.fencing.jdbc.JdbcFence;
import io.haraft.fencing.jdbc.StaleTokenException;
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
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
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
 * <p>Prints on stdout, times from {@link System#nanoTime()} (the clock of the node's leases, and
 * the same clock in every process of the host):
 * <ul>
 *   <li>{@code ELECTED <node> <token> <nanos>}, {@code REVOKED <node> <token> <reason> <nanos>};</li>
 *   <li>{@code LEASE_END <node> <token> <endNanos>} once per leadership: the instant until which
 *       this node treated the leadership as valid. Correct build: the instant the library's lease
 *       ran out or was revoked, read back from {@link LeaseExpiredException#endedAgo()} (within
 *       0.2 ms, never earlier), printed by the {@code revoked} callback or, if that does not come,
 *       by a watcher that looks every 20 ms; it is exact however late it is printed (after a
 *       SIGSTOP, say);</li>
 *   <li>{@code WINDOW <node> <token> <seq> <checkNanos>} when the writer enters a check-to-write
 *       window that the controller asked to hold open ({@code holdwrite});</li>
 *   <li>{@code WRITE <node> <token> <seq> <leaseValid> <checkNanos> <startNanos> <endNanos>
 *       ACCEPTED|REJECTED|ERROR} for every write attempted on PostgreSQL: {@code leaseValid} and
 *       {@code checkNanos} are the lease check, {@code startNanos} when the SQL transaction began
 *       (after the work done in between).</li>
 * </ul>
 *
 * <p>Admin and client commands on a loopback socket, one per line, {@code <reqId> <command...>};
 * each is answered by one line {@code <reqId> OK <value...>}, {@code <reqId> NOTLEADER <leader|->},
 * {@code <reqId> UNKNOWN <why>} or {@code <reqId> FAIL <why>}: {@code inc <op>}, {@code write <op> <v>},
 * {@code cas <op> <expect> <new>}, {@code nop <op>}, {@code read counter|register} (behind
 * {@link RaftNode#readIndex()}), {@code leaseread counter|register} (through {@link RaftNode#leaseRead}),
 * {@code partition <peer>...}, {@code heal}, {@code transfer <id>}, {@code holdwrite <ms>} (the
 * writer's next check-to-write window lasts that long), {@code summary}, {@code results},
 * {@code status}; membership, forwarded to the {@link RaftNode}
 * methods of the same names: {@code addlearner <id> <host:port>}, {@code promote <id>},
 * {@code remove <id>}, {@code replace <old> <new> <host:port>} (answered {@code OK <index>
 * <id:ROLE,...>} with the committed configuration, {@code NOTLEADER <leader|->}, {@code REFUSED
 * <reason>} for a {@link MembershipChangeException}, or {@code FAIL <why>}), and {@code members}
 * ({@code OK <pending> <removed> <id:ROLE,...>}: the configuration this node uses).
 *
 * <p>The fenced writer, every ~50 ms while this node leads: checks its lease, takes the token,
 * does 10-50 ms of work (longer when the controller holds the window open), then writes a ledger
 * row through {@link JdbcFence} with that token. A pause that lands between the check and the
 * write makes a stale attempt, as in real life; the guard must reject it once a newer leader has
 * written.
 *
 * <p>Planted bugs (argument 8, {@link #BUGS}): {@code unfenced-writer} writes its ledger rows
 * without the guard (no token check in the database); {@code lease-ignorer} treats its leadership
 * as valid from {@code elected} until {@code revoked}, ignoring the lease (its writer and its
 * lease reads act on that, and its {@code LEASE_END} is the {@code revoked} instant);
 * {@code follower-read} answers {@code read} from local state without a read barrier, on any node.
 */
public final class ChaosNode {
    private static final PrintStream OUT = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    /** How long {@code promote} and {@code replace} wait for a learner to catch up (the controller waits longer). */
    private static final Duration CATCH_UP = Duration.ofSeconds(20);
    /** The planted-bug switch: {@code none} for the correct build. */
    static final Set<String> BUGS = Set.of("none", "unfenced-writer", "lease-ignorer", "follower-read");

    private final String self;
    private final String bug;
    private final RaftNode node;
    private final ChaosStateMachine state;
    private final FaultyTransport.Faults faults;
    private final String resource;
    private final ExecutorService responders = Executors.newCachedThreadPool(daemon("chaos-respond"));
    private volatile Leadership leadership;
    /** The token whose LEASE_END was printed last (each leadership's is printed once). */
    private long leaseEndPrinted;
    /** The length of the writer's next check-to-write window in ms, if the controller asked for one. */
    private final AtomicLong holdNextWrite = new AtomicLong();

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
        if (!BUGS.contains(bug)) {
            throw new IllegalArgumentException("unknown planted bug \"" + bug + "\"; use one of " + BUGS);
        }
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
        JdbcFence fenced = JdbcFence.builder(() -> DriverManager.getConnection(url, user, password)).resource(resource)
                .build();
        raft.start();
        chaos.startLeaseEndWatcher();
        chaos.startWriter(fenced, url, user, password);
        chaos.serve(adminPort);
    }

    /** The listener: prints transitions and tracks the current leadership for the writer and the reads. */
    private static LeadershipListener listenerOf(ChaosNode[] holder, String self) {
        return new LeadershipListener() {
            @Override
            public void elected(Leadership l) {
                holder[0].leadership = l;
                OUT.println("ELECTED " + self + " " + l.token().value() + " " + System.nanoTime());
            }

            @Override
            public void revoked(Leadership l, RevokeReason why) {
                ChaosNode chaos = holder[0];
                long now = System.nanoTime();
                // PLANTED BUG lease-ignorer: it acted as leader until now, whatever its lease said
                chaos.printLeaseEnd(l, chaos.bug.equals("lease-ignorer") ? now : leaseEnd(l));
                chaos.leadership = null;
                OUT.println("REVOKED " + self + " " + l.token().value() + " " + why + " " + now);
            }
        };
    }

    private synchronized void printLeaseEnd(Leadership l, long endNanos) {
        if (leaseEndPrinted != l.token().value()) {
            leaseEndPrinted = l.token().value();
            OUT.println("LEASE_END " + self + " " + l.token().value() + " " + endNanos);
        }
    }

    /**
     * When an ended leadership stopped being valid, on {@link System#nanoTime()}: now minus the
     * library's {@link LeaseExpiredException#endedAgo()}. The result is never earlier than the true
     * end, and at most the time between the library's clock read and ours later (retried until that
     * is under 0.2 ms).
     */
    private static long leaseEnd(Leadership ended) {
        long best = Long.MAX_VALUE;
        for (int attempt = 0; attempt < 20; attempt++) {
            long before = System.nanoTime();
            long ago;
            try {
                ended.checkValid();
                throw new IllegalStateException(ended + " is still valid; its end is not known yet");
            } catch (LeaseExpiredException e) {
                ago = e.endedAgo().toNanos();
            }
            long after = System.nanoTime();
            best = Math.min(best, after - ago);
            if (after - before < 200_000) {
                break;
            }
        }
        return best;
    }

    /**
     * Prints the lease end of a leadership whose {@code revoked} callback has not come (yet): it
     * comes in practice, this covers the case where it does not. Not in the lease-ignorer, which
     * ignores the lease.
     */
    private void startLeaseEndWatcher() {
        if (bug.equals("lease-ignorer")) {
            return;
        }
        Thread t = new Thread(() -> {
            while (true) {
                Leadership l = leadership;
                if (l != null && !l.isValid()) {
                    printLeaseEnd(l, leaseEnd(l));
                }
                sleepMillis(20);
            }
        }, "chaos-lease-end");
        t.setDaemon(true);
        t.start();
    }

    private void startWriter(JdbcFence fenced, String url, String user, String password) {
        Thread t = new Thread(() -> {
            long seq = 0;
            while (true) {
                sleepMillis(50);
                Leadership l = leadership;
                if (l == null) {
                    continue;
                }
                long check = System.nanoTime();
                boolean valid = l.isValid();
                if (!valid && !bug.equals("lease-ignorer")) {
                    continue; // the lease ran out: a correct writer stops here (the lease-ignorer goes on)
                }
                long token = l.token().value();
                long s = ++seq;
                // the work between the lease check and the write; a pause can land in it
                long hold = holdNextWrite.getAndSet(0);
                if (hold > 0) {
                    OUT.println("WINDOW " + self + " " + token + " " + s + " " + check);
                }
                sleepMillis(hold > 0 ? hold : ThreadLocalRandom.current().nextInt(10, 51));
                long start = System.nanoTime();
                String outcome;
                try {
                    if (bug.equals("unfenced-writer")) {
                        // PLANTED BUG: the row is written without the guard, so the token is never checked
                        try (Connection c = DriverManager.getConnection(url, user, password)) {
                            insertLedgerRow(c, token, s);
                        }
                    } else {
                        fenced.write(l.token(), c -> insertLedgerRow(c, token, s));
                    }
                    outcome = "ACCEPTED";
                } catch (StaleTokenException e) {
                    outcome = "REJECTED";
                } catch (Exception e) {
                    outcome = "ERROR";
                    System.err.println("chaos node " + self + ": write failed: " + e);
                }
                OUT.println("WRITE " + self + " " + token + " " + s + " " + valid + " " + check + " " + start + " "
                        + System.nanoTime() + " " + outcome);
            }
        }, "chaos-writer");
        t.setDaemon(true);
        t.start();
    }

    private int insertLedgerRow(Connection c, long token, long seq) throws SQLException {
        try (PreparedStatement p = c.prepareStatement(
                "INSERT INTO chaos_ledger(resource, writer, token, seq) VALUES (?, ?, ?, ?)")) {
            p.setString(1, resource);
            p.setString(2, self);
            p.setLong(3, token);
            p.setLong(4, seq);
            return p.executeUpdate();
        }
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
                case "leaseread" -> leaseRead(f[2].equals("counter") ? state::counter : state::register);
                case "holdwrite" -> {
                    holdNextWrite.set(Long.parseLong(f[2]));
                    yield CompletableFuture.completedFuture("OK");
                }
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

    private CompletableFuture<String> leaseRead(Supplier<Long> value) {
        Leadership l = leadership;
        if (bug.equals("lease-ignorer") && l != null) {
            return CompletableFuture.completedFuture("OK " + value.get()); // PLANTED BUG: the lease is not looked at
        }
        return CompletableFuture.supplyAsync(() -> {
            try {
                return "OK " + node.leaseRead(held -> value.get());
            } catch (RuntimeException e) {
                return failure(e);
            }
        }, responders);
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
