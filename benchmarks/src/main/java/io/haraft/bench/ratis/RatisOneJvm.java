package io.haraft.bench.ratis;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import io.haraft.bench.node.RatisTuning;
import org.HdrHistogram.Histogram;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.TimeDuration;

/**
 * A second, independent Ratis throughput harness, written apart from the side-by-side suite to
 * cross-check its Ratis figures: three {@link RaftServer}s and the load in this one JVM, on loopback,
 * fsync on (Ratis's defaults: unsafe and async flush off), 128 B entries, closed-loop in-flight
 * windows, latencies in an HdrHistogram.
 *
 * <p>{@code java -cp <benchmarks jar>:<HdrHistogram>:<ratis class path> io.haraft.bench.ratis.RatisOneJvm
 * dir=DIR [clients=1,128] [seconds=5] [warmup=3000] [path=client|server] [leader=set|unset]
 * [tuning=shipped|tuned|knob,knob] [timeouts=default|300] [label=TEXT]}
 *
 * <ul>
 *   <li>{@code path=client}: one {@link RaftClient}, created once, its async API
 *       ({@code client.async().send}); over gRPC on loopback even in this JVM.
 *       {@code leader=set} gives it the leader's id, {@code unset} lets it find the leader.</li>
 *   <li>{@code path=server}: the leader's {@link RaftServer#submitClientRequestAsync}, the in-process
 *       request path of an application that embeds the server: no RPC for the request.</li>
 *   <li>{@code tuning=tuned}: every knob of {@link RatisTuning}; {@code shipped} leaves every setting at its
 *       default; a comma list turns on those knobs alone.</li>
 *   <li>{@code layout=processes}: the two other servers each in a JVM of their own (the suite's layout:
 *       the load in the leader's JVM, which is made leader by a leadership transfer if needed);
 *       default {@code onejvm}.</li>
 *   <li>{@code steady=S}: before the rows, warm up at 128 in flight in 5 s windows until one is within
 *       10% of the one before (after at least three), at most S seconds.</li>
 *   <li>{@code timeouts=300}: election timeout 300-600 ms (what the side-by-side suite gives Ratis),
 *       {@code default}: 150-300 ms.</li>
 * </ul>
 *
 * <p>Prints one line per in-flight window on standard output:
 * {@code ROW label clients ops ops_per_s p50_ms p99_ms p999_ms errors cpu_nanos [leader-moved]}, where
 * {@code cpu_nanos} is the CPU time of this JVM (and its server JVMs) over the row, warm-up included. Exits 0 once done.
 */
public final class RatisOneJvm {

    private static final RaftGroupId GROUP =
            RaftGroupId.valueOf(UUID.nameUUIDFromBytes("ratis-one-jvm".getBytes(StandardCharsets.UTF_8)));
    private static final int ENTRY_BYTES = 128;

    private RatisOneJvm() {
    }

    public static void main(String[] argv) {
        try {
            run(argv);
        } catch (Throwable t) {
            // exit even though Ratis threads still run, so the caller and the server JVMs
            // (layout=processes: their stdin closes) do not wait for rows that never come
            t.printStackTrace();
            System.exit(2);
        }
    }

