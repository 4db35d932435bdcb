package io.haraft.vip;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A throw-away LAN in network namespaces that only this object creates and removes: a bridge
 * namespace with one bridge, node namespaces and a client namespace, each with an {@code eth0}
 * on the bridge and an address in 192.0.2.0/24 (TEST-NET-1). No traffic leaves these namespaces.
 */
final class NetnsLan implements AutoCloseable {

    static final String IP = "/usr/sbin/ip";
    static final String SYSCTL = "/usr/sbin/sysctl";
    static final String SETPRIV = "/usr/bin/setpriv";
    static final String SUBNET_PREFIX = "192.0.2.";

    private static final Duration T = Duration.ofSeconds(5);

    final String prefix;
    final String bridge;
    final String client;
    final List<String> nodes = new ArrayList<>();
    private final List<String> created = new ArrayList<>();

    /**
     * Skips the calling test when it cannot run here (not root), or fails it when CI=true and a
     * prerequisite is missing.
     */
    static void requirePrerequisites() {
        boolean ci = "true".equalsIgnoreCase(System.getenv("CI"));
        String why = missingPrerequisite();
        if (why == null) {
            return;
        }
        if (ci) {
            Assertions.fail("CI=true but the network-namespace VIP tests cannot run: " + why
                    + ". .ci/run must run as root and install iproute2, iputils-arping, iputils-ping, procps and"
                    + " util-linux.");
        }
        Assumptions.abort("network-namespace VIP tests skipped: " + why);
    }

    private static String missingPrerequisite() {
        if (!isRoot()) {
            return "not running as root (they create network namespaces)";
        }
        for (String p : List.of(IP, "/usr/bin/arping", "/usr/bin/ping", SYSCTL, SETPRIV)) {
            if (!Files.isExecutable(Path.of(p))) {
                return p + " is missing (apt-get install iproute2 iputils-arping iputils-ping procps util-linux)";
            }
        }
        Commands.Result r = Commands.system().run(List.of(IP, "netns", "list"), T);
        if (!r.ok()) {
            return "`ip netns` does not work: " + r;
        }
        return null;
    }

