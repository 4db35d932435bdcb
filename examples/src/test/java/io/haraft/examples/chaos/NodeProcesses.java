package io.haraft.examples.chaos;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.ServerSocket;
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

    /** One fenced write attempt as the writer logged it. */
    record Write(String node, long token, long seq, boolean leaseValid, long start, long end, String outcome) {
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

    final List<Elected> elections = new ArrayList<>();
    final List<Write> writes = new ArrayList<>();
    /** "node token" -> latest instant the lease was observed valid. */
    final Map<String, Long> lastValid = new ConcurrentHashMap<>();

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
                "-XX:TieredStopAtLevel=1", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
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
        if (p != null) {
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
                if (!line.startsWith("VALID")) {
                    w.println(line);
                }
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
            case "VALID" -> lastValid.merge(f[1] + " " + f[2], Long.parseLong(f[3]), Math::max);
            case "WRITE" -> {
                Write w = new Write(f[1], Long.parseLong(f[2]), Long.parseLong(f[3]), Boolean.parseBoolean(f[4]),
                        Long.parseLong(f[5]), Long.parseLong(f[6]), f[7]);
                synchronized (this) {
                    writes.add(w);
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

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
