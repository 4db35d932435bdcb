package io.haraft.bench;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Where the node class paths are. The driver jar ({@code ha-raft-benchmarks.jar}) sits in
 * {@code benchmarks/target}; next to it are the harness classes alone ({@code benchmarks-*.jar}),
 * {@code systems/harness/} (HdrHistogram) and one directory per system with its runtime jars,
 * resolved on its own by the reactor module {@code benchmarks/systems/<system>}. A node JVM gets the harness plus exactly
 * one system, so no class of another system, nor a version mediated against it, is ever visible.
 */
final class Layout {

    /** Java 17 opens that Atomix 3.1.12 (Kryo, Netty 4.1.27, its reflection utilities) needs. */
    static final List<String> ATOMIX_OPENS = List.of(
            "java.base/java.lang", "java.base/java.lang.reflect", "java.base/java.lang.invoke",
            "java.base/java.nio", "java.base/sun.nio.ch", "java.base/java.util",
            "java.base/java.util.concurrent", "java.base/java.util.concurrent.atomic",
            "java.base/java.net", "java.base/java.time");

    /**
     * slf4j-simple for HA-Raft node JVMs: INFO with wall-clock milliseconds on standard error, which
     * the driver appends to the node's log in {@code DIR/work/logs}. The Raft core and the transport
     * log at DEBUG too, so a slow failover shows its steps: the leader's stream ending, the refused
     * connection, the pre-vote, the campaign, the election won and {@code elected}. None of these
     * DEBUG lines is on the per-entry path.
     */
    static final List<String> HARAFT_LOGGING = List.of(
            "-Dorg.slf4j.simpleLogger.defaultLogLevel=info",
            "-Dorg.slf4j.simpleLogger.log.io.haraft.core.RaftCore=debug",
            "-Dorg.slf4j.simpleLogger.log.io.haraft.transport.GrpcTransport=debug",
            "-Dorg.slf4j.simpleLogger.showDateTime=true",
            "-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS",
            "-Dorg.slf4j.simpleLogger.showThreadName=true",
            "-Dorg.slf4j.simpleLogger.showShortLogName=true",
            "-Dorg.slf4j.simpleLogger.logFile=System.err");

    private final Path dir;

    private Layout(Path dir) {
        this.dir = dir;
    }

    static Layout locate() {
        String override = System.getProperty("bench.target");
        if (override != null) {
            return new Layout(Path.of(override));
        }
        try {
            Path self = Path.of(Layout.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            // from the jar: its directory; from target/classes (tests, IDE): target
            return new Layout(Files.isDirectory(self) ? self.getParent() : self.getParent());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    Path systemDir(String system) {
        return dir.resolve("systems").resolve(system);
    }

    /** The system's own runtime jars (what the footprint suite counts). */
    List<Path> systemJars(String system) {
        Path d = systemDir(system);
        if (!Files.isDirectory(d)) {
            throw new IllegalStateException("no class path for " + system + " at " + d
                    + ": build with `mvn -pl benchmarks -am package` (the modules benchmarks/systems/* resolve it)");
        }
        try (Stream<Path> s = Files.list(d)) {
            return s.filter(p -> p.toString().endsWith(".jar")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Path harnessJar() {
        Path classes = dir.resolve("classes");
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> jars = s.filter(p -> {
                String n = p.getFileName().toString();
                return n.startsWith("benchmarks-") && n.endsWith(".jar") && !n.endsWith("-tests.jar")
                        && !n.endsWith("-sources.jar");
            }).toList();
            if (!jars.isEmpty()) {
                return jars.get(0);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (Files.isDirectory(classes)) {
            return classes;
        }
        throw new IllegalStateException("harness classes not found in " + dir);
    }

    String nodeClassPath(String system) {
        List<String> cp = new ArrayList<>();
        cp.add(harnessJar().toString());
        cp.add(dir.resolve("systems").resolve("harness").resolve("*").toString());
        for (Path jar : systemJars(system)) {
            cp.add(jar.toString());
        }
        return String.join(File.pathSeparator, cp);
    }

    List<String> nodeCommand(String system, List<String> nodeArgs) {
        return nodeCommand(system, List.of(), nodeArgs);
    }

    /** The node command with {@code jvmArgs} after the harness's own (a later {@code -D} of a key wins). */
    List<String> nodeCommand(String system, List<String> jvmArgs, List<String> nodeArgs) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx1g");
        cmd.add("-XX:+UseG1GC");
        cmd.add("-Djava.net.preferIPv4Stack=true");
        if (system.equals("atomix")) {
            for (String o : ATOMIX_OPENS) {
                cmd.add("--add-opens=" + o + "=ALL-UNNAMED");
            }
        }
        String cp = nodeClassPath(system);
        if (system.equals("haraft")) {
            cmd.addAll(HARAFT_LOGGING);
            cp += File.pathSeparator + dir.resolve("systems").resolve("logging").resolve("*");
        }
        cmd.addAll(jvmArgs);
        cmd.add("-cp");
        cmd.add(cp);
        cmd.add("io.haraft.bench.node.NodeMain");
        cmd.add(system);
        cmd.addAll(nodeArgs);
        return cmd;
    }
}
