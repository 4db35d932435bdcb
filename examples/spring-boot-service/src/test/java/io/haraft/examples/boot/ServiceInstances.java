package io.haraft.examples.boot;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Instances of the service, each a JVM of its own started from the module's runtime class path
 * ({@code java -cp target/classes:<dependencies> TickServiceApplication}), with its own Raft and
 * HTTP ports on loopback, its own data directory and log file under {@code dir}. Kills them with
 * {@code kill -9}; {@link #close()} kills every one still alive, and a shutdown hook does the same
 * should the test JVM end first.
 */
final class ServiceInstances implements AutoCloseable {

    /** What {@code GET /leader} of one node answered. */
    record View(String nodeId, String leaderId, long term, boolean leader, Long token, boolean jobRunning,
                List<Long> granted) {
    }

    private static final Pattern FIELD = Pattern.compile("\"(\\w+)\":(\"[^\"]*\"|\\[[^\\]]*\\]|[^,}]+)");

    private final Path dir;
    private final List<String> classpath;
    private final List<String> args;
    private final Map<String, Integer> raftPorts = new TreeMap<>();
    private final Map<String, Integer> httpPorts = new TreeMap<>();
    private final Map<String, Process> processes = new LinkedHashMap<>();
    private final Set<String> killed = new HashSet<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final Thread killOnExit = new Thread(this::killAll, "kill-service-instances");

    /** Instances {@code ids}, not started yet, each given {@code args} besides its own. */
    ServiceInstances(Path dir, List<String> ids, List<String> args) throws IOException {
        this.dir = dir;
        this.args = List.copyOf(args);
        List<String> cp = new ArrayList<>();
        cp.add(System.getProperty("service.classes", "target/classes"));
        cp.add(Files.readString(Path.of(System.getProperty("service.classpath.file", "target/service-classpath.txt")),
                StandardCharsets.UTF_8).strip());
        this.classpath = cp;
        Set<Integer> used = new HashSet<>();
        for (String id : ids) {
            raftPorts.put(id, freePort(used));
            httpPorts.put(id, freePort(used));
        }
        Runtime.getRuntime().addShutdownHook(killOnExit);
    }

    /** Starts every instance. */
    synchronized void startAll() throws IOException {
        for (String id : raftPorts.keySet()) {
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    // C1 only, the serial collector, a small heap: three JVMs start faster on a small machine
                    "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx256m",
                    "-cp", String.join(java.io.File.pathSeparator, classpath), TickServiceApplication.class.getName(),
                    "--haraft.node-id=" + id, "--haraft.data-dir=" + dir.resolve(id),
                    "--server.port=" + httpPorts.get(id), "--spring.main.banner-mode=off"));
            raftPorts.forEach((m, port) -> cmd.add("--haraft.members." + m + "=127.0.0.1:" + port));
            cmd.addAll(args);
            Path log = dir.resolve(id + ".log");
            processes.put(id, new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start());
        }
    }

    /** The instances started and not killed. */
    synchronized List<String> alive() {
        return processes.keySet().stream().filter(id -> !killed.contains(id)).toList();
    }

    /**
     * Throws if an instance that was not killed has ended (it failed to start, say): no point in
     * waiting for it.
     */
    synchronized void checkNoneDied() {
        for (Map.Entry<String, Process> e : processes.entrySet()) {
            if (!killed.contains(e.getKey()) && !e.getValue().isAlive()) {
                throw new IllegalStateException(e.getKey() + " ended by itself with exit code "
                        + e.getValue().exitValue() + "; its log: " + dir.resolve(e.getKey() + ".log"));
            }
        }
    }

    /** {@code kill -9}: the JVM dies at once, revoking nothing, and is waited for. */
    void kill(String id) throws InterruptedException {
        Process p;
        synchronized (this) {
            p = processes.get(id);
            killed.add(id);
        }
        p.destroyForcibly();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException(id + " (pid " + p.pid() + ") still runs 30 s after kill -9");
        }
    }

    /** What {@code GET /leader} of {@code id} answers, or empty if it does not answer (yet). */
    Optional<View> view(String id) {
        return get(id, "/leader").map(ServiceInstances::parse);
    }

    /** The body of {@code GET /actuator/health} of {@code id}, or empty if it does not answer. */
    Optional<String> health(String id) {
        return get(id, "/actuator/health");
    }

    /** The last {@code lines} lines each instance logged, to explain a failure. */
    String logTails(int lines) {
        StringBuilder b = new StringBuilder();
        for (String id : raftPorts.keySet()) {
            b.append("\n----- ").append(id).append(killed.contains(id) ? " (killed)" : "").append(" -----\n");
            try {
                List<String> all = Files.readAllLines(dir.resolve(id + ".log"), StandardCharsets.UTF_8);
                all.subList(Math.max(0, all.size() - lines), all.size()).forEach(l -> b.append(l).append('\n'));
            } catch (IOException | UncheckedIOException e) {
                b.append("(no log: ").append(e).append(")\n");
            }
        }
        return b.toString();
    }

    @Override
    public void close() {
        killAll();
        try {
            Runtime.getRuntime().removeShutdownHook(killOnExit);
        } catch (IllegalStateException e) {
            // the JVM is shutting down: the hook runs anyway
        }
    }

    private synchronized void killAll() {
        for (Process p : processes.values()) {
            p.destroyForcibly();
        }
        for (Process p : processes.values()) {
            try {
                p.waitFor(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private Optional<String> get(String id, String path) {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPorts.get(id) + path))
                .timeout(Duration.ofSeconds(5)).GET().build();
        try {
            HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
            return Optional.of(r.body());
        } catch (IOException e) {
            return Optional.empty();   // not listening yet, or killed
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    /** Parses the flat JSON of {@code GET /leader} (strings, numbers, booleans, null, an array of numbers). */
    static View parse(String json) {
        Map<String, String> f = new TreeMap<>();
        Matcher m = FIELD.matcher(json);
        while (m.find()) {
            f.put(m.group(1), m.group(2).strip());
        }
        if (!f.keySet().containsAll(List.of("nodeId", "leaderId", "term", "leader", "token", "jobRunning", "granted"))) {
            throw new IllegalStateException("GET /leader answered " + json);
        }
        String granted = f.get("granted").replaceAll("[\\[\\]\\s]", "");
        return new View(string(f.get("nodeId")), string(f.get("leaderId")), Long.parseLong(f.get("term")),
                Boolean.parseBoolean(f.get("leader")), f.get("token").equals("null") ? null : Long.valueOf(f.get("token")),
                Boolean.parseBoolean(f.get("jobRunning")),
                granted.isEmpty() ? List.of() : List.of(granted.split(",")).stream().map(Long::valueOf).toList());
    }

    /**
     * The {@code status} of a health response: the one outside the components (Jackson 2 writes it
     * first, Jackson 3 sorts properties by name).
     */
    static String topLevelStatus(String json) {
        int depth = 0;
        boolean inString = false;
        for (int i = 0; i < json.length(); i++) {
            char c = json.charAt(i);
            if (inString) {
                if (c == '\\') {
                    i++;
                } else if (c == '"') {
                    inString = false;
                }
            } else if (c == '{' || c == '[') {
                depth++;
            } else if (c == '}' || c == ']') {
                depth--;
            } else if (c == '"') {
                if (depth == 1 && json.startsWith("\"status\":\"", i)) {
                    int start = i + "\"status\":\"".length();
                    return json.substring(start, json.indexOf('"', start));
                }
                inString = true;
            }
        }
        throw new IllegalStateException("no top-level status in " + json);
    }

    private static String string(String value) {
        return value.equals("null") ? null : value.substring(1, value.length() - 1);
    }

    private static int freePort(Set<Integer> used) {
        for (int attempt = 0; attempt < 100; attempt++) {
            try (ServerSocket s = new ServerSocket(0)) {
                if (used.add(s.getLocalPort())) {
                    return s.getLocalPort();
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot open a loopback port: " + e.getMessage(), e);
            }
        }
        throw new IllegalStateException("no fresh loopback port after 100 attempts");
    }
}