    private static void run(String[] argv) throws Exception {
        Map<String, String> a = new LinkedHashMap<>();
        for (String s : argv) {
            int eq = s.indexOf('=');
            a.put(s.substring(0, eq), s.substring(eq + 1));
        }
        Path dir = Path.of(a.get("dir"));
        Files.createDirectories(dir);
        String path = a.getOrDefault("path", "client");
        boolean leaderSet = a.getOrDefault("leader", "set").equals("set");
        List<String> knobs = RatisTuning.knobs(a.getOrDefault("tuning", "shipped"));
        String timeouts = a.getOrDefault("timeouts", "default");
        int seconds = Integer.parseInt(a.getOrDefault("seconds", "5"));
        long warmupMs = Long.parseLong(a.getOrDefault("warmup", "3000"));
        String label = a.getOrDefault("label", "onejvm");
        List<Integer> windows = new ArrayList<>();
        for (String c : a.getOrDefault("clients", "1,128").split(",")) {
            windows.add(Integer.parseInt(c));
        }

        boolean processes = a.getOrDefault("layout", "onejvm").equals("processes");
        if (a.containsKey("role")) {
            serveOnly(a, dir, timeouts, knobs);
            return;
        }
        List<RaftPeer> peers = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            peers.add(RaftPeer.newBuilder().setId("s" + i).setAddress("127.0.0.1:" + freePort()).build());
        }
        RaftGroup group = RaftGroup.valueOf(GROUP, peers);
        List<RaftServer> servers = new ArrayList<>();
        List<Process> children = new ArrayList<>();
        RaftProperties clientProps = new RaftProperties();
        // the client's in-flight limit must not be the bottleneck at the largest window (default 100)
        RaftClientConfigKeys.Async.setOutstandingRequestsMax(clientProps, 4096);
        for (RaftPeer peer : peers) {
            if (processes && !peer.equals(peers.get(0))) {
                children.add(spawn(peer, peers, a));
            } else {
                servers.add(newServer(peer, group, dir, timeouts, knobs));
            }
        }
        RaftServer leader = processes ? makeLeader(servers.get(0), group, clientProps, 60_000)
                : awaitLeader(servers, 60_000);
        RaftClient client = null;
        if (path.equals("client")) {
            RaftClient.Builder b = RaftClient.newBuilder().setProperties(clientProps).setRaftGroup(group);
            if (leaderSet) {
                b.setLeaderId(leader.getId());
            }
            client = b.build();
        }
        Submitter submit = path.equals("client") ? clientSubmitter(client) : serverSubmitter(leader);

