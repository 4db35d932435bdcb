package io.haraft.examples;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * A local cluster of {@link DemoNode} processes on loopback, for the demos and their tests:
 * starts, kills ({@code kill -9}), pauses ({@code SIGSTOP}) and resumes nodes, and reads the
 * events they print.
 */
public final class ProcessCluster implements AutoCloseable {
    /** One line a node printed: its first word, the node, and all words. */
    public record Event(String kind, String node, String[] fields) {
        public String field(int i) {
            return fields[i];
        }
    }

    private static final long TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(90);

    private final Path dir;
    private final List<String> extraArgs;
    private final String nodeMain;
    private final Map<String, String> members = new TreeMap<>();
    private final Map<String, Process> processes = new ConcurrentHashMap<>();
    private final Map<String, PrintWriter> stdin = new ConcurrentHashMap<>();
    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private final Map<String, String> following = new ConcurrentHashMap<>();
    private final List<Event> elected = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** A cluster of {@link DemoNode} processes {@code ids} with data under a new temporary directory. */
    public ProcessCluster(List<String> ids, List<String> extraArgs) throws IOException {
        this(ids, extraArgs, DemoNode.class);
    }

    /**
     * A cluster of processes {@code ids} running {@code nodeMain}, which takes the arguments of
     * {@link DemoNode} ({@code <id> <dataDir> <id=host:port>...} then {@code extraArgs}), with data
     * under a new temporary directory.
     */
    public ProcessCluster(List<String> ids, List<String> extraArgs, Class<?> nodeMain) throws IOException {
        this.dir = Files.createTempDirectory("ha-raft-demo");
        this.extraArgs = List.copyOf(extraArgs);
        this.nodeMain = nodeMain.getName();
        for (String id : ids) {
            members.put(id, "127.0.0.1:" + LoopbackPorts.free());
        }
    }

    public Map<String, String> members() {
        return members;
    }

    public Path dataDir() {
        return dir;
    }

    public void start(String id) throws IOException {
        // C1 only and the serial collector: a node starts faster and takes less CPU on a small machine
        List<String> cmd = new ArrayList<>(List.of(javaBin(), "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "-cp", System.getProperty("java.class.path"),
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", nodeMain, id,
                dir.resolve(id).toString()));
        members.forEach((k, v) -> cmd.add(k + "=" + v));
        cmd.addAll(extraArgs);
        following.remove(id);
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        processes.put(id, p);
        stdin.put(id, new PrintWriter(p.getOutputStream(), true, StandardCharsets.UTF_8));
        Thread reader = new Thread(() -> pump(p), "demo-read-" + id);
        reader.setDaemon(true);
        reader.start();
    }

    public void startAll() throws IOException {
        for (String id : members.keySet()) {
            start(id);
        }
    }

    /** {@code kill -9}: the process dies at once, revoking nothing. */
    public void kill(String id) throws InterruptedException {
        processes.get(id).destroyForcibly().waitFor();
        following.remove(id);
    }

    /** {@code kill -STOP}: the process is frozen, as by a long GC pause or a VM freeze. */
    public void pause(String id) throws IOException, InterruptedException {
        signal(id, "STOP");
    }

    /** {@code kill -CONT}. */
    public void resume(String id) throws IOException, InterruptedException {
        signal(id, "CONT");
    }

    private void signal(String id, String sig) throws IOException, InterruptedException {
        int rc = new ProcessBuilder("kill", "-" + sig, Long.toString(processes.get(id).pid())).inheritIO().start()
                .waitFor();
        if (rc != 0) {
            throw new IOException("kill -" + sig + " " + id + " failed with exit code " + rc);
        }
    }

    public void send(String id, String command) {
        stdin.get(id).println(command);
    }

    /** Every ELECTED line any node printed so far, whether or not an {@link #await} took it. */
    public List<Event> elected() {
        return List.copyOf(elected);
    }

    /** The next event of {@code kind} that matches, within 90 s (node JVMs on a busy host start slowly). Other events are dropped. */
    public Event await(String kind, Predicate<Event> match) throws InterruptedException {
        long deadline = System.nanoTime() + TIMEOUT_NANOS;
        while (true) {
            Event e = events.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (e == null) {
                throw new IllegalStateException("no " + (kind == null ? "expected" : kind) + " event within 90 s");
            }
            if ((kind == null || e.kind().equals(kind)) && match.test(e)) {
                return e;
            }
        }
    }

    /** The next event matching either pair of kind and predicate, within 30 s. */
    public Event await(String kindA, Predicate<Event> a, String kindB, Predicate<Event> b) throws InterruptedException {
        return await(null, e -> (e.kind().equals(kindA) && a.test(e)) || (e.kind().equals(kindB) && b.test(e)));
    }

    /** The next event of any kind, or {@code null} if none comes before {@code deadlineNanos} ({@link System#nanoTime()}). */
    public Event next(long deadlineNanos) throws InterruptedException {
        return events.poll(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
    }

    /** Whether node {@code id} was started and its process is alive. */
    public boolean isRunning(String id) {
        Process p = processes.get(id);
        return p != null && p.isAlive();
    }

    /** Waits until every running node reports following {@code leader}. */
    public void awaitAllFollow(String leader) throws InterruptedException {
        long deadline = System.nanoTime() + TIMEOUT_NANOS;
        while (System.nanoTime() < deadline) {
            if (processes.keySet().stream().allMatch(id -> leader.equals(following.get(id)))) {
                return;
            }
            synchronized (following) {
                following.wait(50);
            }
        }
        throw new IllegalStateException("not every node follows " + leader + " within 30 s: " + following);
    }

    /**
     * Waits until every running node outside {@code exclude} follows one leader, itself outside
     * {@code exclude}, and returns it.
     */
    public String awaitCommonLeader(java.util.Set<String> exclude) throws InterruptedException {
        long deadline = System.nanoTime() + TIMEOUT_NANOS;
        while (System.nanoTime() < deadline) {
            java.util.Set<String> leaders = new java.util.HashSet<>();
            for (String id : processes.keySet()) {
                if (!exclude.contains(id)) {
                    leaders.add(String.valueOf(following.get(id)));
                }
            }
            if (leaders.size() == 1 && processes.containsKey(leaders.iterator().next())
                    && !exclude.contains(leaders.iterator().next())) {
                return leaders.iterator().next();
            }
            synchronized (following) {
                following.wait(50);
            }
        }
        throw new IllegalStateException("the nodes do not agree on a leader within 30 s: " + following);
    }

    private void pump(Process p) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                String[] f = line.trim().split(" +");
                if (f[0].equals("FOLLOWING") && f.length == 3) {
                    synchronized (following) {
                        following.put(f[1], f[2]);
                        following.notifyAll();
                    }
                } else {
                    Event e = new Event(f[0], f.length > 1 ? f[1] : "", f);
                    if (e.kind().equals("ELECTED")) {
                        elected.add(e);
                    }
                    events.add(e);
                }
            }
        } catch (IOException ignored) {
            // the process died
        }
    }

    @Override
    public void close() throws IOException {
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
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path x : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(x);
            }
        }
    }

    private static String javaBin() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }
}
