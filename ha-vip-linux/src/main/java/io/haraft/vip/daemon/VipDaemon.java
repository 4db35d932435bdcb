package io.haraft.vip.daemon;

import io.haraft.Leadership;
import io.haraft.LeadershipListener;
import io.haraft.NodeStatus;
import io.haraft.RaftNode;
import io.haraft.RevokeReason;
import io.haraft.vip.VipConfig;
import io.haraft.vip.VipHolder;
import io.haraft.vip.VipSetupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * {@code ha-vipd}: runs one HA-Raft node whose leader holds a virtual IP, configured by a
 * properties file, for operators who do not write Java.
 *
 * <pre>
 * java -jar ha-vipd.jar --config /etc/ha-vipd/vip.properties           # run the node
 * java -jar ha-vipd.jar --config /etc/ha-vipd/vip.properties --check   # validate file and host, exit 0/1
 * java -jar ha-vipd.jar admin --config /etc/ha-vipd/vip.properties status    # talk to the running daemon
 * </pre>
 *
 * <p><b>Running.</b> Validates the file (see {@code DAEMON.md} for the keys), starts the
 * {@link VipHolder} (which checks {@code ip}, {@code arping}, the interface and CAP_NET_ADMIN, and
 * removes a VIP left on this host by an earlier run), then the node. Every leadership transition,
 * takeover, release and fence is logged, as is every change of the known leader. On SIGTERM (or
 * SIGINT) a shutdown hook closes the node, which, on the leader, revokes its own leadership first
 * (so the VIP is removed) and hands leadership to a peer, then closes the holder. A witness (its
 * entry in {@code members} ends in {@code /witness}) never leads and runs no holder.
 *
 * <p><b>Admin socket.</b> The daemon serves {@link AdminServer} on the Unix-domain socket
 * {@code CLUSTER-NODE.sock} in {@code admin.socket.dir} (default {@code /run/ha-vipd}, mode 0700;
 * the socket 0600), through which {@code ha-vipd admin} ({@link AdminCli}), run by the daemon's
 * user or root, shows the status and changes the members.
 *
 * <p><b>{@code --check}</b> validates the file and runs {@link VipHolder#check()}, which changes
 * nothing on the host (it does not remove a VIP found here, unlike a start), prints a report to
 * standard output with every problem found (not only the first), each on a {@code FAILED:} line
 * that says what to do, and exits with 0 if the daemon could start, 1 otherwise.
 *
 * <p><b>Limits.</b> Exit codes: 0 (check passed), 1 (invalid file, host not ready, node failed to
 * start), 2 (wrong command line); a daemon stopped by a signal exits the way the JVM does for
 * that signal (143 for SIGTERM). A process killed with {@code kill -9} leaves its VIP on the
 * interface until the daemon starts again (or a fencing successor removes the host).
 */
public final class VipDaemon {

    /** Returned by {@link #run} when the daemon ran and the JVM is shutting down: do not call exit. */
    static final int STOPPED = -1;

    private VipDaemon() {
    }

    /**
     * The command line entry point; see the class documentation.
     *
     * @param args {@code --config FILE [--check]}, or {@code --help}
     */
    public static void main(String[] args) {
        if (args.length > 0 && args[0].equals("admin")) {
            setDefault("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        }
        int code = run(args, System.out, System.err);
        if (code != STOPPED) {
            System.exit(code);
        }
    }

    /** Runs the command line; returns the exit code, or {@link #STOPPED} after a signal stopped the daemon. */
    static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length > 0 && args[0].equals("admin")) {
            return AdminCli.run(java.util.Arrays.copyOfRange(args, 1, args.length), out, err);
        }
        Path config = null;
        boolean check = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--config" -> {
                    if (i + 1 >= args.length) {
                        return usage(err, "--config needs a file");
                    }
                    config = Path.of(args[++i]);
                }
                case "--check" -> check = true;
                case "--help", "-h" -> {
                    out.print(help());
                    return 0;
                }
                default -> {
                    return usage(err, "unknown argument '" + args[i] + "'");
                }
            }
        }
        if (config == null) {
            return usage(err, "--config FILE is required");
        }
        return check ? check(config, out) : daemon(config);
    }

    private static int usage(PrintStream err, String problem) {
        err.println("ha-vipd: " + problem);
        err.print(help());
        return 2;
    }

    static String help() {
        StringBuilder s = new StringBuilder();
        s.append("usage: java -jar ha-vipd.jar --config FILE [--check]\n")
                .append("       java -jar ha-vipd.jar admin --config FILE COMMAND   (admin --help lists the commands)\n")
                .append("  --config FILE  the properties file of this node (see ha-vip-linux/DAEMON.md)\n")
                .append("  --check        validate FILE and this host (ip, arping, interface, CAP_NET_ADMIN,\n")
                .append("                 CAP_NET_RAW) without starting the node or changing anything; exit 0/1\n")
                .append("keys:\n");
        DaemonConfig.KEYS.forEach((k, v) -> s.append(String.format("  %-21s %s%n", k, v)));
        return s.toString();
    }

    // ------------------------------------------------------------------ --check

    /** Validates {@code file} and the host, printing a report; 0 if the daemon could start here, else 1. */
    static int check(Path file, PrintStream out) {
        return check(file, out, true);
    }

    /**
     * Like {@link #check(Path, PrintStream)}; {@code host} false skips the host checks (unit tests).
     * Every problem is printed, each on a line of its own starting with {@code FAILED:}: those of
     * the file, of the data and admin socket directories, and of the host (as far as the file's
     * VIP settings are valid by themselves).
     */
    static int check(Path file, PrintStream out, boolean host) {
        DaemonConfig.Attempt a = DaemonConfig.read(file);
        List<String> problems = new ArrayList<>(a.problems());
        a.problems().forEach(p -> out.println("FAILED: " + p));
        a.config().ifPresent(c -> {
            out.println("config " + file + ": valid");
            c.summary().forEach(line -> out.println("  " + line));
        });
        a.warnings().forEach(w -> out.println("WARNING: " + w));
        a.dataDir().ifPresent(dir -> report(out, problems, directoryProblem("data.dir", dir),
                "data dir " + dir + ": usable"));
        a.config().ifPresent(c -> report(out, problems, adminDirectoryProblem(c.admin().directory()),
                "admin socket directory " + c.admin().directory() + ": usable"));
        boolean witness = a.config().map(DaemonConfig::isWitness).orElse(false);
        for (VipConfig vip : host && !witness ? a.vips() : List.<VipConfig>of()) {
            VipHolder holder = VipHolder.create(vip);
            try {
                holder.check().forEach(n -> out.println("host: " + n));
            } catch (VipSetupException e) {
                e.problems().forEach(p -> out.println("FAILED: " + p));
                problems.addAll(e.problems());
            } finally {
                holder.close();
            }
        }
        if (!problems.isEmpty()) {
            out.println("NOT READY: " + problems.size() + (problems.size() == 1 ? " problem" : " problems")
                    + " (each line FAILED above says what to do); nothing was changed. Fix them and run --check"
                    + " again");
            return 1;
        }
        DaemonConfig c = a.config().orElseThrow();
        if (!host) {
            out.println("OK (host not checked)");
        } else if (witness) {
            out.println("OK: ha-vipd can run witness " + c.raftConfig().nodeId() + " on this host (no VIP, so ip and"
                    + " arping are not needed; the port " + c.raftConfig().self().port() + " is checked when the node"
                    + " starts)");
        } else {
            out.println("OK: ha-vipd can run node " + c.raftConfig().nodeId() + " on this host (the port "
                    + c.raftConfig().self().port() + " is checked when the node starts)");
        }
        return 0;
    }

    private static void report(PrintStream out, List<String> problems, Optional<String> problem, String fine) {
        if (problem.isPresent()) {
            out.println("FAILED: " + problem.get());
            problems.add(problem.get());
        } else {
            out.println(fine);
        }
    }

    /** Empty if the data directory exists and is writable, or could be created; else why not. */
    static Optional<String> dataDirProblem(Path dir) {
        return directoryProblem("data.dir", dir);
    }

    /** Like {@link #dataDirProblem}, and the directory must not be writable by group or others. */
    static Optional<String> adminDirectoryProblem(Path dir) {
        Optional<String> p = directoryProblem("admin.socket.dir", dir);
        if (p.isPresent() || !Files.isDirectory(dir)) {
            return p;
        }
        try {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(dir);
            if (perms.contains(PosixFilePermission.GROUP_WRITE) || perms.contains(PosixFilePermission.OTHERS_WRITE)) {
                return Optional.of("admin.socket.dir " + dir + " is writable by group or others ("
                        + PosixFilePermissions.toString(perms) + "), so another user could replace the admin socket;"
                        + " give the daemon a directory of its own (created with mode 0700), or chmod 0700 " + dir);
            }
        } catch (IOException | UnsupportedOperationException e) {
            return Optional.of("admin.socket.dir " + dir + ": cannot read its permissions (" + e + ")");
        }
        return Optional.empty();
    }

    private static Optional<String> directoryProblem(String key, Path dir) {
        if (Files.isDirectory(dir)) {
            return Files.isWritable(dir) ? Optional.empty()
                    : Optional.of(key + " " + dir + " is not writable by this user; chown it to the daemon's user");
        }
        if (Files.exists(dir)) {
            return Optional.of(key + " " + dir + " exists but is not a directory");
        }
        Path parent = dir.toAbsolutePath().getParent();
        while (parent != null && !Files.exists(parent)) {
            parent = parent.getParent();
        }
        if (parent == null || !Files.isDirectory(parent) || !Files.isWritable(parent)) {
            return Optional.of(key + " " + dir + " does not exist and cannot be created here"
                    + (parent == null ? "" : " (" + parent + " is not a writable directory)")
                    + "; create it for the daemon's user");
        }
        return Optional.empty();
    }

    // ------------------------------------------------------------------ the daemon

    /** Defaults for slf4j-simple (the binding in ha-vipd.jar): time stamps, INFO; -D options win. */
    private static void configureLogging() {
        setDefault("org.slf4j.simpleLogger.showDateTime", "true");
        setDefault("org.slf4j.simpleLogger.dateTimeFormat", "yyyy-MM-dd'T'HH:mm:ss.SSSXXX");
        setDefault("org.slf4j.simpleLogger.defaultLogLevel", "info");
        setDefault("org.slf4j.simpleLogger.showShortLogName", "true");
        setDefault("org.slf4j.simpleLogger.logFile", "System.out");
    }

    private static void setDefault(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }

    private static int daemon(Path file) {
        configureLogging();
        Logger log = LoggerFactory.getLogger(VipDaemon.class);
        DaemonConfig c;
        try {
            c = DaemonConfig.parse(file);
        } catch (DaemonConfigException e) {
            e.problems().forEach(p -> log.error("invalid configuration: {}", p));
            log.error("not started: {} problem(s) in {}; `--check` lists them with the host's", e.problems().size(),
                    file);
            return 1;
        }
        c.warnings().forEach(log::warn);
        c.summary().forEach(line -> log.info("config: {}", line));
        Optional<String> dataDir = dataDirProblem(c.raftConfig().dataDir());
        if (dataDir.isPresent()) {
            log.error("{}", dataDir.get());
            return 1;
        }
        if (c.hasGroups()) {
            return groups(c, log);
        }

        Optional<VipHolder> holder = c.isWitness() ? Optional.empty() : Optional.of(VipHolder.create(c.vipConfig()));
        try {
            if (holder.isPresent()) {
                holder.get().start();
            }
        } catch (VipSetupException e) {
            log.error("this host cannot manage the VIP: {}", e.getMessage());
            holder.get().close();
            return 1;
        }
        String nodeId = c.raftConfig().nodeId();
        RaftNode node;
        AdminServer admin;
        try {
            node = c.nodeBuilder(new LoggingListener(nodeId, Optional.empty(), holder)).build();
        } catch (RuntimeException e) {
            log.error("cannot create the node: {}", e.getMessage());
            holder.ifPresent(VipHolder::close);
            return 1;
        }
        try {
            admin = AdminServer.start(node, c.raftConfig().clusterId(), c.admin().socket());
        } catch (IOException e) {
            log.error("cannot serve the admin socket {}: {}", c.admin().socket(), e.getMessage());
            node.close();
            holder.ifPresent(VipHolder::close);
            return 1;
        }
        ScheduledExecutorService leaderWatch = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "ha-vipd-leader-watch");
            t.setDaemon(true);
            return t;
        });
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            log.info("stopping node {}: a leader revokes itself (removing the VIP) and hands leadership over", nodeId);
            leaderWatch.shutdownNow();
            admin.close();
            node.close();
            holder.ifPresent(VipHolder::close);
            log.info("stopped node {}; {}", nodeId, holder.map(h -> "VIP holder closed (" + (h.status().holding()
                    ? "the VIP may still be here: see the errors above" : "the VIP is not held") + ")")
                    .orElse("a witness holds no VIP"));
            stopped.countDown();
        }, "ha-vipd-shutdown"));
        try {
            node.start();
        } catch (RuntimeException e) {
            log.error("node {} failed to start: {}", nodeId, e.getMessage());
            return 1; // main exits; the shutdown hook closes the node and the holder
        }
        log.info("running node {} of cluster {} at {}: {}; {}", nodeId, c.raftConfig().clusterId(),
                c.raftConfig().self().address(), c.isWitness() ? "a witness, which never leads and holds no VIP"
                        : "VIP " + c.vipConfig().address() + " follows the leader", c.admin().describe());
        LeaderWatch watch = new LeaderWatch(node, log);
        leaderWatch.scheduleWithFixedDelay(watch, 50, 50, TimeUnit.MILLISECONDS);
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return STOPPED;
    }

    /**
     * The daemon with several VIPs ({@code vip.GROUP.address}): a {@link VipGroups} node with one
     * group and one {@link VipHolder} per VIP, served on the admin socket; stops like the single-VIP
     * daemon, on a signal.
     */
    private static int groups(DaemonConfig c, Logger log) {
        String nodeId = c.raftConfig().nodeId();
        Map<String, VipHolder> holders = new LinkedHashMap<>();
        for (Map.Entry<String, VipConfig> e : c.groupVips().entrySet()) {
            VipHolder h = VipHolder.create(e.getValue());
            holders.put(e.getKey(), h);
            try {
                h.start();
            } catch (VipSetupException ex) {
                log.error("this host cannot manage VIP {} of group {}: {}", e.getValue().address(), e.getKey(),
                        ex.getMessage());
                holders.values().forEach(VipHolder::close);
                return 1;
            }
        }
        VipGroups groups;
        try {
            groups = VipGroups.create(c, holders);
        } catch (RuntimeException e) {
            log.error("cannot create the node: {}", e.getMessage());
            holders.values().forEach(VipHolder::close);
            return 1;
        }
        AdminServer admin;
        try {
            admin = AdminServer.start(groups, c.admin().socket());
        } catch (IOException e) {
            log.error("cannot serve the admin socket {}: {}", c.admin().socket(), e.getMessage());
            groups.close();
            return 1;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            log.info("stopping node {}: the leader of each group revokes itself (removing its VIP) and hands"
                    + " leadership over", nodeId);
            admin.close();
            groups.close();
            log.info("stopped node {}; VIP holders closed ({})", nodeId, groups.holdsAny()
                    ? "a VIP may still be here: see the errors above" : "no VIP is held");
            stopped.countDown();
        }, "ha-vipd-shutdown"));
        try {
            groups.start();
        } catch (RuntimeException e) {
            log.error("node {} failed to start: {}", nodeId, e.getMessage());
            return 1; // main exits; the shutdown hook closes the node and the holders
        }
        log.info("running node {} of cluster {} at {}: {}; {}", nodeId, c.raftConfig().clusterId(),
                c.raftConfig().self().address(), c.isWitness() ? "a witness, which never leads and holds no VIP,"
                        + " hosting the groups " + c.groups() : c.groupVips().size() + " VIPs, each following the"
                        + " leader of its group: " + c.groupVips().entrySet().stream()
                        .map(e -> e.getValue().address() + " (group " + e.getKey() + ")").toList(),
                c.admin().describe());
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return STOPPED;
    }

    /** Logs every change of the leader this node knows of, on followers too, and this node's removal. */
    private static final class LeaderWatch implements Runnable {
        private final RaftNode node;
        private final Logger log;
        private Optional<String> leader = Optional.empty();
        private long term = -1;
        private boolean removed;

        LeaderWatch(RaftNode node, Logger log) {
            this.node = node;
            this.log = log;
        }

        @Override
        public void run() {
            try {
                NodeStatus s = node.status();
                if (!s.leaderId().equals(leader) || (s.leaderId().isPresent() && s.term() != term)) {
                    leader = s.leaderId();
                    term = s.term();
                    log.info("leader is now {} (term {}, this node {} is {})", leader.orElse("unknown"), s.term(),
                            s.nodeId(), s.role());
                }
                if (s.removed() && !removed) {
                    removed = true;
                    log.warn("node {} was removed from the cluster and has stopped (it holds no VIP); stop this"
                            + " ha-vipd and disable its service", s.nodeId());
                }
            } catch (RuntimeException e) {
                log.debug("status failed", e);
            }
        }
    }

    /**
     * Logs each transition, then lets the {@link VipHolder} (if any) act on it (on the node's, or
     * the group's, listener thread). With several VIPs each group has its own, naming the group.
     */
    static final class LoggingListener implements LeadershipListener {
        private final Logger log = LoggerFactory.getLogger(LoggingListener.class);
        private final String nodeId;
        private final String group;
        private final Optional<VipHolder> holder;

        LoggingListener(String nodeId, Optional<String> group, Optional<VipHolder> holder) {
            this.nodeId = nodeId;
            this.group = group.map(g -> " of group " + g).orElse("");
            this.holder = Objects.requireNonNull(holder);
        }

        @Override
        public void elected(Leadership leadership) {
            log.info("ELECTED: node {} is leader{} with token {} ({} ms of lease left)", nodeId, group,
                    leadership.token().value(), leadership.remainingLease().toMillis());
            holder.ifPresent(h -> h.elected(leadership));
        }

        @Override
        public void revoked(Leadership leadership, RevokeReason reason) {
            log.info("REVOKED: node {} is no longer leader{} (token {}, reason {})", nodeId, group,
                    leadership.token().value(), reason);
            holder.ifPresent(h -> h.revoked(leadership, reason));
        }
    }
}
