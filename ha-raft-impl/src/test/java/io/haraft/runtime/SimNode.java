package io.haraft.runtime;

import io.haraft.LeadershipListener;
import io.haraft.RaftConfig;
import io.haraft.RaftNode;
import io.haraft.StateMachine;
import io.haraft.metrics.RaftMetrics;
import io.haraft.sim.CrashableFileIO;
import io.haraft.storage.FileRaftStorage;
import io.haraft.storage.SimulatedStoreDriver;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.function.LongSupplier;

/**
 * One node of the whole-node simulator: the production {@link RaftNodeImpl} on a
 * {@link SimNodeEnvironment}, the {@link SimNet} and a {@link SimLogStore} whose disk survives
 * crashes. {@link #start} builds and starts a new process incarnation; {@link #crash} is kill -9.
 *
 * <p>After {@link #storeOnFiles}, the node keeps its state in the production
 * {@link FileRaftStorage} in a real directory instead, over a {@link CrashableFileIO}, its
 * group-commit writer and segment preallocation run as the host's events
 * ({@link SimulatedStoreDriver}); then a crash is a power loss: it loses exactly the changes no
 * fsync made durable (and may tear the first of them), and the next start recovers through the
 * store's own recovery.
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
    /** On files ({@link #storeOnFiles}): the node's data directory, else null. */
    private Path fileDir;
    private SplittableRandom diskRandom;
    private boolean lyingFsync;
    private CrashableFileIO files;
    private long powerLossesLosingData;
    private long tornWrites;
    private long recoveryRepairs;
    /** The smallest segment the store takes: segments are started (from the spare) often. */
    private static final long SEGMENT_BYTES = 4096;

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

    /**
     * From the next start on, keeps the node's state in the production file store in {@code dir}
     * (see the class documentation); {@code random} decides what each power loss tears. With
     * {@code lyingFsync} (a planted bug) forcing the log or the hard state makes nothing durable.
     */
    public void storeOnFiles(Path dir, SplittableRandom random, boolean lyingFsync) {
        this.fileDir = dir;
        this.diskRandom = random;
        this.lyingFsync = lyingFsync;
    }

    /** Starts a new process on this node's disk; returns its node (started). */
    public RaftNode start(LeadershipListener listener, StateMachine stateMachine, long seed) {
        incarnations++;
        env = new SimNodeEnvironment(world, host, seed, maxTaskDelayNanos, cores);
        env.watchdogLateNanos = watchdogLateNanos;
        env.revokedTwice = revokedTwice;
        LogStoreFactory stores;
        if (fileDir == null) {
            SimLogStore store = new SimLogStore(disk, host, fsyncNanos);
            stores = c -> store;
        } else {
            CrashableFileIO io = CrashableFileIO.untilPowerLoss(lyingFsync);
            files = io;
            int incarnation = host.incarnation();
            stores = c -> {
                FileRaftStorage s = SimulatedStoreDriver.open(fileDir, FileRaftStorage.Options.defaults()
                                .withSegmentSize(SEGMENT_BYTES).withFileIO(io).withIdentity(c.clusterId(), c.nodeId()),
                        (delay, task) -> world.at(world.now() + delay, host, incarnation, task), fsyncNanos);
                if (!s.recoveryWarnings().isEmpty()) {
                    recoveryRepairs++;
                }
                return new StorageLogStore(s);
            };
        }
        node = new RaftNodeImpl(config, listener, stateMachine, c -> net.transport(id(), host), stores, env,
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
        if (files != null) {
            try {
                CrashableFileIO.PowerLoss loss = files.powerLoss(diskRandom, diskRandom.nextBoolean());
                if (loss.lost() > 0) {
                    powerLossesLosingData++;
                }
                if (loss.tornBytes() > 0) {
                    tornWrites++;
                }
            } catch (IOException e) {
                throw new UncheckedIOException("the simulated power loss failed", e);
            }
            files = null;
        }
    }

    /** On files: whether the disk holds changes no fsync made durable yet (what a power loss now would undo). */
    public boolean hasUnsyncedChanges() {
        return files != null && files.unsyncedChanges() > 0;
    }

    /** Crashes (power losses) that undid changes no fsync had made durable. */
    public long powerLossesLosingData() {
        return powerLossesLosingData;
    }

    /** Power losses that tore a write. */
    public long tornWrites() {
        return tornWrites;
    }

    /** Starts whose recovery repaired something (a torn tail cut, a torn hard state slot, a leftover file). */
    public long recoveryRepairs() {
        return recoveryRepairs;
    }

    /** The running process's loop thread is busy until real time {@code until} (its other threads go on). */
    public void stallLoop(long until) {
        if (node != null) {
            env.stallLoop(until);
        }
    }

    /**
     * Between two events: null if the running process's published status view is what its
     * state shows now, else both. The loop refreshes the view only when something it shows
     * changed; this catches a change that comparison missed.
     */
    public String staleView() {
        return staleView(node);
    }

    /** {@link #staleView()} of {@code node} (a running {@link RaftNodeImpl}, or null). */
    static String staleView(RaftNode node) {
        NodeLoop l = node instanceof RaftNodeImpl impl ? impl.loop() : null;
        if (l == null || !l.isRunning()) {
            return null;
        }
        NodeView shown = l.view();
        NodeView now = l.freshView();
        return shown.equals(now) ? null : "shows " + shown + " but its state is " + now;
    }

    /** How many processes this node ran. */
    public long incarnations() {
        return incarnations;
    }
}
