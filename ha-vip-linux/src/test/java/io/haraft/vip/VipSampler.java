package io.haraft.vip;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Samples which node namespaces carry each of one or more VIPs, in rounds started every 10 ms, and
 * records every round in which two namespaces hold one VIP at once. A round puts the question to
 * every namespace's {@link AddrReader} first and only then collects the answers, so the kernel's
 * address dumps of one round run within about a millisecond of each other.
 *
 * <p>A round that shows two (non-exempt) holders of a VIP is confirmed by a second round right
 * away: if both still hold, each held the VIP throughout an interval that reaches from the first
 * round into the second, and two such intervals overlap (each starts before the other ends), so
 * the two held it at the same instant. The confirmation is needed because one round is not one
 * instant: its dumps are spread over the round's span (more when a reader process is
 * descheduled), and a handover whose release and takeover both fall inside that span would look
 * like two holders. The fastest legitimate handover, after SIGTERM, still needs {@code ip addr
 * del}, a vote and a new {@code ip addr add} process, several ms; so a round that saw two holders
 * within {@link #TIGHT_ROUND_NANOS} counts as two holders even when the overlap had ended by the
 * second round (a short overlap is not missed). A slower round that the second round does not
 * confirm is reported as inconclusive, not as a failure.
 *
 * <p>Every change of who holds what is recorded ({@link #changes()}), with the time since the
 * start, so that a failing scenario shows where each VIP was.
 */
final class VipSampler {
    /** A round whose answers all came back this soon after its first question is taken as one instant. */
    static final long TIGHT_ROUND_NANOS = 1_000_000;
    private static final long PERIOD_NANOS = 10_000_000;

    private final List<String> namespaces;
    private final List<String> vips;
    private final AddrReader[] readers;
    /** holds[node][vip] as of the last round. */
    private final boolean[][] holds;
    private final boolean[] exempt;
    private final List<String> dual = new CopyOnWriteArrayList<>();
    private final List<String> inconclusive = new CopyOnWriteArrayList<>();
    private final List<String> changes = new CopyOnWriteArrayList<>();
    private final AtomicInteger samples = new AtomicInteger();
    private final AtomicInteger rounds = new AtomicInteger();
    /** When each scheduled round started (System.nanoTime), for the interval check; sampler thread only until stop(). */
    private final List<Long> roundStarts = new ArrayList<>();
    private final AtomicReference<Thread> thread = new AtomicReference<>();
    private volatile boolean running = true;
    private String lastPicture = "";
    private long startedAt;
    private long stoppedAt;

    /**
     * @param namespaces the node namespaces, node i in element i
     * @param vips       the VIPs' addresses as {@code ip} prints them, without prefix
     */
    VipSampler(List<String> namespaces, List<String> vips) {
        this.namespaces = List.copyOf(namespaces);
        this.vips = List.copyOf(vips);
        this.readers = new AddrReader[namespaces.size()];
        for (int i = 0; i < readers.length; i++) {
            readers[i] = reader(i);
        }
        this.holds = new boolean[namespaces.size()][vips.size()];
        this.exempt = new boolean[namespaces.size()];
    }

    private AddrReader reader(int i) {
        return new AddrReader(namespaces.get(i), vips.toArray(new String[0]));
    }

    void start() {
        Thread t = new Thread(this::loop, "vip-holder-sampler");
        t.setDaemon(true);
        thread.set(t);
        startedAt = System.nanoTime();
        t.start();
    }

    private void loop() {
        long next = System.nanoTime();
        while (running) {
            long t0 = System.nanoTime();
            boolean[][] round = round();
            long span = System.nanoTime() - t0;
            roundStarts.add(t0);
            List<int[]> suspects = new ArrayList<>(); // {vip, node, node, ...}
            synchronized (this) {
                for (int i = 0; i < round.length; i++) {
                    holds[i] = round[i];
                }
                for (int v = 0; v < vips.size(); v++) {
                    List<Integer> both = new ArrayList<>();
                    for (int i = 0; i < round.length; i++) {
                        if (round[i][v] && !exempt[i]) {
                            both.add(i);
                        }
                    }
                    if (both.size() >= 2) {
                        int[] s = new int[both.size() + 1];
                        s[0] = v;
                        for (int k = 0; k < both.size(); k++) {
                            s[k + 1] = both.get(k);
                        }
                        suspects.add(s);
                    }
                }
                String picture = picture();
                if (!picture.equals(lastPicture)) {
                    lastPicture = picture;
                    changes.add(String.format(Locale.ROOT, "+%.2f s %s", (t0 - startedAt) / 1e9, picture));
                }
            }
            if (!suspects.isEmpty() && running) {
                boolean[][] again = round();
                for (int[] s : suspects) {
                    int v = s[0];
                    boolean confirmed = true;
                    List<String> who = new ArrayList<>();
                    for (int k = 1; k < s.length; k++) {
                        confirmed &= again[s[k]][v];
                        who.add(namespaces.get(s[k]));
                    }
                    String what = "VIP " + vips.get(v) + " on " + who + " in round " + rounds.get()
                            + " (its answers within " + span / 1000 + " us)";
                    if (confirmed) {
                        dual.add(what + ", and again in the next round");
                    } else if (span <= TIGHT_ROUND_NANOS) {
                        dual.add(what + "; gone from one of them by the next round (a short overlap)");
                    } else {
                        inconclusive.add(what + ", not both in the next round: a handover inside the round, or an"
                                + " overlap shorter than it");
                    }
                }
            }
            rounds.incrementAndGet();
            next += PERIOD_NANOS;
            long now = System.nanoTime();
            if (next < now) {
                next = now; // behind schedule: no catching up in a burst
            }
            LockSupport.parkNanos(next - now);
        }
    }

    /** Asks every namespace, then collects every answer: [node][vip]. */
    private boolean[][] round() {
        boolean[][] round = new boolean[readers.length][vips.size()];
        boolean[] asked = new boolean[readers.length];
        for (int i = 0; i < readers.length; i++) {
            try {
                readers[i].ask();
                asked[i] = true;
            } catch (IOException e) {
                asked[i] = false;
            }
        }
        for (int i = 0; i < readers.length && running; i++) {
            Set<String> held = answer(i, asked[i]);
            for (int v = 0; v < vips.size(); v++) {
                round[i][v] = held.contains(vips.get(v));
            }
            samples.incrementAndGet();
        }
        return round;
    }

    private Set<String> answer(int i, boolean asked) {
        try {
            if (asked) {
                return readers[i].answerAll();
            }
        } catch (IOException e) {
            // restarted below
        }
        if (!running) {
            return Set.of();
        }
        readers[i].close();
        readers[i] = reader(i); // one restart, then the error stands
        try {
            readers[i].ask();
            return readers[i].answerAll();
        } catch (IOException again) {
            throw new AssertionError("cannot read the addresses of " + namespaces.get(i), again);
        }
    }

    /** Who holds what, as {@code [n1: .51, n2: -, ...]}; exempt nodes marked. Caller holds the lock. */
    private String picture() {
        List<String> p = new ArrayList<>();
        for (int i = 0; i < holds.length; i++) {
            List<String> held = new ArrayList<>();
            for (int v = 0; v < vips.size(); v++) {
                if (holds[i][v]) {
                    held.add(vips.get(v));
                }
            }
            p.add("n" + (i + 1) + (exempt[i] ? " (exempt)" : "") + ": " + (held.isEmpty() ? "-"
                    : String.join(" ", held)));
        }
        return p.toString();
    }

    synchronized boolean holds(int node, int vip) {
        return holds[node][vip];
    }

    /** The one node that holds VIP {@code vip} now (exempt nodes not counted), or -1. */
    synchronized int soleHolder(int vip) {
        int h = -1;
        for (int i = 0; i < holds.length; i++) {
            if (holds[i][vip] && !exempt[i]) {
                if (h >= 0) {
                    return -1;
                }
                h = i;
            }
        }
        return h;
    }

    /** Who holds what now, for failure messages. */
    synchronized String holdersNow() {
        return picture();
    }

    synchronized void exempt(int i) {
        exempt[i] = true;
    }

    synchronized void unexempt(int i) {
        exempt[i] = false;
    }

    void stop() throws InterruptedException {
        if (!running) {
            return;
        }
        running = false;
        stoppedAt = System.nanoTime();
        Thread t = thread.get();
        if (t != null) {
            t.join(10_000);
        }
        for (AddrReader r : readers) {
            r.close();
        }
    }

    /** The rounds so far that showed two holders of one VIP (see the class documentation). */
    List<String> dual() {
        return List.copyOf(dual);
    }

    /** Every change of who holds what, with the seconds since the start. */
    List<String> changes() {
        return List.copyOf(changes);
    }

    /**
     * Stops sampling and asserts what it saw: no two holders of a VIP at once, and that it really
     * sampled about every 10 ms (median interval between rounds at most 20 ms, a generous bound on a
     * loaded 2-core machine; and on average at least a round every 40 ms). Prints the figures.
     */
    void stopAndAssertNoTwoHolders(String name) throws InterruptedException {
        stop();
        double[] intervals = new double[Math.max(0, roundStarts.size() - 1)];
        for (int i = 1; i < roundStarts.size(); i++) {
            intervals[i - 1] = (roundStarts.get(i) - roundStarts.get(i - 1)) / 1e6;
        }
        Arrays.sort(intervals);
        double median = intervals.length == 0 ? Double.NaN : intervals[intervals.length / 2];
        double p99 = intervals.length == 0 ? Double.NaN : intervals[(int) (intervals.length * 0.99)];
        double max = intervals.length == 0 ? Double.NaN : intervals[intervals.length - 1];
        double seconds = (stoppedAt - startedAt) / 1e9;
        System.out.printf(Locale.ROOT, "%s: %d holder samples in %d rounds over %.1f s; interval between rounds"
                        + " median %.1f ms, p99 %.1f ms, max %.1f ms; %d inconclusive rounds %s%n", name,
                samples.get(), rounds.get(), seconds, median, p99, max, inconclusive.size(), inconclusive);
        assertThat(dual).as("rounds with two holders of one VIP").isEmpty();
        assertThat(median).as("median interval between sampler rounds (ms)").isLessThanOrEqualTo(20.0);
        assertThat((double) rounds.get()).as("sampler rounds in %.1f s", seconds)
                .isGreaterThanOrEqualTo(seconds * 1000 / 40);
    }
}
