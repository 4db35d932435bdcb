package io.haraft.vip;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * How a {@link VipHolder} manages its virtual IP: the address, the interface, the gratuitous ARP
 * schedule, the programs it runs, the optional duplicate-address probe and fencer, and its timing.
 *
 * <p><b>Guarantees.</b> Immutable and validated on construction: an invalid value fails with an
 * {@link IllegalArgumentException} whose message says what to write instead. Whether the programs
 * and the interface exist is checked later, by {@link VipHolder#start()}, on the host that runs it.
 *
 * <pre>{@code
 * VipConfig config = VipConfig.builder("192.0.2.10/24", "eth0")
 *         .duplicateProbe(true)
 *         .fencer(CommandFencer.of(List.of("/usr/local/bin/pdu-off", "{mac}"), Duration.ofSeconds(10)))
 *         .build();
 * }</pre>
 *
 * <p><b>Limits.</b> {@link #duplicateProbe()} uses {@code arping -D} and exists for IPv4 only.
 * For IPv6 the kernel announces the VIP: {@link VipHolder#start()} sets the interface's
 * {@code ndisc_notify} and {@code accept_dad} sysctls (with {@link #sysctlCommand()}), and the
 * kernel then sends one unsolicited neighbour advertisement when {@code ip addr add} adds the VIP;
 * the ARP counts below apply to IPv4 only (see {@link VipHolder}).
 *
 * @param address         the VIP with its prefix length
 * @param interfaceName   the interface that carries the VIP, for example {@code eth0}
 * @param garpCount       gratuitous ARPs sent right after the takeover (IPv4); 0 to 100
 * @param garpRepeatCount gratuitous ARPs sent again {@code garpRepeatDelay} later (IPv4); 0 to 100
 * @param garpRepeatDelay delay of the second burst; positive
 * @param ipCommand       the {@code ip} program (iproute2)
 * @param arpingCommand   the {@code arping} program (iputils-arping); used for an IPv4 VIP only
 * @param sysctlCommand   the {@code sysctl} program (procps); used for an IPv6 VIP only, to set the
 *                        interface's {@code ndisc_notify} and {@code accept_dad}
 * @param duplicateProbe  whether a takeover first asks with {@code arping -D} whether another host
 *                        still answers for the VIP (IPv4 only; costs {@code probeTimeout} when
 *                        nobody answers)
 * @param probeTimeout    how long the probe waits for an answer; whole seconds, at least 1
 *                        ({@code arping -w} takes seconds)
 * @param fencer          what to run when the probe finds another host; without one, a takeover
 *                        that finds another host is abandoned
 * @param fenceTimeout    the most a fencer may take before it counts as failed
 * @param releaseMargin   how long before the lease ends the watchdog removes the VIP; must cover
 *                        the watchdog's wake-up plus the time {@code ip addr del} takes, and stay
 *                        well below the lease minus the heartbeat interval (see {@link VipHolder})
 * @param commandTimeout  the most one {@code ip} or {@code arping -U} run may take
 */
public record VipConfig(
        VipAddress address,
        String interfaceName,
        int garpCount,
        int garpRepeatCount,
        Duration garpRepeatDelay,
        Path ipCommand,
        Path arpingCommand,
        Path sysctlCommand,
        boolean duplicateProbe,
        Duration probeTimeout,
        Optional<Fencer> fencer,
        Duration fenceTimeout,
        Duration releaseMargin,
        Duration commandTimeout) {

    /**
     * The default {@link #releaseMargin()} in milliseconds. It covers the watchdog's wake-up plus one
     * {@code ip addr del} (3-10 ms measured on an idle 2-core machine, up to about 120 ms with
     * Maven, three JVMs and hundreds of process starts a second on the same two cores), and at the
     * default timing (100 ms heartbeat, 294 ms lease) it still lets a heartbeat be about 90 ms late
     * before the VIP is removed. See {@link VipHolder} for the trade-off.
     */
    public static final long DEFAULT_RELEASE_MARGIN_MS = 100;

    /** Linux interface names: 1 to 15 characters, no slash, colon or white space. */
    private static final Pattern IFNAME = Pattern.compile("[^/:\\s]{1,15}");

    /**
     * Validates.
     *
     * @throws IllegalArgumentException if a value is out of range; the message says the fix
     */
    public VipConfig {
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(interfaceName, "interfaceName");
        Objects.requireNonNull(garpRepeatDelay, "garpRepeatDelay");
        Objects.requireNonNull(ipCommand, "ipCommand");
        Objects.requireNonNull(arpingCommand, "arpingCommand");
        Objects.requireNonNull(sysctlCommand, "sysctlCommand");
        Objects.requireNonNull(probeTimeout, "probeTimeout");
        Objects.requireNonNull(fencer, "fencer");
        Objects.requireNonNull(fenceTimeout, "fenceTimeout");
        Objects.requireNonNull(releaseMargin, "releaseMargin");
        Objects.requireNonNull(commandTimeout, "commandTimeout");
        if (!IFNAME.matcher(interfaceName).matches() || interfaceName.equals(".") || interfaceName.equals("..")) {
            throw new IllegalArgumentException("'" + interfaceName + "' is not a Linux interface name: 1 to 15"
                    + " characters without '/', ':' or spaces, like eth0 or ens3 (see `ip link`)");
        }
        if (garpCount < 0 || garpCount > 100) {
            throw new IllegalArgumentException("garpCount must be 0 to 100 (keepalived sends 5), got " + garpCount);
        }
        if (garpRepeatCount < 0 || garpRepeatCount > 100) {
            throw new IllegalArgumentException("garpRepeatCount must be 0 to 100 (keepalived sends 5), got "
                    + garpRepeatCount);
        }
        positive("garpRepeatDelay", garpRepeatDelay);
        absolute("ipCommand", ipCommand);
        absolute("arpingCommand", arpingCommand);
        absolute("sysctlCommand", sysctlCommand);
        if (duplicateProbe && address.isIpv6()) {
            throw new IllegalArgumentException("duplicateProbe uses arping -D, which is IPv4 only; turn it off"
                    + " for the IPv6 VIP " + address);
        }
        if (probeTimeout.toMillis() < 1000 || probeTimeout.toMillis() % 1000 != 0) {
            throw new IllegalArgumentException("probeTimeout must be whole seconds, at least 1 s (arping -w takes"
                    + " seconds), got " + probeTimeout.toMillis() + " ms");
        }
        positive("fenceTimeout", fenceTimeout);
        if (releaseMargin.isNegative()) {
            throw new IllegalArgumentException("releaseMargin must not be negative, got " + releaseMargin);
        }
        positive("commandTimeout", commandTimeout);
    }

    private static void positive(String name, Duration d) {
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + " must be positive, got " + d.toMillis() + " ms");
        }
    }

    private static void absolute(String name, Path p) {
        if (!p.isAbsolute()) {
            throw new IllegalArgumentException(name + " must be an absolute path (no PATH lookup at failover"
                    + " time), got '" + p + "'");
        }
    }

    /**
     * A builder with keepalived-like defaults: 5 gratuitous ARPs at once and 5 more after 5 s, no
     * duplicate probe, no fencer, a {@value #DEFAULT_RELEASE_MARGIN_MS} ms release margin and a 2 s
     * command timeout.
     *
     * @param vip           the VIP with its prefix, for example {@code 192.0.2.10/24}
     * @param interfaceName the interface, for example {@code eth0}
     * @throws IllegalArgumentException if the VIP cannot be parsed (see {@link VipAddress#parse})
     */
    public static Builder builder(String vip, String interfaceName) {
        return new Builder(VipAddress.parse(vip), interfaceName);
    }

    /** A builder for the given, already parsed, address. */
    public static Builder builder(VipAddress vip, String interfaceName) {
        return new Builder(vip, interfaceName);
    }

    /**
     * Finds a program: the first of {@code preferred} that is executable, else the first
     * executable {@code name} on {@code PATH}, else {@code preferred[0]} (so that
     * {@link VipHolder#start()} can say it is missing).
     */
    static Path locate(String name, String... preferred) {
        for (String p : preferred) {
            if (Files.isExecutable(Path.of(p))) {
                return Path.of(p);
            }
        }
        return onPath(name).orElse(Path.of(preferred[0]));
    }

    static Optional<Path> onPath(String name) {
        String path = System.getenv("PATH");
        if (path != null) {
            for (String dir : path.split(File.pathSeparator)) {
                if (!dir.isEmpty() && Path.of(dir).isAbsolute()) {
                    Path candidate = Path.of(dir, name);
                    if (Files.isExecutable(candidate)) {
                        return Optional.of(candidate);
                    }
                }
            }
        }
        return Optional.empty();
    }

    /**
     * Builds a {@link VipConfig}. Not thread-safe; build once, then share the immutable config.
     */
    public static final class Builder {
        private final VipAddress address;
        private final String interfaceName;
        private int garpCount = 5;
        private int garpRepeatCount = 5;
        private Duration garpRepeatDelay = Duration.ofSeconds(5);
        private Path ipCommand;
        private Path arpingCommand;
        private Path sysctlCommand;
        private boolean duplicateProbe;
        private Duration probeTimeout = Duration.ofSeconds(1);
        private Fencer fencer;
        private Duration fenceTimeout = Duration.ofSeconds(30);
        private Duration releaseMargin = Duration.ofMillis(DEFAULT_RELEASE_MARGIN_MS);
        private Duration commandTimeout = Duration.ofSeconds(2);

        private Builder(VipAddress address, String interfaceName) {
            this.address = Objects.requireNonNull(address, "vip");
            this.interfaceName = Objects.requireNonNull(interfaceName, "interfaceName");
        }

        /** Gratuitous ARPs sent at once after a takeover (default 5). */
        public Builder garpCount(int count) {
            this.garpCount = count;
            return this;
        }

        /** Gratuitous ARPs sent again after {@link #garpRepeatDelay} (default 5; 0 for none). */
        public Builder garpRepeatCount(int count) {
            this.garpRepeatCount = count;
            return this;
        }

        /** Delay of the second burst of gratuitous ARPs (default 5 s). */
        public Builder garpRepeatDelay(Duration delay) {
            this.garpRepeatDelay = delay;
            return this;
        }

        /** The {@code ip} program (default {@code /usr/sbin/ip}, else {@code ip} on PATH). */
        public Builder ipCommand(Path path) {
            this.ipCommand = path;
            return this;
        }

        /** The {@code arping} program of iputils (default {@code /usr/sbin/arping}, {@code /usr/bin/arping}, else on PATH). */
        public Builder arpingCommand(Path path) {
            this.arpingCommand = path;
            return this;
        }

        /**
         * The {@code sysctl} program of procps, used for an IPv6 VIP (default {@code /usr/sbin/sysctl},
         * {@code /sbin/sysctl}, else {@code sysctl} on PATH).
         */
        public Builder sysctlCommand(Path path) {
            this.sysctlCommand = path;
            return this;
        }

        /** Whether a takeover first probes for another holder with {@code arping -D} (default off). */
        public Builder duplicateProbe(boolean on) {
            this.duplicateProbe = on;
            return this;
        }

        /** How long the probe waits for an answer, whole seconds (default 1 s). */
        public Builder probeTimeout(Duration timeout) {
            this.probeTimeout = timeout;
            return this;
        }

        /** What fences a host that still answers the probe (default none: the takeover is abandoned). */
        public Builder fencer(Fencer fencer) {
            this.fencer = Objects.requireNonNull(fencer, "fencer");
            return this;
        }

        /** The most a fencer may take before it counts as failed (default 30 s). */
        public Builder fenceTimeout(Duration timeout) {
            this.fenceTimeout = timeout;
            return this;
        }

        /**
         * How long before the lease ends the watchdog removes the VIP (default
         * {@value VipConfig#DEFAULT_RELEASE_MARGIN_MS} ms).
         */
        public Builder releaseMargin(Duration margin) {
            this.releaseMargin = margin;
            return this;
        }

        /** The most one {@code ip} or {@code arping -U} run may take (default 2 s). */
        public Builder commandTimeout(Duration timeout) {
            this.commandTimeout = timeout;
            return this;
        }

        /**
         * Builds the config.
         *
         * @throws IllegalArgumentException if a value is invalid; the message says the fix
         */
        public VipConfig build() {
            Path ip = ipCommand != null ? ipCommand : locate("ip", "/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip");
            Path arping = arpingCommand != null ? arpingCommand
                    : locate("arping", "/usr/sbin/arping", "/usr/bin/arping");
            Path sysctl = sysctlCommand != null ? sysctlCommand : locate("sysctl", "/usr/sbin/sysctl", "/sbin/sysctl");
            return new VipConfig(address, interfaceName, garpCount, garpRepeatCount, garpRepeatDelay, ip, arping,
                    sysctl, duplicateProbe, probeTimeout, Optional.ofNullable(fencer), fenceTimeout, releaseMargin,
                    commandTimeout);
        }
    }
}
