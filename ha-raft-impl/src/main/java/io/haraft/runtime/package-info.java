/**
 * The node runtime: turns the pure {@code io.haraft.core.RaftCore} into a running
 * {@link io.haraft.RaftNode}.
 *
 * <p>{@link io.haraft.runtime.RaftNodeImpl} runs one Raft loop thread per node that alone drives
 * the core, persists through a {@link io.haraft.runtime.LogStore} asynchronously, sends through a
 * {@link io.haraft.transport.Transport}, applies on an apply thread, delivers leadership changes on
 * a serial callback thread and revokes expired leases from a watchdog thread. Snapshots are taken
 * on the apply thread, and read (to serve a lagging follower) or received from the leader on a
 * snapshot thread, so the loop never blocks on snapshot I/O. Time comes from a
 * {@link io.haraft.runtime.MonotonicClock}. {@link io.haraft.runtime.RaftNodeProvider} is the
 * {@link io.haraft.spi.RaftNodeFactory} that {@code RaftNode.builder()} finds.
 *
 * <p>Transport and storage are plugged in through {@link io.haraft.runtime.TransportFactory} and
 * {@link io.haraft.runtime.LogStoreFactory}; {@link io.haraft.runtime.InMemoryLogStore} is the
 * non-durable store for tests and development.
 */
package io.haraft.runtime;
