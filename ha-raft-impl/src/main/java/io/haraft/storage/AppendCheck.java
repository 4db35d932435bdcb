package io.haraft.storage;

import io.haraft.core.log.Entry;
import java.util.List;
import java.util.function.LongUnaryOperator;

/** The check every {@link RaftStorage} makes of the entries given to {@link RaftStorage#persist}. */
final class AppendCheck {
    private AppendCheck() {
    }

    /**
     * @param firstIndex the log's first index
     * @param lastIndex  the log's last index
     * @param termAt     the term of an index in {@code [firstIndex - 1, lastIndex]}
     * @throws IllegalArgumentException unless {@code entries} are consecutive, start inside the log
     *                                  or right after it, and have terms that never go down
     */
    static void check(List<Entry> entries, long firstIndex, long lastIndex, LongUnaryOperator termAt) {
        if (entries.isEmpty()) {
            return;
        }
        long first = entries.get(0).index();
        if (first < firstIndex) {
            throw new IllegalArgumentException("entry " + first + " is covered by the snapshot (first index " + firstIndex + ")");
        }
        if (first > lastIndex + 1) {
            throw new IllegalArgumentException("entry " + first + " would leave a gap after last index " + lastIndex);
        }
        long prevTerm = termAt.applyAsLong(first - 1);
        long expect = first;
        for (Entry e : entries) {
            if (e.index() != expect) {
                throw new IllegalArgumentException("entries not consecutive: " + e.index() + " where " + expect + " was expected");
            }
            if (e.term() < prevTerm) {
                throw new IllegalArgumentException("entry " + e.index() + " has term " + e.term() + " below the previous term " + prevTerm);
            }
            prevTerm = e.term();
            expect++;
        }
    }
}
