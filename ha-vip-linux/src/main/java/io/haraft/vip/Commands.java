package io.haraft.vip;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * Runs one external program and waits for it, with a timeout. Every program that this package
 * starts ({@code ip}, {@code arping}, a fence command) goes through one instance, so tests can
 * record or redirect them (for example into a network namespace with {@code ip netns exec}).
 *
 * <p><b>Contract for implementations.</b> {@link #run} never uses a shell: {@code argv.get(0)} is
 * the program and the rest are its arguments, passed as they are. It returns within about
 * {@code timeout} (plus the time to kill the program), never throws for a failing, missing or
 * hanging program (that is a {@link Result}), and may be called from several threads at once.
 *
 * <pre>{@code
 * Commands.Result r = Commands.system().run(List.of("/usr/sbin/ip", "-o", "link"), Duration.ofSeconds(2));
 * if (!r.ok()) log.warn("ip failed: {}", r);
 * }</pre>
 *
 * <p><b>Limits.</b> Output (stdout and stderr merged) is kept up to {@link #MAX_OUTPUT} characters.
 */
@FunctionalInterface
public interface Commands {

    /** How many characters of a program's output a {@link Result} keeps at most. */
    int MAX_OUTPUT = 16 * 1024;

    /** Exit code reported when the program could not be started at all (missing, not executable). */
    int START_FAILED = 127;

    /** Exit code reported when the program was killed because it ran past its timeout. */
    int TIMED_OUT = 124;

    /**
     * Runs {@code argv} without a shell and waits at most {@code timeout} for it to exit; a program
     * still running then is killed (with its descendants) and reported as {@link Result#timedOut()}.
     *
     * @param argv    the program and its arguments; not empty
     * @param timeout how long to wait; positive
     * @return the outcome; never {@code null}
     */
    Result run(List<String> argv, Duration timeout);

    /** The real runner: {@link ProcessBuilder}, no shell, output captured through a temporary file. */
    static Commands system() {
        return SystemCommands.INSTANCE;
    }

    /**
     * The outcome of one program run.
     *
     * @param argv     what was run
     * @param exitCode its exit code; {@link #START_FAILED} if it could not start,
     *                 {@link #TIMED_OUT} if it was killed after its timeout
     * @param output   stdout and stderr merged, trimmed, at most {@link #MAX_OUTPUT} characters
     * @param timedOut whether it was killed because it ran past the timeout
     * @param elapsed  how long it ran (monotonic clock)
     */
    record Result(List<String> argv, int exitCode, String output, boolean timedOut, Duration elapsed) {

        /** Validates and copies. */
        public Result {
            argv = List.copyOf(argv);
            Objects.requireNonNull(output, "output");
            Objects.requireNonNull(elapsed, "elapsed");
        }

        /** A successful run: exit code 0 and not timed out. */
        public static Result ok(List<String> argv, String output) {
            return new Result(argv, 0, output, false, Duration.ZERO);
        }

        /** A failed run with the given exit code and output. */
        public static Result failed(List<String> argv, int exitCode, String output) {
            return new Result(argv, exitCode, output, false, Duration.ZERO);
        }

        /** Whether the program exited with 0 in time. */
        public boolean ok() {
            return exitCode == 0 && !timedOut;
        }

        /** A one-line description for logs and error messages. */
        @Override
        public String toString() {
            String what = timedOut ? "timed out after " + elapsed.toMillis() + " ms"
                    : exitCode == START_FAILED && output.startsWith("cannot start") ? "could not start"
                    : "exit " + exitCode;
            return "`" + String.join(" ", argv) + "` " + what
                    + (output.isEmpty() ? "" : ": " + output.replace('\n', ' '));
        }
    }
}

/** The {@link ProcessBuilder}-based runner behind {@link Commands#system()}. */
final class SystemCommands implements Commands {

    static final SystemCommands INSTANCE = new SystemCommands();

    private SystemCommands() {
    }

    @Override
    public Result run(List<String> argv, Duration timeout) {
        if (argv.isEmpty()) {
            throw new IllegalArgumentException("argv must name a program");
        }
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive, got " + timeout);
        }
        long start = System.nanoTime();
        Path out;
        try {
            out = Files.createTempFile("ha-vip-cmd", ".out");
        } catch (IOException e) {
            return new Result(argv, START_FAILED, "cannot start: no temporary file for its output: " + e,
                    false, Duration.ZERO);
        }
        try {
            Process process;
            try {
                process = new ProcessBuilder(argv)
                        .redirectErrorStream(true)
                        .redirectOutput(out.toFile())
                        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                        .start();
            } catch (IOException | RuntimeException e) {
                return new Result(argv, START_FAILED, "cannot start " + argv.get(0) + ": " + e.getMessage(),
                        false, elapsedSince(start));
            }
            boolean exited;
            try {
                exited = process.waitFor(timeout.toNanos(), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                kill(process);
                Thread.currentThread().interrupt();
                return new Result(argv, TIMED_OUT, "interrupted; killed. " + read(out), true, elapsedSince(start));
            }
            if (!exited) {
                kill(process);
                return new Result(argv, TIMED_OUT, read(out), true, elapsedSince(start));
            }
            return new Result(argv, process.exitValue(), read(out), false, elapsedSince(start));
        } finally {
            try {
                Files.deleteIfExists(out);
            } catch (IOException ignored) {
                // a leftover temporary file is harmless
            }
        }
    }

    private static void kill(Process process) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        try {
            process.waitFor(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static Duration elapsedSince(long startNanos) {
        return Duration.ofNanos(System.nanoTime() - startNanos);
    }

    private static String read(Path out) {
        try (InputStream in = Files.newInputStream(out)) {
            byte[] bytes = in.readNBytes(MAX_OUTPUT * 4);
            String text = new String(bytes, StandardCharsets.UTF_8).strip();
            return text.length() > MAX_OUTPUT ? text.substring(0, MAX_OUTPUT) : text;
        } catch (IOException e) {
            return "(output unreadable: " + e.getMessage() + ")";
        }
    }
}
