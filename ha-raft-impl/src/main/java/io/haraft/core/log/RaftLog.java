package io.haraft.core.log;

import io.haraft.core.quorum.Membership;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The core's in-memory view of a node's log, and of which part of it is durable.
 *
 * <p>Entries up to {@link #stableIndex()} are durable; entries from {@link #unstableFrom()} on have
 * not yet been handed to the runtime for persistence. The log never truncates at or below the
 * commit index: that would lose a committed entry, and it throws instead.
 *
 * <p>Indexes start at 1. Entries at or below the snapshot index ({@code offset}) are compacted away;
 * only their last term and the configuration in force at the snapshot are kept. The log also
 * indexes its configuration entries, so the configuration in force at any index it holds is at
 * hand. Not thread-safe: owned by the core.
 */
public final class RaftLog {
    private long offset;       // index of the last compacted entry (snapshot index); 0 if none
    private long offsetTerm;
    private final ArrayList<Entry> entries = new ArrayList<>();
    private long stableIndex;
    private long unstableFrom;
    private long commitIndex;
    private Membership snapshotMembership;           // in force at the snapshot; null if unknown
    private final TreeMap<Long, Membership> configs = new TreeMap<>();   // CONFIG entries in the log

    /** A log recovered from storage: every given entry is already durable. */
    public RaftLog(long snapshotIndex, long snapshotTerm, List<Entry> durable) {
        this(snapshotIndex, snapshotTerm, null, durable);
    }

    /**
     * A log recovered from storage, after a snapshot whose metadata holds {@code snapshotMembership}
     * ({@code null} if there is no snapshot or it records none): every given entry is already durable.
     */
    public RaftLog(long snapshotIndex, long snapshotTerm, Membership snapshotMembership, List<Entry> durable) {
        this.offset = snapshotIndex;
        this.offsetTerm = snapshotTerm;
        this.snapshotMembership = snapshotMembership;
        long expect = snapshotIndex + 1;
        for (Entry e : durable) {
            if (e.index() != expect) {
                throw new IllegalArgumentException("recovered log is not contiguous: expected index "
                        + expect + " but found " + e);
            }
            expect++;
            add(e);
        }
        this.stableIndex = lastIndex();
        this.unstableFrom = lastIndex() + 1;
        this.commitIndex = snapshotIndex;
    }

    /** An empty log. */
    public static RaftLog empty() {
        return new RaftLog(0, 0, List.of());
    }

    public long firstIndex() {
        return offset + 1;
    }

    /** Index of the last entry covered by the snapshot the log starts after; 0 if none. */
    public long snapshotIndex() {
        return offset;
    }

    /** Term of the entry at {@link #snapshotIndex()}; 0 if none. */
    public long snapshotTerm() {
        return offsetTerm;
    }

    public long lastIndex() {
        return offset + entries.size();
    }

    public long lastTerm() {
        return term(lastIndex());
    }

    public long commitIndex() {
        return commitIndex;
    }

    public long stableIndex() {
        return stableIndex;
    }

    public long unstableFrom() {
        return unstableFrom;
    }

    /**
     * The term of the entry at {@code index}: 0 for index 0 or beyond the end, -1 if compacted.
     */
    public long term(long index) {
        if (index == offset) {
            return offsetTerm;
        }
        if (index < offset) {
            return -1;
        }
        if (index > lastIndex()) {
            return 0;
        }
        return entries.get((int) (index - offset - 1)).term();
    }

    /** The entry at {@code index}, which must be in [firstIndex, lastIndex]. */
    public Entry entry(long index) {
        if (index <= offset || index > lastIndex()) {
            throw new IndexOutOfBoundsException("index " + index + " not in [" + firstIndex() + ", " + lastIndex() + "]");
        }
        return entries.get((int) (index - offset - 1));
    }

    public boolean matchTerm(long index, long term) {
        long t = term(index);
        return t >= 0 && t == term && (index <= lastIndex());
    }

    /** Raft's up-to-date check: is a log ending at (lastIndex, lastTerm) at least as up to date as ours? */
    public boolean isUpToDate(long otherLastIndex, long otherLastTerm) {
        return otherLastTerm > lastTerm() || (otherLastTerm == lastTerm() && otherLastIndex >= lastIndex());
    }

    /** Appends one entry at the end (the leader's own proposals). */
    public void append(Entry e) {
        if (e.index() != lastIndex() + 1) {
            throw new IllegalArgumentException("append at " + e.index() + " but last index is " + lastIndex());
        }
        add(e);
    }

    /**
     * A follower's append: if our log has an entry at {@code prevIndex} with {@code prevTerm},
     * skips entries we already have, truncates at the first conflict and appends the rest.
     *
     * @return the index of the last entry known to match the leader, or -1 if prev does not match
     */
    public long maybeAppend(long prevIndex, long prevTerm, List<Entry> newEntries) {
        if (!matchTerm(prevIndex, prevTerm)) {
            return -1;
        }
        long lastNew = prevIndex + newEntries.size();
        for (int i = 0; i < newEntries.size(); i++) {
            Entry e = newEntries.get(i);
            if (e.index() <= offset) {
                continue;
            }
            if (e.index() <= lastIndex()) {
                if (term(e.index()) == e.term()) {
                    continue;
                }
                truncateFrom(e.index());
            }
            add(e);
        }
        return lastNew;
    }

    private void truncateFrom(long index) {
        if (index <= commitIndex) {
            throw new IllegalStateException("refusing to truncate the log at " + index
                    + ": entries up to " + commitIndex + " are committed (this is a safety bug)");
        }
        entries.subList((int) (index - offset - 1), entries.size()).clear();
        configs.tailMap(index, true).clear();
        stableIndex = Math.min(stableIndex, index - 1);
        unstableFrom = Math.min(unstableFrom, index);
    }

    /** Entries in [from, lastIndex], at most {@code maxCount} of them and about {@code maxBytes}. */
    public List<Entry> slice(long from, int maxCount, long maxBytes) {
        if (from <= offset) {
            throw new IndexOutOfBoundsException("entries before " + firstIndex() + " are compacted (asked " + from + ")");
        }
        if (from > lastIndex()) {
            return List.of();
        }
        List<Entry> out = new ArrayList<>();
        long bytes = 0;
        for (long i = from; i <= lastIndex() && out.size() < maxCount; i++) {
            Entry e = entry(i);
            if (!out.isEmpty() && bytes + e.size() > maxBytes) {
                break;
            }
            bytes += e.size();
            out.add(e);
        }
        return Collections.unmodifiableList(out);
    }

    /** Entries in [from, toInclusive]. */
    public List<Entry> range(long from, long toInclusive) {
        if (from > toInclusive) {
            return List.of();
        }
        return List.copyOf(entries.subList((int) (from - offset - 1), (int) (toInclusive - offset)));
    }

    /** Hands out the entries not yet given to the runtime for persistence. */
    public List<Entry> takeUnstable() {
        if (unstableFrom > lastIndex()) {
            return List.of();
        }
        List<Entry> out = range(unstableFrom, lastIndex());
        unstableFrom = lastIndex() + 1;
        return out;
    }

    /** Whether some entries have not yet been handed out for persistence. */
    public boolean hasUnstable() {
        return unstableFrom <= lastIndex();
    }

    /** The runtime made entries up to (index, term) durable. */
    public void stableTo(long index, long term) {
        if (index > stableIndex && index <= lastIndex() && term(index) == term) {
            stableIndex = index;
        }
    }

    /** Raises the commit index (never lowers it). */
    public void commitTo(long index) {
        if (index > commitIndex) {
            if (index > lastIndex()) {
                throw new IllegalStateException("commit index " + index + " beyond last index " + lastIndex());
            }
            commitIndex = index;
        }
    }

    /**
     * Drops the entries up to {@code index}, which a durable state-machine snapshot now covers.
     * Does nothing if {@code index} is already compacted.
     *
     * @throws IllegalArgumentException if {@code index} is beyond the commit index or the stable
     *                                  index: only committed, durable entries may be compacted
     */
    public void compact(long index) {
        if (index <= offset) {
            return;
        }
        if (index > commitIndex || index > stableIndex) {
            throw new IllegalArgumentException("cannot compact up to " + index + ": only committed, durable entries"
                    + " may be compacted (commit " + commitIndex + ", stable " + stableIndex + ")");
        }
        long t = term(index);
        snapshotMembership = membershipAt(index);
        entries.subList(0, (int) (index - offset)).clear();
        configs.headMap(index, true).clear();
        offset = index;
        offsetTerm = t;
    }

    /**
     * A follower received a snapshot up to ({@code index}, {@code term}) from its leader. If the
     * log holds that entry, the entries after it are kept (they may still be committed later);
     * otherwise the whole log is discarded. Afterwards the log starts after the snapshot, and the
     * commit and stable indexes are at least {@code index}.
     *
     * @return whether the suffix after {@code index} was kept
     * @throws IllegalArgumentException if {@code index} is not beyond the commit index (a snapshot
     *                                  never replaces committed entries the node already has)
     */
    public boolean installSnapshot(long index, long term, Membership membership) {
        if (index <= commitIndex) {
            throw new IllegalArgumentException("snapshot at " + index + " is not beyond the commit index "
                    + commitIndex);
        }
        boolean keep = index <= lastIndex() && term(index) == term;
        if (membership != null) {
            snapshotMembership = membership;
        } else if (keep) {
            snapshotMembership = membershipAt(index);
        }
        if (keep) {
            entries.subList(0, (int) (index - offset)).clear();
            configs.headMap(index, true).clear();
            stableIndex = Math.max(stableIndex, index);
            unstableFrom = Math.max(unstableFrom, index + 1);
        } else {
            entries.clear();
            configs.clear();
            stableIndex = index;
            unstableFrom = index + 1;
        }
        offset = index;
        offsetTerm = term;
        commitIndex = index;
        return keep;
    }

    private void add(Entry e) {
        entries.add(e);
        if (e.kind() == Entry.Kind.CONFIG) {
            configs.put(e.index(), e.membership());
        }
    }

    /**
     * The configuration in force at {@code index} (at or after the snapshot): that of the last
     * CONFIG entry at or before it, else the snapshot's; {@code null} if the log knows none.
     */
    public Membership membershipAt(long index) {
        Map.Entry<Long, Membership> c = configs.floorEntry(index);
        return c != null ? c.getValue() : snapshotMembership;
    }

    /** The latest configuration in the log, committed or not; {@code null} if the log knows none. */
    public Membership latestMembership() {
        return configs.isEmpty() ? snapshotMembership : configs.lastEntry().getValue();
    }

    /** Index of the latest CONFIG entry in the log, or the snapshot index if none is after it. */
    public long latestMembershipIndex() {
        return configs.isEmpty() ? offset : configs.lastKey();
    }

    /** The configuration recorded with the snapshot the log starts after; {@code null} if none. */
    public Membership snapshotMembership() {
        return snapshotMembership;
    }

    /**
     * The largest index {@code <= from} whose term is {@code <= term}: where a leader should probe
     * after a follower reported a conflicting entry of {@code term}.
     */
    public long lastIndexWithTermAtMost(long from, long term) {
        long i = Math.min(from, lastIndex());
        while (i > offset && term(i) > term) {
            i--;
        }
        return i;
    }

    @Override
    public String toString() {
        return "RaftLog{snapshot=" + offset + "@" + offsetTerm + ", first=" + firstIndex() + ", last=" + lastIndex() + ", commit=" + commitIndex
                + ", stable=" + stableIndex + "}";
    }
}
