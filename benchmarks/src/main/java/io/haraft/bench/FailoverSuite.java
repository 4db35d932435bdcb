package io.haraft.bench;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeoutException;
import org.HdrHistogram.Histogram;

/**
 * Failover: 3 nodes, the leader is crashed ({@code kill -9}) or shut down gracefully; the time runs
 * from the fault (driver's clock just before the signal) to the new leader's "can serve" event
 * (node's clock; both are CLOCK_MONOTONIC). After each repetition the old leader is restarted on its
 * data and the next one starts once every node follows the same leader.
 */
final class FailoverSuite {

    static final List<String> COLUMNS = List.of("system", "scenario", "settings", "reps", "p50_ms", "p99_ms", "max_ms");

    private FailoverSuite() {
    }

    static Table run(Options o, Layout layout, Path work) throws Exception {
        Table t = new Table(COLUMNS.toArray(String[]::new));
        for (String system : o.systems()) {
            for (Settings s : o.settings(system)) {
                runSettings(o, layout, work, t, s);
            }
        }
        t.note("crash = leader process killed with kill -9 (SIGKILL); graceful = the system's own graceful shutdown"
                + " of the leader (HA-Raft close() transfers leadership; Ratis transferLeadership then close;"
                + " Atomix 3 has no transfer: RaftServer.shutdown()).");
        t.note("time = fault to the new leader's ready-to-serve event (HA-Raft: elected callback; Ratis:"
                + " notifyLeaderReady; Atomix: leader whose initial entry is committed).");
        t.note("Ratis has no heartbeat setting (it heartbeats at half its minimum rpc timeout); 'equal' gives"
                + " it our randomisation range [300, 600) ms.");
        return t;
    }

    private static void runSettings(Options o, Layout layout, Path work, Table t, Settings s) throws Exception {
        String name = "failover-" + s.system() + "-" + (s.equals(Settings.equal(s.system())) ? "equal" : "alt")
                + "-" + Integer.toHexString(s.label().hashCode());
        Main.log("failover: " + s.system() + " [" + s.label() + "] starting 3 nodes");
        try (Cluster c = new Cluster(layout, s, work, name, 10)) {
            try {
                c.start(Duration.ofSeconds(60));
            } catch (Unavailable e) {
                for (String scenario : List.of("crash", "graceful")) {
                    t.add(s.system(), scenario, s.label(), 0, "unavailable: " + Main.shorten(e.getMessage()), "", "");
                }
                Main.log("failover: " + s.system() + " unavailable: " + e.getMessage());
                return;
            }
            for (String scenario : List.of("crash", "graceful")) {
                Histogram h = new Histogram(3);
                int failed = 0;
                for (int rep = 0; rep < o.reps(); rep++) {
                    try {
                        long[] r = once(c, scenario, o.quick() ? 500 : 2000);
                        h.recordValue(r[0]);
                        Main.log(String.format("failover: %s %s [%s] rep %d: ready %.1f ms (raft leader %s)"
                                        + " fault at %s on %s, new leader %s term %d",
                                s.system(), scenario, s.label(), rep + 1, r[0] / 1000.0,
                                r[1] < 0 ? "n/a" : String.format("%.1f ms", r[1] / 1000.0),
                                java.time.LocalTime.ofNanoOfDay(r[2]).format(
                                        java.time.format.DateTimeFormatter.ofPattern("HH:mm:ss.SSS")),
                                c.lastFault, c.lastNewLeader.node(), c.lastNewLeader.term()));
                    } catch (TimeoutException e) {
                        failed++;
                        Main.log("failover: " + s.system() + " " + scenario + " rep " + (rep + 1) + " failed: "
                                + e.getMessage());
                        if (failed >= 3) {
                            break;
                        }
                    }
                }
                if (h.getTotalCount() == 0) {
                    t.add(s.system(), scenario, s.label(), 0, "unavailable: no repetition completed", "", "");
                } else {
                    t.add(s.system(), scenario, s.label(), h.getTotalCount(),
                            Table.ms(h.getValueAtPercentile(50) / 1000.0), Table.ms(h.getValueAtPercentile(99) / 1000.0),
                            Table.ms(h.getMaxValue() / 1000.0));
                }
                if (failed > 0) {
                    t.note(s.system() + " " + scenario + " [" + s.label() + "]: " + failed
                            + " repetition(s) without a new leader within 30 s, left out");
                }
            }
        } catch (Unavailable e) {
            t.add(s.system(), "?", s.label(), 0, "unavailable: " + Main.shorten(e.getMessage()), "", "");
        }
    }

    /**
     * One fault; returns microseconds from the fault to the new leader's ready event, and to its
     * Raft-level election (-1 if the system does not report it). Before the fault the cluster must be
     * stable and then left alone for {@code settleMs}, so a node restarted by the previous repetition
     * is no longer busy starting up (JIT, class loading) on this 2-core machine.
     */
    private static long[] once(Cluster c, String scenario, long settleMs) throws Exception {
        Cluster.Ready old = c.awaitSettledLeader(Duration.ofMillis(settleMs), Duration.ofSeconds(30));
        long wallNanos = java.time.LocalTime.now().toNanoOfDay();
        long t0 = scenario.equals("crash") ? c.crash(old.node()) : c.stopGracefully(old.node());
        c.lastFault = old.node() + " term " + old.term();
        Cluster.Ready next = c.awaitNewLeader(old, Duration.ofSeconds(30));
        c.lastNewLeader = next;
        long us = Math.max(1, (next.nanos() - t0) / 1_000);
        Cluster.Ready elected = c.leaderEvent(next);
        long leaderUs = elected == null ? -1 : Math.max(1, (elected.nanos() - t0) / 1_000);
        c.restart(old.node(), Duration.ofSeconds(15));
        return new long[] {us, leaderUs, wallNanos};
    }
}
