package io.haraft.examples;

import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Heartbeat reliability probe: measures the links between hosts before you cluster over them, with
 * the library's own heartbeat counters (not ping). Every member leads in turn, so each measures its
 * links to all the others (see {@link ProbeNode}); the probe prints, per link, the answered share
 * and the round trip p50/p99/max, and a verdict against 99.9% ({@link LinkVerdict}: PASS and FAIL
 * at 95% confidence, INCONCLUSIVE with the number of heartbeats needed when the sample is too
 * small).
 *
 * <p>Across hosts, run on every host with the same members (a throwaway cluster
 * {@value ProbeNode#CLUSTER_ID} in a temporary directory; each host prints the links it measured):
 * <pre>
 * java -jar ha-raft-examples.jar probe --node n1 --members n1=10.0.0.1:7101,n2=10.0.0.2:7101,n3=10.0.0.3:7101 --seconds 60
 * </pre>
 * On one machine, {@code probe [--nodes 3] [--seconds 45]} runs the members on loopback in this JVM.
 * Options: {@code --heartbeat-ms} (5 across hosts, 3 on loopback; at least 3, so that the
 * runtime's 128-heartbeat window lasts longer than the election timeout), {@code --wait-seconds} (how
 * long to wait for every member to start: 120, on loopback 30).
 *
 * <p>One line per link, {@code probe: n1->n2 answered 4000/4000 (100.000%) rtt p50=0.21 ms
 * p99=0.52 ms max=1.90 ms PASS}, and last {@code probe: links=<n> fewest_heartbeats=<h>
 * worst_answered=<share> verdict=<PASS|FAIL|INCONCLUSIVE>}, followed for INCONCLUSIVE by
 * {@code needed=<h>}. Exit code 0 for PASS, 1 for FAIL, 3 for INCONCLUSIVE, 2 for a wrong command line.
 */
public final class LinkProbe {
    static final String USAGE = "usage: probe [--nodes N] [--seconds S] [--heartbeat-ms H]        (members on loopback)\n"
            + "       probe --node ID --members ID=HOST:PORT,ID=HOST:PORT,... [--seconds S] [--heartbeat-ms H]"
            + " [--wait-seconds W]   (on every host)";

    /** 128 heartbeats (the runtime's window) at this interval outlast the 300 ms election timeout. */
    static final int MIN_HEARTBEAT_MS = 3;

    private LinkProbe() {
    }

    public static void main(String[] args) throws Exception {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs the probe as the command line says; returns the exit code. */
    public static int run(String[] args, PrintStream out, PrintStream err) throws IOException, InterruptedException {
        Options o;
        try {
            o = Options.parse(args);
        } catch (IllegalArgumentException e) {
            err.println("probe: " + e.getMessage());
            err.println(USAGE);
            return 2;
        }
        List<ProbeNode.Link> links;
        if (o.node() == null) {
            out.printf("probe: %d members on loopback in this JVM, %d s, heartbeats every %d ms%n", o.members().size(),
                    o.seconds(), o.heartbeatMs());
            links = local(o, out);
        } else {
            out.printf("probe: %s of %s, %d s, heartbeats every %d ms; this host prints the links it measures,"
                    + " run the same command on every host%n", o.node(), o.members().keySet(), o.seconds(), o.heartbeatMs());
            links = new ProbeNode(o.node(), o.members(), o.settings(), m -> out.println("probe: " + m)).run();
        }
        return report(links, o.seconds(), o.heartbeatMs(), out);
    }

    private static List<ProbeNode.Link> local(Options o, PrintStream out) throws IOException, InterruptedException {
        ExecutorService pool = Executors.newFixedThreadPool(o.members().size());
        try {
            List<Future<List<ProbeNode.Link>>> runs = new ArrayList<>();
            for (String id : o.members().keySet()) {
                ProbeNode n = new ProbeNode(id, o.members(), o.settings(), m -> out.println("probe: " + m));
                runs.add(pool.submit(n::run));
            }
            List<ProbeNode.Link> links = new ArrayList<>();
            for (Future<List<ProbeNode.Link>> f : runs) {
                links.addAll(f.get());
            }
            return links;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IllegalStateException("a probe member failed: " + e.getCause(), e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }

    /** Prints one line per link and the verdict line; returns the exit code. */
    static int report(List<ProbeNode.Link> links, int seconds, int heartbeatMs, PrintStream out) {
        List<LinkVerdict> verdicts = new ArrayList<>();
        for (ProbeNode.Link l : links) {
            LinkVerdict v = l.verdict();
            verdicts.add(v);
            String what = l.missing().map(m -> "not measured: " + m).orElse(String.format(Locale.ROOT,
                    "answered %d/%d (%.3f%%) rtt p50=%s p99=%s max=%s", l.answered(), l.sent(), 100 * v.answeredShare(),
                    ms(l.rttP50()), ms(l.rttP99()), ms(l.rttMax())));
            out.printf("probe: %s->%s %s %s%s%n", l.from(), l.to(), what, v.outcome(),
                    v.needed() > 0 ? " (needs " + v.needed() + " heartbeats with no further loss)" : "");
        }
        LinkVerdict.Outcome outcome = overall(verdicts);
        long fewest = verdicts.stream().mapToLong(LinkVerdict::heartbeats).min().orElse(0);
        double worst = verdicts.stream().filter(v -> v.heartbeats() > 0).mapToDouble(LinkVerdict::answeredShare).min()
                .orElse(0);
        long needed = verdicts.stream().mapToLong(LinkVerdict::needed).max().orElse(0);
        if (outcome == LinkVerdict.Outcome.INCONCLUSIVE) {
            out.printf("probe: too few heartbeats to judge 99.9%% at 95%% confidence: the fewest on a link were %d, %d"
                    + " are needed%s%n", fewest, needed, fewest > 0
                    ? "; try --seconds " + (long) Math.ceil(1.2 * seconds * needed / fewest)
                            + (heartbeatMs > MIN_HEARTBEAT_MS ? " or --heartbeat-ms " + MIN_HEARTBEAT_MS : "")
                    : "; check that every member ran");
        }
        out.printf(Locale.ROOT, "probe: links=%d fewest_heartbeats=%d worst_answered=%.5f verdict=%s%s%n", links.size(), fewest,
                worst, outcome, outcome == LinkVerdict.Outcome.INCONCLUSIVE ? " needed=" + needed : "");
        return switch (outcome) {
            case PASS -> 0;
            case FAIL -> 1;
            case INCONCLUSIVE -> 3;
        };
    }

    /** FAIL if a link fails; else INCONCLUSIVE if a link is inconclusive or there is none; else PASS. */
    static LinkVerdict.Outcome overall(List<LinkVerdict> links) {
        if (links.stream().anyMatch(v -> v.outcome() == LinkVerdict.Outcome.FAIL)) {
            return LinkVerdict.Outcome.FAIL;
        }
        if (links.isEmpty() || links.stream().anyMatch(v -> v.outcome() == LinkVerdict.Outcome.INCONCLUSIVE)) {
            return LinkVerdict.Outcome.INCONCLUSIVE;
        }
        return LinkVerdict.Outcome.PASS;
    }

    private static String ms(Duration d) {
        return String.format(Locale.ROOT, "%.2f ms", d.toNanos() / 1e6);
    }

    /** The command line. {@code node} is null on loopback. */
    record Options(String node, Map<String, String> members, int seconds, int heartbeatMs, int waitSeconds) {
        ProbeNode.Settings settings() {
            Duration heartbeat = Duration.ofMillis(heartbeatMs);
            Duration election = Duration.ofMillis(Math.max(300, 3L * heartbeatMs));
            return new ProbeNode.Settings(Duration.ofMillis(1000L * seconds / members.size()), heartbeat, election,
                    Duration.ofSeconds(waitSeconds));
        }

        static Options parse(String[] args) {
            Map<String, String> given = new LinkedHashMap<>();
            for (int i = 0; i < args.length; i++) {
                String flag = args[i];
                if (!List.of("--node", "--members", "--seconds", "--nodes", "--heartbeat-ms", "--wait-seconds").contains(flag)) {
                    throw new IllegalArgumentException("unknown argument '" + flag + "'");
                }
                if (i + 1 == args.length) {
                    throw new IllegalArgumentException(flag + " needs a value");
                }
                given.put(flag, args[++i]);
            }
            String node = given.get("--node");
            if ((node == null) != (given.get("--members") == null)) {
                throw new IllegalArgumentException("--node and --members go together: this host's id and every member");
            }
            boolean local = node == null;
            if (!local && given.containsKey("--nodes")) {
                throw new IllegalArgumentException("--nodes is for the loopback mode; across hosts --members lists them");
            }
            Map<String, String> members = new LinkedHashMap<>();
            if (local) {
                int n = number(given, "--nodes", 3, 3, 7);
                for (int i = 1; i <= n; i++) {
                    members.put("n" + i, "127.0.0.1:" + LoopbackPorts.free());
                }
            } else {
                for (String m : given.get("--members").split(",")) {
                    String[] kv = m.split("=", 2);
                    if (kv.length != 2 || kv[0].isBlank() || !kv[1].matches(".+:\\d+")) {
                        throw new IllegalArgumentException("member '" + m + "' is not ID=HOST:PORT, e.g. n1=10.0.0.1:7101");
                    }
                    if (members.put(kv[0].trim(), kv[1].trim()) != null) {
                        throw new IllegalArgumentException("member " + kv[0] + " is listed twice");
                    }
                }
                if (members.size() < 3) {
                    throw new IllegalArgumentException("list at least 3 members (got " + members.size()
                            + "): the library refuses 2 voters; probe a pair of hosts with a third one");
                }
                if (!members.containsKey(node)) {
                    throw new IllegalArgumentException("--node " + node + " is not one of the members " + members.keySet());
                }
            }
            int seconds = number(given, "--seconds", local ? 45 : 60, members.size(), 86_400);
            // 128 heartbeats (the runtime's window) must span more than the 300 ms election timeout, or an
            // answer slower than 128 heartbeats would count as lost before its time
            int heartbeatMs = number(given, "--heartbeat-ms", local ? MIN_HEARTBEAT_MS : 5, MIN_HEARTBEAT_MS, 1_000);
            int wait = number(given, "--wait-seconds", local ? 30 : 120, 1, 86_400);
            return new Options(node, members, seconds, heartbeatMs, wait);
        }

        private static int number(Map<String, String> given, String flag, int dflt, int min, int max) {
            String v = given.get(flag);
            if (v == null) {
                return dflt;
            }
            try {
                int n = Integer.parseInt(v);
                if (n >= min && n <= max) {
                    return n;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            throw new IllegalArgumentException(flag + " must be a whole number from " + min + " to " + max + ", got '" + v + "'"
                    + (flag.equals("--seconds") ? " (each member leads for at least a second)" : "")
                    + (flag.equals("--heartbeat-ms") ? " (128 heartbeats must last longer than the 300 ms election"
                            + " timeout, or slow answers would count as lost)" : ""));
        }
    }
}
