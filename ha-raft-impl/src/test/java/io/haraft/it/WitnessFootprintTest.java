package io.haraft.it;

import io.haraft.core.log.Entry;
import io.haraft.storage.FileRaftStorage;
import io.haraft.transport.TransportTesting;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static io.haraft.transport.TransportTesting.awaitTrue;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Measures what a witness costs next to a data node: two data nodes and a witness, each in its own
 * JVM ({@link FootprintNode}, {@code -Xmx256m -XX:+UseSerialGC}), over gRPC and the file store.
 * The leader writes {@value #ENTRIES} commands of {@value #ENTRY_BYTES} bytes; with the snapshot
 * threshold above that, every entry is still in the log. Then each node reports its heap in use
 * after full collections and the size of its data directory; after the processes are gone, the
 * test reads each log back to count the payload bytes stored.
 *
 * <p>Writes the table to {@code target/witness-footprint.txt} (the numbers docs/membership.md quotes) and
 * asserts the gap that makes a witness worth having: it stores no payload, and its disk and heap
 * are far below a data node's.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class WitnessFootprintTest {
    static final int ENTRIES = 10_000;
    static final int ENTRY_BYTES = 1024;
    private static final Duration PATIENCE = Duration.ofSeconds(60);
    private static final List<String> IDS = List.of("n1", "n2", "w1");

    @TempDir
    Path dir;

    private final List<Process> processes = new ArrayList<>();

    private record Node(String id, Process process, List<String> lines, OutputStream stdin) {
        Optional<String> line(String prefix) {
            return lines.stream().filter(l -> l.startsWith(prefix)).findFirst();
        }
    }

    @AfterEach
    void killAll() throws InterruptedException {
        for (Process p : processes) {
            p.destroyForcibly();
        }
        for (Process p : processes) {
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static String classPath() {
        String cp = System.getProperty("surefire.test.class.path");
        return cp != null && !cp.isBlank() ? cp : System.getProperty("java.class.path");
    }

    private Node launch(String id, Map<String, Integer> ports) throws IOException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-cp", classPath(), FootprintNode.class.getName(),
                "footprint", id, dir.resolve(id).toString(), Integer.toString(ENTRIES), Integer.toString(ENTRY_BYTES),
                Integer.toString(2 * ENTRIES)));
        ports.forEach((m, port) -> command.add(m + "=" + TransportTesting.address(port)
                + (m.startsWith("w") ? "=witness" : "")));
        Process p = new ProcessBuilder(command).redirectError(dir.resolve(id + ".log").toFile()).start();
        processes.add(p);
        List<String> lines = new CopyOnWriteArrayList<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String s = r.readLine(); s != null; s = r.readLine()) {
                    lines.add(s);
                }
            } catch (IOException e) {
                lines.add("reader failed: " + e);
            }
        }, "reader-" + id);
        reader.setDaemon(true);
        reader.start();
        return new Node(id, p, lines, p.getOutputStream());
    }

    @Test
    void aWitnessStoresNoPayloadAndNeedsFarLessDiskAndHeapThanADataNode() throws Exception {
        Map<String, Integer> ports = new LinkedHashMap<>();
        IDS.forEach(id -> ports.put(id, TransportTesting.freePort()));
        Map<String, Node> nodes = new LinkedHashMap<>();
        for (String id : IDS) {
            nodes.put(id, launch(id, ports));
        }
        awaitTrue("one data node loads " + ENTRIES + " entries: " + nodes.values(), PATIENCE,
                () -> nodes.values().stream().anyMatch(n -> n.line("LOADED").isPresent() || n.line("LOADFAILED")
                        .isPresent()));
        String loaded = nodes.values().stream().flatMap(n -> n.line("LOAD").stream()).findFirst().orElseThrow();
        assertThat(loaded).as("the load").startsWith("LOADED ");
        long index = Long.parseLong(loaded.substring("LOADED ".length()).trim());
        for (Node n : nodes.values()) {
            n.stdin().write(("MEASURE " + index + "\n").getBytes(StandardCharsets.UTF_8));
            n.stdin().flush();
        }
        awaitTrue("every node measures", PATIENCE, () -> nodes.values().stream()
                .allMatch(n -> n.line("FOOTPRINT").isPresent() || n.line("MEASUREFAILED").isPresent()));
        Map<String, long[]> measured = new LinkedHashMap<>();
        for (Node n : nodes.values()) {
            String[] f = n.line("FOOTPRINT").orElseThrow(() -> new AssertionError(n.id() + ": " + n.lines()))
                    .split(" ");
            measured.put(n.id(), new long[] {Long.parseLong(f[2]), Long.parseLong(f[3]), 0, 0});
        }
        killAll();
        for (String id : IDS) {
            try (FileRaftStorage s = FileRaftStorage.open(dir.resolve(id))) {
                long payload = 0;
                for (Entry e : s.entries(s.firstIndex(), s.lastIndex() + 1, Long.MAX_VALUE)) {
                    payload += e.size();
                }
                measured.get(id)[2] = s.lastIndex() - s.firstIndex() + 1;
                measured.get(id)[3] = payload;
            }
        }

        StringBuilder report = new StringBuilder();
        report.append(String.format("Witness footprint: 2 data nodes + 1 witness, %,d entries of %,d bytes, every entry"
                + " still in the log (snapshot threshold %,d); JVMs with -Xmx256m -XX:+UseSerialGC%n", ENTRIES,
                ENTRY_BYTES, 2 * ENTRIES));
        report.append(String.format("%-4s %-8s %18s %22s %14s %20s%n", "node", "role", "heap after GC (MiB)",
                "data directory (MiB)", "log entries", "payload bytes stored"));
        measured.forEach((id, m) -> report.append(String.format("%-4s %-8s %18.1f %22.2f %,14d %,20d%n", id,
                id.startsWith("w") ? "witness" : "data", m[0] / 1048576.0, m[1] / 1048576.0, m[2], m[3])));
        Path out = Path.of("target", "witness-footprint.txt");
        Files.createDirectories(out.getParent());
        Files.writeString(out, report.toString());
        System.out.print(report);

        long[] w = measured.get("w1");
        for (String data : List.of("n1", "n2")) {
            long[] d = measured.get(data);
            assertThat(d[3]).as("payload bytes on data node %s", data).isGreaterThanOrEqualTo((long) ENTRIES * ENTRY_BYTES);
            assertThat(w[1]).as("witness data directory vs %s's\n%s", data, report).isLessThan(d[1] / 5);
            assertThat(w[0]).as("witness heap vs %s's\n%s", data, report).isLessThan(d[0]);
        }
        assertThat(w[2]).as("the witness stores every entry's position").isGreaterThanOrEqualTo(ENTRIES);
        // the only payload a witness may keep is the cluster identity in the first leader's no-op (16 bytes)
        assertThat(w[3]).as("payload bytes on the witness").isLessThanOrEqualTo(16L);
    }
}
