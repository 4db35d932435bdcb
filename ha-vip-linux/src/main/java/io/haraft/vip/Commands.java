package io.haraft.vip;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
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

    /**
     * Prepares the {@code ip} command {@code ip + command} (for example {@code [/usr/sbin/ip, -4]}
     * and {@code [addr, del, 192.0.2.10/24, dev, eth0]}) so that {@link Standby#run} later costs no
     * process start: the real runner starts {@code ip ... -batch -} now, and {@code run} writes the
     * command to its standard input and waits for it to exit. If the prepared process is gone by
     * then, {@code run} falls back to {@link #run} of the whole command, so a prepared command is
     * never worse than an unprepared one. This default prepares nothing: its {@code run} is
     * {@link #run} of the whole command (what test fakes want).
     *
     * @param ip      the {@code ip} program and its global options
     * @param command the {@code ip} command and its arguments, as one line of {@code ip -batch}
     * @return a handle to run the command once, or to cancel it; never {@code null}
     */
    default Standby standby(List<String> ip, List<String> command) {
        List<String> argv = SystemCommands.concat(ip, command);
        return new Standby() {
            @Override
            public Result run(Duration timeout) {
                return Commands.this.run(argv, timeout);
            }

            @Override
            public void cancel() {
                // nothing was started
            }
        };
    }

    /**
     * An {@code ip} command prepared by {@link Commands#standby}: {@link #run} it once, or {@link #cancel}
     * it. Thread-safe.
     */
    interface Standby {

        /**
         * Runs the prepared command and waits at most {@code timeout}, with the same outcome and
         * guarantees as {@link Commands#run}; {@link Result#elapsed()} counts from the moment the
         * command was handed over, not from when the process was started.
         *
         * @throws IllegalStateException if it was already run or cancelled
         */
        Result run(Duration timeout);

        /** Stops the prepared process without running the command. Idempotent. */
        void cancel();
    }

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

    /** {@code a} followed by {@code b}. */
    static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return List.copyOf(all);
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
            return await(argv, process, out, timeout, start);
        } finally {
            delete(out);
        }
    }

    /** Waits for {@code process} (its output in {@code out}) at most {@code timeout}; kills it after that. */
    private static Result await(List<String> argv, Process process, Path out, Duration timeout, long start) {
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
    }

    private static void delete(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException ignored) {
            // a leftover temporary file is harmless
        }
    }

    /**
     * Starts {@code ip ... -batch -} now; {@link Standby#run} writes the command as its one input
     * line and closes its standard input, so ip runs it and exits (with 1 if it failed, its error
     * message in the output). A JVM that dies closes the pipe, and ip then exits doing nothing.
     */
    @Override
    public Standby standby(List<String> ip, List<String> command) {
        List<String> argv = concat(ip, command);
        Path out;
        Process process;
        try {
            out = Files.createTempFile("ha-vip-cmd", ".out");
        } catch (IOException e) {
            return Commands.super.standby(ip, command);
        }
        try {
            process = new ProcessBuilder(concat(ip, List.of("-batch", "-")))
                    .redirectErrorStream(true)
                    .redirectOutput(out.toFile())
                    .start();
        } catch (IOException | RuntimeException e) {
            delete(out);
            return Commands.super.standby(ip, command);
        }
        return new Standby() {
            private boolean done;

            @Override
            public synchronized Result run(Duration timeout) {
                if (done) {
                    throw new IllegalStateException("this prepared command was already run or cancelled");
                }
                done = true;
                long start = System.nanoTime();
                try {
                    if (!process.isAlive()) {
                        return SystemCommands.this.run(argv, timeout); // the prepared ip is gone: start one now
                    }
                    try (var in = process.getOutputStream()) {
                        in.write((String.join(" ", command) + "\n").getBytes(StandardCharsets.UTF_8));
                    } catch (IOException e) {
                        kill(process);
                        return SystemCommands.this.run(argv, timeout);
                    }
                    return await(argv, process, out, timeout, start);
                } finally {
                    delete(out);
                }
            }

            @Override
            public synchronized void cancel() {
                if (!done) {
                    done = true;
                    kill(process);
                    delete(out);
                }
            }
        };
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
