package io.haraft.vip;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A {@link Fencer} that runs an external command, such as a smart-PDU or IPMI client, without a
 * shell and with a timeout. The fence succeeded if and only if the command exits with 0 in time.
 *
 * <p>Arguments may contain placeholders, replaced as whole text inside each argument (no shell, so
 * no quoting issues and no injection): {@code {vip}} (address without prefix), {@code {cidr}},
 * {@code {interface}}, {@code {mac}} (the MAC that answered, or empty) and {@code {token}}. Any
 * other name in braces ({@code {vpi}}, {@code {ip}}) is refused when the fencer is created, so a
 * typo cannot reach the fence device as literal text; braces around anything but a name (such
 * as JSON) are passed on as they are.
 *
 * <pre>{@code
 * Fencer fencer = CommandFencer.of(List.of("/usr/bin/ipmitool", "-H", "10.0.9.2", "-U", "admin",
 *         "-f", "/etc/ha/ipmi.pw", "chassis", "power", "off"), Duration.ofSeconds(10));
 * }</pre>
 *
 * <p><b>Guarantees.</b> Immutable and thread-safe. The command's output (stdout and stderr) is
 * logged at INFO on success and at WARN on failure, a timeout kills it (and its descendants).
 * {@link #setupProblems()} reports a program that is missing, not a regular file or not
 * executable, so that {@link VipHolder#start()} fails at start rather than at failover time.
 *
 * <p><b>Limits.</b> The command is trusted: it runs with this process's privileges. Keep the file
 * it comes from writable by root only.
 */
public final class CommandFencer implements Fencer {

    private static final Logger log = LoggerFactory.getLogger(CommandFencer.class);

    /** The placeholders that {@link #fence} replaces. */
    public static final List<String> PLACEHOLDERS = List.of("{vip}", "{cidr}", "{interface}", "{mac}", "{token}");
    private static final Pattern PLACEHOLDER = Pattern.compile("\\{[A-Za-z_][A-Za-z0-9_.-]*}");

    private final List<String> command;
    private final Duration timeout;
    private final Commands commands;

    private CommandFencer(List<String> command, Duration timeout, Commands commands) {
        this.command = List.copyOf(command);
        this.timeout = Objects.requireNonNull(timeout, "timeout");
        this.commands = Objects.requireNonNull(commands, "commands");
        if (this.command.isEmpty() || this.command.get(0).isBlank()) {
            throw new IllegalArgumentException("the fence command must name a program, like "
                    + "[/usr/bin/ipmitool, chassis, power, off]");
        }
        if (!this.command.get(0).startsWith("/")) {
            throw new IllegalArgumentException("the fence command must start with an absolute path (no shell, "
                    + "no PATH lookup), got '" + this.command.get(0) + "'");
        }
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("the fence command's timeout must be positive, got " + timeout);
        }
        for (String arg : this.command) {
            Matcher m = PLACEHOLDER.matcher(arg);
            while (m.find()) {
                if (!PLACEHOLDERS.contains(m.group())) {
                    throw new IllegalArgumentException("the fence command has an unknown placeholder " + m.group()
                            + " (in '" + arg + "'); the known ones are " + String.join(" ", PLACEHOLDERS));
                }
            }
        }
    }

    /**
     * A fencer running {@code command} through {@link Commands#system()}.
     *
     * @param command the program (absolute path) and its arguments, with optional placeholders
     * @param timeout how long the command may run before it is killed and the fence counts as failed
     * @throws IllegalArgumentException if the command is empty or not an absolute path, or the
     *                                  timeout is not positive
     */
    public static CommandFencer of(List<String> command, Duration timeout) {
        return new CommandFencer(command, timeout, Commands.system());
    }

    /** Like {@link #of(List, Duration)}, running the command through {@code commands}. */
    public static CommandFencer of(List<String> command, Duration timeout, Commands commands) {
        return new CommandFencer(command, timeout, commands);
    }

    /** The command as configured, with its placeholders. */
    public List<String> command() {
        return command;
    }

    /** The command's timeout. */
    public Duration timeout() {
        return timeout;
    }

    /**
     * The program's problems on this host: missing, not a regular file, or not executable by
     * this process. Changes nothing.
     */
    @Override
    public List<String> setupProblems() {
        Path program = Path.of(command.get(0));
        String fix = "; install it there or correct the fence command's path (it runs without a shell and without"
                + " PATH lookup)";
        if (!Files.exists(program)) {
            return List.of("the fence command " + program + " does not exist" + fix);
        }
        if (!Files.isRegularFile(program)) {
            return List.of("the fence command " + program + " is not a regular file" + fix);
        }
        if (!Files.isExecutable(program)) {
            return List.of("the fence command " + program + " is not executable by this process; chmod +x it (and"
                    + " keep it writable by root only)");
        }
        return List.of();
    }

    @Override
    public void fence(FenceRequest request) throws FenceException {
        List<String> argv = new ArrayList<>(command.size());
        for (String arg : command) {
            argv.add(arg.replace("{vip}", request.vip().host())
                    .replace("{cidr}", request.vip().cidr())
                    .replace("{interface}", request.interfaceName())
                    .replace("{mac}", request.conflictingMac().orElse(""))
                    .replace("{token}", Long.toString(request.token().value())));
        }
        Commands.Result result = commands.run(argv, timeout);
        if (result.ok()) {
            log.info("fence command succeeded for VIP {} ({}): {}", request.vip(), request.token(), result);
            return;
        }
        log.warn("fence command FAILED for VIP {} ({}): {}", request.vip(), request.token(), result);
        throw new FenceException(result.timedOut()
                ? "fence command timed out after " + timeout.toMillis() + " ms: " + result
                : "fence command failed: " + result);
    }

    @Override
    public String toString() {
        return "CommandFencer" + command + " (timeout " + timeout.toMillis() + " ms)";
    }
}
