package io.haraft.runtime;

import io.haraft.LeadershipListener;
import io.haraft.RaftConfig;
import io.haraft.RaftNode;
import io.haraft.StateMachine;
import io.haraft.metrics.RaftMetrics;

import java.util.function.LongSupplier;

/**
 * One node of the whole-node simulator: the production {@link RaftNodeImpl} on a
 * {@link SimNodeEnvironment}, the {@link SimNet} and a {@link SimLogStore} whose disk survives
 * crashes. {@link #start} builds and starts a new process incarnation; {@link #crash} is kill -9.
 */
public final class SimNode {
    private final SimWorld world;
    private final SimNet net;
    private final SimWorld.Host host;
    private final RaftConfig config;
    private final InMemoryLogStore disk = new InMemoryLogStore();
    private final LongSupplier fsyncNanos;
    private final long maxTaskDelayNanos;
    private final SimNodeEnvironment.CoreFactory cores;
    private long incarnations;
    private RaftNodeImpl node;
    private SimNodeEnvironment env;
    /** Planted bugs for the next start (see {@link SimNodeEnvironment}). */
    public long watchdogLateNanos;
    public boolean revokedTwice;

    public SimNode(SimWorld world, SimNet net, SimWorld.Host host, RaftConfig config, LongSupplier fsyncNanos,
                   long maxTaskDelayNanos, SimNodeEnvironment.CoreFactory cores) {
        this.world = world;
        this.net = net;
        this.host = host;
        this.config = config;
        this.fsyncNanos = fsyncNanos;
        this.maxTaskDelayNanos = maxTaskDelayNanos;
        this.cores = cores;
    }

    public String id() {
        return config.nodeId();
    }

    public SimWorld.Host host() {
        return host;
    }

    /** The running process's node, or null while it is down. */
    public RaftNode node() {
        return node;
    }

    /** Starts a new process on this node's disk; returns its node (started). */
    public RaftNode start(LeadershipListener listener, StateMachine stateMachine, long seed) {
        incarnations++;
        env = new SimNodeEnvironment(world, host, seed, maxTaskDelayNanos, cores);
        env.watchdogLateNanos = watchdogLateNanos;
        env.revokedTwice = revokedTwice;
        SimLogStore store = new SimLogStore(disk, host, fsyncNanos);
        node = new RaftNodeImpl(config, listener, stateMachine, c -> net.transport(id(), host), c -> store, env,
                RaftMetrics.none());
        node.start();
        return node;
    }

    /**
     * A graceful stop ({@code close()}: a leader hands over first); the world goes on while it
     * waits. Afterwards the node is down until started again.
     */
    public void close() {
        RaftNodeImpl closing = node;
        if (closing == null) {
            return;
        }
        closing.close();
        if (node == closing) {
            node = null;
        }
    }

    /** kill -9: every event of the process is dropped, its socket stops listening, its disk stays. */
    public void crash() {
        host.crash();
        net.crashed(id());
        node = null;
    }

    /** The running process's loop thread is busy until real time {@code until} (its other threads go on). */
    public void stallLoop(long until) {
        if (node != null) {
            env.stallLoop(until);
        }
    }

    /** How many processes this node ran. */
    public long incarnations() {
        return incarnations;
    }
}
