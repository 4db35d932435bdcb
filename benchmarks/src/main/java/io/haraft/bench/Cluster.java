package io.haraft.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * Three nodes of one system, each its own JVM, on loopback. Every node's protocol lines land here;
 * callers wait for conditions over them with deadlines.
 */
final class Cluster implements AutoCloseable {

    record Ready(String node, long term, long nanos) {
    }

    /** A {@code GREADY} line: {@code node} leads {@code group} in {@code term} and can serve, since {@code nanos}. */
    record GroupReady(String node, String group, long term, long nanos) {
    }

    static final class Node {
        final String id;
        final String address;
        final Path dataDir;
        Process process;
        Writer stdin;
        boolean started;
        String viewLeader = "-";
        long viewTerm;
        long heapBytes = -1;
        String loadResult;
        String unavailable;

        Node(String id, String address, Path dataDir) {
            this.id = id;
            this.address = address;
            this.dataDir = dataDir;
        }

        boolean alive() {
            return process != null && process.isAlive();
        }
    }

    private final Layout layout;
    private final Settings settings;
    private final Path logDir;
    private final String name;
    private final int pollMs;
    private final Map<String, Node> nodes = new LinkedHashMap<>();
    private final List<Ready> readies = new ArrayList<>();
    private final List<Ready> leaders = new ArrayList<>();
    private final List<GroupReady> groupReadies = new ArrayList<>();
    private List<String> extraArgs = List.of();
    private List<String> commandPrefix = List.of();
    private List<String> jvmArgs = List.of();
    private long launchedNanos;
    /** The last failover's old leader and new leader, for the driver's log line. */
    String lastFault = "-";
    Ready lastNewLeader = new Ready("-", 0, 0);

    Cluster(Layout layout, Settings settings, Path workDir, String name, int pollMs) throws IOException {
        this.layout = layout;
        this.settings = settings;
        this.name = name;
        this.pollMs = pollMs;
        this.logDir = workDir.resolve("logs");
        Files.createDirectories(logDir);
        Path data = Files.createTempDirectory(workDir, name + "-data-");
        for (int i = 1; i <= 3; i++) {
            String id = "n" + i;
            nodes.put(id, new Node(id, "127.0.0.1:" + freePort(), data.resolve(id)));
        }
    }

    private static int freePort() {
        return Ports.free();
    }

    String system() {
        return settings.system();
    }

    long launchedNanos() {
        return launchedNanos;
    }

    /**
     * More {@code key=value} node arguments (e.g. {@code groups=100}) and a command prefix (e.g.
     * {@code ip netns exec NS}) for every launch from now on.
     */
    Cluster withNodeArgs(List<String> args, List<String> prefix) {
        this.extraArgs = List.copyOf(args);
        this.commandPrefix = List.copyOf(prefix);
        return this;
    }

    /** More JVM options for every launch from now on (e.g. log levels). */
    Cluster withJvmArgs(List<String> args) {
        this.jvmArgs = List.copyOf(args);
        return this;
    }

    /** Launches all three JVMs; returns at once. */
    void launchAll() throws IOException {
        launchedNanos = System.nanoTime();
        for (Node n : nodes.values()) {
            launch(n);
        }
    }

    /** Launches all three JVMs and waits until a leader can serve. */
    Ready start(Duration timeout) throws Unavailable, IOException, InterruptedException {
        launchAll();
        try {
            return awaitStable(timeout);
        } catch (TimeoutException e) {
            throw new Unavailable(e.getMessage());
        }
    }

    private void launch(Node n) throws IOException {
        StringBuilder members = new StringBuilder();
        for (Node m : nodes.values()) {
            members.append(members.length() == 0 ? "" : ",").append(m.id).append('=').append(m.address);
        }
        List<String> args = new ArrayList<>(List.of("id=" + n.id, "dir=" + n.dataDir, "members=" + members,
                "hb=" + settings.heartbeatMs(), "el=" + settings.electionMs(),
                "fastpath=" + settings.fastPath(), "poll=" + pollMs));
        settings.options().forEach((k, v) -> args.add("x." + k + "=" + v));
        args.addAll(extraArgs);
        List<String> command = new ArrayList<>(commandPrefix);
        command.addAll(layout.nodeCommand(settings.system(), jvmArgs, args));
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.redirectError(ProcessBuilder.Redirect.appendTo(logDir.resolve(name + "-" + n.id + ".log").toFile()));
        Process p = pb.start();
        synchronized (this) {
            n.process = p;
            n.stdin = new OutputStreamWriter(p.getOutputStream(), StandardCharsets.UTF_8);
            n.started = false;
            n.viewLeader = "-";
            n.viewTerm = 0;
            n.unavailable = null;
        }
        Thread reader = new Thread(() -> read(n, p), "read-" + name + "-" + n.id);
        reader.setDaemon(true);
        reader.start();
    }

