package io.haraft.examples.chaos;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * The {@link ChaosNode} JVMs of a chaos run: the three voters of the moment, and any node that
 * joins or was replaced. Starts, kills ({@code kill -9}), pauses ({@code SIGSTOP}) and resumes
 * them, keeps each node's stdout and stderr in {@code logs/}, and collects the events they print,
 * retired nodes' included. Tracks the current voters ({@link #ids()}). Every child is killed by
 * {@link #close()}.
 */
final class NodeProcesses implements AutoCloseable {

    /** {@code ELECTED}: node, token, nanos. */
    record Elected(String node, long token, long nanos) {
    }

    /**
     * One write attempt as the writer logged it: the lease check ({@code leaseValid} at {@code check}),
     * then the SQL transaction from {@code start} to {@code end}.
     */
    record Write(String node, long token, long seq, boolean leaseValid, long check, long start, long end,
                 String outcome) {
        boolean accepted() {
            return outcome.equals("ACCEPTED");
        }
    }

    /** {@code WINDOW}: the writer checked its lease at {@code nanos} and holds its write {@code seq} back. */
    record Window(String node, long token, long seq, long nanos) {
    }

    private final Path dir;
    private final String classpath;
    private final List<String> nodeArgs;
    private final Map<String, Integer> raftPorts = new ConcurrentHashMap<>();
    private final Map<String, Integer> adminPorts = new ConcurrentHashMap<>();
    /** Every node ever started, in order, with the {@code id=host:port[=learner]} members it starts with. */
    private final Map<String, List<String>> startMembers = Collections.synchronizedMap(new LinkedHashMap<>());
    private volatile List<String> members;
    private final Map<String, Process> processes = new ConcurrentHashMap<>();
    private final Map<String, Boolean> paused = new ConcurrentHashMap<>();
    /** node -> token while it holds a leadership (ELECTED seen, no REVOKED yet, not killed). */
    private final Map<String, Long> leaders = new ConcurrentHashMap<>();

    private final List<Elected> elections = new ArrayList<>();
    private final List<Write> writes = new ArrayList<>();
    private final List<Window> windows = new ArrayList<>();
    /** "node token" -> the LEASE_END the node printed. */
    private final Map<String, Long> leaseEnds = new ConcurrentHashMap<>();
    /** node -> the instants at which the controller sent it {@code kill -9} (just before sending). */
    private final Map<String, List<Long>> kills = new ConcurrentHashMap<>();

    NodeProcesses(Path dir, String classpath, List<String> ids, List<String> nodeArgs) throws IOException {
        this.dir = dir;
        this.classpath = classpath;
        this.nodeArgs = List.copyOf(nodeArgs);
        Files.createDirectories(dir.resolve("logs"));
        for (String id : ids) {
            allocatePorts(id);
        }
        List<String> bootstrap = ids.stream().map(id -> id + "=" + raftAddress(id)).toList();
        for (String id : ids) {
            startMembers.put(id, bootstrap);
        }
        members = List.copyOf(ids);
    }

    /**
     * The current voting members, in configuration order: the nodes that faults, clients and the
     * final checks address. A copy; changed only by {@link #setMembers}.
     */
    List<String> ids() {
        return members;
    }

    /** Records a committed configuration change: these are the voters now. */
    void setMembers(List<String> voters) {
        members = List.copyOf(voters);
    }

    /** Every node that was ever started, retired ones included. */
    List<String> everyNode() {
        synchronized (startMembers) {
            return new ArrayList<>(startMembers.keySet());
        }
    }

    /**
     * Prepares a node that joins the running cluster: new ports, a fresh data directory, and
     * start-up members made of the current voters plus itself as a learner. Start it with
     * {@link #start}; returns its Raft address.
     */
    String join(String id) throws IOException {
        if (startMembers.containsKey(id)) {
            throw new IllegalArgumentException(id + " was used before; a joining node needs a new id");
        }
        allocatePorts(id);
        List<String> args = new ArrayList<>(members.stream().map(m -> m + "=" + raftAddress(m)).toList());
        args.add(id + "=" + raftAddress(id) + "=learner");
        startMembers.put(id, List.copyOf(args));
        return raftAddress(id);
    }

    String raftAddress(String id) {
        return "127.0.0.1:" + raftPorts.get(id);
    }

    private void allocatePorts(String id) throws IOException {
        raftPorts.put(id, freePort());
        adminPorts.put(id, freePort());
    }

    int adminPort(String id) {
        return adminPorts.get(id);
    }

    Path logs() {
        return dir.resolve("logs");
    }

    boolean running(String id) {
        Process p = processes.get(id);
        return p != null && p.isAlive();
    }

    boolean paused(String id) {
        return paused.getOrDefault(id, false);
    }

    /**
     * Starts (or restarts) a node with the start-up members it was first given: like an operator
     * who never edits the members in a node's configuration file, a restarted node must take the
     * current configuration from its own log.
     */
    void start(String id) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(javaBin(), "-cp", classpath, "-Xmx256m", "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1", "-Dorg.slf4j.simpleLogger.defaultLogLevel=" + System.getProperty("chaos.nodeLogLevel", "warn"),
                ChaosNode.class.getName(), id, dir.resolve("data").resolve(id).toString(),
                Integer.toString(adminPorts.get(id))));
        cmd.addAll(nodeArgs);
        cmd.addAll(startMembers.get(id));
        Process p = new ProcessBuilder(cmd)
                .redirectError(ProcessBuilder.Redirect.appendTo(logs().resolve(id + ".err").toFile()))
                .start();
        p.getOutputStream().close();
        processes.put(id, p);
        paused.put(id, false);
        Thread reader = new Thread(() -> pump(id, p), "chaos-read-" + id);
        reader.setDaemon(true);
        reader.start();
    }

    /** {@code kill -9}, and waits until the process is gone. */
    void kill(String id) throws InterruptedException {
        Process p = processes.get(id);
        if (p != null && p.isAlive()) {
            kills.computeIfAbsent(id, k -> Collections.synchronizedList(new ArrayList<>())).add(System.nanoTime());
            p.destroyForcibly().waitFor();
        }
        paused.put(id, false);
        leaders.remove(id);
    }

    void pause(String id) throws IOException, InterruptedException {
        signal(id, "STOP");
        paused.put(id, true);
    }

    void resume(String id) throws IOException, InterruptedException {
        signal(id, "CONT");
        paused.put(id, false);
    }

    private void signal(String id, String sig) throws IOException, InterruptedException {
        int rc = new ProcessBuilder("kill", "-" + sig, Long.toString(processes.get(id).pid())).inheritIO().start()
                .waitFor();
        if (rc != 0) {
            throw new IOException("kill -" + sig + " " + id + " failed with exit code " + rc);
        }
    }

    /** The node holding the highest current leadership, or null. */
    String leader() {
        String best = null;
        long bestToken = -1;
        for (Map.Entry<String, Long> e : leaders.entrySet()) {
            if (e.getValue() > bestToken && running(e.getKey())) {
                best = e.getKey();
                bestToken = e.getValue();
            }
        }
        return best;
    }

    /** Waits until some running node holds a leadership; returns it, or null after {@code timeoutNanos}. */
    String awaitLeader(long timeoutNanos) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutNanos;
        synchronized (leaders) {
            while (true) {
                String l = leader();
                if (l != null && !paused(l)) {
                    return l;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return null;
                }
                leaders.wait(Math.max(1, Math.min(50, TimeUnit.NANOSECONDS.toMillis(left))));
            }
        }
    }

    private void pump(String id, Process p) {
        Path log = logs().resolve(id + ".out");
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
             PrintWriter w = new PrintWriter(Files.newBufferedWriter(log, StandardCharsets.UTF_8,
                     StandardOpenOption.CREATE, StandardOpenOption.APPEND))) {
            String line;
            while ((line = r.readLine()) != null) {
                w.println(line);
                parse(line.trim().split(" +"));
            }
        } catch (IOException | RuntimeException e) {
            // the process died, or printed a torn last line when killed
        }
    }

    private void parse(String[] f) {
        switch (f[0]) {
            case "ELECTED" -> {
                synchronized (this) {
                    elections.add(new Elected(f[1], Long.parseLong(f[2]), Long.parseLong(f[3])));
                }
                synchronized (leaders) {
                    leaders.put(f[1], Long.parseLong(f[2]));
                    leaders.notifyAll();
                }
            }
            case "REVOKED" -> {
                synchronized (leaders) {
                    leaders.remove(f[1], Long.parseLong(f[2]));
                    leaders.notifyAll();
                }
            }
            case "LEASE_END" -> leaseEnds.merge(f[1] + " " + f[2], Long.parseLong(f[3]), Math::max);
            case "WINDOW" -> {
                Window w = new Window(f[1], Long.parseLong(f[2]), Long.parseLong(f[3]), Long.parseLong(f[4]));
                synchronized (this) {
                    windows.add(w);
                    notifyAll();
                }
            }
            case "WRITE" -> {
                Write w = new Write(f[1], Long.parseLong(f[2]), Long.parseLong(f[3]), Boolean.parseBoolean(f[4]),
                        Long.parseLong(f[5]), Long.parseLong(f[6]), Long.parseLong(f[7]), f[8]);
                synchronized (this) {
                    writes.add(w);
                    notifyAll();
                }
            }
            default -> {
                // other lines are only logged
            }
        }
    }

    synchronized List<Elected> elections() {
        return List.copyOf(elections);
    }

    synchronized List<Write> writes() {
        return List.copyOf(writes);
    }

    /** The LEASE_END that {@code node} printed for {@code token}, or null. */
    Long leaseEnd(String node, long token) {
        return leaseEnds.get(node + " " + token);
    }

    /** The first instant after {@code nanos} at which the controller killed {@code node}, or null. */
    Long killedAfter(String node, long nanos) {
        List<Long> k = kills.getOrDefault(node, List.of());
        synchronized (k) {
            return k.stream().filter(t -> t > nanos).min(Long::compare).orElse(null);
        }
    }

    /** Waits for a {@code WINDOW} of {@code node} checked after {@code afterNanos}; null after the timeout. */
    synchronized Window awaitWindow(String node, long afterNanos, long timeoutNanos) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutNanos;
        while (true) {
            for (Window w : windows) {
                if (w.node().equals(node) && w.nanos() > afterNanos) {
                    return w;
                }
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return null;
            }
            wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
        }
    }

    /** Waits for a logged write that {@code matches}; the first one, or null after the timeout. */
    synchronized Write awaitWrite(Predicate<Write> matches, long timeoutNanos) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutNanos;
        while (true) {
            for (Write w : writes) {
                if (matches.test(w)) {
                    return w;
                }
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return null;
            }
            wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
        }
    }

    @Override
    public void close() {
        for (Process p : processes.values()) {
            p.destroyForcibly();
        }
        for (Process p : processes.values()) {
            try {
                p.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static String javaBin() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static int freePort() {
        return io.haraft.examples.LoopbackPorts.free();
    }
}
