package io.haraft.vip;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What {@link VipHolder} learns about the host before it manages the VIP: the programs, the
 * interface, the capabilities, the IPv6 announcement settings, the addresses the host already has,
 * the fencer's own problems, and the {@code arping -D} probe (also used by takeovers).
 *
 * <p>Thread-safe (no state beyond the configuration). Every method runs programs through the
 * holder's {@link Commands} with its timeout; only {@link #applyIpv6Settings()} changes anything.
 */
final class HostSetup {

    private static final Logger log = LoggerFactory.getLogger(VipHolder.class);

    /** IPv6: the interface's sysctls that make the kernel announce the VIP when it is added, and their values. */
    private static final List<String> IPV6_SETTINGS = List.of("accept_dad", "0", "ndisc_notify", "1");
    private static final Pattern MAC = Pattern.compile("\\[([0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5})]");
    private static final Pattern MTU = Pattern.compile("\\bmtu (\\d+)");

    private final VipConfig config;
    private final Commands commands;
    private final Host host;

    HostSetup(VipConfig config, Commands commands, Host host) {
        this.config = config;
        this.commands = commands;
        this.host = host;
    }

    Commands.Result run(List<String> argv) {
        return commands.run(argv, config.commandTimeout());
    }

    private String ip() {
        return config.ipCommand().toString();
    }

    // ---------------------------------------------------------------- start() and check()

    /**
     * The program, fencer and interface checks that {@link VipHolder#start()} makes before it
     * touches anything, failing at the first problem; returns the {@code ip -o link show} output.
     */
    String programsAndInterface() {
        checkExecutable(config.ipCommand(), "ip", "iproute2");
        if (config.address().isIpv6()) {
            checkExecutable(config.sysctlCommand(), "sysctl", "procps");
        } else {
            checkArping();
        }
        List<String> fencer = fencerProblems();
        if (!fencer.isEmpty()) {
            throw new VipSetupException(fencer.get(0));
        }
        String link = link();
        if (!isUp(link)) {
            log.warn("interface {} is not up: the VIP will not be reachable until it is ({})",
                    config.interfaceName(), link);
        }
        List<String> conflicts = addressConflicts();
        if (!conflicts.isEmpty()) {
            throw new VipSetupException(conflicts.get(0));
        }
        return link;
    }

    /**
     * The checks of {@link VipHolder#check()}: every independent check runs, and all problems are
     * reported together.
     *
     * @return notes for the operator
     * @throws VipSetupException listing every problem ({@link VipSetupException#problems()})
     */
    List<String> check() {
        List<String> notes = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        boolean ipFound = attempt(problems, () -> checkExecutable(config.ipCommand(), "ip", "iproute2"));
        boolean helperFound = attempt(problems, () -> {
            if (config.address().isIpv6()) {
                checkExecutable(config.sysctlCommand(), "sysctl", "procps");
            } else {
                checkArping();
            }
        });
        if (ipFound && helperFound) {
            notes.add("ip " + config.ipCommand() + (config.address().isIpv6() ? " and sysctl " + config.sysctlCommand()
                    : " and iputils arping " + config.arpingCommand()) + " found");
        }
        List<String> fencer = fencerProblems();
        problems.addAll(fencer);
        config.fencer().filter(f -> fencer.isEmpty())
                .ifPresent(f -> notes.add("fencer " + f + ": nothing wrong found"));
        if (!ipFound) {
            return finish(notes, problems);
        }
        String[] link = new String[1];
        boolean linkFound = attempt(problems, () -> link[0] = link());
        List<String> conflicts = addressConflicts();
        problems.addAll(conflicts);
        if (!linkFound) {
            return finish(notes, problems);
        }
        notes.add("interface " + config.interfaceName() + " exists"
                + (isUp(link[0]) ? " and is up" : " but is NOT up"));
        attempt(problems, () -> {
            checkNetAdmin(link[0]);
            notes.add("CAP_NET_ADMIN: this process may change addresses on " + config.interfaceName());
        });
        if (conflicts.isEmpty()) {
            Commands.Result show = run(List.of(ip(), "-o", "addr", "show", "dev", config.interfaceName()));
            if (show.ok() && show.output().contains(" " + config.address().host() + "/")) {
                notes.add("VIP " + config.address() + " is on " + config.interfaceName() + " now (fine if this node"
                        + " is the running leader; otherwise the daemon removes it at start)");
            } else {
                notes.add("VIP " + config.address() + " is not on this host now");
            }
        }
        if (helperFound && !config.address().isIpv6()) {
            attempt(problems, () -> {
                Probe probe = probe();
                if (probe.error() != null) {
                    if (VipHolder.isPermissionDenied(probe.result())) {
                        throw new VipSetupException(noNetRawMessage(probe.result()));
                    }
                    throw new VipSetupException("arping could not probe for VIP " + config.address() + ": "
                            + probe.result());
                }
                notes.add("CAP_NET_RAW: arping -D works on " + config.interfaceName() + "; "
                        + (probe.duplicate() ? "another host (" + probe.mac().orElse("MAC unknown")
                        + ") answers for the VIP" : "no other host answers for the VIP"));
            });
        } else if (helperFound) {
            attempt(problems, () -> {
                Ipv6Settings settings = readIpv6Settings();
                notes.add(settings.ready() ? "IPv6: " + settings.found() + ": the kernel sends an unsolicited"
                        + " neighbour advertisement when the VIP is added"
                        : "IPv6: " + settings.found() + "; the daemon sets " + settings.wanted() + " when it starts,"
                        + " so that the kernel sends an unsolicited neighbour advertisement when the VIP is added");
            });
        }
        return finish(notes, problems);
    }

