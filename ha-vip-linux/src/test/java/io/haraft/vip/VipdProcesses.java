package io.haraft.vip;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Runs the packaged {@code ha-vipd.jar} inside network namespaces, as the daemon scenario tests do. */
final class VipdProcesses {

    private VipdProcesses() {
    }

    /** What {@code ha-vipd admin} printed (standard output and error) and its exit code. */
    record Cli(int code, String output) {
    }

    /**
     * The daemon jar (system property {@code ha.vipd.jar}, set by the integration-test execution);
     * skips the calling test when it is absent, or fails it when CI=true.
     */
    static Path jar() {
        String property = System.getProperty("ha.vipd.jar");
        // a targeted `mvn test -Dtest=Vip*` also selects these classes in the unit-test phase, before the
        // jar exists: only the integration-test execution (which sets ha.vipd.jar) runs them
        Assumptions.assumeTrue(property != null, "the ha-vipd scenarios run in the integration-test phase of"
                + " `mvn verify` (after the package phase has built ha-vipd.jar), not in the unit-test phase");
        Path jar = Path.of(property);
        if (!Files.isRegularFile(jar)) {
            String why = jar.toAbsolutePath() + " does not exist: these tests run in `mvn verify` (integration-test"
                    + " phase), after the package phase has built the daemon jar";
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                Assertions.fail(why);
            }
            Assumptions.abort(why);
        }
        return jar;
    }

    /** Starts {@code java -jar ha-vipd.jar --config config} inside {@code ns}, appending its output to {@code log}. */
    static Process start(String ns, Path config, Path log) throws IOException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        // ip netns exec execs java in place: the Process is the JVM itself, so destroy() is its SIGTERM
        return new ProcessBuilder(NetnsLan.IP, "netns", "exec", ns, java.toString(),
                "-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-jar", jar().toString(), "--config", config.toString())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
    }

    /** SIGKILL ({@code kill9}) or SIGTERM, and waits up to 15 s for the process to end. */
    static void stop(Process p, boolean kill9) throws InterruptedException {
        List<ProcessHandle> children = p.descendants().toList();
        if (kill9) {
            p.destroyForcibly();
        } else {
            p.destroy();
        }
        p.waitFor(15, TimeUnit.SECONDS);
        children.forEach(ProcessHandle::destroyForcibly);
    }

    /** Runs {@code ha-vipd admin --config config args} inside {@code ns}, as an operator on that host would. */
    static Cli admin(String ns, Path config, String... args) throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> command = new ArrayList<>(List.of(NetnsLan.IP, "netns", "exec", ns, java.toString(),
                "-XX:TieredStopAtLevel=1", "-jar", jar().toString(), "admin", "--config", config.toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(150, TimeUnit.SECONDS)).as("ha-vipd admin ended").isTrue();
        return new Cli(p.exitValue(), output);
    }

    /** Prints the lines of a daemon's log that show its transitions, VIP moves, warnings and admin commands. */
    static void printTransitions(String title, Path log) throws IOException {
        if (!Files.exists(log)) {
            return;
        }
        System.out.println("---- " + title + " log (transitions) ----");
        try (var lines = Files.lines(log)) {
            lines.filter(l -> l.contains("ELECTED") || l.contains("REVOKED") || l.contains("VIP ")
                            || l.contains("leader is now") || l.contains("ERROR") || l.contains("WARN")
                            || l.contains("stop") || l.contains("running node") || l.contains("admin:"))
                    .forEach(System.out::println);
        }
    }
}
