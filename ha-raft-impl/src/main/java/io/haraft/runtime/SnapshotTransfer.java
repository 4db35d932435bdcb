package io.haraft.runtime;

import io.haraft.core.HardState;
import io.haraft.core.Ready;
import io.haraft.core.quorum.Membership;
import io.haraft.storage.Snapshot;
import io.haraft.storage.SnapshotMeta;
import io.haraft.storage.SnapshotWriter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The snapshot thread of one node: the blocking snapshot I/O that must not run on the Raft loop.
 *
 * <p>A leader's loop hands it {@link Ready.SnapshotRequest}s: it reads the chunk from the store's
 * latest snapshot and hands the answer back, with the configuration recorded in that snapshot, for
 * the loop to pass to the core. A follower's loop hands it a Ready that carries snapshot chunks or
 * an install: it persists that Ready in the order {@link Ready} prescribes (hard state, chunks into
 * the snapshot being received, the install, the entries) and completes once all of it is durable
 * (chunks of a snapshot not installed yet excepted, see below), with an open stream of the
 * installed snapshot for the apply thread to restore from.
 *
 * <p>Thread-safety: the methods may be called from any thread; the work runs on one thread, in
 * submission order. The snapshot being received is confined to that thread. Chunks written before
 * the install are not fsynced one by one (the store may even hold them in memory), and the core
 * acknowledges them anyway, as {@link Ready} allows: a crash discards the whole partial transfer
 * (the store's writer is never committed, and recovery deletes what it left), and the restarted
 * core accepts only a transfer that starts at byte 0 again, so an acknowledged chunk is never
 * assumed to survive on its own. The install fsyncs the whole snapshot before the answer that
 * completes the transfer leaves.
 */
final class SnapshotTransfer {
    private static final Logger LOG = LoggerFactory.getLogger(SnapshotTransfer.class);
    /** The largest chunk served, unless {@code maxMessageBytes} asks for less. */
    static final int MAX_CHUNK_BYTES = 1 << 20;

    /**
     * The answer to a chunk request: {@code data} is {@code null} if the snapshot is unavailable;
     * {@code configuration} is the one stored with the snapshot read ({@code null} if it records none).
     */
    record Served(Ready.SnapshotRequest request, byte[] data, boolean last, Membership configuration) {
        boolean available() {
            return data != null;
        }
    }

    /** What persisting a follower's Ready produced: the installed snapshot's data, or {@code null}. */
    record Persisted(Ready.SnapshotPoint installed, InputStream data) { }

    private final LogStore store;
    private final int chunkBytes;
    private final NodeEnvironment env;
    private final ExecutorService thread;
    private final AtomicLong installed = new AtomicLong();
    private final AtomicLong chunksServed = new AtomicLong();
    private SnapshotWriter receiving;       // snapshot thread only
    private long receivingIndex;
    private long receivingTerm;

    SnapshotTransfer(NodeEnvironment env, String clusterId, String nodeId, LogStore store, int maxMessageBytes) {
        this.store = store;
        this.chunkBytes = chunkBytes(maxMessageBytes);
        this.env = env;
        this.thread = env.serialExecutor("snapshot", clusterId, nodeId, t -> { });
    }

    /** The chunk size for a message limit: at most 1 MiB, and half the limit (room for framing). */
    static int chunkBytes(int maxMessageBytes) {
        return Math.max(1, Math.min(MAX_CHUNK_BYTES, maxMessageBytes / 2));
    }

    /** How many snapshots received from a leader were installed since this node started. */
    long installed() {
        return installed.get();
    }

    /** How many chunks this node served to followers since it started. */
    long chunksServed() {
        return chunksServed.get();
    }

    // ------------------------------------------------------------------ leader: serving chunks

    /**
     * Reads the requested chunk off the loop and hands the answer to {@code answer} (which posts it
     * to the loop). Nothing is answered once stopped: the core retries an unanswered request.
     */
    void serve(Ready.SnapshotRequest request, Consumer<Served> answer) {
        serve(request, OptionalInt.empty(), answer);
    }

    /**
     * Like {@link #serve(Ready.SnapshotRequest, Consumer)}, for a peer that accepts messages of at
     * most {@code peerMaxMessageBytes} (if known): the chunk is sized to fit it too.
     */
    void serve(Ready.SnapshotRequest request, OptionalInt peerMaxMessageBytes, Consumer<Served> answer) {
        int chunk = peerMaxMessageBytes.isPresent() ? Math.min(chunkBytes, chunkBytes(peerMaxMessageBytes.getAsInt()))
                : chunkBytes;
        execute(() -> answer.accept(read(request, chunk)));
    }

    private Served read(Ready.SnapshotRequest req, int chunkBytes) {
        Optional<Snapshot> latest = store.latestSnapshot();
        if (latest.isEmpty()) {
            LOG.info("no snapshot to serve {}@{} to {}", req.index(), req.term(), req.peer());
            return unavailable(req);
        }
        Snapshot s = latest.get();
        SnapshotMeta meta = s.meta();
        if (meta.lastIndex() != req.index() || meta.lastTerm() != req.term() || req.offset() > s.size()) {
            LOG.debug("snapshot {}@{} asked for {} is no longer the latest ({}@{})", req.index(), req.term(),
                    req.peer(), meta.lastIndex(), meta.lastTerm());
            return unavailable(req);
        }
        try {
            byte[] data = s.readChunk(req.offset(), chunkBytes);
            boolean last = req.offset() + data.length >= s.size();
            if (data.length == 0 && !last) {
                return unavailable(req);
            }
            chunksServed.incrementAndGet();
            return new Served(req, data, last, meta.membership().orElse(null));
        } catch (IOException e) {
            // superseded and deleted meanwhile, or unreadable: the core restarts with its current snapshot
            LOG.info("could not read snapshot {}@{} at offset {} for {}: {}", req.index(), req.term(), req.offset(),
                    req.peer(), e.toString());
            return unavailable(req);
        }
    }

    private static Served unavailable(Ready.SnapshotRequest req) {
        return new Served(req, null, false, null);
    }

    // ------------------------------------------------------------------ follower: receiving

    /**
     * Persists a Ready that carries snapshot chunks or an install, in the order {@link Ready}
     * prescribes; completes once everything in it is durable, except chunks of a snapshot that is
     * not installed yet (they are written, not synced). A chunk at offset 0 begins a snapshot that
     * records the configuration the leader sent with that chunk ({@link Ready.SnapshotChunk#membership()}).
     */
    CompletableFuture<Persisted> persist(Ready ready) {
        CompletableFuture<Persisted> done = new CompletableFuture<>();
        if (!execute(() -> {
            try {
                persistNow(ready, done);
            } catch (Throwable t) {
                done.completeExceptionally(t);
            }
        })) {
            done.completeExceptionally(new IllegalStateException("the snapshot thread is stopped"));
        }
        return done;
    }

    private void persistNow(Ready ready, CompletableFuture<Persisted> done) throws IOException {
        HardState hs = ready.hardState();
        if (hs != null) {
            awaitDurable(store.persist(hs, List.of()));
        }
        for (Ready.SnapshotChunk c : ready.snapshotChunks()) {
            if (c.offset() == 0) {
                discardReceiving();
                receiving = store.beginSnapshot(new SnapshotMeta(c.index(), c.term(),
                        Optional.ofNullable(c.membership())));
                receivingIndex = c.index();
                receivingTerm = c.term();
            } else if (receiving == null || receivingIndex != c.index() || receivingTerm != c.term()
                    || receiving.bytesWritten() != c.offset()) {
                throw new IllegalStateException("chunk " + c + " does not continue the snapshot being received ("
                        + (receiving == null ? "none" : receivingIndex + "@" + receivingTerm + ", "
                        + receiving.bytesWritten() + " bytes") + ")");
            }
            receiving.write(c.data(), 0, c.size());
        }
        Ready.SnapshotPoint p = ready.installSnapshot();
        InputStream restore = null;
        if (p != null) {
            if (receiving == null || receivingIndex != p.index() || receivingTerm != p.term()) {
                throw new IllegalStateException("asked to install snapshot " + p.index() + "@" + p.term()
                        + " but receiving " + (receiving == null ? "none" : receivingIndex + "@" + receivingTerm));
            }
            Snapshot s;
            try {
                s = receiving.commit();
            } finally {
                discardReceiving();
            }
            // Opened now: the stream keeps working even if a newer snapshot replaces this one
            // before the apply thread gets to it.
            restore = s.open();
            installed.incrementAndGet();
            LOG.info("installed snapshot {}@{} ({} bytes) received from the leader", p.index(), p.term(), s.size());
        }
        Persisted result = new Persisted(p, restore);
        InputStream toClose = restore;
        CompletableFuture<Void> entries = store.persist(null, ready.entries());
        entries.whenComplete((ok, failure) -> {
            if (failure != null) {
                closeQuietly(toClose);
                done.completeExceptionally(failure);
            } else {
                done.complete(result);
            }
        });
    }

    private void awaitDurable(CompletableFuture<Void> f) {
        try {
            if (!env.await(f, Long.MAX_VALUE)) {
                throw new IllegalStateException("the store did not complete a write");
            }
            f.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the store", e);
        } catch (CompletionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            if (cause instanceof IOException io) {
                throw new UncheckedIOException(io);
            }
            throw e;
        }
    }

    private void discardReceiving() {
        SnapshotWriter w = receiving;
        receiving = null;
        if (w != null) {
            try {
                w.close();
            } catch (IOException e) {
                LOG.warn("discarding a partly received snapshot failed: {}", e.toString());
            }
        }
    }

    static void closeQuietly(InputStream in) {
        if (in != null) {
            try {
                in.close();
            } catch (IOException e) {
                LOG.debug("closing a snapshot stream failed: {}", e.toString());
            }
        }
    }

    // ------------------------------------------------------------------ lifecycle

    private boolean execute(Runnable task) {
        try {
            thread.execute(task);
            return true;
        } catch (RejectedExecutionException stopped) {
            return false;
        }
    }

    /** Stops after the queued work (bounded), discarding a partly received snapshot. */
    void stop(long timeoutNanos) {
        execute(this::discardReceiving);
        Threads.shutdownWithin(thread, timeoutNanos, LOG, "the snapshot thread did not stop in time");
    }

    /** Crash-like stop: queued work is dropped. */
    void stopNow() {
        thread.shutdownNow();
    }
}