    private static List<String> finish(List<String> notes, List<String> problems) {
        if (!problems.isEmpty()) {
            throw new VipSetupException(problems);
        }
        return List.copyOf(notes);
    }

    /** Runs {@code check}; a {@link VipSetupException} becomes a problem. Whether it passed. */
    private static boolean attempt(List<String> problems, Runnable check) {
        try {
            check.run();
            return true;
        } catch (VipSetupException e) {
            problems.addAll(e.problems());
            return false;
        }
    }

    private List<String> fencerProblems() {
        return config.fencer().map(Fencer::setupProblems).orElse(List.of());
    }

    private static boolean isUp(String link) {
        return link.contains("state UP") || link.contains(",UP");
    }

    /** {@code ip -o link show dev IF}; fails if the interface does not exist. */
    private String link() {
        Commands.Result link = run(List.of(ip(), "-o", "link", "show", "dev", config.interfaceName()));
        if (!link.ok()) {
            throw new VipSetupException("the interface " + config.interfaceName() + " does not exist on this host ("
                    + link + "); list interfaces with `ip link` and set VipConfig's interface name");
        }
        return link.output();
    }

    /** CAP_NET_ADMIN, tested with an {@code ip link set} of the MTU the interface already has. */
    private void checkNetAdmin(String link) {
        Matcher mtu = MTU.matcher(link);
        if (!mtu.find()) {
            throw new VipSetupException("cannot read the MTU of " + config.interfaceName() + " from `ip -o link`"
                    + " (" + link + "), so CAP_NET_ADMIN cannot be checked without changing anything");
        }
        Commands.Result noop = run(List.of(ip(), "link", "set", "dev", config.interfaceName(), "mtu", mtu.group(1)));
        if (VipHolder.isPermissionDenied(noop)) {
            throw new VipSetupException(noNetAdminMessage(noop));
        } else if (!noop.ok()) {
            throw new VipSetupException("cannot check CAP_NET_ADMIN on " + config.interfaceName() + " (" + noop + ")");
        }
    }

