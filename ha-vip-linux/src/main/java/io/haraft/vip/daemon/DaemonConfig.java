package io.haraft.vip.daemon;

import io.haraft.LeadershipListener;
import io.haraft.RaftConfig;
import io.haraft.RaftNode;
import io.haraft.TlsConfig;
import io.haraft.vip.CommandFencer;
import io.haraft.vip.VipConfig;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The validated contents of an {@code ha-vipd} properties file: the node's {@link RaftConfig}
 * settings and the {@link VipConfig}, plus warnings for the operator.
 *
 * <p><b>Format.</b> One {@code key = value} per line; blank lines and lines starting with
 * {@code #} are ignored. There are no escapes, no line continuations and no trailing comments
 * (a {@code #} inside a value is part of it). Every key may appear once; an unknown key is an
 * error, so that a typo cannot silently switch something off (for example fencing).
 *
 * <p><b>Guarantees.</b> Immutable. {@link #parse} reports the first problem as a
 * {@link DaemonConfigException} whose message names the file, the line or key, and the fix. The
 * Raft settings are validated by {@link RaftNode.Builder#config()} without touching the file
 * system; whether the host can manage the VIP is checked later, by
 * {@link io.haraft.vip.VipHolder#start()} or {@link io.haraft.vip.VipHolder#check()}.
 */
final class DaemonConfig {

    /** Every key the file may hold, with a one-line description (also used in help texts). */
    static final Map<String, String> KEYS = keys();

    private static Map<String, String> keys() {
        Map<String, String> k = new LinkedHashMap<>();
        k.put("cluster.id", "the cluster's name, the same on every node (required)");
        k.put("node.id", "this node's id, one of the members (required)");
        k.put("members", "every member, this node included: n1=host:port,n2=host:port,n3=host:port; a witness as"
                + " w1=host:port/witness, a node that joins as n4=host:port/learner (required)");
        k.put("data.dir", "where this node keeps its Raft term and log (required)");
        k.put("heartbeat.ms", "leader heartbeat interval (default 100, or election.ms / 3)");
        k.put("election.ms", "minimum election timeout (default 300, or 3 x heartbeat.ms)");
        k.put("fast.failover", "treat a refused connection to the leader as its death (default true)");
        k.put("tls.cert", "PEM certificate chain of this node (mutual TLS; all three tls.* or none)");
        k.put("tls.key", "PEM PKCS#8 private key of tls.cert");
        k.put("tls.ca", "PEM CA certificates that sign the peers' certificates");
        k.put("admin.bind", "address of the admin endpoint that ha-vipd admin talks to; no authentication, so keep"
                + " it on loopback (default 127.0.0.1)");
        k.put("admin.port", "port of the admin endpoint (default: this node's Raft port + " + AdminSettings.PORT_OFFSET
                + ")");
        k.put("vip", "the virtual IP with its prefix, like 192.0.2.10/24 (required, except on a witness)");
        k.put("interface", "the interface that carries the VIP, like eth0 (required, except on a witness)");
        k.put("garp.count", "gratuitous ARPs right after a takeover (default 5)");
        k.put("garp.repeat.count", "gratuitous ARPs sent again later (default 5)");
        k.put("garp.repeat.delay.ms", "delay of the second burst (default 5000)");
        k.put("release.margin.ms", "remove the VIP this long before the lease ends (default "
                + VipConfig.DEFAULT_RELEASE_MARGIN_MS + ", or (lease - heartbeat.ms) / 2 if that is less)");
        k.put("command.timeout.ms", "the most one ip or arping run may take (default 2000)");
        k.put("ip.command", "absolute path of ip (default /usr/sbin/ip or ip on PATH)");
        k.put("arping.command", "absolute path of the iputils arping, for an IPv4 VIP (default /usr/sbin/arping,"
                + " /usr/bin/arping)");
        k.put("sysctl.command", "absolute path of sysctl (procps), for an IPv6 VIP (default /usr/sbin/sysctl,"
                + " /sbin/sysctl)");
        k.put("duplicate.probe", "arping -D before a takeover (default true if fence.command is set, else false)");
        k.put("probe.timeout.s", "how long the probe waits for an answer, whole seconds (default 1)");
        k.put("fence.command", "program and arguments, split on white space, no shell; placeholders {vip} {cidr}"
                + " {interface} {mac} {token}");
        k.put("fence.timeout.ms", "the most the fence command may take (default 10000)");
        return java.util.Collections.unmodifiableMap(k);
    }

    private static final List<String> REQUIRED = List.of("cluster.id", "node.id", "members", "data.dir");
    private static final List<String> REQUIRED_BUT_ON_A_WITNESS = List.of("vip", "interface");

    private final Path file;
    private final RaftConfig raftConfig;
    private final boolean heartbeatSet;
    private final boolean electionSet;
    private final Optional<VipConfig> vipConfig;
    private final AdminSettings admin;
    private final List<String> warnings;

    private DaemonConfig(Path file, RaftConfig raftConfig, boolean heartbeatSet, boolean electionSet,
            Optional<VipConfig> vipConfig, AdminSettings admin, List<String> warnings) {
        this.file = file;
        this.raftConfig = raftConfig;
        this.heartbeatSet = heartbeatSet;
        this.electionSet = electionSet;
        this.vipConfig = vipConfig;
        this.admin = admin;
        this.warnings = List.copyOf(warnings);
    }

    /** The file this was read from. */
    Path file() {
        return file;
    }

    /** The node's validated configuration (the data directory is not created yet). */
    RaftConfig raftConfig() {
        return raftConfig;
    }

    /**
     * The VIP holder's configuration.
     *
     * @throws IllegalStateException on a witness, which never leads and runs no VIP holder
     */
    VipConfig vipConfig() {
        return vipConfig.orElseThrow(() -> new IllegalStateException(raftConfig.nodeId() + " is a witness: no VIP"));
    }

    /** Whether this node is a witness (or a witness that joins): it never leads, so it holds no VIP. */
    boolean isWitness() {
        return raftConfig.self().role().isWitness();
    }

    /** Where this daemon serves its admin endpoint, and where {@code ha-vipd admin} finds it. */
    AdminSettings admin() {
        return admin;
    }

    /** Things the operator should fix although the daemon can run (file permissions). */
    List<String> warnings() {
        return warnings;
    }

    /** A builder for the node with these settings and {@code listener}; {@code build()} it to get the node. */
    RaftNode.Builder nodeBuilder(LeadershipListener listener) {
        RaftNode.Builder b = RaftNode.builder()
                .clusterId(raftConfig.clusterId())
                .nodeId(raftConfig.nodeId())
                .dataDir(raftConfig.dataDir())
                .heartbeatInterval(raftConfig.heartbeatInterval())
                .electionTimeout(raftConfig.electionTimeout())
                .fastFailoverOnRefusedConnection(raftConfig.fastFailoverOnRefusedConnection())
                .listener(listener);
        raftConfig.members().forEach(m -> b.member(m.id(), m.address(), m.role()));
        raftConfig.tls().ifPresent(b::tls);
        return b;
    }

    /**
     * Reads and validates {@code file}.
     *
     * @throws DaemonConfigException if the file cannot be read or holds an invalid setting
     */
    static DaemonConfig parse(Path file) {
        Objects.requireNonNull(file, "file");
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (MalformedInputException e) {
            throw new DaemonConfigException(file + ": not valid UTF-8 text; save it as UTF-8");
        } catch (IOException e) {
            throw new DaemonConfigException(file + ": cannot read it (" + e + "); check the path given to --config"
                    + " and that this user may read it");
        }
        List<String> warnings = new ArrayList<>();
        permissionWarning(file).ifPresent(warnings::add);
        return parse(file, text, warnings);
    }

    /** Parses {@code text} as if read from {@code file}; for tests and {@link #parse(Path)}. */
    static DaemonConfig parse(Path file, String text, List<String> warnings) {
        Map<String, String> values = lines(file, text);
        Reader r = new Reader(file, values);
        for (String key : REQUIRED) {
            r.required(key);
        }

        RaftNode.Builder raft = RaftNode.builder();
        r.apply("cluster.id", raft::clusterId);
        r.apply("node.id", raft::nodeId);
        r.apply("members", v -> MemberList.parse(v).forEach(m -> raft.member(m.id(), m.address(), m.role())));
        r.apply("data.dir", v -> raft.dataDir(Path.of(v)));
        Optional<Long> heartbeat = r.millis("heartbeat.ms");
        Optional<Long> election = r.millis("election.ms");
        heartbeat.ifPresent(ms -> raft.heartbeatInterval(Duration.ofMillis(ms)));
        election.ifPresent(ms -> raft.electionTimeout(Duration.ofMillis(ms)));
        r.bool("fast.failover").ifPresent(raft::fastFailoverOnRefusedConnection);
        Optional<String> cert = r.optional("tls.cert");
        Optional<String> key = r.optional("tls.key");
        Optional<String> ca = r.optional("tls.ca");
        if (cert.isPresent() || key.isPresent() || ca.isPresent()) {
            for (String k : List.of("tls.cert", "tls.key", "tls.ca")) {
                if (r.optional(k).isEmpty()) {
                    throw new DaemonConfigException(file + ": " + k + " is missing: mutual TLS needs all three of"
                            + " tls.cert, tls.key and tls.ca (or none of them for plain TCP)");
                }
            }
            r.apply("tls.ca", v -> raft.tls(new TlsConfig(Path.of(cert.get()), Path.of(key.get()), Path.of(v))));
        }
        RaftConfig raftConfig;
        try {
            raftConfig = raft.config();
        } catch (IllegalArgumentException e) {
            throw new DaemonConfigException(file + ": " + e.getMessage()
                    .replace("clusterId", "cluster.id").replace("nodeId(...)", "node.id")
                    .replace("heartbeatInterval", "heartbeat.ms").replace("electionTimeout", "election.ms"), e);
        }

        AdminSettings admin = admin(r, raftConfig);
        boolean witness = raftConfig.self().role().isWitness();
        if (witness && values.keySet().stream().anyMatch(DaemonConfig::isVipKey)) {
            warnings.add(raftConfig.nodeId() + " is a witness: it never leads, so this daemon runs no VIP holder;"
                    + " the VIP keys (vip, interface, ...) are not used" + (values.containsKey("vip")
                    && values.containsKey("interface") ? " (they are still checked)" : ""));
        }
        if (witness && !(values.containsKey("vip") && values.containsKey("interface"))) {
            return new DaemonConfig(file, raftConfig, heartbeat.isPresent(), election.isPresent(), Optional.empty(),
                    admin, warnings);
        }
        for (String k : REQUIRED_BUT_ON_A_WITNESS) {
            r.required(k);
        }
        VipConfig.Builder vip = r.get("vip", v -> VipConfig.builder(v, values.get("interface")));
        r.integer("garp.count").ifPresent(vip::garpCount);
        r.integer("garp.repeat.count").ifPresent(vip::garpRepeatCount);
        r.millis("garp.repeat.delay.ms").ifPresent(ms -> vip.garpRepeatDelay(Duration.ofMillis(ms)));
        Optional<Long> margin = r.millis("release.margin.ms");
        vip.releaseMargin(Duration.ofMillis(margin.orElse(defaultReleaseMargin(raftConfig))));
        r.millis("command.timeout.ms").ifPresent(ms -> vip.commandTimeout(Duration.ofMillis(ms)));
        r.path("ip.command").ifPresent(vip::ipCommand);
        r.path("arping.command").ifPresent(vip::arpingCommand);
        r.path("sysctl.command").ifPresent(vip::sysctlCommand);
        r.integer("probe.timeout.s").ifPresent(s -> vip.probeTimeout(Duration.ofSeconds(s)));
        Optional<String> fence = r.optional("fence.command");
        Optional<Boolean> probe = r.bool("duplicate.probe");
        long fenceTimeout = r.millis("fence.timeout.ms").orElse(10_000L);
        if (fence.isPresent()) {
            if (probe.isPresent() && !probe.get()) {
                throw new DaemonConfigException(file + ": fence.command is set but duplicate.probe = false: the fence"
                        + " command runs only when the arping -D probe finds another host answering for the VIP,"
                        + " so it would never run. Set duplicate.probe = true or remove fence.command");
            }
            List<String> argv = Arrays.asList(fence.get().strip().split("\\s+"));
            r.apply("fence.command", v -> vip.fencer(CommandFencer.of(argv, Duration.ofMillis(fenceTimeout))));
            vip.fenceTimeout(Duration.ofMillis(fenceTimeout));
        } else if (r.optional("fence.timeout.ms").isPresent()) {
            throw new DaemonConfigException(file + ": fence.timeout.ms is set without fence.command; set both or"
                    + " neither");
        }
        vip.duplicateProbe(probe.orElse(fence.isPresent()));
        VipConfig vipConfig;
        try {
            vipConfig = vip.build();
        } catch (IllegalArgumentException e) {
            throw new DaemonConfigException(file + ": " + e.getMessage()
                    .replace("garpRepeatCount", "garp.repeat.count").replace("garpCount", "garp.count")
                    .replace("garpRepeatDelay", "garp.repeat.delay.ms").replace("releaseMargin", "release.margin.ms")
                    .replace("commandTimeout", "command.timeout.ms").replace("probeTimeout", "probe.timeout.s")
                    .replace("duplicateProbe", "duplicate.probe").replace("fenceTimeout", "fence.timeout.ms"), e);
        }
        long room = renewalLateness(raftConfig, vipConfig);
        if (room <= 0) {
            throw new DaemonConfigException(file + ": release.margin.ms = " + vipConfig.releaseMargin().toMillis()
                    + " is too large: the lease (" + raftConfig.leaseDuration().toMillis() + " ms, election.ms x 0.98)"
                    + " minus the heartbeat (" + raftConfig.heartbeatInterval().toMillis() + " ms) leaves no room, so"
                    + " the VIP would be removed before every renewal. Lower release.margin.ms (default "
                    + VipConfig.DEFAULT_RELEASE_MARGIN_MS + ") or raise election.ms");
        }
        if (room < 50 && margin.isPresent()) {
            warnings.add("release.margin.ms = " + vipConfig.releaseMargin().toMillis() + ": a lease renewal that comes"
                    + " more than " + room + " ms late (lease " + raftConfig.leaseDuration().toMillis()
                    + " ms - heartbeat " + raftConfig.heartbeatInterval().toMillis() + " ms - margin) removes the VIP until the renewal"
                    + " arrives; raise election.ms or lower the margin");
        }
        return new DaemonConfig(file, raftConfig, heartbeat.isPresent(), election.isPresent(),
                witness ? Optional.empty() : Optional.of(vipConfig), admin, warnings);
    }

    /**
     * The release margin when the file sets none: {@link VipConfig#DEFAULT_RELEASE_MARGIN_MS}, or
     * half of the lease minus the heartbeat interval if that is less (fast timings), so that the
     * margin and the lateness a renewal may have share that time.
     */
    static long defaultReleaseMargin(RaftConfig raft) {
        long spare = raft.leaseDuration().toMillis() - raft.heartbeatInterval().toMillis();
        return Math.max(0, Math.min(VipConfig.DEFAULT_RELEASE_MARGIN_MS, spare / 2));
    }

    /**
     * How late a lease renewal may come before the watchdog removes the VIP: the lowest remaining
     * lease in steady state (the lease minus one heartbeat interval) minus the release margin.
     */
    static long renewalLateness(RaftConfig raft, VipConfig vip) {
        return raft.leaseDuration().toMillis() - raft.heartbeatInterval().toMillis() - vip.releaseMargin().toMillis();
    }

    /** Splits {@code text} into key/value pairs, refusing malformed lines, duplicates and unknown keys. */
    private static Map<String, String> lines(Path file, String text) {
        Map<String, String> values = new LinkedHashMap<>();
        String[] lines = text.split("\r?\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String where = file + " line " + (i + 1);
            int eq = line.indexOf('=');
            if (eq < 0) {
                throw new DaemonConfigException(where + ": expected 'key = value', got '" + line + "'");
            }
            String key = line.substring(0, eq).strip();
            String value = line.substring(eq + 1).strip();
            if (!KEYS.containsKey(key)) {
                throw new DaemonConfigException(where + ": unknown key '" + key + "'" + suggestion(key)
                        + ". Known keys: " + String.join(", ", KEYS.keySet()));
            }
            if (values.containsKey(key)) {
                throw new DaemonConfigException(where + ": " + key + " is set a second time; keep one line per key");
            }
            if (value.isEmpty()) {
                throw new DaemonConfigException(where + ": " + key + " has an empty value; give one ("
                        + KEYS.get(key) + ") or remove the line");
            }
            values.put(key, value);
        }
        return values;
    }

    private static String suggestion(String key) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String k : KEYS.keySet()) {
            int d = distance(key, k);
            if (d < bestDistance) {
                bestDistance = d;
                best = k;
            }
        }
        return bestDistance <= 3 ? " (did you mean '" + best + "'?)" : "";
    }

    /** Levenshtein distance, for "did you mean". */
    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    /** The keys that configure the VIP holder (from {@code vip} on), which a witness does not use. */
    private static boolean isVipKey(String key) {
        List<String> keys = List.copyOf(KEYS.keySet());
        return keys.indexOf(key) >= keys.indexOf("vip");
    }

    private static AdminSettings admin(Reader r, RaftConfig raftConfig) {
        InetAddress bind = r.get("admin.bind", v -> v == null ? AdminSettings.defaultBind() : AdminSettings.parseBind(v));
        Optional<Integer> port = r.integer("admin.port");
        int raftPort = raftConfig.self().port();
        if (port.isPresent()) {
            if (port.get() < 1 || port.get() > 65535) {
                throw new DaemonConfigException(r.file + ": admin.port = " + port.get() + ": must be 1 to 65535");
            }
            if (port.get() == raftPort) {
                throw new DaemonConfigException(r.file + ": admin.port = " + port.get() + " is this node's Raft port"
                        + " (members); give the admin endpoint another port");
            }
            return new AdminSettings(bind, port.get(), true);
        }
        int derived = AdminSettings.derivedPort(raftPort).orElseThrow(() -> new DaemonConfigException(r.file
                + ": admin.port is not set and its default, this node's Raft port " + raftPort + " + "
                + AdminSettings.PORT_OFFSET + ", is above 65535; set admin.port (the same on every node)"));
        return new AdminSettings(bind, derived, false);
    }

    /**
     * A warning if {@code file} is writable by its group or by others: the file may name a fence
     * command that the daemon runs with its own privileges.
     */
    static Optional<String> permissionWarning(Path file) {
        Set<PosixFilePermission> perms;
        try {
            perms = Files.getPosixFilePermissions(file);
        } catch (IOException | UnsupportedOperationException e) {
            return Optional.empty();
        }
        boolean group = perms.contains(PosixFilePermission.GROUP_WRITE);
        boolean others = perms.contains(PosixFilePermission.OTHERS_WRITE);
        if (!group && !others) {
            return Optional.empty();
        }
        return Optional.of(file + " is " + (group && others ? "group- and world-" : group ? "group-" : "world-")
                + "writable (" + PosixFilePermissions.toString(perms) + "): whoever can write it can make this"
                + " daemon run any fence.command with its privileges. Fix: chmod go-w " + file);
    }

    /** Reads values by key and wraps every validation failure into a message naming the key. */
    private static final class Reader {
        final Path file;
        private final Map<String, String> values;

        Reader(Path file, Map<String, String> values) {
            this.file = file;
            this.values = values;
        }

        void required(String key) {
            if (!values.containsKey(key)) {
                throw new DaemonConfigException(file + ": " + key + " is missing: " + KEYS.get(key));
            }
        }

        Optional<String> optional(String key) {
            return Optional.ofNullable(values.get(key));
        }

        void apply(String key, java.util.function.Consumer<String> setter) {
            get(key, v -> {
                setter.accept(v);
                return null;
            });
        }

        /** {@code f} applied to the value (null if absent); an {@link IllegalArgumentException} names the key. */
        <T> T get(String key, java.util.function.Function<String, T> f) {
            String v = values.get(key);
            try {
                return f.apply(v);
            } catch (DaemonConfigException e) {
                throw e;
            } catch (IllegalArgumentException e) {
                throw new DaemonConfigException(file + ": " + key + " = " + v + ": " + e.getMessage(), e);
            }
        }

        Optional<Long> millis(String key) {
            return optional(key).map(v -> {
                long n = number(key, v);
                if (n <= 0 && !key.equals("release.margin.ms")) {
                    throw new DaemonConfigException(file + ": " + key + " = " + v + ": must be a positive number"
                            + " of milliseconds");
                }
                if (n < 0) {
                    throw new DaemonConfigException(file + ": " + key + " = " + v + ": must not be negative");
                }
                return n;
            });
        }

        Optional<Integer> integer(String key) {
            return optional(key).map(v -> {
                long n = number(key, v);
                if (n < 0 || n > Integer.MAX_VALUE) {
                    throw new DaemonConfigException(file + ": " + key + " = " + v + ": must be 0 or more");
                }
                return (int) n;
            });
        }

        private long number(String key, String v) {
            try {
                return Long.parseLong(v.replace("_", ""));
            } catch (NumberFormatException e) {
                throw new DaemonConfigException(file + ": " + key + " = " + v + ": not a whole number"
                        + (key.endsWith(".ms") ? " of milliseconds (write 300, not 300ms or 0.3)"
                        : key.endsWith(".s") ? " of seconds" : ""));
            }
        }

        Optional<Boolean> bool(String key) {
            return optional(key).map(v -> switch (v) {
                case "true" -> true;
                case "false" -> false;
                default -> throw new DaemonConfigException(file + ": " + key + " = " + v + ": write true or false");
            });
        }

        Optional<Path> path(String key) {
            return optional(key).map(v -> {
                Path p = Path.of(v);
                if (!p.isAbsolute()) {
                    throw new DaemonConfigException(file + ": " + key + " = " + v + ": must be an absolute path"
                            + " (no PATH lookup at failover time), like /usr/sbin/ip");
                }
                return p;
            });
        }
    }

    /** A human-readable summary for logs and {@code --check}. */
    List<String> summary() {
        List<String> s = new ArrayList<>();
        s.add("cluster " + raftConfig.clusterId() + ", node " + raftConfig.nodeId() + " at "
                + raftConfig.self().address() + ", members " + raftConfig.members());
        s.add("data dir " + raftConfig.dataDir());
        s.add("heartbeat " + raftConfig.heartbeatInterval().toMillis() + " ms" + (heartbeatSet ? "" : " (default)")
                + ", election timeout " + raftConfig.electionTimeout().toMillis() + " ms"
                + (electionSet ? "" : " (default)") + ", lease " + raftConfig.leaseDuration().toMillis() + " ms"
                + ", TLS " + (raftConfig.tls().isPresent() ? "on" : "off"));
        s.add(admin.describe());
        if (isWitness()) {
            s.add("witness: never leads, holds no VIP");
            return s;
        }
        VipConfig vip = vipConfig();
        s.add("VIP " + vip.address() + " on " + vip.interfaceName() + ", release margin "
                + vip.releaseMargin().toMillis() + " ms (a renewal may come " + renewalLateness(raftConfig, vip)
                + " ms late), " + (vip.address().isIpv6() ? "one unsolicited neighbour advertisement (by the kernel)"
                : "gratuitous ARP " + vip.garpCount() + " + " + vip.garpRepeatCount() + " after "
                + vip.garpRepeatDelay().toMillis() + " ms"));
        s.add("duplicate probe " + (vip.duplicateProbe() ? "on" : "off") + ", fencer "
                + vip.fencer().map(Object::toString).orElse("none"));
        return s;
    }
}
