package io.haraft.runtime;

import io.haraft.storage.Snapshot;
import io.haraft.storage.SnapshotMeta;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Holds the answers to snapshot chunk reads of the stores it wraps (a leader serving a lagging
 * follower): each chunk is read from the store at once, then handed back only when the test lets
 * one answer through ({@link #release}), as if the snapshot thread were slow. Meanwhile the node may
 * take a newer snapshot, so an answer can reach the Raft loop after its snapshot was superseded.
 * Thread-safe; one object may wrap the stores of every node of a cluster.
 */
final class HeldSnapshotReads {
    private final Semaphore permits = new Semaphore(0);
    private final AtomicInteger waiting = new AtomicInteger();

    /** Wraps {@code store}: chunks read from its snapshots wait for this object's permits. */
    LogStore wrap(LogStore store) {
        return new ForwardingLogStore(store) {
            @Override
            public Optional<Snapshot> latestSnapshot() {
                return inner.latestSnapshot().map(Held::new);
            }
        };
    }

    /** How many chunks were read and wait to be handed back. */
    int waiting() {
        return waiting.get();
    }

    /** Lets {@code answers} held (or future) chunk reads through. */
    void release(int answers) {
        permits.release(answers);
    }

    /** Lets every read through from now on. */
    void open() {
        permits.release(Integer.MAX_VALUE / 2);
    }

    private final class Held implements Snapshot {
        private final Snapshot inner;

        Held(Snapshot inner) {
            this.inner = inner;
        }

        @Override
        public SnapshotMeta meta() {
            return inner.meta();
        }

        @Override
        public long size() {
            return inner.size();
        }

        @Override
        public int crc32c() {
            return inner.crc32c();
        }

        @Override
        public InputStream open() throws IOException {
            return inner.open();
        }

        @Override
        public byte[] readChunk(long offset, int maxBytes) throws IOException {
            byte[] data = inner.readChunk(offset, maxBytes);
            waiting.incrementAndGet();
            try {
                if (!permits.tryAcquire(60, TimeUnit.SECONDS)) {
                    throw new IOException("test: a held snapshot read was never released");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("test: interrupted while holding a snapshot read");
            } finally {
                waiting.decrementAndGet();
            }
            return data;
        }
    }
}