    /**
     * The host's addresses equal to the VIP that are not the way the holder adds it (another
     * interface or another prefix length): this host's own addresses, which the holder must never
     * remove, nor add a second time. Read with {@code ip -o addr show}; an unreadable list
     * reports nothing (the interface check reports why).
     */
    List<String> addressConflicts() {
        Commands.Result show = run(List.of(ip(), "-o", "addr", "show"));
        if (!show.ok()) {
            return List.of();
        }
        List<String> conflicts = new ArrayList<>();
        for (String line : show.output().split("\n")) {
            String[] f = line.strip().split("\\s+");
            if (f.length < 4 || !(f[2].equals("inet") || f[2].equals("inet6")) || f[3].indexOf('/') < 0) {
                continue;
            }
            String device = f[1].contains("@") ? f[1].substring(0, f[1].indexOf('@')) : f[1];
            String cidr = f[3];
            if (!sameAddress(cidr.substring(0, cidr.indexOf('/')))) {
                continue;
            }
            boolean samePrefix = cidr.substring(cidr.indexOf('/') + 1).equals(
                    Integer.toString(config.address().prefixLength()));
            if (device.equals(config.interfaceName()) && samePrefix) {
                continue; // the way the holder adds it: a VIP left by an earlier run (start() removes it)
            }
            conflicts.add("the VIP " + config.address().host() + " is already an address of this host: " + cidr
                    + " on " + device + ", not the way the VIP holder adds it (" + config.address().cidr() + " on "
                    + config.interfaceName() + "). It is this host's own address, which the holder would add a second"
                    + " time and remove at every release. Choose a VIP that no host uses (not a member's address, not"
                    + " the network's or broadcast address); if it is a VIP left by an earlier configuration,"
                    + " remove it: ip addr del " + cidr + " dev " + device);
        }
        return conflicts;
    }

    private boolean sameAddress(String literal) {
        if (!literal.matches("[0-9A-Fa-f:.]+")) {
            return false;   // never a name lookup
        }
        try {
            return InetAddress.getByName(literal).equals(config.address().address());
        } catch (UnknownHostException e) {
            return false;
        }
    }

    /** IPv4: {@code arping} exists, may run, and is the iputils one. */
    private void checkArping() {
        checkExecutable(config.arpingCommand(), "arping", "iputils-arping");
        Commands.Result version = run(List.of(config.arpingCommand().toString(), "-V"));
        if (VipHolder.isPermissionDenied(version)) {
            // iputils arping carries the file capability cap_net_raw; a process whose bounding set
            // lacks it may not even start it
            throw new VipSetupException(noNetRawMessage(version));
        }
        if (!version.output().toLowerCase(Locale.ROOT).contains("iputils")) {
            throw new VipSetupException(config.arpingCommand() + " is not the iputils arping (its -V said: "
                    + version.output() + "); the other arping takes different options. Install it with"
                    + " `apt-get install iputils-arping` (Debian/Ubuntu) or `dnf install iputils`, or set"
                    + " VipConfig.arpingCommand to the iputils one");
        }
    }

    private void checkExecutable(java.nio.file.Path path, String name, String pkg) {
        if (!host.isExecutable(path)) {
            throw new VipSetupException("`" + name + "` was not found or is not executable at " + path + ": install "
                    + pkg + " (`apt-get install " + pkg + "` on Debian/Ubuntu), or set VipConfig's "
                    + name + "Command to where it is");
        }
    }

    String noNetRawMessage(Commands.Result r) {
        return "arping may not send on " + config.interfaceName() + " (" + r + "): grant CAP_NET_RAW, for example"
                + " run as root, add AmbientCapabilities=CAP_NET_ADMIN CAP_NET_RAW to the systemd unit, or"
                + " `setcap cap_net_raw+ep " + config.arpingCommand() + "`";
    }

    String noNetAdminMessage(Commands.Result del) {
        String status = host.procSelfStatus();
        String caps = status.isEmpty() ? "" : " (this process: CAP_NET_ADMIN effective "
                + (Host.hasCapability(status, "CapEff", VipHolder.CAP_NET_ADMIN) ? "yes" : "no") + ", ambient "
                + (Host.hasCapability(status, "CapAmb", VipHolder.CAP_NET_ADMIN) ? "yes" : "no") + ")";
        return "this process may not change addresses on " + config.interfaceName() + ": CAP_NET_ADMIN is missing"
                + caps + "; " + del + ". Grant it: run as root, or add"
                + " AmbientCapabilities=CAP_NET_ADMIN CAP_NET_RAW to the systemd unit (so that the ip and arping"
                + " it starts inherit it), or `setcap cap_net_admin+ep " + config.ipCommand() + "`";
    }

    // ---------------------------------------------------------------- IPv6 announcement settings

    /** The values of the IPv6 settings that make the kernel announce the VIP, as read with sysctl. */
    record Ipv6Settings(String interfaceName, int allAcceptDad, int acceptDad, int ndiscNotify) {

        boolean ready() {
            return allAcceptDad < 1 && acceptDad < 1 && ndiscNotify != 0;
        }

