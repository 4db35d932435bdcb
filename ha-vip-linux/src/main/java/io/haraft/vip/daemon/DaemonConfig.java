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
 * <p><b>Several VIPs.</b> Instead of {@code vip}, the file may list several VIPs, one
 * {@code vip.GROUP.address = CIDR} line each, {@code GROUP} a valid group name
 * ({@link io.haraft.GroupNames}): the daemon then runs one Raft group per VIP ({@link #hasGroups()},
 * {@link #groupVips()}). The other VIP keys apply to every VIP. Two groups with one address, or
 * {@code vip} together with such lines, are refused. An optional {@code vip.GROUP.preferred = MEMBER}
 * names the voter that should hold that VIP whenever it is up and not drained ({@link #preferred}).
 *
 * <p><b>Guarantees.</b> Immutable. {@link #parse} reports every problem it finds (each key is
 * checked even when another is wrong) in one {@link DaemonConfigException}, each problem naming
 * the file, the line or key, and the fix; {@link #read} also returns the parts that are valid by
 * themselves, for {@code --check}. The Raft settings are validated by
 * {@link RaftNode.Builder#config()} without touching the file system. A VIP that is a member's
 * address is refused (a member's host name is resolved for that); whether the host can manage the
 * VIP is checked later, by
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
        k.put("admin.socket.dir", "directory of the admin socket that ha-vipd admin talks to, created with mode 0700;"
                + " the socket is CLUSTER-NODE.sock in it, mode 0600 (default " + AdminSettings.DEFAULT_DIRECTORY
                + ")");
        k.put("vip", "the virtual IP with its prefix, like 192.0.2.10/24 (required, except on a witness or with"
                + " vip.GROUP.address keys)");
        GroupVipKeys.putHelp(k);
        k.put("interface", "the interface that carries the VIP(s), like eth0 (required, except on a witness)");
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

    /** Keys of earlier versions that are refused, with what replaced them. */
    static final Map<String, String> REMOVED_KEYS = Map.of(
            "admin.bind", AdminSettings.MIGRATION, "admin.port", AdminSettings.MIGRATION);

    private static final List<String> REQUIRED = List.of("cluster.id", "node.id", "members", "data.dir");
    private static final List<String> REQUIRED_BUT_ON_A_WITNESS = List.of("vip", "interface");

    private final Path file;
    private final RaftConfig raftConfig;
    private final boolean heartbeatSet;
    private final boolean electionSet;
    private final Optional<VipConfig> vipConfig;
    private final List<String> groups;
    private final Map<String, VipConfig> groupVips;
    private final Map<String, String> preferred;
    private final AdminSettings admin;
    private final List<String> warnings;

    private DaemonConfig(Path file, RaftConfig raftConfig, boolean heartbeatSet, boolean electionSet,
            Optional<VipConfig> vipConfig, List<String> groups, Map<String, VipConfig> groupVips,
            Map<String, String> preferred, AdminSettings admin, List<String> warnings) {
        this.file = file;
        this.raftConfig = raftConfig;
        this.heartbeatSet = heartbeatSet;
        this.electionSet = electionSet;
        this.vipConfig = vipConfig;
        this.groups = List.copyOf(groups);
        this.groupVips = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(groupVips));
        this.preferred = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(preferred));
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
        if (hasGroups()) {
            throw new IllegalStateException("several VIPs, one per group: see groupVips()");
        }
        return vipConfig.orElseThrow(() -> new IllegalStateException(raftConfig.nodeId() + " is a witness: no VIP"));
    }

    /**
     * Whether the file lists VIPs with {@code vip.GROUP.address} keys: the daemon then runs one Raft
     * group per VIP ({@link io.haraft.RaftGroups}) instead of one node.
     */
    boolean hasGroups() {
        return !groups.isEmpty();
    }

    /** The groups of the {@code vip.GROUP.address} keys, in the file's order (a witness hosts them too); else empty. */
    List<String> groups() {
        return groups;
    }

    /** Each group's VIP holder configuration, in the file's order; empty on a witness and with a single {@code vip}. */
    Map<String, VipConfig> groupVips() {
        return groupVips;
    }

    /**
     * The preferred host of {@code group} ({@code vip.GROUP.preferred}), a voter of {@code members};
     * empty if the file names none (also on a witness, which passes it to its balancer too).
     */
    Optional<String> preferred(String group) {
        return Optional.ofNullable(preferred.get(group));
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
        return builder().listener(listener);
    }

    /** A builder for the node with these settings and no listener; {@code buildGroups()} it for several VIPs. */
    RaftNode.Builder builder() {
        RaftNode.Builder b = RaftNode.builder()
                .clusterId(raftConfig.clusterId())
                .nodeId(raftConfig.nodeId())
                .dataDir(raftConfig.dataDir())
                .heartbeatInterval(raftConfig.heartbeatInterval())
                .electionTimeout(raftConfig.electionTimeout())
                .fastFailoverOnRefusedConnection(raftConfig.fastFailoverOnRefusedConnection());
        raftConfig.members().forEach(m -> b.member(m.id(), m.address(), m.role()));
        raftConfig.tls().ifPresent(b::tls);
        return b;
    }

    /**
     * Reads and validates {@code file}.
     *
     * @throws DaemonConfigException if the file cannot be read or holds invalid settings; it lists
     *                               every problem found ({@link DaemonConfigException#problems()})
     */
    static DaemonConfig parse(Path file) {
        return read(file).orThrow();
    }

    /** Parses {@code text} as if read from {@code file}; for tests and {@link #parse(Path)}. */
    static DaemonConfig parse(Path file, String text, List<String> warnings) {
        return read(file, text, warnings).orThrow();
    }

    /**
     * What reading a file gave: the configuration if it is valid, else every problem found, and
     * the parts that are valid on their own (the VIP settings, the data directory), so that
     * {@code --check} can go on to check the host and report everything at once.
     *
     * @param config   the configuration, if there is no problem
     * @param problems every problem, each naming the file, the key or line, and the fix
     * @param vip      the VIP settings of a single {@code vip}, if they are valid by themselves
     * @param vips     every VIP's settings (the single one, or each {@code vip.GROUP.address}), if they are
     *                 all valid by themselves; empty on a witness
     * @param dataDir  the data directory, if given
     * @param warnings things to fix although the daemon could run
     */
    record Attempt(Optional<DaemonConfig> config, List<String> problems, Optional<VipConfig> vip,
                   List<VipConfig> vips, Optional<Path> dataDir, List<String> warnings) {

        DaemonConfig orThrow() {
            return config.orElseThrow(() -> new DaemonConfigException(problems));
        }
    }

    /** Reads {@code file}, collecting every problem instead of stopping at the first. */
    static Attempt read(Path file) {
        Objects.requireNonNull(file, "file");
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (MalformedInputException e) {
            return failed(file + ": not valid UTF-8 text; save it as UTF-8");
        } catch (IOException e) {
            return failed(file + ": cannot read it (" + e + "); check the path given to --config and that this user"
                    + " may read it");
        }
        List<String> warnings = new ArrayList<>();
        permissionWarning(file).ifPresent(warnings::add);
        return read(file, text, warnings);
    }

    private static Attempt failed(String problem) {
        return new Attempt(Optional.empty(), List.of(problem), Optional.empty(), List.of(), Optional.empty(),
                List.of());
    }

    /** Parses {@code text} as if read from {@code file}, collecting every problem. */
    static Attempt read(Path file, String text, List<String> warnings) {
        Reader r = new Reader(file);
        Map<String, String> values = lines(r, text);
        r.values = values;
        int beforeRaft = r.problems.size();
        for (String key : REQUIRED) {
            r.required(key);
        }
        RaftNode.Builder raft = RaftNode.builder();
        r.apply("cluster.id", raft::clusterId);
        r.apply("node.id", raft::nodeId);
        r.apply("members", v -> MemberList.parse(v).forEach(m -> raft.member(m.id(), m.address(), m.role())));
        Optional<Path> dataDir = r.get("data.dir", v -> v == null ? null : Path.of(v));
        dataDir.ifPresent(raft::dataDir);
        Optional<Long> heartbeat = r.millis("heartbeat.ms");
        Optional<Long> election = r.millis("election.ms");
        heartbeat.ifPresent(ms -> raft.heartbeatInterval(Duration.ofMillis(ms)));
        election.ifPresent(ms -> raft.electionTimeout(Duration.ofMillis(ms)));
        r.bool("fast.failover").ifPresent(raft::fastFailoverOnRefusedConnection);
        tls(r, raft);
        Optional<RaftConfig> raftConfig = r.problems.size() > beforeRaft ? Optional.empty()
                : r.attempt(() -> {
                    try {
                        return raft.config();
                    } catch (IllegalArgumentException e) {
                        throw new DaemonConfigException(file + ": " + e.getMessage()
                                .replace("clusterId", "cluster.id").replace("nodeId(...)", "node.id")
                                .replace("heartbeatInterval", "heartbeat.ms").replace("electionTimeout", "election.ms"),
                                e);
                    }
                });
        Optional<AdminSettings> admin = r.attempt(() -> admin(r));

        boolean witness = raftConfig.map(c -> c.self().role().isWitness()).orElse(false);
        Map<String, String> groupKeys = GroupVipKeys.addressKeys(r);
        Map<String, String> preferred = GroupVipKeys.preferred(r, List.copyOf(groupKeys.values()));
        boolean several = !groupKeys.isEmpty();
        boolean vipGiven = (values.containsKey("vip") || several) && values.containsKey("interface");
        if (witness && values.keySet().stream().anyMatch(DaemonConfig::isVipKey)) {
            warnings.add(raftConfig.get().nodeId() + " is a witness: it never leads, so this daemon runs no VIP"
                    + " holder; the VIP keys (vip, interface, ...) are not used" + (vipGiven
                    ? " (they are still checked)" : "") + (several ? ", except that it hosts the group of each"
                    + " vip.GROUP.address, so that every group has a majority" : ""));
        }
        if (!witness || vipGiven) {
            for (String k : REQUIRED_BUT_ON_A_WITNESS) {
                if (!several || !k.equals("vip")) {
                    r.required(k);
                }
            }
        }
        Map<String, VipConfig> vips = !witness || vipGiven
                ? vips(r, raftConfig, several ? List.copyOf(groupKeys.keySet()) : List.of("vip")) : Map.of();
        Optional<VipConfig> vipConfig = several ? Optional.empty() : Optional.ofNullable(vips.get("vip"));
        raftConfig.ifPresent(rc -> vips.forEach((key, v) -> memberConflicts(r, rc, key, v)));
        Optional<VipConfig> anyVip = vips.values().stream().findFirst();
        if (anyVip.isPresent() && raftConfig.isPresent()) {
            long room = renewalLateness(raftConfig.get(), anyVip.get());
            RaftConfig rc = raftConfig.get();
            VipConfig vc = anyVip.get();
            if (room <= 0) {
                r.problem("release.margin.ms = " + vc.releaseMargin().toMillis() + " is too large: the lease ("
                        + rc.leaseDuration().toMillis() + " ms, election.ms x 0.98) minus the heartbeat ("
                        + rc.heartbeatInterval().toMillis() + " ms) leaves no room, so the VIP would be removed before"
                        + " every renewal. Lower release.margin.ms (default " + VipConfig.DEFAULT_RELEASE_MARGIN_MS
                        + ") or raise election.ms");
            } else if (room < 50 && values.containsKey("release.margin.ms")) {
                warnings.add("release.margin.ms = " + vc.releaseMargin().toMillis() + ": a lease renewal that comes"
                        + " more than " + room + " ms late (lease " + rc.leaseDuration().toMillis() + " ms - heartbeat "
                        + rc.heartbeatInterval().toMillis() + " ms - margin) removes the VIP until the renewal"
                        + " arrives; raise election.ms or lower the margin");
            }
        }
        Map<String, VipConfig> groupVips = new LinkedHashMap<>();
        if (!witness) {
            vips.forEach((key, v) -> {
                if (groupKeys.containsKey(key)) {
                    groupVips.put(groupKeys.get(key), v);
                }
            });
        }
        // a setting shared by several VIPs that is wrong is reported once, not once per VIP
        List<String> problems = List.copyOf(new java.util.LinkedHashSet<>(r.problems));
        Optional<DaemonConfig> config = Optional.empty();
        if (problems.isEmpty()) {
            config = Optional.of(new DaemonConfig(file, raftConfig.orElseThrow(), heartbeat.isPresent(),
                    election.isPresent(), witness ? Optional.empty() : vipConfig, List.copyOf(groupKeys.values()),
                    groupVips, preferred, admin.orElseThrow(), warnings));
        }
        return new Attempt(config, problems, witness ? Optional.empty() : vipConfig,
                witness ? List.of() : List.copyOf(vips.values()), dataDir, List.copyOf(warnings));
    }

    private static void tls(Reader r, RaftNode.Builder raft) {
        Optional<String> cert = r.optional("tls.cert");
        Optional<String> key = r.optional("tls.key");
        Optional<String> ca = r.optional("tls.ca");
        if (cert.isEmpty() && key.isEmpty() && ca.isEmpty()) {
            return;
        }
        boolean complete = true;
        for (String k : List.of("tls.cert", "tls.key", "tls.ca")) {
            if (r.optional(k).isEmpty()) {
                r.problem(k + " is missing: mutual TLS needs all three of tls.cert, tls.key and tls.ca (or none of them"
                        + " for plain TCP)");
                complete = false;
            }
        }
        if (complete) {
            r.apply("tls.ca", v -> raft.tls(new TlsConfig(Path.of(cert.get()), Path.of(key.get()), Path.of(v))));
        }
    }

    /**
     * The settings of the VIP of each key of {@code addressKeys} ({@code vip}, or every
     * {@code vip.GROUP.address}), by key; all of them if they are valid by themselves, else none
     * (the release margin's default needs {@code raft}). The other VIP keys apply to every VIP.
     */
    private static Map<String, VipConfig> vips(Reader r, Optional<RaftConfig> raft, List<String> addressKeys) {
        int before = r.problems.size();
        Map<String, VipConfig.Builder> builders = new LinkedHashMap<>();
        if (r.optional("interface").isPresent()) {
            for (String key : addressKeys) {
                r.get(key, v -> v == null ? null : VipConfig.builder(v, r.values.get("interface")))
                        .ifPresent(b -> builders.put(key, b));
            }
        }
        Optional<Integer> garp = r.integer("garp.count");
        Optional<Integer> garpRepeat = r.integer("garp.repeat.count");
        Optional<Long> garpDelay = r.millis("garp.repeat.delay.ms");
        Optional<Long> margin = r.millis("release.margin.ms");
        Optional<Long> commandTimeout = r.millis("command.timeout.ms");
        Optional<Path> ip = r.path("ip.command");
        Optional<Path> arping = r.path("arping.command");
        Optional<Path> sysctl = r.path("sysctl.command");
        Optional<Integer> probeTimeout = r.integer("probe.timeout.s");
        Optional<String> fence = r.optional("fence.command");
        Optional<Boolean> probe = r.bool("duplicate.probe");
        long fenceTimeout = r.millis("fence.timeout.ms").orElse(10_000L);
        Optional<CommandFencer> fencer = Optional.empty();
        if (fence.isPresent()) {
            if (probe.isPresent() && !probe.get()) {
                r.problem("fence.command is set but duplicate.probe = false: the fence command runs only when the"
                        + " arping -D probe finds another host answering for the VIP, so it would never run. Set"
                        + " duplicate.probe = true or remove fence.command");
            }
            List<String> argv = Arrays.asList(fence.get().strip().split("\\s+"));
            fencer = r.get("fence.command", v -> CommandFencer.of(argv, Duration.ofMillis(fenceTimeout)));
        } else if (r.optional("fence.timeout.ms").isPresent()) {
            r.problem("fence.timeout.ms is set without fence.command; set both or neither");
        }
        if (builders.size() < addressKeys.size() || r.problems.size() > before) {
            return Map.of();
        }
        Map<String, VipConfig> vips = new LinkedHashMap<>();
        for (Map.Entry<String, VipConfig.Builder> e : builders.entrySet()) {
            VipConfig.Builder vip = e.getValue();
            garp.ifPresent(vip::garpCount);
            garpRepeat.ifPresent(vip::garpRepeatCount);
            garpDelay.ifPresent(ms -> vip.garpRepeatDelay(Duration.ofMillis(ms)));
            margin.or(() -> raft.map(DaemonConfig::defaultReleaseMargin))
                    .ifPresent(ms -> vip.releaseMargin(Duration.ofMillis(ms)));
            commandTimeout.ifPresent(ms -> vip.commandTimeout(Duration.ofMillis(ms)));
            ip.ifPresent(vip::ipCommand);
            arping.ifPresent(vip::arpingCommand);
            sysctl.ifPresent(vip::sysctlCommand);
            probeTimeout.ifPresent(s -> vip.probeTimeout(Duration.ofSeconds(s)));
            fencer.ifPresent(f -> vip.fencer(f).fenceTimeout(Duration.ofMillis(fenceTimeout)));
            vip.duplicateProbe(probe.orElse(fence.isPresent()));
            r.attempt(() -> {
                try {
                    return vip.build();
                } catch (IllegalArgumentException x) {
                    throw new DaemonConfigException(r.file + ": " + x.getMessage()
                            .replace("garpRepeatCount", "garp.repeat.count").replace("garpCount", "garp.count")
                            .replace("garpRepeatDelay", "garp.repeat.delay.ms")
                            .replace("releaseMargin", "release.margin.ms")
                            .replace("commandTimeout", "command.timeout.ms").replace("probeTimeout", "probe.timeout.s")
                            .replace("duplicateProbe", "duplicate.probe").replace("fenceTimeout", "fence.timeout.ms"),
                            x);
                }
            }).ifPresent(v -> vips.put(e.getKey(), v));
        }
        return vips.size() == addressKeys.size() ? vips : Map.of();
    }

    /**
     * Refuses a VIP that is a member's address (any address its host name has): every node's
     * daemon removes the VIP at start and at each release, so that member would lose its own
     * address, and a leader would take it over.
     */
    private static void memberConflicts(Reader r, RaftConfig raft, String key, VipConfig vip) {
        for (RaftConfig.Member m : raft.members()) {
            for (InetAddress a : addressesOf(m.host())) {
                if (a.equals(vip.address().address())) {
                    r.problem(key + " = " + vip.address() + " is the address of member " + m.id() + " ("
                            + m.address() + (m.host().matches("\\[?[0-9A-Fa-f:.]+]?") ? "" : ", " + m.host() + " is "
                            + a.getHostAddress()) + (m.id().equals(raft.nodeId()) ? ", this node" : "") + "): every"
                            + " daemon removes the VIP from its host when it starts and when it releases the VIP, so"
                            + " that host would lose its own address, and the leader would take it over. Choose a"
                            + " free address for the VIP, one that no host uses");
                    break;
                }
            }
        }
    }

    /** A member's addresses: the literal itself, or every address its name resolves to (none if it does not). */
    private static List<InetAddress> addressesOf(String host) {
        String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        try {
            return List.of(InetAddress.getAllByName(h));
        } catch (java.net.UnknownHostException | SecurityException e) {
            return List.of();   // the node reports an unresolvable member when it starts
        }
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

    /**
     * Splits {@code text} into key/value pairs; a malformed line, a duplicate, an unknown or a
     * removed key is a problem, and the line is skipped.
     */
    private static Map<String, String> lines(Reader r, String text) {
        Map<String, String> values = new LinkedHashMap<>();
        String[] lines = text.split("\r?\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String where = r.file + " line " + (i + 1);
            int eq = line.indexOf('=');
            if (eq < 0) {
                r.problems.add(where + ": expected 'key = value', got '" + line + "'");
                continue;
            }
            String key = line.substring(0, eq).strip();
            String value = line.substring(eq + 1).strip();
            if (REMOVED_KEYS.containsKey(key)) {
                r.problems.add(where + ": " + key + " is no longer supported: " + REMOVED_KEYS.get(key));
            } else if (!KEYS.containsKey(key) && !GroupVipKeys.isGroupKey(key)) {
                r.problems.add(where + ": unknown key '" + key + "'" + suggestion(key) + ". Known keys: "
                        + String.join(", ", KEYS.keySet()));
            } else if (values.containsKey(key)) {
                r.problems.add(where + ": " + key + " is set a second time; keep one line per key"
                        + GroupVipKeys.duplicateHint(key));
            } else if (value.isEmpty()) {
                r.problems.add(where + ": " + key + " has an empty value; give one (" + KEYS.get(KEYS.containsKey(key)
                        ? key : GroupVipKeys.helpKey(key)) + ") or remove the line");
            } else {
                values.put(key, value);
            }
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
        return keys.indexOf(key) >= keys.indexOf("vip") || GroupVipKeys.isGroupKey(key);
    }

    private static AdminSettings admin(Reader r) {
        Path dir = r.path("admin.socket.dir").orElse(AdminSettings.DEFAULT_DIRECTORY);
        String cluster = r.optional("cluster.id").orElse("cluster");
        String node = r.optional("node.id").orElse("node");
        AdminSettings a = new AdminSettings(dir, cluster, node, r.optional("admin.socket.dir").isPresent());
        int length = a.socket().toString().getBytes(StandardCharsets.UTF_8).length;
        if (length > AdminSettings.MAX_PATH_BYTES) {
            throw new DaemonConfigException(r.file + ": admin.socket.dir = " + dir + ": the admin socket's path "
                    + a.socket() + " is " + length + " bytes long, and Linux allows " + AdminSettings.MAX_PATH_BYTES
                    + " for a Unix-domain socket; choose a shorter directory");
        }
        return a;
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

    /**
     * Reads values by key and records every validation failure as a problem that names the key,
     * so that one run reports them all; a value with a problem reads as absent.
     */
    static final class Reader {
        final Path file;
        final List<String> problems = new ArrayList<>();
        Map<String, String> values = Map.of();

        Reader(Path file) {
            this.file = file;
        }

        void problem(String message) {
            problems.add(file + ": " + message);
        }

        void required(String key) {
            if (!values.containsKey(key)) {
                problem(key + " is missing: " + KEYS.get(key));
            }
        }

        Optional<String> optional(String key) {
            return Optional.ofNullable(values.get(key));
        }

        /** The value of {@code s}, or empty after recording its {@link DaemonConfigException}. */
        <T> Optional<T> attempt(java.util.function.Supplier<T> s) {
            try {
                return Optional.ofNullable(s.get());
            } catch (DaemonConfigException e) {
                problems.addAll(e.problems());
                return Optional.empty();
            }
        }

        void apply(String key, java.util.function.Consumer<String> setter) {
            if (values.containsKey(key)) {
                get(key, v -> {
                    setter.accept(v);
                    return Boolean.TRUE;
                });
            }
        }

        /** {@code f} applied to the value (null if absent); an {@link IllegalArgumentException} names the key. */
        <T> Optional<T> get(String key, java.util.function.Function<String, T> f) {
            String v = values.get(key);
            return attempt(() -> {
                try {
                    return f.apply(v);
                } catch (DaemonConfigException e) {
                    throw e;
                } catch (IllegalArgumentException e) {
                    throw new DaemonConfigException(file + ": " + key + " = " + v + ": " + e.getMessage(), e);
                }
            });
        }

        /** Like {@link #get} for a present value, where {@code f} throws {@link DaemonConfigException}s itself. */
        private <T> Optional<T> check(String key, java.util.function.Function<String, T> f) {
            return optional(key).flatMap(v -> attempt(() -> f.apply(v)));
        }

        Optional<Long> millis(String key) {
            return check(key, v -> {
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
            return check(key, v -> {
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
            return check(key, v -> switch (v) {
                case "true" -> true;
                case "false" -> false;
                default -> throw new DaemonConfigException(file + ": " + key + " = " + v + ": write true or false");
            });
        }

        Optional<Path> path(String key) {
            return check(key, v -> {
                Path p = Path.of(v);
                if (!p.isAbsolute()) {
                    throw new DaemonConfigException(file + ": " + key + " = " + v + ": must be an absolute path"
                            + (key.endsWith(".dir") ? "" : " (no PATH lookup at failover time), like /usr/sbin/ip"));
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
            s.add("witness: never leads, holds no VIP" + (hasGroups() ? "; hosts the groups " + groups : ""));
            return s;
        }
        VipConfig vip;
        if (hasGroups()) {
            groupVips.forEach((g, v) -> s.add("VIP " + v.address() + " on " + v.interfaceName()
                    + " follows the leader of group " + g
                    + preferred(g).map(p -> ", preferred host " + p).orElse("")));
            vip = groupVips.values().iterator().next();
            s.add("every VIP: " + timing(vip));
        } else {
            vip = vipConfig();
            s.add("VIP " + vip.address() + " on " + vip.interfaceName() + ", " + timing(vip));
        }
        s.add("duplicate probe " + (vip.duplicateProbe() ? "on" : "off") + ", fencer "
                + vip.fencer().map(Object::toString).orElse("none"));
        return s;
    }

    private String timing(VipConfig vip) {
        return "release margin " + vip.releaseMargin().toMillis() + " ms (a renewal may come "
                + renewalLateness(raftConfig, vip) + " ms late), " + (vip.address().isIpv6()
                ? "one unsolicited neighbour advertisement (by the kernel)"
                : "gratuitous ARP " + vip.garpCount() + " + " + vip.garpRepeatCount() + " after "
                + vip.garpRepeatDelay().toMillis() + " ms");
    }
}