        if (a.containsKey("steady")) {
            // warm up until the rate settles: 5 s windows at 128 in flight, a window within 10% of the
            // one before after at least three, or the cap in seconds
            long cap = System.nanoTime() + TimeUnit.SECONDS.toNanos(Long.parseLong(a.get("steady")));
            List<Long> rates = new ArrayList<>();
            while (System.nanoTime() < cap) {
                Window r = run(submit, 128, 0, 5_000);
                long rate = Math.round(r.histogram.getTotalCount() * 1e9 / r.nanos);
                rates.add(rate);
                int n = rates.size();
                if (n >= 3 && Math.abs(rate - rates.get(n - 2)) <= 0.1 * rates.get(n - 2)) {
                    break;
                }
            }
            System.err.println("warm-up windows (ops/s): " + rates);
        }
        for (int w : windows) {
            RaftServer now = awaitLeader(servers, 10_000);
            if (now != leader) {
                System.err.println("leader moved from " + leader.getId() + " to " + now.getId());
                leader = now;
                if (path.equals("server")) {
                    submit = serverSubmitter(leader);
                }
            }
            long term = term(leader);
            long cpu0 = cpuNanos(children);
            Window r = run(submit, w, warmupMs, TimeUnit.SECONDS.toMillis(seconds));
            String moved = term(leader) != term || !leader.getDivision(GROUP).getInfo().isLeader()
                    ? " leader-moved" : "";
            long cpu = cpuNanos(children) - cpu0;
            Histogram h = r.histogram;
            System.out.println(String.format(Locale.ROOT, "ROW %s %d %d %.0f %.3f %.3f %.3f %d %d%s", label, w,
                    h.getTotalCount(), h.getTotalCount() * 1e9 / r.nanos, h.getValueAtPercentile(50) / 1000.0,
                    h.getValueAtPercentile(99) / 1000.0, h.getValueAtPercentile(99.9) / 1000.0, r.errors, cpu, moved));
            System.out.flush();
        }
        if (client != null) {
            client.close();
        }
        for (RaftServer s : servers) {
            s.close();
        }
        for (Process c : children) {
            c.getOutputStream().close();
            if (!c.waitFor(10, TimeUnit.SECONDS)) {
                c.destroyForcibly();
            }
        }
        System.exit(0);
    }

    private static RaftServer newServer(RaftPeer peer, RaftGroup group, Path dir, String timeouts, List<String> knobs)
            throws IOException {
        RaftProperties p = new RaftProperties();
        RaftServerConfigKeys.setStorageDir(p, List.of(dir.resolve(peer.getId().toString()).toFile()));
        GrpcConfigKeys.Server.setPort(p, Integer.parseInt(peer.getAddress().split(":")[1]));
        if (timeouts.equals("300")) {
            RaftServerConfigKeys.Rpc.setTimeoutMin(p, TimeDuration.valueOf(300, TimeUnit.MILLISECONDS));
            RaftServerConfigKeys.Rpc.setTimeoutMax(p, TimeDuration.valueOf(600, TimeUnit.MILLISECONDS));
        }
        RatisTuning.apply(p, knobs);
        RaftServer s = RaftServer.newBuilder().setServerId(peer.getId()).setGroup(group).setProperties(p)
                .setStateMachine(new Recorder()).setOption(
                        org.apache.ratis.server.storage.RaftStorage.StartupOption.FORMAT)
                .build();
        s.start();
        return s;
    }

    /**
     * {@code layout=processes}: this peer's server in a JVM of its own, with the same class path and
     * settings ({@code role=server id=sN peers=s1=host:port,...}); it runs until its stdin closes.
     */
    private static Process spawn(RaftPeer peer, List<RaftPeer> peers, Map<String, String> a) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1g", "-XX:+UseG1GC", "-Djava.net.preferIPv4Stack=true", "-cp",
                System.getProperty("java.class.path"), RatisOneJvm.class.getName(), "role=server",
                "id=" + peer.getId(), "peers=" + String.join(",", peers.stream()
                        .map(q -> q.getId() + "=" + q.getAddress()).toList())));
        for (String k : List.of("dir", "timeouts", "tuning")) {
            if (a.containsKey(k)) {
                cmd.add(k + "=" + a.get(k));
            }
        }
        return new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    }

    private static void serveOnly(Map<String, String> a, Path dir, String timeouts, List<String> knobs)
            throws Exception {
        List<RaftPeer> peers = new ArrayList<>();
        for (String m : a.get("peers").split(",")) {
            int eq = m.indexOf('=');
            peers.add(RaftPeer.newBuilder().setId(m.substring(0, eq)).setAddress(m.substring(eq + 1)).build());
        }
        RaftGroup group = RaftGroup.valueOf(GROUP, peers);
        RaftPeer self = peers.stream().filter(q -> q.getId().toString().equals(a.get("id"))).findFirst().orElseThrow();
        RaftServer s = newServer(self, group, dir, timeouts, knobs);
        while (System.in.read() >= 0) {
            // runs until the parent closes stdin (or dies)
        }
        s.close();
        System.exit(0);
    }

    /** {@code layout=processes}: waits until {@code local} leads, moving the leadership to it if needed. */
    private static RaftServer makeLeader(RaftServer local, RaftGroup group, RaftProperties clientProps, long timeoutMs)
            throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (System.nanoTime() < deadline) {
            var info = local.getDivision(GROUP).getInfo();
            if (info.isLeader() && info.isLeaderReady()) {
                return local;
            }
            RaftPeerId other = info.getLeaderId();
            if (other != null && !other.equals(local.getId())) {
                try (RaftClient admin = RaftClient.newBuilder().setProperties(clientProps).setRaftGroup(group)
                        .setLeaderId(other).build()) {
                    admin.admin().transferLeadership(local.getId(), 5_000);
                } catch (IOException e) {
                    System.err.println("transferLeadership: " + e);
                }
            }
            Thread.sleep(20);
        }
        throw new IllegalStateException("this JVM's server did not become a ready leader within " + timeoutMs + " ms");
    }

    interface Submitter {
        CompletableFuture<?> submit(byte[] payload);
    }

    private static Submitter clientSubmitter(RaftClient client) {
        return payload -> client.async().send(Message.valueOf(ByteString.copyFrom(payload)));
    }

    /** The in-process path: a write request handed to the leader's server object, no RPC. */
    private static Submitter serverSubmitter(RaftServer leader) {
        ClientId clientId = ClientId.randomId();
        AtomicLong callIds = new AtomicLong();
        return payload -> {
            RaftClientRequest req;
            try {
                req = RaftClientRequest.newBuilder().setClientId(clientId).setServerId(leader.getId())
                        .setGroupId(GROUP).setCallId(callIds.incrementAndGet())
                        .setMessage(Message.valueOf(ByteString.copyFrom(payload)))
                        .setType(RaftClientRequest.writeRequestType()).build();
                return leader.submitClientRequestAsync(req).thenApply(RatisOneJvm::checked);
            } catch (IOException e) {
                return CompletableFuture.failedFuture(e);
            }
        };
    }

    private static RaftClientReply checked(RaftClientReply reply) {
        if (!reply.isSuccess()) {
            throw new IllegalStateException("not committed: " + reply.getException());
        }
        return reply;
    }

    record Window(Histogram histogram, long nanos, long errors) {
    }

    /**
     * {@code inFlight} requests kept outstanding: each completion records its latency (inside the
     * measured window only) and issues the next. Warm-up first, then {@code measureMs} measured.
     */
    static Window run(Submitter submit, int inFlight, long warmupMs, long measureMs) throws InterruptedException {
        Histogram hist = new Histogram(TimeUnit.SECONDS.toMicros(60), 3);
        AtomicLong errors = new AtomicLong();
        long t0 = System.nanoTime();
        long from = t0 + TimeUnit.MILLISECONDS.toNanos(warmupMs);
        long until = from + TimeUnit.MILLISECONDS.toNanos(measureMs);
        java.util.concurrent.CountDownLatch finished = new java.util.concurrent.CountDownLatch(inFlight);
        for (int i = 0; i < inFlight; i++) {
            new Slot(submit, hist, errors, from, until, finished).issue();
        }
        if (!finished.await(measureMs + warmupMs + 60_000, TimeUnit.MILLISECONDS)) {
            System.err.println("requests still outstanding 60 s after the end");
        }
        return new Window(hist, until - from, errors.get());
    }

    /** One closed-loop request slot. */
    private record Slot(Submitter submit, Histogram hist, AtomicLong errors, long from, long until,
            java.util.concurrent.CountDownLatch finished) {

        void issue() {
            long start = System.nanoTime();
            if (start >= until) {
                finished.countDown();
                return;
            }
            CompletableFuture<?> f;
            try {
                f = submit.submit(new byte[ENTRY_BYTES]);
            } catch (RuntimeException e) {
                f = CompletableFuture.failedFuture(e);
            }
            f.whenComplete((ok, err) -> {
                long end = System.nanoTime();
                if (start >= from && end <= until) {
                    if (err == null) {
                        synchronized (hist) {
                            hist.recordValue(Math.max(1, (end - start) / 1_000));
                        }
                    } else {
                        errors.incrementAndGet();
                    }
                }
                if (err != null) {
                    CompletableFuture.delayedExecutor(1, TimeUnit.MILLISECONDS).execute(this::issue);
                } else {
                    issue();
                }
            });
        }
    }

    /** CPU time of this JVM and of the server JVMs it started ({@code layout=processes}). */
    private static long cpuNanos(List<Process> children) {
        long sum = ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
        for (Process c : children) {
            sum += c.info().totalCpuDuration().map(java.time.Duration::toNanos).orElse(0L);
        }
        return sum;
    }

    private static long term(RaftServer s) throws IOException {
        return s.getDivision(GROUP).getInfo().getCurrentTerm();
    }

    private static RaftServer awaitLeader(List<RaftServer> servers, long timeoutMs) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (System.nanoTime() < deadline) {
            for (RaftServer s : servers) {
                var info = s.getDivision(GROUP).getInfo();
                if (info.isLeader() && info.isLeaderReady()) {
                    return s;
                }
            }
            Thread.sleep(10);
        }
        throw new IllegalStateException("no ready leader within " + timeoutMs + " ms");
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** Records the applied index only, like the suite's state machine. */
    private static final class Recorder extends BaseStateMachine {
        @Override
        public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
            LogEntryProto e = trx.getLogEntry();
            updateLastAppliedTermIndex(e.getTerm(), e.getIndex());
            return CompletableFuture.completedFuture(Message.EMPTY);
        }
    }

}