        String found() {
            return "net.ipv6.conf." + interfaceName + ".accept_dad = " + acceptDad + ", net.ipv6.conf." + interfaceName
                    + ".ndisc_notify = " + ndiscNotify;
        }

        String wanted() {
            return "net.ipv6.conf." + interfaceName + ".accept_dad = 0, net.ipv6.conf." + interfaceName
                    + ".ndisc_notify = 1";
        }
    }

    /** The sysctl name in the slash form, which also works for interface names with a dot (eth0.100). */
    private String ipv6Key(String leaf) {
        return "net/ipv6/conf/" + config.interfaceName() + "/" + leaf;
    }

    Ipv6Settings readIpv6Settings() {
        Commands.Result r = run(List.of(config.sysctlCommand().toString(), "-n", "net/ipv6/conf/all/accept_dad",
                ipv6Key(IPV6_SETTINGS.get(0)), ipv6Key(IPV6_SETTINGS.get(2))));
        String[] values = r.output().strip().split("\\s+");
        if (!r.ok() || values.length != 3) {
            throw new VipSetupException("cannot read the IPv6 settings of " + config.interfaceName() + " (" + r
                    + "); is IPv6 enabled on it (net.ipv6.conf." + config.interfaceName() + ".disable_ipv6 = 0)?");
        }
        Ipv6Settings s;
        try {
            s = new Ipv6Settings(config.interfaceName(), Integer.parseInt(values[0]), Integer.parseInt(values[1]),
                    Integer.parseInt(values[2]));
        } catch (NumberFormatException e) {
            throw new VipSetupException("cannot read the IPv6 settings of " + config.interfaceName() + " (" + r + ")");
        }
        if (s.allAcceptDad() >= 1) {
            throw new VipSetupException("net.ipv6.conf.all.accept_dad = " + s.allAcceptDad() + " makes the kernel run"
                    + " duplicate address detection on every interface, so it would announce the IPv6 VIP only"
                    + " about a second after a takeover: set it to 0 (`sysctl -w net.ipv6.conf.all.accept_dad=0`,"
                    + " and in /etc/sysctl.d/); the VIP holder sets net.ipv6.conf." + config.interfaceName()
                    + ".accept_dad = 0 itself");
        }
        return s;
    }

    void applyIpv6Settings() {
        Commands.Result r = run(List.of(config.sysctlCommand().toString(), "-q", "-w",
                ipv6Key(IPV6_SETTINGS.get(0)) + "=" + IPV6_SETTINGS.get(1),
                ipv6Key(IPV6_SETTINGS.get(2)) + "=" + IPV6_SETTINGS.get(3)));
        if (VipHolder.isPermissionDenied(r)) {
            throw new VipSetupException(noNetAdminMessage(r));
        }
        if (!r.ok()) {
            throw new VipSetupException("cannot set net.ipv6.conf." + config.interfaceName() + ".accept_dad = 0 and"
                    + " ndisc_notify = 1 (" + r + "), which make the kernel announce the IPv6 VIP; set them on the"
                    + " host (/etc/sysctl.d/) or give the process a writable /proc/sys");
        }
    }

    // ---------------------------------------------------------------- the duplicate-address probe

    /** What {@code arping -D} found: a duplicate (with its MAC if read), nobody, or an error. */
    record Probe(Commands.Result result, boolean duplicate, Optional<String> mac, String error) {
    }

    /** {@code arping -D}: exit 0 = nobody answered, exit 1 with a reply = duplicate, otherwise an error. */
    Probe probe() {
        long seconds = config.probeTimeout().toSeconds();
        Commands.Result r = commands.run(List.of(config.arpingCommand().toString(), "-D", "-c", "1",
                        "-w", Long.toString(seconds), "-I", config.interfaceName(), config.address().host()),
                config.probeTimeout().plus(config.commandTimeout()));
        if (r.ok()) {
            return new Probe(r, false, Optional.empty(), null);
        }
        if (r.exitCode() == 1 && !r.timedOut() && r.output().toLowerCase(Locale.ROOT).contains("reply from")) {
            Matcher m = MAC.matcher(r.output());
            return new Probe(r, true, m.find() ? Optional.of(m.group(1).toLowerCase(Locale.ROOT)) : Optional.empty(),
                    null);
        }
        return new Probe(r, false, Optional.empty(), r.toString());
    }
}
