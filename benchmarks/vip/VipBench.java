import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * VIP failover benchmark: HA-Raft's ha-vipd against keepalived (VRRPv3), same namespace LAN, same
 * faults, same client probe. Run by benchmarks/vip/run.sh as root (java VipBench.java ...); not part
 * of the Maven build.
 *
 * <p>LAN: namespaces PREFIX-br (bridge br0), PREFIX-n1..n3 (192.0.2.1-3, eth0), PREFIX-c (client,
 * 192.0.2.100); VIP 192.0.2.50/24. All traffic stays inside these namespaces. Node i answers with IP
 * TTL 61+i, so every reply of the client's {@code ping -i 0.01 -D -O} names the node that answered.
 * A sampler reads the three namespaces' addresses through one long-lived {@code ip -batch} each, in
 * rounds of about 10 ms, and marks a round "dual" when two namespaces hold the VIP (confirmed by
 * re-reading the first holder).
 *
 * <p>Per rep: wait for a settled holder (sole holder that answered the client's last 150 pings),
 * inject the fault at t0, then observe until max(t0 + 3 s, first reply from another node + 1 s)
 * (at most t0 + 20 s). Switch time = first reply from a node other than the old holder, minus t0.
 * Longest gap = longest interval between consecutive replies in [last reply before t0, end of
 * observation]. Dual samples = dual rounds in [t0, end]; after kill -9 the dead node's leftover
 * address is not counted (it is on a dead host's interface, an allowed exception: a dead process cannot remove it; the
 * per-rep CSV also gives the count with it). Then restore (restart the daemon / port up / delete
 * the nft table) and go on.
 */
public final class VipBench {

    static final String IP = "/usr/sbin/ip";
    static final String VIP = "192.0.2.50";
    static final String NET = "192.0.2.";

    // ------------------------------------------------------------------ options

    String prefix;
    int reps = 5;
    Path out;
    Path work;
    Path jar;
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> systems = List.of("haraft", "keepalived-0.1", "keepalived-1");
    List<String> scenarios = List.of("kill9", "portdown", "sigterm", "partition");

    // ------------------------------------------------------------------ state

    final List<String> namespaces = new ArrayList<>();
    String br;
    String client;
    final String[] nodes = new String[3];
    final Process[] daemons = new Process[3];
    final Path[] logs = new Path[3];
    Process ping;
    Replies replies;
    Sampler sampler;
    Writer bridgeIp;
    Process bridgeIpProc;
    String system;
    int daemonGeneration;

    final List<String> repRows = new ArrayList<>();
    final Map<String, List<long[]>> results = new LinkedHashMap<>(); // key system,scenario -> {switch or -1, gap, dual}
    final StringBuilder notes = new StringBuilder();

    public static void main(String[] args) throws Exception {
        VipBench b = new VipBench();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--prefix" -> b.prefix = args[++i];
                case "--reps" -> b.reps = Integer.parseInt(args[++i]);
                case "--out" -> b.out = Path.of(args[++i]);
                case "--work" -> b.work = Path.of(args[++i]);
                case "--jar" -> b.jar = Path.of(args[++i]);
                case "--systems" -> b.systems = List.of(args[++i].split(","));
                case "--scenarios" -> b.scenarios = List.of(args[++i].split(","));
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        if (b.prefix == null || b.out == null || b.work == null || b.jar == null) {
            throw new IllegalArgumentException("need --prefix --out --work --jar");
        }
        Runtime.getRuntime().addShutdownHook(new Thread(b::cleanup));
        b.run();
    }

    void run() throws Exception {
        Files.createDirectories(out);
        Files.createDirectories(work);
        buildLan();
        startClient();
        for (String s : systems) {
            system = s;
            log("==== system " + s);
            startAll();
            try {
                for (String sc : scenarios) {
                    for (int r = 1; r <= reps; r++) {
                        rep(sc, r);
                    }
                }
            } finally {
                stopAll();
            }
        }
        writeOutput();
    }

    // ------------------------------------------------------------------ LAN

    void buildLan() throws Exception {
        br = prefix + "-br";
        client = prefix + "-c";
        addNs(br);
        sh(IP, "-n", br, "link", "add", "br0", "type", "bridge");
        sh(IP, "-n", br, "link", "set", "br0", "up");
        for (int i = 0; i < 3; i++) {
            nodes[i] = prefix + "-n" + (i + 1);
            attach(nodes[i], "p" + (i + 1), NET + (i + 1));
            sh(IP, "netns", "exec", nodes[i], "sysctl", "-qw", "net.ipv4.ip_default_ttl=" + (61 + i));
        }
        attach(client, "pc", NET + "100");
        bridgeIpProc = new ProcessBuilder(IP, "-n", br, "-batch", "-").redirectErrorStream(true)
                .redirectOutput(work.resolve("bridge-ip.log").toFile()).start();
        bridgeIp = new OutputStreamWriter(bridgeIpProc.getOutputStream(), StandardCharsets.US_ASCII);
        sampler = new Sampler(nodes);
        sampler.start();
    }

    void addNs(String ns) throws Exception {
        sh(IP, "netns", "add", ns);
        namespaces.add(ns);
        sh(IP, "-n", ns, "link", "set", "lo", "up");
    }

    void attach(String ns, String port, String addr) throws Exception {
        addNs(ns);
        sh(IP, "-n", br, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns);
        sh(IP, "-n", br, "link", "set", port, "master", "br0");
        sh(IP, "-n", br, "link", "set", port, "up");
        sh(IP, "-n", ns, "addr", "add", addr + "/24", "dev", "eth0");
        sh(IP, "-n", ns, "link", "set", "eth0", "up");
    }

    void startClient() throws Exception {
        ping = new ProcessBuilder(IP, "netns", "exec", client, "stdbuf", "-oL", "ping", "-n", "-D", "-O",
                "-i", "0.01", "-W", "1", VIP).redirectErrorStream(true).start();
        replies = new Replies(ping);
    }

    synchronized void cleanup() {
        try {
            if (sampler != null) {
                sampler.stop();
            }
        } catch (Exception ignored) {
            // best effort
        }
        for (int i = 0; i < 3; i++) {
            kill(i, true);
        }
        if (ping != null) {
            ping.destroyForcibly();
        }
        if (bridgeIpProc != null) {
            bridgeIpProc.destroyForcibly();
        }
        for (int i = namespaces.size() - 1; i >= 0; i--) {
            try {
                run(IP, "netns", "del", namespaces.get(i));
            } catch (Exception ignored) {
                // run.sh's trap retries
            }
        }
        namespaces.clear();
    }

    // ------------------------------------------------------------------ daemons

    void startAll() throws Exception {
        daemonGeneration++;
        for (int i = 0; i < 3; i++) {
            start(i);
        }
        // first holder: JVM start + election (haraft) or 3 x advert_int + skew (keepalived)
        await(120_000, () -> settled() >= 0, "no settled first holder");
    }

    void start(int i) throws Exception {
        logs[i] = work.resolve(system + "-n" + (i + 1) + ".log");
        ProcessBuilder pb;
        if (system.equals("haraft")) {
            pb = new ProcessBuilder(IP, "netns", "exec", nodes[i], java, "-Xmx128m", "-XX:+UseSerialGC",
                    "-XX:TieredStopAtLevel=1", "-Dorg.slf4j.simpleLogger.showDateTime=true",
                    "-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS",
                    "-jar", jar.toString(), "--config", haraftConfig(i).toString());
        } else {
            Path conf = keepalivedConfig(i);
            pb = new ProcessBuilder(IP, "netns", "exec", nodes[i], "keepalived", "-n", "-l", "-D", "-P",
                    "-f", conf.toString(),
                    "-p", work.resolve(system + "-n" + (i + 1) + ".pid").toString(),
                    "-r", work.resolve(system + "-n" + (i + 1) + "-vrrp.pid").toString());
        }
        daemons[i] = pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(logs[i].toFile()))
                .start();
    }

    Path haraftConfig(int i) throws IOException {
        String members = "n1=" + NET + "1:7001,n2=" + NET + "2:7001,n3=" + NET + "3:7001";
        Path data = work.resolve("haraft-data-" + daemonGeneration + "-n" + (i + 1));
        String text = "cluster.id = vipbench\nnode.id = n" + (i + 1) + "\nmembers = " + members + "\n"
                + "data.dir = " + data + "\nheartbeat.ms = 100\nelection.ms = 300\n"
                + "vip = " + VIP + "/24\ninterface = eth0\nip.command = " + IP + "\narping.command = /usr/bin/arping\n";
        Path f = work.resolve("haraft-n" + (i + 1) + ".properties");
        Files.writeString(f, text);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
        return f;
    }

    Path keepalivedConfig(int i) throws IOException {
        String advert = system.equals("keepalived-0.1") ? "0.1" : "1";
        // Equal priorities and nopreempt: no node is preferred (like Raft), a restored node stays backup.
        // Gratuitous ARPs like ha-vipd's defaults: 5 at once, 5 more after 5 s.
        String text = "global_defs {\n  router_id n" + (i + 1) + "\n  vrrp_version 3\n"
                + "  vrrp_garp_master_delay 5\n  vrrp_garp_master_repeat 5\n}\n"
                + "vrrp_instance VI_1 {\n  state BACKUP\n  interface eth0\n  virtual_router_id 51\n"
                + "  priority 100\n  advert_int " + advert + "\n  nopreempt\n"
                + "  virtual_ipaddress {\n    " + VIP + "/24 dev eth0\n  }\n}\n";
        Path f = work.resolve(system + "-n" + (i + 1) + ".conf");
        Files.writeString(f, text);
        return f;
    }

    /** kill -9 (or SIGTERM) of node i's daemon: its children first (keepalived's VRRP child, arpings), then itself. */
    void kill(int i, boolean nine) {
        Process p = daemons[i];
        if (p == null) {
            return;
        }
        List<ProcessHandle> children = p.descendants().toList();
        if (nine) {
            children.forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        } else {
            p.destroy();
        }
        try {
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        children.forEach(ProcessHandle::destroyForcibly);
        daemons[i] = null;
    }

    void stopAll() throws Exception {
        for (int i = 0; i < 3; i++) {
            kill(i, false);
        }
        for (int i = 0; i < 3; i++) {
            run(IP, "-n", nodes[i], "addr", "del", VIP + "/24", "dev", "eth0"); // leftovers, if any
        }
    }

    /** Whether node i's daemon is up and part of the group (haraft: knows the leader; keepalived: BACKUP or MASTER). */
    boolean joined(int i, long fromOffset) {
        if (daemons[i] == null || !daemons[i].isAlive()) {
            return false;
        }
        String text = readFrom(logs[i], fromOffset);
        if (system.equals("haraft")) {
            return Pattern.compile("leader is now n\\d").matcher(text).find();
        }
        return text.contains("Entering BACKUP STATE") || text.contains("Entering MASTER STATE");
    }

    // ------------------------------------------------------------------ one rep

    void rep(String scenario, int rep) throws Exception {
        int old = -1;
        try {
            old = awaitSettled(60_000);
        } catch (IllegalStateException e) {
            log("rep " + scenario + "#" + rep + ": " + e.getMessage() + "; restarting the daemons");
            stopAll();
            startAll();
            old = awaitSettled(60_000);
        }
        final int o = old;
        boolean exemptOld = scenario.equals("kill9");
        long t0;
        Path nft = null;
        switch (scenario) {
            case "kill9" -> {
                t0 = System.currentTimeMillis();
                kill(o, true);
            }
            case "sigterm" -> {
                t0 = System.currentTimeMillis();
                daemons[o].destroy();
            }
            case "portdown" -> {
                t0 = System.currentTimeMillis();
                bridgeIp.write("link set p" + (o + 1) + " down\n");
                bridgeIp.flush();
            }
            case "partition" -> {
                List<String> others = new ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    if (i != o) {
                        others.add("\"p" + (i + 1) + "\"");
                    }
                }
                String set = "{ " + String.join(", ", others) + " }";
                nft = work.resolve("partition.nft");
                Files.writeString(nft, "table bridge vipbench {\n  chain forward {\n"
                        + "    type filter hook forward priority 0; policy accept;\n"
                        + "    iifname \"p" + (o + 1) + "\" oifname " + set + " drop\n"
                        + "    iifname " + set + " oifname \"p" + (o + 1) + "\" drop\n  }\n}\n");
                sh(IP, "netns", "exec", br, "nft", "-f", nft.toString());
                t0 = System.currentTimeMillis(); // the rules are in force once nft has returned
            }
            default -> throw new IllegalArgumentException("unknown scenario " + scenario);
        }
        // observe
        long deadline = t0 + 20_000;
        long sw = -1;
        while (System.currentTimeMillis() < deadline) {
            long first = replies.firstNotFromAfter(o, t0);
            if (first > 0) {
                sw = first - t0;
                break;
            }
            Thread.sleep(20);
        }
        long end = sw >= 0 ? Math.max(t0 + 3000, t0 + sw + 1000) : deadline;
        while (System.currentTimeMillis() < end + 50) {
            Thread.sleep(20);
        }
        long gap = replies.longestGap(t0, end);
        int dual = sampler.dualBetween(t0, end, exemptOld ? o : -1);
        int dualAll = sampler.dualBetween(t0, end, -1);
        int newNode = sw >= 0 ? replies.firstNodeNotFromAfter(o, t0) : -1;
        String row = String.format(Locale.ROOT, "%s,%s,%d,n%d,%s,%s,%d,%d,%d,%d,%.1f", system, scenario, rep, o + 1,
                newNode >= 0 ? "n" + (newNode + 1) : "-", sw >= 0 ? Long.toString(sw) : "timeout", gap, dual, dualAll,
                sampler.roundsBetween(t0, end), sampler.msPerRound(t0, end));
        repRows.add(row);
        results.computeIfAbsent(system + "," + scenario, k -> new ArrayList<>()).add(new long[] {sw, gap, dual});
        log(String.format(Locale.ROOT, "%s %s #%d: old n%d -> %s, switch %s ms, longest gap %d ms, dual samples %d"
                        + " (%d incl. dead node), holders now %s", system, scenario, rep, o + 1,
                newNode >= 0 ? "n" + (newNode + 1) : "none", sw >= 0 ? sw : "timeout", gap, dual, dualAll,
                sampler.holdersNow()));
        // restore
        switch (scenario) {
            case "kill9", "sigterm" -> {
                if (daemons[o] != null) {
                    kill(o, false); // SIGTERM: wait for it to have exited
                }
                long off = size(logs[o]);
                start(o);
                awaitQuiet(60_000, () -> joined(o, off));
                if (scenario.equals("kill9")) {
                    // ha-vipd removes the leftover at start; keepalived as backup should too. Otherwise note it.
                    awaitQuiet(5_000, () -> sampler.holdsNow(o) == false || sampler.soleHolder() == o);
                    if (sampler.holdsNow(o) && sampler.soleHolder() != o) {
                        note(system + " kill9 #" + rep + ": restarted n" + (o + 1) + " left the dead process's VIP"
                                + " on its interface; removed by the benchmark");
                        run(IP, "-n", nodes[o], "addr", "del", VIP + "/24", "dev", "eth0");
                    }
                }
            }
            case "portdown" -> {
                bridgeIp.write("link set p" + (o + 1) + " up\n");
                bridgeIp.flush();
            }
            case "partition" -> sh(IP, "netns", "exec", br, "nft", "delete", "table", "bridge", "vipbench");
            default -> { }
        }
    }

    /** Waits for a settled holder and returns it. */
    int awaitSettled(long ms) throws Exception {
        long deadline = System.currentTimeMillis() + ms;
        while (System.currentTimeMillis() < deadline) {
            int h = settled();
            boolean allUp = true;
            for (int i = 0; i < 3; i++) {
                allUp &= daemons[i] != null && daemons[i].isAlive();
            }
            if (h >= 0 && allUp) {
                return h;
            }
            Thread.sleep(50);
        }
        throw new IllegalStateException("no settled holder within " + ms + " ms (holders " + sampler.holdersNow()
                + ", last reply from n" + (replies.lastFrom() + 1) + ")");
    }

    /** The sole VIP holder if it answered the client's last 150 pings (1.5 s), else -1. */
    int settled() {
        int h = sampler.soleHolder();
        return h >= 0 && replies.lastNAllFrom(150) == h ? h : -1;
    }

    // ------------------------------------------------------------------ output

    void writeOutput() throws IOException {
        StringBuilder csv = new StringBuilder("system,scenario,reps,switch_p50_ms,switch_max_ms,longest_gap_ms,dual_holder_samples\n");
        StringBuilder md = new StringBuilder();
        md.append("| system | scenario | reps | switch p50 (ms) | switch max (ms) | longest reply gap (ms) | dual-holder samples |\n");
        md.append("|---|---|---|---|---|---|---|\n");
        for (Map.Entry<String, List<long[]>> e : results.entrySet()) {
            List<long[]> rs = e.getValue();
            long[] sw = rs.stream().filter(r -> r[0] >= 0).mapToLong(r -> r[0]).sorted().toArray();
            int timeouts = rs.size() - sw.length;
            String p50 = sw.length == 0 ? "-" : Long.toString(median(sw));
            String max = sw.length == 0 ? "-" : Long.toString(sw[sw.length - 1]);
            if (timeouts > 0) {
                max = max + " (+" + timeouts + " timeout)";
            }
            long gap = rs.stream().mapToLong(r -> r[1]).max().orElse(0);
            long dual = rs.stream().mapToLong(r -> r[2]).sum();
            String[] k = e.getKey().split(",");
            csv.append(String.join(",", k[0], k[1], Integer.toString(rs.size()), p50, max.replace(",", ";"),
                    Long.toString(gap), Long.toString(dual))).append('\n');
            md.append("| ").append(k[0]).append(" | ").append(k[1]).append(" | ").append(rs.size()).append(" | ")
                    .append(p50).append(" | ").append(max).append(" | ").append(gap).append(" | ").append(dual)
                    .append(" |\n");
        }
        Files.writeString(out.resolve("vip-failover.csv"), csv);
        Files.writeString(out.resolve("vip-failover-reps.csv"),
                "system,scenario,rep,old_holder,new_holder,switch_ms,longest_gap_ms,dual_holder_samples,"
                        + "dual_incl_dead_node,sampler_rounds,ms_per_round\n" + String.join("\n", repRows) + "\n");
        String n = notes.length() == 0 ? "" : "\nNotes:\n" + notes;
        Files.writeString(out.resolve("vip-failover.md"), md + n);
        System.out.println();
        System.out.print(md);
        System.out.print(n);
    }

    static long median(long[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    // ------------------------------------------------------------------ helpers

    void note(String s) {
        log("NOTE " + s);
        notes.append("- ").append(s).append('\n');
    }

    static void log(String s) {
        System.out.printf("%tT %s%n", System.currentTimeMillis(), s);
    }

    static long size(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            return 0;
        }
    }

    static String readFrom(Path p, long off) {
        try {
            byte[] b = Files.readAllBytes(p);
            return off >= b.length ? "" : new String(b, (int) off, b.length - (int) off, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    static void await(long ms, BooleanSupplier c, String what) throws InterruptedException {
        long deadline = System.currentTimeMillis() + ms;
        while (!c.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) {
                throw new IllegalStateException(what);
            }
            Thread.sleep(50);
        }
    }

    static void awaitQuiet(long ms, BooleanSupplier c) throws InterruptedException {
        long deadline = System.currentTimeMillis() + ms;
        while (!c.getAsBoolean() && System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
        }
    }

    static String run(String... argv) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String o = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
            p.destroyForcibly();
        }
        return p.exitValue() + ":" + o;
    }

    static void sh(String... argv) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String o = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(20, TimeUnit.SECONDS);
        if (p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", argv) + " failed: " + o);
        }
    }

    // ------------------------------------------------------------------ client replies

    static final class Replies {
        private static final Pattern REPLY = Pattern.compile("^\\[(\\d+)\\.(\\d{6})] \\d+ bytes from [0-9.]+: icmp_seq=\\d+ ttl=(\\d+)");
        private final List<long[]> seen = new CopyOnWriteArrayList<>();

        Replies(Process ping) {
            Thread t = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(ping.getInputStream(), StandardCharsets.US_ASCII))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        Matcher m = REPLY.matcher(line);
                        if (m.find()) {
                            long ms = Long.parseLong(m.group(1)) * 1000 + Long.parseLong(m.group(2)) / 1000;
                            seen.add(new long[] {ms, Integer.parseInt(m.group(3)) - 61});
                        }
                    }
                } catch (IOException e) {
                    // ping stopped
                }
            }, "ping-reader");
            t.setDaemon(true);
            t.start();
        }

        int lastNAllFrom(int n) {
            int size = seen.size();
            if (size < n) {
                return -1;
            }
            long node = seen.get(size - 1)[1];
            for (int i = size - n; i < size; i++) {
                if (seen.get(i)[1] != node) {
                    return -1;
                }
            }
            return (int) node;
        }

        int lastFrom() {
            return seen.isEmpty() ? -1 : (int) seen.get(seen.size() - 1)[1];
        }

        private long[] firstNotFrom(int node, long after) {
            for (int i = seen.size() - 1; i >= 0; i--) { // scan back to t0, then forward
                if (seen.get(i)[0] < after) {
                    for (int j = i + 1; j < seen.size(); j++) {
                        if (seen.get(j)[1] != node) {
                            return seen.get(j);
                        }
                    }
                    return null;
                }
            }
            return null;
        }

        long firstNotFromAfter(int node, long after) {
            long[] r = firstNotFrom(node, after);
            return r == null ? -1 : r[0];
        }

        int firstNodeNotFromAfter(int node, long after) {
            long[] r = firstNotFrom(node, after);
            return r == null ? -1 : (int) r[1];
        }

        /** Longest interval between consecutive replies from the last reply before t0 to end (end counts as a reply). */
        long longestGap(long t0, long end) {
            long prev = -1;
            long longest = 0;
            for (long[] s : seen) {
                if (s[0] < t0) {
                    prev = s[0];
                    continue;
                }
                if (s[0] > end) {
                    break;
                }
                if (prev >= 0) {
                    longest = Math.max(longest, s[0] - prev);
                }
                prev = s[0];
            }
            if (prev >= 0) {
                longest = Math.max(longest, end - prev);
            }
            return longest;
        }
    }

    // ------------------------------------------------------------------ dual-holder sampler

    static final class Sampler {
        private final String[] ns;
        private final AddrReader[] readers;
        private final boolean[] holds;
        /** Per round: {wall-clock millis at round end, holder bitmask, confirmed dual (1/0)}. */
        private final List<long[]> rounds = new CopyOnWriteArrayList<>();
        private volatile boolean running = true;
        private Thread thread;

        Sampler(String[] ns) {
            this.ns = ns.clone();
            readers = new AddrReader[ns.length];
            for (int i = 0; i < ns.length; i++) {
                readers[i] = new AddrReader(ns[i]);
            }
            holds = new boolean[ns.length];
        }

        void start() {
            thread = new Thread(this::loop, "sampler");
            thread.setDaemon(true);
            thread.start();
        }

        private void loop() {
            long next = System.nanoTime();
            while (running) {
                int mask = 0;
                for (int i = 0; i < ns.length && running; i++) {
                    boolean h = read(i);
                    synchronized (this) {
                        holds[i] = h;
                    }
                    if (h) {
                        mask |= 1 << i;
                    }
                }
                if (!running) {
                    break;
                }
                // confirm a dual round: re-read the first holder (still holding = held throughout the round)
                int confirmedMask = 0;
                if (Integer.bitCount(mask) >= 2) {
                    int first = Integer.numberOfTrailingZeros(mask);
                    confirmedMask = read(first) ? mask : 0;
                }
                rounds.add(new long[] {System.currentTimeMillis(), mask, confirmedMask});
                next += 10_000_000;
                long now = System.nanoTime();
                if (next < now) {
                    next = now;
                }
                LockSupport.parkNanos(next - now);
            }
        }

        private boolean read(int i) {
            try {
                return readers[i].holdsVip();
            } catch (IOException e) {
                if (!running) {
                    return false;
                }
                readers[i].close();
                readers[i] = new AddrReader(ns[i]);
                try {
                    return readers[i].holdsVip();
                } catch (IOException again) {
                    throw new IllegalStateException("cannot read addresses of " + ns[i], again);
                }
            }
        }

        /** Confirmed rounds in [from, to] with two or more holders, not counting node {@code exempt} (-1: none). */
        int dualBetween(long from, long to, int exempt) {
            int n = 0;
            for (long[] r : rounds) {
                if (r[0] >= from && r[0] <= to) {
                    long m = r[2] & ~(exempt >= 0 ? 1L << exempt : 0L);
                    if (Long.bitCount(m) >= 2) {
                        n++;
                    }
                }
            }
            return n;
        }

        int roundsBetween(long from, long to) {
            int n = 0;
            for (long[] r : rounds) {
                if (r[0] >= from && r[0] <= to) {
                    n++;
                }
            }
            return n;
        }

        double msPerRound(long from, long to) {
            int n = roundsBetween(from, to);
            return n == 0 ? 0 : (double) (to - from) / n;
        }

        synchronized int soleHolder() {
            int h = -1;
            for (int i = 0; i < holds.length; i++) {
                if (holds[i]) {
                    if (h >= 0) {
                        return -1;
                    }
                    h = i;
                }
            }
            return h;
        }

        synchronized boolean holdsNow(int i) {
            return holds[i];
        }

        synchronized String holdersNow() {
            List<String> h = new ArrayList<>();
            for (int i = 0; i < holds.length; i++) {
                if (holds[i]) {
                    h.add("n" + (i + 1));
                }
            }
            return h.toString();
        }

        void stop() throws InterruptedException {
            running = false;
            if (thread != null) {
                thread.join(5_000);
            }
            Arrays.stream(readers).forEach(AddrReader::close);
        }
    }

    /** {@code ip -o -4 -force -n NS -batch -}, kept running; each read is a netlink dump, no process start. */
    static final class AddrReader {
        private final Process process;
        private final Writer in;
        private final BufferedReader out;

        AddrReader(String ns) {
            try {
                process = new ProcessBuilder("stdbuf", "-oL", IP, "-o", "-4", "-force", "-n", ns, "-batch", "-")
                        .redirectErrorStream(true).start();
            } catch (IOException e) {
                throw new IllegalStateException("cannot start ip -batch for " + ns, e);
            }
            in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.US_ASCII);
            out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.US_ASCII));
        }

        boolean holdsVip() throws IOException {
            in.write("addr show dev eth0\naddr show dev lo\n");
            in.flush();
            boolean holds = false;
            String line;
            while ((line = out.readLine()) != null) {
                if (line.startsWith("1: lo")) {
                    return holds;
                }
                if (line.contains(" " + VIP + "/")) {
                    holds = true;
                }
            }
            throw new IOException("ip -batch ended");
        }

        void close() {
            process.destroyForcibly();
        }
    }
}
