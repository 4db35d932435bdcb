package io.haraft.examples;

import io.haraft.FencingToken;
import io.haraft.LeaseExpiredException;
import io.haraft.Leadership;
import io.haraft.LeadershipListener;
import io.haraft.RaftGroups;
import io.haraft.RaftNode;
import io.haraft.RevokeReason;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One node of the active-active example, run as its own process by {@link ActiveActiveDemo}: a
 * {@link RaftGroups} node hosting {@value #GROUPS} groups {@code partition-0}..., which processes
 * every partition it leads with fenced writes to the {@link PartitionLedger} in
 * {@code <dataDir>/../ledger} (one write every 200 ms per partition, with the token of the
 * leadership, after checking its lease).
 *
 * <p>Prints one event per line on stdout, with the host's monotonic clock (shared by all
 * processes on Linux) so the driver can time takeovers: {@code ELECTED <node> <group> <token> <nanos>},
 * {@code REVOKED <node> <group> <token> <reason> <nanos>}, {@code WROTE <node> <group> <token>} for
 * the first write of each leadership, and {@code REJECTED <node> <group> <token> <highest>} for
 * every write the ledger refused. Stops on {@code close} or at the end of stdin.
 *
 * <p>Usage: {@code aa-node <id> <dataDir> <id=host:port>...}
 */
public final class ActiveActiveNode {
    static final int GROUPS = 12;

    private ActiveActiveNode() {
    }

    static String partition(int p) {
        return "partition-" + p;
    }

    public static void main(String[] args) throws Exception {
        String self = args[0];
        Path dataDir = Path.of(args[1]);
        PartitionLedger ledger = new PartitionLedger(dataDir.toAbsolutePath().getParent().resolve("ledger"));
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        Map<String, Leadership> led = new ConcurrentHashMap<>();
        RaftNode.Builder b = DemoNode.builder("active-active", self, dataDir, Duration.ofMillis(500))
                .listener(new LeadershipListener() {    // hears every group
                    @Override
                    public void elected(Leadership l) {
                        // printed before the first write, so the driver sees ELECTED before WROTE
                        out.println("ELECTED " + self + " " + l.group() + " " + l.token().value() + " "
                                + System.nanoTime());
                        led.put(l.group(), l);
                    }

                    @Override
                    public void revoked(Leadership l, RevokeReason why) {
                        led.remove(l.group(), l);
                        out.println("REVOKED " + self + " " + l.group() + " " + l.token().value() + " " + why + " "
                                + System.nanoTime());
                    }
                });
        for (int i = 2; i < args.length; i++) {
            String[] kv = args[i].split("=", 2);
            b.member(kv[0], kv[1]);
        }
        ScheduledExecutorService worker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "aa-partition-worker");
            t.setDaemon(true);
            return t;
        });
        try (RaftGroups node = b.buildGroups()) {
            for (int p = 0; p < GROUPS; p++) {
                node.newGroup(partition(p));
            }
            node.start();
            Map<Leadership, AtomicLong> writes = new ConcurrentHashMap<>();
            worker.scheduleWithFixedDelay(() -> {
                writes.keySet().retainAll(led.values());
                for (Leadership l : led.values()) {
                    write(ledger, l, writes.computeIfAbsent(l, k -> new AtomicLong()), self, out);
                }
            }, 0, 200, TimeUnit.MILLISECONDS);
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            for (String line = in.readLine(); line != null && !line.strip().equals("close"); line = in.readLine()) {
                out.println("UNKNOWN " + line);
            }
            worker.shutdownNow();
        }
    }

    /** One fenced write of partition {@code l.group()}: only with a valid lease, refused by the ledger if stale. */
    private static void write(PartitionLedger ledger, Leadership l, AtomicLong count, String self, PrintStream out) {
        FencingToken token;
        try {
            token = l.checkValid();
        } catch (LeaseExpiredException e) {
            return;   // no longer leader (or not sure): this node must not write
        }
        try {
            long seq = count.incrementAndGet();
            long highest = ledger.append(l.group(), token, self, seq);
            if (highest >= 0) {
                out.println("REJECTED " + self + " " + l.group() + " " + token.value() + " " + highest);
            } else if (seq == 1) {
                out.println("WROTE " + self + " " + l.group() + " " + token.value());
            }
        } catch (IOException e) {
            out.println("WRITE-FAILED " + self + " " + l.group() + " " + e.toString().replace(' ', '_'));
        }
    }
}
