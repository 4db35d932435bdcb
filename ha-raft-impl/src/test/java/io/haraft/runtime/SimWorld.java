package io.haraft.runtime;

import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.SplittableRandom;
import java.util.function.BooleanSupplier;

/**
 * The deterministic world of the whole-node simulator: one event queue in virtual real time that
 * runs every task of every simulated node (Raft loops, apply, callbacks, lease watchdogs, snapshot
 * transfer, disk and network completions) on the calling thread, in an order fixed by the seed.
 *
 * <p>Each node lives on a {@link Host}: its clock (offset and drift against real time), its
 * incarnation (a crash discards every event of the old incarnation) and whether it is paused (like
 * SIGSTOP: its events wait until it resumes, in order, while its clock goes on).
 *
 * <p>Not thread-safe: everything runs on the thread that calls {@link #runUntil}.
 */
public final class SimWorld {
    private record Event(long at, long seq, Host host, int incarnation, Runnable task) {
    }

    private final PriorityQueue<Event> queue = new PriorityQueue<>((a, b) -> a.at != b.at
            ? Long.compare(a.at, b.at) : Long.compare(a.seq, b.seq));
    private final SplittableRandom random;
    private final List<Runnable> afterEvent = new ArrayList<>();
    private long now;
    private long seq;
    private long events;

    public SimWorld(long seed) {
        this.random = new SplittableRandom(seed);
    }

    /** The real time, in nanoseconds since the start of the run. */
    public long now() {
        return now;
    }

    /** The world's randomness (only for the world's own decisions, in event order). */
    public SplittableRandom random() {
        return random;
    }

    /** How many events ran so far. */
    public long events() {
        return events;
    }

    /** Called after every event (the invariant checks). */
    public void afterEachEvent(Runnable check) {
        afterEvent.add(check);
    }

    /** Runs {@code task} at real time {@code at} (not before now) on {@code host} (null: the world's own). */
    public void at(long at, Host host, Runnable task) {
        queue.add(new Event(Math.max(at, now), seq++, host, host == null ? 0 : host.incarnation, task));
    }

    /**
     * Runs {@code task} at {@code at} on {@code host} if it is still in {@code incarnation} then (a
     * process's own work: what a process queued after it crashed never runs).
     */
    void at(long at, Host host, int incarnation, Runnable task) {
        queue.add(new Event(Math.max(at, now), seq++, host, incarnation, task));
    }

    /** Runs every event up to real time {@code until}, then sets the time to it. */
    public void runUntil(long until) {
        while (!queue.isEmpty() && queue.peek().at <= until) {
            runOne();
        }
        now = Math.max(now, until);
    }

    /**
     * Runs events while {@code waiting} holds and the real time is before {@code deadline} (a
     * blocking wait inside a simulated task: the world goes on around it).
     */
    void runWhile(BooleanSupplier waiting, long deadline) {
        while (waiting.getAsBoolean() && !queue.isEmpty() && queue.peek().at <= deadline) {
            runOne();
        }
        if (waiting.getAsBoolean() && deadline != Long.MAX_VALUE) {
            now = Math.max(now, deadline);
        }
    }

    private void runOne() {
        Event e = queue.poll();
        now = e.at;
        Host h = e.host;
        if (h != null) {
            if (e.incarnation != h.incarnation) {
                return;                                // the process that queued it has crashed
            }
            if (h.paused) {
                h.deferred.add(e);                     // runs when the process resumes
                return;
            }
        }
        events++;
        e.task.run();
        for (Runnable check : afterEvent) {
            check.run();
        }
    }

    /**
     * One simulated process: its clock and its life. The clock reads
     * {@code offset + real + real * driftPpm / 1e6}: monotonic, and drifting from real time by at most
     * the configured bound.
     */
    public final class Host {
        private final String name;
        private final long offset;
        private final long driftPpm;
        private int incarnation;
        private boolean paused;
        private final List<Event> deferred = new ArrayList<>();

        public Host(String name, long offset, long driftPpm) {
            this.name = name;
            this.offset = offset;
            this.driftPpm = driftPpm;
        }

        public String name() {
            return name;
        }

        /** How many times this process crashed: an event of an older incarnation never runs. */
        public int incarnation() {
            return incarnation;
        }

        public SimWorld world() {
            return SimWorld.this;
        }

        /** The process's monotonic clock. */
        public long clock() {
            return offset + now + now / 1_000 * driftPpm / 1_000;
        }

        /** A delay on this process's clock, in real nanoseconds (rounded up). */
        public long toReal(long localNanos) {
            if (localNanos <= 0) {
                return 0;
            }
            return (long) Math.ceil(localNanos / (1 + driftPpm / 1e6));
        }

        /** The real time at which this process's clock reads {@code local}. */
        public long realAt(long local) {
            return now + toReal(local - clock());
        }

        /** Runs {@code task} on this process {@code delay} real nanoseconds from now. */
        public void after(long delay, Runnable task) {
            at(now + delay, this, task);
        }

        /** Like kill -9: every event the process queued is dropped. */
        public void crash() {
            incarnation++;
            paused = false;
            deferred.clear();
        }

        /** Like SIGSTOP: its events wait; its clock goes on. */
        public void pause() {
            paused = true;
        }

        /** Like SIGCONT: the events that waited run now, in their order. */
        public void resume() {
            if (!paused) {
                return;
            }
            paused = false;
            for (Event e : deferred) {
                queue.add(new Event(now, e.seq, e.host, e.incarnation, e.task));
            }
            deferred.clear();
        }

        public boolean paused() {
            return paused;
        }

        @Override
        public String toString() {
            return name;
        }
    }
}
