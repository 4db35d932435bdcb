package io.haraft.runtime;

import io.haraft.core.HardState;
import io.haraft.core.log.Entry;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongSupplier;

/**
 * A simulated node's store: an {@link InMemoryLogStore} stands for what is on its disk, and each
 * {@link #persist} reaches it (and completes) one simulated fsync later, in order, as an event of
 * the node's host. A crash drops the events, so writes not yet synced are lost, as on a real disk.
 * Snapshots are written through at once (they are durable when their writer returns).
 */
final class SimLogStore extends ForwardingLogStore {
    private final SimWorld.Host host;
    private final LongSupplier fsyncNanos;
    private final int incarnation;
    private long lastDone;

    SimLogStore(InMemoryLogStore disk, SimWorld.Host host, LongSupplier fsyncNanos) {
        super(disk);
        this.host = host;
        this.fsyncNanos = fsyncNanos;
        this.incarnation = host.incarnation();
    }

    @Override
    public CompletableFuture<Void> persist(HardState hardState, List<Entry> entries) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        SimWorld w = host.world();
        long at = Math.max(lastDone, w.now() + fsyncNanos.getAsLong());
        lastDone = at;
        w.at(at, host, incarnation, () -> inner.persist(hardState, entries).whenComplete((v, e) -> {
            if (e != null) {
                done.completeExceptionally(e);
            } else {
                done.complete(null);
            }
        }));
        return done;
    }

    @Override
    public void close() {
        // the disk outlives the process
    }
}