    private void read(Node n, Process p) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (line.startsWith("@@ ")) {
                    onLine(n, line.substring(3));
                }
            }
        } catch (IOException e) {
            // the process is gone
        }
        synchronized (this) {
            notifyAll();
        }
    }

    private synchronized void onLine(Node n, String line) {
        String[] w = line.split(" ");
        switch (w[0]) {
            case "STARTED" -> n.started = true;
            case "READY" -> readies.add(new Ready(w[1], Long.parseLong(w[2]), Long.parseLong(w[3])));
            case "GREADY" -> groupReadies.add(new GroupReady(w[1], w[2], Long.parseLong(w[3]), Long.parseLong(w[4])));
            case "LEADER" -> leaders.add(new Ready(w[1], Long.parseLong(w[2]), Long.parseLong(w[3])));
            case "VIEW" -> {
                n.viewLeader = w[2];
                n.viewTerm = Long.parseLong(w[3]);
            }
            case "HEAP" -> n.heapBytes = Long.parseLong(w[1]);
            case "LOADRESULT" -> n.loadResult = line.substring("LOADRESULT ".length());
            case "UNAVAILABLE" -> n.unavailable = line.substring("UNAVAILABLE ".length());
            default -> {
            }
        }
        notifyAll();
    }

    /** Waits until {@code condition} returns non-null; fails fast if a node reported UNAVAILABLE. */
    synchronized <T> T await(Supplier<T> condition, Duration timeout, String what)
            throws TimeoutException, InterruptedException, Unavailable {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            for (Node n : nodes.values()) {
                if (n.unavailable != null) {
                    throw new Unavailable(n.unavailable);
                }
            }
            T v = condition.get();
            if (v != null) {
                return v;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new TimeoutException(name + ": no " + what + " within " + timeout.toMillis() + " ms; node logs in "
                        + logDir);
            }
            wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
        }
    }

    /**
     * The current leader once it can serve and every live node follows it: the READY of the highest
     * term whose node is alive, seen by all live nodes.
     */
    Ready awaitStable(Duration timeout) throws TimeoutException, InterruptedException, Unavailable {
        return await(() -> {
            Ready best = null;
            for (Ready r : readies) {
                if (nodes.get(r.node()).alive() && (best == null || r.term() > best.term())) {
                    best = r;
                }
            }
            if (best == null) {
                return null;
            }
            for (Node n : nodes.values()) {
                if (n.alive() && (!n.started || !n.viewLeader.equals(best.node()) || n.viewTerm != best.term())) {
                    return null;
                }
            }
            return best;
        }, timeout, "stable leader");
    }

    /**
     * A leader that stays the leader: {@link #awaitStable} twice, {@code settle} apart, with no
     * higher term seen anywhere in between. On a loaded machine a new leader can lose its lease
     * right after its election and step down; load or faults must not start on such a leader.
     */
    Ready awaitSettledLeader(Duration settle, Duration timeout) throws TimeoutException, InterruptedException, Unavailable {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new TimeoutException(name + ": no leader stayed leader for " + settle.toMillis() + " ms within "
                        + timeout.toMillis() + " ms; node logs in " + logDir);
            }
            Ready r = awaitStable(Duration.ofNanos(left));
            Thread.sleep(settle.toMillis());
            if (!leadershipChangedSince(r)) {
                Ready again = awaitStable(Duration.ofSeconds(1));
                if (again.equals(r)) {
                    return r;
                }
            }
        }
    }

    /**
     * Whether any node has seen a term above {@code leader}'s since (a READY, a Raft-level LEADER
     * event or a node's view), or a live node follows someone else in that term.
     */
    synchronized boolean leadershipChangedSince(Ready leader) {
        return describeChangeSince(leader) != null;
    }

    /** What changed since {@code leader} was the leader, or {@code null}: e.g. "n2 leader in term 5". */
    synchronized String describeChangeSince(Ready leader) {
        Ready newest = null;
        for (List<Ready> events : List.of(readies, leaders)) {
            for (Ready r : events) {
                if (r.term() > leader.term() && (newest == null || r.term() > newest.term())) {
                    newest = r;
                }
            }
        }
        if (newest != null) {
            return newest.node() + " leader in term " + newest.term();
        }
        for (Node n : nodes.values()) {
            if (n.alive() && n.viewTerm > leader.term()) {
                return n.id + " in term " + n.viewTerm + " (following " + n.viewLeader + ")";
            }
        }
        if (!nodes.get(leader.node()).alive()) {
            return leader.node() + " exited";
        }
        return null;
    }

    /** The first READY after {@code old} on another node, with a higher term. */
    Ready awaitNewLeader(Ready old, Duration timeout) throws TimeoutException, InterruptedException, Unavailable {
        return await(() -> {
            for (Ready r : readies) {
                if (!r.node().equals(old.node()) && r.term() > old.term()) {
                    return r;
                }
            }
            return null;
        }, timeout, "new leader after " + old.node() + " term " + old.term());
    }

    /** The Raft-level LEADER event matching a READY, if the system reports one separately. */
    synchronized Ready leaderEvent(Ready ready) {
        for (Ready l : leaders) {
            if (l.node().equals(ready.node()) && l.term() == ready.term()) {
                return l;
            }
        }
        return null;
    }

    Ready firstReady(Duration timeout) throws TimeoutException, InterruptedException, Unavailable {
        return await(() -> readies.isEmpty() ? null : readies.get(0), timeout, "leader");
    }

    /** kill -9 (Process.destroyForcibly sends SIGKILL on Linux). Returns the fault's time. */
    long crash(String id) throws InterruptedException {
        Process p;
        synchronized (this) {
            p = nodes.get(id).process;
        }
        long t0 = System.nanoTime();
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
        return t0;
    }

    /** Sends STOP (graceful shutdown). Returns the time it was sent. */
    long stopGracefully(String id) throws IOException {
        Node n;
        synchronized (this) {
            n = nodes.get(id);
        }
        long t0 = System.nanoTime();
        n.stdin.write("STOP\n");
        n.stdin.flush();
        return t0;
    }

    /** Waits for {@code id} to exit (killing it after the timeout), then starts it again on its data. */
    void restart(String id, Duration exitTimeout) throws IOException, InterruptedException {
        Node n = nodes.get(id);
        if (!n.process.waitFor(exitTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
            n.process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        launch(n);
    }

    void send(String id, String line) throws IOException {
        Node n = nodes.get(id);
        n.stdin.write(line + "\n");
        n.stdin.flush();
    }

    /** CPU time (user + system) the live node JVMs have used so far, in nanoseconds. */
    long cpuNanos() {
        long sum = 0;
        for (Node n : nodes()) {
            if (n.alive()) {
                sum += n.process.info().totalCpuDuration().map(java.time.Duration::toNanos).orElse(0L);
            }
        }
        return sum;
    }

    /** The current leader of each group that had one: its {@code GREADY} of the highest term. */
    synchronized Map<String, GroupReady> groupLeaders() {
        Map<String, GroupReady> current = new LinkedHashMap<>();
        for (GroupReady r : groupReadies) {
            current.merge(r.group(), r, (a, b) -> b.term() > a.term() ? b : a);
        }
        return current;
    }

    /** Every {@code GREADY} so far, in arrival order. */
    synchronized List<GroupReady> groupReadies() {
        return List.copyOf(groupReadies);
    }

    synchronized Node node(String id) {
        return nodes.get(id);
    }

    synchronized List<Node> nodes() {
        return List.copyOf(nodes.values());
    }

    synchronized void clearLoadResult(String id) {
        nodes.get(id).loadResult = null;
    }

    @Override
    public void close() {
        for (Node n : nodes()) {
            if (n.process != null) {
                n.process.destroyForcibly();
            }
        }
        for (Node n : nodes()) {
            if (n.process != null) {
                try {
                    n.process.waitFor(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }
}
