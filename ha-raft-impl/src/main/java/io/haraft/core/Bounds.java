package io.haraft.core;

import io.haraft.core.log.Entry;

import java.util.List;

/**
 * The bounds the core puts on every counter that comes from the network, so that no message can
 * push a term, an index or a time past the end of a {@code long}, and no arithmetic of the core
 * overflows.
 *
 * <p>Terms grow by one per election, so {@link #MAX_TERM} (2<sup>53</sup>) is out of reach of any
 * real cluster: at one election per millisecond it would take more than 280,000 years. A message
 * whose term is above it (or negative) can only come from a broken or forged peer; the core refuses
 * it without adopting anything from it, and logs a warning naming the sender and the value. The
 * same holds for indexes and offsets above {@link #MAX_INDEX}, for a position that contradicts the
 * sender's own term (an entry or snapshot of a later term than the message), and for a leader's
 * stickiness above {@link #MAX_STICKINESS_NANOS}. Stateless; thread-safe.
 */
public final class Bounds {
    /** The largest term a node accepts from the network or reaches by campaigning: 2^53. */
    public static final long MAX_TERM = 1L << 53;
    /** The largest log index, snapshot offset or heartbeat round accepted: 2^62. */
    public static final long MAX_INDEX = 1L << 62;
    /** The largest leader stickiness (election timeout) a leader may ask followers to honour: 60 s. */
    public static final long MAX_STICKINESS_NANOS = 60_000_000_000L;

    private Bounds() {
    }

    /**
     * Why {@code m} is out of bounds ("field value"), or {@code null} if every counter in it is
     * within bounds and consistent with the sender's term.
     */
    public static String violation(Message m) {
        long t = m.term();
        if (t < 0 || t > MAX_TERM) {
            return "term " + t;
        }
        if (m instanceof Message.PreVote v) {
            return firstOf(index("lastIndex", v.lastIndex()), term("lastTerm", v.lastTerm(), t));
        } else if (m instanceof Message.Vote v) {
            return firstOf(index("lastIndex", v.lastIndex()), term("lastTerm", v.lastTerm(), t));
        } else if (m instanceof Message.Append a) {
            return firstOf(index("prevIndex", a.prevIndex()), term("prevTerm", a.prevTerm(), t),
                    index("commit", a.commit()), index("round", a.round()),
                    stickiness(a.stickiness()), entries(a.entries(), a.prevIndex(), a.prevTerm(), t));
        } else if (m instanceof Message.AppendResponse r) {
            return firstOf(index("index", r.index()), index("hintIndex", r.hintIndex()),
                    term("hintTerm", r.hintTerm(), MAX_TERM), index("round", r.round()),
                    stickiness(r.stickiness()));
        } else if (m instanceof Message.Heartbeat h) {
            return firstOf(index("commit", h.commit()), index("round", h.round()), stickiness(h.stickiness()));
        } else if (m instanceof Message.HeartbeatResponse r) {
            return firstOf(index("round", r.round()), stickiness(r.stickiness()));
        } else if (m instanceof Message.InstallSnapshot s) {
            return firstOf(index("snapIndex", s.snapIndex()), term("snapTerm", s.snapTerm(), t),
                    index("offset", s.offset()), index("round", s.round()), stickiness(s.stickiness()));
        } else if (m instanceof Message.InstallSnapshotResponse r) {
            return firstOf(index("snapIndex", r.snapIndex()), index("nextOffset", r.nextOffset()),
                    index("round", r.round()), stickiness(r.stickiness()));
        }
        return null;
    }

    private static String index(String field, long value) {
        return value < 0 || value > MAX_INDEX ? field + " " + value : null;
    }

    /** A term in a message must not exceed {@code max}: the sender's own term for its log's terms. */
    private static String term(String field, long value, long max) {
        if (value >= 0 && value <= max) {
            return null;
        }
        return field + " " + value + (max < MAX_TERM && value > max ? " (above the message's term " + max + ")" : "");
    }

    private static String stickiness(long nanos) {
        return nanos < 0 || nanos > MAX_STICKINESS_NANOS ? "stickiness " + nanos + " ns" : null;
    }

    /** Entries follow prevIndex one by one, with terms from prevTerm up to the sender's term, never decreasing. */
    private static String entries(List<Entry> entries, long prevIndex, long prevTerm, long senderTerm) {
        long expected = prevIndex;
        long last = prevTerm;
        for (Entry e : entries) {
            expected++;
            if (e.index() != expected || expected > MAX_INDEX) {
                return "entry index " + e.index() + " (expected " + expected + ")";
            }
            if (e.term() < last || e.term() > senderTerm) {
                return "entry term " + e.term() + " at index " + e.index() + " (expected " + last + ".." + senderTerm
                        + ")";
            }
            last = e.term();
        }
        return null;
    }

    private static String firstOf(String... reasons) {
        for (String r : reasons) {
            if (r != null) {
                return r;
            }
        }
        return null;
    }
}