    private static boolean isRoot() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    return line.split("\\s+")[2].equals("0"); // effective uid
                }
            }
        } catch (Exception e) {
            return false;
        }
        return false;
    }

    /** Creates the LAN with {@code nodeCount} node namespaces (addresses .1, .2, ...) and a client (.100). */
    NetnsLan(int nodeCount) {
        prefix = "hrv" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 40), 36) + "-";
        bridge = prefix + "br";
        client = prefix + "c";
        boolean ok = false;
        try {
            addNs(bridge);
            sh(IP, "-n", bridge, "link", "add", "br0", "type", "bridge");
            sh(IP, "-n", bridge, "link", "set", "br0", "up");
            for (int i = 1; i <= nodeCount; i++) {
                String ns = prefix + "n" + i;
                nodes.add(ns);
                attach(ns, "p" + i, SUBNET_PREFIX + i);
            }
            attach(client, "pc", SUBNET_PREFIX + "100");
            ok = true;
        } finally {
            if (!ok) {
                close();
            }
        }
    }

    private void addNs(String ns) {
        sh(IP, "netns", "add", ns);
        created.add(ns);
        sh(IP, "-n", ns, "link", "set", "lo", "up");
    }

    private void attach(String ns, String port, String address) {
        addNs(ns);
        sh(IP, "-n", bridge, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns);
        sh(IP, "-n", bridge, "link", "set", port, "master", "br0");
        sh(IP, "-n", bridge, "link", "set", port, "up");
        sh(IP, "-n", ns, "addr", "add", address + "/24", "dev", "eth0");
        sh(IP, "-n", ns, "link", "set", "eth0", "up");
    }

    /**
     * A runner that executes every program inside {@code ns}: {@code ip} as {@code ip -n NS ...}
     * (a setns inside ip, as cheap as on a real host), anything else via {@code ip netns exec NS}.
     * Prepared {@code ip} commands ({@link Commands#standby}) are real prepared processes too.
     */
    static Commands in(String ns) {
        return new Commands() {
            @Override
            public Result run(List<String> argv, Duration timeout) {
                List<String> wrapped = new ArrayList<>();
                if (argv.get(0).equals(IP)) {
                    wrapped.addAll(List.of(IP, "-n", ns));
                    wrapped.addAll(argv.subList(1, argv.size()));
                } else {
                    wrapped.addAll(List.of(IP, "netns", "exec", ns));
                    wrapped.addAll(argv);
                }
                long t0 = System.nanoTime();
                Commands.Result r = Commands.system().run(wrapped, timeout);
                if (argv.contains("addr")) {
                    System.out.printf("[%s] %d ms %s%n", ns, (System.nanoTime() - t0) / 1_000_000, r);
                }
                return r;
            }

            @Override
            public Standby standby(List<String> ip, List<String> command) {
                if (!ip.get(0).equals(IP)) {
                    return Commands.super.standby(ip, command);
                }
                List<String> wrapped = new ArrayList<>(List.of(IP, "-n", ns));
                wrapped.addAll(ip.subList(1, ip.size()));
                Standby prepared = Commands.system().standby(wrapped, command);
                return new Standby() {
                    @Override
                    public Result run(Duration timeout) {
                        Result r = prepared.run(timeout);
                        System.out.printf("[%s] prepared, %d ms %s%n", ns, r.elapsed().toMillis(), r);
                        return r;
                    }

                    @Override
                    public void cancel() {
                        prepared.cancel();
                    }
                };
            }
        };
    }

    /** Whether {@code ns}'s eth0 carries {@code host} right now. */
    static boolean has(String ns, String host) {
        Commands.Result r = Commands.system().run(List.of(IP, "-n", ns, "-o", "addr", "show", "dev", "eth0"), T);
        if (!r.ok()) {
            throw new AssertionError("cannot read addresses: " + r);
        }
        return r.output().contains(" " + host + "/");
    }

    /** One IPv6 ping from the client to {@code host}, waiting at most a second for the reply. */
    boolean clientPings6(String host) {
        return Commands.system().run(List.of(IP, "netns", "exec", client, "ping", "-6", "-n", "-q", "-c", "1", "-W",
                "1", host), T).ok();
    }

    /** The client's neighbour cache entry for {@code host} ({@code ip neigh show}), read without sending anything. */
    String clientNeighbour(String host) {
        return sh(IP, "-n", client, "neigh", "show", "to", host, "dev", "eth0").output();
    }

    /** The MAC address of {@code ns}'s eth0. */
    static String mac(String ns) {
        String link = sh(IP, "-n", ns, "-o", "link", "show", "dev", "eth0").output();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("link/ether ([0-9a-f:]{17})").matcher(link);
        if (!m.find()) {
            throw new IllegalStateException("no MAC address in " + link);
        }
        return m.group(1);
    }

    /** A sysctl's value inside {@code ns}. */
    static String sysctl(String ns, String key) {
        return sh(IP, "netns", "exec", ns, SYSCTL, "-n", key).output().strip();
    }

    /** One ping from the client to {@code host}, waiting at most a second for the reply. */
    boolean clientPings(String host) {
        return Commands.system().run(List.of(IP, "netns", "exec", client, "ping", "-n", "-q", "-c", "1", "-W", "1",
                host), T).ok();
    }

    static Commands.Result sh(String... argv) {
        Commands.Result r = Commands.system().run(List.of(argv), T);
        if (!r.ok()) {
            throw new IllegalStateException("test LAN setup failed: " + r);
        }
        return r;
    }

    /** Removes every namespace this LAN created (their veths and bridge go with them). Idempotent. */
    @Override
    public void close() {
        for (int i = created.size() - 1; i >= 0; i--) {
            Commands.Result r = Commands.system().run(List.of(IP, "netns", "del", created.get(i)), T);
            if (!r.ok() && !r.output().toLowerCase(Locale.ROOT).contains("no such file")) {
                System.err.println("could not remove test namespace " + created.get(i) + ": " + r);
            }
        }
        created.clear();
    }
}
