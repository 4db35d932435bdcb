package io.haraft.examples;

/**
 * Whether a link answers at least 99.9% of heartbeats, judged from a count of heartbeats and
 * losses with a one-sided exact binomial test at 95% confidence.
 *
 * <ul>
 *   <li>{@link Outcome#PASS}: so few losses would happen less than 5% of the time if the link lost
 *       0.1% or more, so it loses less than 0.1%;</li>
 *   <li>{@link Outcome#FAIL}: so many losses would happen less than 5% of the time if the link lost
 *       at most 0.1%, so it loses more;</li>
 *   <li>{@link Outcome#INCONCLUSIVE}: neither, because too few heartbeats were measured; then
 *       {@link #needed()} says how many heartbeats, with no further loss, would give a PASS
 *       (2,995 without any loss).</li>
 * </ul>
 *
 * <p>Immutable. The observed share alone does not decide: 1,000 of 1,000 answered is 100%, but a
 * link that loses one heartbeat in a thousand answers all of 1,000 more than a third of the time.
 *
 * @param outcome    the verdict
 * @param heartbeats heartbeats whose outcome is known
 * @param lost       of those, the unanswered ones
 * @param needed     for INCONCLUSIVE, the heartbeats needed for a PASS if none more is lost; else 0
 */
public record LinkVerdict(Outcome outcome, long heartbeats, long lost, long needed) {
    /** The share of answered heartbeats a link must exceed: 99.9%. */
    public static final double THRESHOLD = 0.999;
    /** The confidence of a PASS or a FAIL: 95%. */
    public static final double CONFIDENCE = 0.95;

    private static final double LOSS = 1 - THRESHOLD;
    private static final double ALPHA = 1 - CONFIDENCE;

    /** The verdict on a link. */
    public enum Outcome {
        /** Answers more than 99.9% of heartbeats (at 95% confidence). */
        PASS,
        /** Answers less than 99.9% of heartbeats (at 95% confidence). */
        FAIL,
        /** Too few heartbeats were measured to say. */
        INCONCLUSIVE
    }

    /**
     * Judges a link from its counts.
     *
     * @throws IllegalArgumentException if a count is negative or more heartbeats were answered than sent
     */
    public static LinkVerdict judge(long sent, long answered) {
        if (sent < 0 || answered < 0 || answered > sent) {
            throw new IllegalArgumentException("need 0 <= answered <= sent, got " + answered + " answered of " + sent);
        }
        long lost = sent - answered;
        if (atMost(lost, sent) <= ALPHA) {
            return new LinkVerdict(Outcome.PASS, sent, lost, 0);
        }
        if (lost > 0 && 1 - atMost(lost - 1, sent) <= ALPHA) {
            return new LinkVerdict(Outcome.FAIL, sent, lost, 0);
        }
        return new LinkVerdict(Outcome.INCONCLUSIVE, sent, lost, neededForPass(lost, sent));
    }

    /** The answered share ({@code 1.0} when no heartbeat was measured). */
    public double answeredShare() {
        return heartbeats == 0 ? 1.0 : (double) (heartbeats - lost) / heartbeats;
    }

    /** The fewest heartbeats, at least {@code from}, in which {@code lost} losses give a PASS. */
    static long neededForPass(long lost, long from) {
        long lo = Math.max(from, lost);   // P(X <= lost) decreases as n grows: search the first n that passes
        long hi = Math.max(lo, 1);
        while (atMost(lost, hi) > ALPHA) {
            lo = hi;
            hi *= 2;
        }
        while (lo < hi) {
            long mid = lo + (hi - lo) / 2;
            if (atMost(lost, mid) <= ALPHA) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return hi;
    }

    /**
     * P(X <= k) for X ~ Binomial(n, 0.001), summed in log space so that long runs do not underflow.
     */
    static double atMost(long k, long n) {
        if (k >= n) {
            return 1.0;
        }
        double logRatio = Math.log(LOSS) - Math.log1p(-LOSS);
        double logPmf = n * Math.log1p(-LOSS);       // P(X = 0)
        double max = logPmf;
        double[] terms = new double[(int) k + 1];
        terms[0] = logPmf;
        for (int i = 0; i < k; i++) {
            logPmf += Math.log(n - i) - Math.log(i + 1.0) + logRatio;
            terms[i + 1] = logPmf;
            max = Math.max(max, logPmf);
        }
        double sum = 0;
        for (double t : terms) {
            sum += Math.exp(t - max);
        }
        return Math.min(1.0, Math.exp(max) * sum);
    }
}
