package io.haraft.fencing.job;

import io.haraft.Leadership;
import io.haraft.LeadershipListener;
import io.haraft.RevokeReason;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Runs a task only while this node holds a valid leadership: on a schedule, or as a long-running
 * loop. It is the {@link LeadershipListener} you register with the node; what Curator's
 * {@code LeaderSelector} or a Spring {@code OnGrantedEvent} handler does, with the fencing token
 * handed to every run.
 *
 * <p><b>Guarantees.</b>
 * <ul>
 *   <li><b>Only while leader.</b> Runs start after {@code elected} and only while
 *       {@link Leadership#isValid()}: a run whose lease has already ended is skipped, not
 *       run. Each run receives the {@link Leadership} it acts for.</li>
 *   <li><b>Stops on revocation.</b> {@code revoked} cancels the schedule, so no further run of that
 *       leadership starts once it returns, and interrupts a run in progress. If the run has not
 *       returned a grace period later, a WARN names the thread and where it is stuck, and
 *       {@link #isStopOverdue()} turns {@code true} until it returns.</li>
 *   <li><b>One run at a time.</b> Never two runs at once, also not across leaderships: while a
 *       run of an earlier leadership has not returned, runs of the next one are skipped.</li>
 *   <li><b>Survives its task.</b> A run that throws is logged (WARN, with the stack trace) and the
 *       schedule goes on; an exception never ends the job silently.</li>
 *   <li><b>Threads.</b> Runs happen on the job's executor: one it owns (a single daemon thread,
 *       shut down by {@link #close()}) or one you inject (never shut down by the job). The
 *       listener methods return at once; they never wait for a run.</li>
 * </ul>
 *
 * <pre>{@code
 * LeaderOnlyJob billing = LeaderOnlyJob.builder("billing", leadership -> {
 *         fence.write(leadership, c -> billDueInvoices(c));   // checks the lease, carries the token
 *     }).fixedDelay(Duration.ofSeconds(30)).build();
 * RaftNode node = RaftNode.builder()...listener(billing).build();
 * node.start();
 * ...
 * node.close();       // revokes: the job stops
 * billing.close();    // ends the job's own thread
 * }</pre>
 *
 * <p>A long-running loop, started once per leadership and restarted if it returns or throws
 * while the leadership lasts:
 * <pre>{@code
 * LeaderOnlyJob.builder("consumer", leadership -> {
 *     while (!Thread.currentThread().isInterrupted()) {
 *         Batch b = queue.poll(Duration.ofSeconds(1));        // interruptible
 *         fence.write(leadership, c -> apply(c, b));
 *     }
 * }).loop(Duration.ofSeconds(1)).build();
 * }</pre>
 *
 * <p><b>Limits.</b> Interruption is a request: a task that ignores it keeps running after
 * revocation (the WARN says so), and a process pause can suspend a run at any point. So a run
 * can act after its leadership ended; what keeps that harmless is the fencing token on every
 * external write, never this class. A node takes any number of listeners: add the job beside
 * others with {@code node.addListener(job)}, or give it to the builder's {@code listener(job)}.
 */
public final class LeaderOnlyJob implements LeadershipListener, AutoCloseable {

    /** The default {@link Builder#stopGracePeriod}: 10 s. */
    public static final Duration DEFAULT_STOP_GRACE_PERIOD = Duration.ofSeconds(10);

    private static final Logger log = LoggerFactory.getLogger(LeaderOnlyJob.class);

    private enum Mode { FIXED_DELAY, FIXED_RATE }

    private final String name;
    private final LeaderTask task;
    private final Mode mode;
    private final Duration period;
    private final Duration initialDelay;
    private final Duration stopGracePeriod;
    private final ScheduledExecutorService executor;
    private final boolean ownsExecutor;
    /** Held for the whole of a run: never two runs at once, whatever the executor's threads. */
    private final ReentrantLock oneRunAtATime = new ReentrantLock();

    private final Object lock = new Object();
    private Leadership current;                 // the leadership being served; guarded by lock
    private ScheduledFuture<?> schedule;         // its runs; guarded by lock
    private Thread runThread;                   // the thread of the run in progress; guarded by lock
    private Leadership runFor;                  // the leadership of the run in progress; guarded by lock
    private boolean stopOverdue;                // guarded by lock
    private boolean closed;                     // guarded by lock

    private LeaderOnlyJob(Builder b) {
        this.name = b.name;
        this.task = b.task;
        this.mode = b.mode;
        this.period = b.period;
        this.initialDelay = b.initialDelay;
        this.stopGracePeriod = b.stopGracePeriod;
        this.ownsExecutor = b.executor == null;
        this.executor = ownsExecutor ? Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "leader-only-job-" + b.name);
            t.setDaemon(true);
            return t;
        }) : b.executor;
    }

    /**
     * Starts a job named {@code name} (for logs and the owned thread's name) that runs {@code task}.
     * Choose its schedule with {@link Builder#fixedDelay}, {@link Builder#fixedRate} or
     * {@link Builder#loop}.
     */
    public static Builder builder(String name, LeaderTask task) {
        return new Builder(name, task);
    }

    /** Starts running the task for {@code leadership}, unless its lease has already ended. */
    @Override
    public void elected(Leadership leadership) {
        Objects.requireNonNull(leadership, "leadership");
        synchronized (lock) {
            if (closed) {
                log.debug("job {}: closed; not starting for {} of node {}", name, leadership.token(),
                        leadership.nodeId());
                return;
            }
            if (current != null) {
                log.warn("job {}: elected with {} while still serving {}; stopping the earlier one first (register"
                        + " one job per node: its listener calls alternate)", name, leadership.token(), current.token());
                stop(current, null);
            }
            current = leadership;
            if (!leadership.isValid()) {
                log.info("job {}: the leadership with {} of node {} had already ended when elected was delivered;"
                        + " not starting", name, leadership.token(), leadership.nodeId());
                return;
            }
            Runnable run = () -> runOnce(leadership);
            long delay = initialDelay.toNanos();
            try {
                schedule = mode == Mode.FIXED_RATE
                        ? executor.scheduleAtFixedRate(run, delay, period.toNanos(), TimeUnit.NANOSECONDS)
                        : executor.scheduleWithFixedDelay(run, delay, period.toNanos(), TimeUnit.NANOSECONDS);
            } catch (RejectedExecutionException e) {
                log.error("job {}: cannot start for {}: its executor refused the schedule ({}); was it shut down?"
                        + " Give the job an executor that lives as long as the node", name, leadership.token(),
                        e.toString());
                return;
            }
            log.info("job {}: started for {} of node {}", name, leadership.token(), leadership.nodeId());
        }
    }

    /** Cancels the schedule and interrupts a run in progress; returns at once. */
    @Override
    public void revoked(Leadership leadership, RevokeReason reason) {
        Objects.requireNonNull(leadership, "leadership");
        synchronized (lock) {
            if (current == leadership) {
                current = null;
                stop(leadership, reason);
            } else {
                log.debug("job {}: revoked for {}, which it does not serve", name, leadership.token());
                interruptRun(leadership, reason);
            }
        }
    }

    /** Whether a run is in progress at the moment of the call. */
    public boolean isRunning() {
        synchronized (lock) {
            return runThread != null;
        }
    }

    /**
     * Whether a run is still going a grace period after its leadership was revoked (or the job
     * closed): the task does not answer interruption. {@code false} again once it returns.
     */
    public boolean isStopOverdue() {
        synchronized (lock) {
            return stopOverdue;
        }
    }

    /** The leadership the job is running for now, if any. */
    public Optional<Leadership> leadership() {
        synchronized (lock) {
            return Optional.ofNullable(current);
        }
    }

    /** The job's name. */
    public String name() {
        return name;
    }

    /**
     * Stops the job for good: cancels the schedule, interrupts a run in progress and shuts down
     * the executor if the job owns it (an injected one is left running). Later {@code elected}
     * calls are ignored. Idempotent; returns without waiting for the run to end.
     */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            Leadership l = current;
            current = null;
            if (l != null) {
                stop(l, RevokeReason.SHUT_DOWN);
            } else if (runFor != null) {
                interruptRun(runFor, RevokeReason.SHUT_DOWN);
            }
        }
        if (ownsExecutor) {
            executor.shutdownNow();
        }
    }

    @Override
    public String toString() {
        return "LeaderOnlyJob[" + name + ", " + mode + " " + period + "]";
    }

    /** Cancels the schedule (of the leadership served) and interrupts a run of {@code leadership}. Caller holds {@code lock}. */
    private void stop(Leadership leadership, RevokeReason reason) {
        if (schedule != null) {
            schedule.cancel(false);
            schedule = null;
        }
        if (!interruptRun(leadership, reason)) {
            log.info("job {}: stopped for {} ({})", name, leadership.token(), reason == null ? "replaced" : reason);
        }
    }

    /** Interrupts the run in progress if it is one of {@code leadership}; caller holds {@code lock}. */
    private boolean interruptRun(Leadership leadership, RevokeReason reason) {
        if (runThread == null || runFor != leadership) {
            return false;
        }
        Thread t = runThread;
        t.interrupt();
        log.info("job {}: leadership with {} ended ({}); interrupted its run on thread {}", name,
                leadership.token(), reason == null ? "replaced" : reason, t.getName());
        CompletableFuture.delayedExecutor(stopGracePeriod.toNanos(), TimeUnit.NANOSECONDS, Runnable::run)
                .execute(() -> checkStopped(leadership, reason, t));
        return true;
    }

    private void checkStopped(Leadership leadership, RevokeReason reason, Thread t) {
        synchronized (lock) {    // logged under the lock: the run cannot report its return before this
            if (runThread != t || runFor != leadership) {
                return;
            }
            stopOverdue = true;
            log.warn("job {}: the run for {} of node {} is still going {} ms after its leadership ended ({}), on thread"
                            + " {} at {}. It may still act as leader: make the task return when interrupted (do not"
                            + " swallow InterruptedException, use interruptible waits) and let every external write"
                            + " carry the fencing token", name, leadership.token(), leadership.nodeId(),
                    stopGracePeriod.toMillis(), reason == null ? "replaced" : reason, t.getName(), where(t));
        }
    }

    /** Where {@code t} is: its top frame and, if that is in the JDK, the first frame outside it. */
    private static String where(Thread t) {
        StackTraceElement[] frames = t.getStackTrace();
        if (frames.length == 0) {
            return "an unknown place";
        }
        String top = frames[0].toString();
        for (StackTraceElement f : frames) {
            String c = f.getClassName();
            if (!c.startsWith("java.") && !c.startsWith("jdk.") && !c.startsWith("sun.")) {
                return f == frames[0] ? top : top + " in " + f;
            }
        }
        return top;
    }

    private void runOnce(Leadership leadership) {
        if (!oneRunAtATime.tryLock()) {
            log.debug("job {}: a run of an earlier leadership has not returned yet; skipping this run for {}", name,
                    leadership.token());
            return;
        }
        try {
            Thread me = Thread.currentThread();
            synchronized (lock) {
                if (closed || current != leadership) {
                    return;
                }
                if (!leadership.isValid()) {
                    log.debug("job {}: the lease of {} has ended; skipping this run", name, leadership.token());
                    return;
                }
                runThread = me;
                runFor = leadership;
                stopOverdue = false;
            }
            try {
                task.run(leadership);
            } catch (InterruptedException e) {
                logEnded(leadership, "was interrupted", e);
            } catch (Throwable e) {
                logEnded(leadership, "failed", e);
            } finally {
                boolean overdue;
                synchronized (lock) {
                    overdue = stopOverdue;
                    runThread = null;
                    runFor = null;
                    stopOverdue = false;
                    Thread.interrupted();   // our interrupt was for this run only, not for the executor's thread
                }
                if (overdue) {
                    log.warn("job {}: the overdue run for {} has returned at last", name, leadership.token());
                }
            }
        } finally {
            oneRunAtATime.unlock();
        }
    }

    private void logEnded(Leadership leadership, String how, Throwable e) {
        boolean stillLeader;
        synchronized (lock) {
            stillLeader = current == leadership && !closed && leadership.isValid();
        }
        if (!stillLeader) {
            log.debug("job {}: the run for {} {} after its leadership ended: {}", name, leadership.token(), how,
                    e.toString());
        } else {
            log.warn("job {}: the run for {} {}; the schedule goes on", name, leadership.token(), how, e);
        }
    }

    /**
     * Configures a {@link LeaderOnlyJob}. One schedule is required: {@link #fixedDelay},
     * {@link #fixedRate} or {@link #loop}. Not thread-safe.
     */
    public static final class Builder {
        private final String name;
        private final LeaderTask task;
        private Mode mode;
        private Duration period;
        private Duration initialDelay = Duration.ZERO;
        private Duration stopGracePeriod = DEFAULT_STOP_GRACE_PERIOD;
        private ScheduledExecutorService executor;

        private Builder(String name, LeaderTask task) {
            this.name = Objects.requireNonNull(name, "name");
            this.task = Objects.requireNonNull(task, "task");
        }

        /** Runs the task repeatedly, {@code delay} after the previous run returned. */
        public Builder fixedDelay(Duration delay) {
            this.mode = Mode.FIXED_DELAY;
            this.period = delay;
            return this;
        }

        /**
         * Runs the task every {@code period}; a run that takes longer delays the next one (runs
         * never overlap).
         */
        public Builder fixedRate(Duration period) {
            this.mode = Mode.FIXED_RATE;
            this.period = period;
            return this;
        }

        /**
         * For a task that loops until interrupted: starts it once per leadership and, should it
         * return or throw while the leadership lasts, starts it again {@code restartDelay} later.
         * The same as {@link #fixedDelay}, said for a loop.
         */
        public Builder loop(Duration restartDelay) {
            return fixedDelay(restartDelay);
        }

        /** How long after {@code elected} the first run starts; default zero. */
        public Builder initialDelay(Duration initialDelay) {
            this.initialDelay = initialDelay;
            return this;
        }

        /**
         * How long a run may go on after its leadership was revoked before a WARN says it is
         * stuck; default 10 s.
         */
        public Builder stopGracePeriod(Duration stopGracePeriod) {
            this.stopGracePeriod = stopGracePeriod;
            return this;
        }

        /**
         * Runs the task on {@code executor}, which the job never shuts down. By default the job owns
         * a single daemon thread, named {@code leader-only-job-<name>}, ended by {@link #close()}.
         */
        public Builder executor(ScheduledExecutorService executor) {
            this.executor = Objects.requireNonNull(executor, "executor");
            return this;
        }

        /**
         * Validates the settings and returns the job, which does nothing until {@code elected}.
         *
         * @throws IllegalArgumentException naming the setting, its value and the fix, if one is invalid
         */
        public LeaderOnlyJob build() {
            if (name.isBlank()) {
                throw new IllegalArgumentException("LeaderOnlyJob name is blank: it names the job in logs and its"
                        + " thread; give it a short name such as \"billing\"");
            }
            if (mode == null) {
                throw new IllegalArgumentException("LeaderOnlyJob '" + name + "' has no schedule: call fixedDelay(d),"
                        + " fixedRate(d) or loop(restartDelay) on its builder");
            }
            positive("the schedule's period", period);
            if (initialDelay == null || initialDelay.isNegative()) {
                throw new IllegalArgumentException("LeaderOnlyJob '" + name + "' initialDelay is " + initialDelay
                        + ": it must be zero or positive");
            }
            positive("stopGracePeriod", stopGracePeriod);
            return new LeaderOnlyJob(this);
        }

        private void positive(String setting, Duration d) {
            if (d == null || d.isZero() || d.isNegative()) {
                throw new IllegalArgumentException("LeaderOnlyJob '" + name + "' " + setting + " is " + d
                        + ": it must be positive, for example Duration.ofSeconds(1)");
            }
        }
    }
}
