package io.haraft.storage;

import java.util.Arrays;

/** Terms of the log as runs: entries from {@code starts[i]} on have term {@code terms[i]}. */
final class TermRuns {
    long[] starts = new long[16];
    long[] terms = new long[16];
    int n;

    void append(long index, long term) {
        if (n > 0 && terms[n - 1] == term) {
            return;
        }
        if (n == starts.length) {
            starts = Arrays.copyOf(starts, n * 2);
            terms = Arrays.copyOf(terms, n * 2);
        }
        starts[n] = index;
        terms[n] = term;
        n++;
    }

    void truncateFrom(long index) {
        while (n > 0 && starts[n - 1] >= index) {
            n--;
        }
    }

    long termAt(long index) {
        int lo = 0;
        int hi = n - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (starts[mid] <= index) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return terms[lo];
    }

    long lastTerm() {
        return n == 0 ? 0 : terms[n - 1];
    }
}
