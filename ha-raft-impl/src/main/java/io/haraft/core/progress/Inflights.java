package io.haraft.core.progress;

/**
 * A bounded FIFO of the last indexes of appends sent but not yet acknowledged: the pipelining
 * window of one follower. Not thread-safe.
 */
final class Inflights {
    private final long[] buffer;
    private int start;
    private int count;

    Inflights(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("in-flight window must be >= 1, got " + capacity);
        }
        this.buffer = new long[capacity];
    }

    boolean isFull() {
        return count == buffer.length;
    }

    int count() {
        return count;
    }

    void add(long lastIndex) {
        if (isFull()) {
            throw new IllegalStateException("in-flight window is full");
        }
        buffer[(start + count) % buffer.length] = lastIndex;
        count++;
    }

    /** Frees every message whose last index is {@code <= index}. */
    void freeTo(long index) {
        while (count > 0 && buffer[start] <= index) {
            start = (start + 1) % buffer.length;
            count--;
        }
    }

    void freeFirst() {
        if (count > 0) {
            start = (start + 1) % buffer.length;
            count--;
        }
    }

    void reset() {
        start = 0;
        count = 0;
    }
}
