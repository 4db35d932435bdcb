package io.haraft.vip;

import io.haraft.FencingToken;
import io.haraft.Leadership;
import io.haraft.LeadershipListener;
import io.haraft.RevokeReason;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Keeps a virtual IP (VIP) on this host exactly while this node is the HA-Raft leader with a valid
 * lease: a {@link LeadershipListener} that runs {@code ip addr add} on {@code elected}, announces
 * the move with gratuitous ARP, and runs {@code ip addr del} before the lease can run out.
 *
 * <pre>{@code
 * VipHolder vip = VipHolder.create(VipConfig.builder("192.0.2.10/24", "eth0").build());
 * vip.start();                                  // checks ip, arping, eth0, CAP_NET_ADMIN; removes a stale VIP
 * RaftNode node = RaftNode.builder()...listener(vip).build();
 * node.start();
 * ...
 * node.close();                                 // revoked() removes the VIP
 * vip.close();
 * }</pre>
 *
 * <p><b>Takeover</b> (on {@code elected}, on the node's listener thread): (1) the lease must be
 * valid with more than {@link VipConfig#releaseMargin()} left; (2) optionally {@code arping -D}
 * asks whether another host still answers for the VIP; (3) if one does, the {@link Fencer} must
 * succeed, otherwise there is no takeover (logged and reported by {@link #status()}); (4) the
 * lease is checked again and {@code ip addr add} runs; (5) gratuitous ARPs go out
 * ({@code arping -U}, {@link VipConfig#garpCount()} at once, {@link VipConfig#garpRepeatCount()}
 * more after {@link VipConfig#garpRepeatDelay()}). Every step is bounded by a timeout, so a
 * takeover never blocks the listener thread forever.
 *
 * <p><b>IPv6.</b> The kernel itself announces an IPv6 VIP, without extra software. {@link #start()}
 * sets {@code net.ipv6.conf.IF.ndisc_notify = 1} and {@code net.ipv6.conf.IF.accept_dad = 0} on the
 * VIP's interface IF (with {@code sysctl}, logging what it changed; {@code net.ipv6.conf.all.accept_dad}
 * must be 0), and the VIP is added without {@code nodad}. With these settings Linux treats the new
 * address as having passed duplicate address detection at once and sends one unsolicited neighbour
 * advertisement: ICMPv6 type 136 from the interface to ff02::1 (all nodes), target the VIP, the
 * Override flag set and the Solicited flag clear, carrying the interface's MAC as target link-layer
 * address. A neighbour that has the VIP in its cache switches the entry to the new MAC (state
 * STALE, confirmed by its next packet). Linux sends no advertisement for an address added with
 * {@code nodad}, and after a normal DAD only about a second later; one advertisement is all it
 * sends, so {@link VipConfig#garpCount()} and {@link VipConfig#garpRepeatCount()} apply to IPv4 only.
 * After each IPv6 takeover the two settings are read again; a changed one is reported and set again.
 * Side effect: DAD is off for every address on IF (the VIP never used DAD either).
 *
 * <p><b>Release</b> ({@code ip addr del}; an address that is already gone is fine): on
 * {@code revoked}; on lease expiry, by this holder's own watchdog thread, independent of any Raft
 * thread, acting {@link VipConfig#releaseMargin()} before the lease ends (re-reading
 * {@link Leadership#remainingLease()}, so renewals keep the VIP); on {@link #close()}; and in
 * {@link #start()}, which removes the VIP if it is found on this host. Right after each takeover
 * an {@code ip -batch -} process is started and left waiting ({@link Commands#standby}), so that
 * the release only writes {@code addr del ...} to it: no process start (3-10 ms, up to ~120 ms on
 * a loaded host) stands between the decision and the removal. A failed removal is retried
 * every 100 ms, up to 20 times, and reported by {@link #status()}. After the watchdog has removed the
 * VIP, the leadership adds it again only if its lease is renewed after all (a late majority answer
 * inside the margin keeps the node leader), to more than 1.5 times the margin; a lease that ran out
 * is never renewed within a term, so the next {@code elected} is then what adds it.
 *
 * <p><b>Release margin.</b> A new leader can be elected no sooner than about the old lease's end
 * (the lease is {@code electionTimeout x 0.98}, counted from the send time of the heartbeat a
 * majority acknowledged). For the VIP never to be on two hosts, the watchdog must wake up and
 * {@code ip addr del} (the prepared process) must finish within {@link VipConfig#releaseMargin()}. A larger margin covers
 * a slower host, but the watchdog also removes the VIP whenever a renewal comes more than
 * {@code lease - heartbeat - margin} late (at 294 ms, 100 ms and the default 100 ms margin: about
 * 90 ms), and the leader holds no VIP until the renewal arrives. The default margin is
 * {@value VipConfig#DEFAULT_RELEASE_MARGIN_MS} ms; a removal that outlasts the margin is logged
 * as a warning.
 *
 * <p><b>Guarantees.</b> Thread-safe: {@code elected}/{@code revoked} (one thread, per the listener
 * contract), the watchdog, {@link #close()} and {@link #status()} may run concurrently. Adding and
 * removing the address are serialised, and the address is added only after re-checking, under
 * the same lock, that this leadership is still current and its lease has more than the margin left.
 * All programs run through {@link Commands}, without a shell, with timeouts.
 *
 * <p><b>Limits.</b> The lease protects the VIP only if {@code ip addr del} completes within the
 * margin, and only while this process runs: a process that is killed ({@code kill -9}) or frozen
 * leaves its VIP on the interface. A frozen process may resume and keep answering ARP until its
 * watchdog runs. That is why the duplicate probe and the {@link Fencer} exist; use them where a
 * leftover VIP matters. The gratuitous ARPs of a burst are separate {@code arping -c 1} processes
 * started together (iputils arping cannot send several packets faster than one per second), so a
 * burst that started just before a release may still be on the wire while the VIP is removed;
 * the next holder's ARPs correct that. For IPv6 one advertisement is sent, which can be lost like
 * any packet; a neighbour that missed it finds the new holder through neighbour unreachability
 * detection (seconds).
 */
public final class VipHolder implements LeadershipListener, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(VipHolder.class);

    /** CAP_NET_ADMIN's bit in the capability masks of /proc/self/status. */
    static final int CAP_NET_ADMIN = 12;
    private static final int RELEASE_RETRIES = 20;
    private static final Duration RELEASE_RETRY_DELAY = Duration.ofMillis(100);
    /** How often the lease is re-read after a watchdog release, in case it is renewed after all. */
    private static final Duration RENEWAL_POLL = Duration.ofMillis(10);

    private final VipConfig config;
    private final Commands commands;
    private final HostSetup setup;
    private final ScheduledExecutorService watchdog;
    private final ExecutorService workers;

    private final Object lock = new Object();
    // all fields below are guarded by lock
    private boolean started;
    private boolean closed;
    private Leadership current;
    private Leadership holdingFor;
    private boolean holding;
    private ScheduledFuture<?> watchdogTask;
    /** A leadership whose takeover was refused for a short lease and waits for a renewal; guarded by lock. */
    private Leadership retryPending;
    /** While holding: an {@code ip addr del} started ahead of time, so that a release costs no process start. */
    private Commands.Standby preparedDel;
    private Instant lastTakeoverAt;
    private Instant lastReleaseAt;
    private String lastReleaseReason;
    private String lastError;
    private Instant lastErrorAt;

    private VipHolder(VipConfig config, Commands commands, Host host) {
        this.config = Objects.requireNonNull(config, "config");
        this.commands = Objects.requireNonNull(commands, "commands");
        this.setup = new HostSetup(this.config, this.commands, Objects.requireNonNull(host, "host"));
        this.watchdog = Executors.newSingleThreadScheduledExecutor(daemon("ha-vip-watchdog"));
        this.workers = Executors.newCachedThreadPool(daemon("ha-vip-worker"));
    }

    /** A holder that runs its programs on this host ({@link Commands#system()}). Call {@link #start()} next. */
    public static VipHolder create(VipConfig config) {
        return new VipHolder(config, Commands.system(), Host.LOCAL);
    }

    /**
     * A holder that runs its programs through {@code commands}, for example inside a network
     * namespace ({@code ip netns exec NS ...}) or a recording fake in tests. Call {@link #start()} next.
     */
    public static VipHolder create(VipConfig config, Commands commands) {
        return new VipHolder(config, commands, Host.LOCAL);
    }

    static VipHolder create(VipConfig config, Commands commands, Host host) {
        return new VipHolder(config, commands, host);
    }

    /** The configuration. */
    public VipConfig config() {
        return config;
    }

    /**
     * Checks that this host can manage the VIP, and removes the VIP if it is already here. Call it
     * once, before the node that this holder listens to is started: transitions delivered before a
     * successful {@code start()} are not acted on.
     *
     * <p>Checks, each failing with a {@link VipSetupException} that says what to install or grant:
     * {@code ip} exists and is executable; for an IPv4 VIP, {@code arping} too, and it is the
     * iputils one; for an IPv6 VIP, {@code sysctl} (procps); the {@link Fencer} reports no
     * {@linkplain Fencer#setupProblems() problem} (for a {@link CommandFencer}: its program exists and
     * is executable); the interface exists; the VIP is not already an address of this host in any
     * other way than the holder adds it (on another interface, or with another prefix length: then
     * it is the host's own address, which the holder must never remove); the process may
     * change addresses (CAP_NET_ADMIN). The last check is the start-up cleanup itself:
     * {@code ip addr del} of the VIP, which needs CAP_NET_ADMIN, changes nothing if the VIP is
     * absent, and removes it if it is here while this node is not yet leader (left by a crashed
     * earlier run). It is safe, exact (it asks the kernel through the very binary
     * used at failover, so file capabilities and ambient capabilities count), and is what the
     * design requires at start anyway. For IPv4, an {@code arping -D} probe (up to
     * {@link VipConfig#probeTimeout()}) then checks that {@code arping} may send (CAP_NET_RAW), and
     * logs a warning if another host answers for the VIP now. For IPv6, it sets the interface's
     * {@code accept_dad} to 0 and {@code ndisc_notify} to 1 if they differ (logged as a warning;
     * see the class documentation), and fails if {@code net.ipv6.conf.all.accept_dad} is not 0.
     *
     * @throws VipSetupException     if the host cannot manage the VIP
     * @throws IllegalStateException if already started or closed
     */
    public void start() {
        synchronized (lock) {
            if (closed) {
                throw new IllegalStateException("this VipHolder is closed; create a new one");
            }
            if (started) {
                throw new IllegalStateException("start() was already called");
            }
        }
        setup.programsAndInterface();
        Commands.Result del = run(addrCommand("del"));
        if (del.ok()) {
            log.warn("VIP {} was on {} although this node is not leader (left by an earlier run?): removed it",
                    config.address(), config.interfaceName());
            synchronized (lock) {
                lastReleaseAt = Instant.now();
                lastReleaseReason = "start-up cleanup: found on this host while not leader";
            }
        } else if (isPermissionDenied(del)) {
            throw new VipSetupException(setup.noNetAdminMessage(del));
        } else if (!isAddressMissing(del)) {
            throw new VipSetupException("cannot check or remove the VIP at start (" + del + "); fix the"
                    + " cause before starting");
        }
        if (!config.address().isIpv6()) {
            HostSetup.Probe probe = setup.probe();
            if (probe.error() != null) {
                if (isPermissionDenied(probe.result())) {
                    throw new VipSetupException(setup.noNetRawMessage(probe.result()));
                }
                log.warn("arping could not probe for VIP {} at start (takeovers may fail the same way): {}",
                        config.address(), probe.result());
            } else if (probe.duplicate()) {
                log.warn("another host ({}) answers for VIP {} on {} right now; {}", probe.mac().orElse("MAC unknown"),
                        config.address(), config.interfaceName(), config.duplicateProbe()
                                ? "a takeover will have to fence it first" : "consider duplicateProbe and a Fencer");
            }
        } else {
            HostSetup.Ipv6Settings settings = setup.readIpv6Settings();
            if (!settings.ready()) {
                setup.applyIpv6Settings();
                log.warn("set {} (was {}) so that the kernel sends an unsolicited neighbour advertisement when IPv6 VIP"
                        + " {} is added; to keep this setting across reboots, put it into /etc/sysctl.d/",
                        settings.wanted(), settings.found(), config.address());
            }
        }
        synchronized (lock) {
            if (closed) {
                throw new IllegalStateException("closed during start()");
            }
            started = true;
        }
        log.info("VIP holder started: {} on {} (ip {}, arping {}, duplicate probe {}, fencer {}, release margin {} ms)",
                config.address(), config.interfaceName(), config.ipCommand(), config.arpingCommand(),
                config.duplicateProbe() ? "on" : "off", config.fencer().map(Object::toString).orElse("none"),
                config.releaseMargin().toMillis());
    }

    /**
     * The host checks of {@link #start()} without changing anything, for a command-line
     * {@code --check} on a host where a node may be running and holding the VIP right now.
     *
     * <p>Checks that {@code ip} and the iputils {@code arping} (IPv4) or {@code sysctl} (IPv6)
     * exist, that the fencer reports no problem, that the interface exists, that the VIP is not
     * already the host's own address (as in {@code start()}), and that this process may change addresses (CAP_NET_ADMIN,
     * tested with an {@code ip link set} that sets the interface's MTU to the value it already has:
     * the kernel checks the capability before it sees that nothing changes). For IPv4 it then runs the {@code arping -D} probe of
     * {@code start()} (CAP_NET_RAW); for IPv6 it reports the interface's {@code accept_dad} and
     * {@code ndisc_notify}, which {@code start()} would set. Unlike {@code start()}, it never removes
     * the VIP or changes a setting: if the VIP is on this host, that is reported in the returned notes.
     * Unlike {@code start()}, it does not stop at the first problem: every check that does not
     * depend on a failed one runs, and the exception lists all problems found.
     *
     * @return notes for the operator (each one line), such as whether the VIP is on this host now
     *         and whether another host answers for it
     * @throws VipSetupException if the host cannot manage the VIP; {@link VipSetupException#problems()}
     *                           lists every problem found, each saying what to install, grant or change
     */
    public List<String> check() {
        return setup.check();
    }

    /** After an IPv6 takeover: reports and repairs settings changed since start (the kernel sent no advertisement). */
    private void verifyIpv6Settings() {
        try {
            HostSetup.Ipv6Settings s = setup.readIpv6Settings();
            if (!s.ready()) {
                error("IPv6 VIP " + config.address() + " was added while " + s.found() + " (changed since start):"
                        + " the kernel sent no neighbour advertisement (and ran duplicate address detection); setting "
                        + s.wanted() + " again");
                setup.applyIpv6Settings();
            }
        } catch (VipSetupException e) {
            error("after the takeover of IPv6 VIP " + config.address() + ": " + e.getMessage());
        }
    }

    // ---------------------------------------------------------------- listener

    /**
     * Takes the VIP over for {@code leadership}, as described in the class documentation. Returns
     * after {@code ip addr add} and the start of the first gratuitous ARP burst, or as soon as a
     * step fails; never throws for a failed step (see {@link #status()}).
     */
    @Override
    public void elected(Leadership leadership) {
        Objects.requireNonNull(leadership, "leadership");
        synchronized (lock) {
            if (closed || !started) {
                error("elected (" + leadership.token() + ") while " + (closed ? "closed" : "not started")
                        + ": not taking the VIP over" + (closed ? "" : "; call start() before starting the node"));
                return;
            }
            current = leadership;
            cancelWatchdog();
        }
        scheduleWatchdog(leadership, Duration.ZERO);
        try {
            takeover(leadership);
        } catch (RuntimeException e) {
            error("takeover for " + leadership.token() + " failed: " + e);
        }
    }

    /** Removes the VIP (idempotent: nothing happens if it is not here). */
    @Override
    public void revoked(Leadership leadership, RevokeReason reason) {
        Objects.requireNonNull(leadership, "leadership");
        Objects.requireNonNull(reason, "reason");
        synchronized (lock) {
            if (current == leadership) {
                current = null;
                cancelWatchdog();
            }
        }
        release("revoked: " + reason + " (" + leadership.token() + ")", RELEASE_RETRIES);
    }

    private void takeover(Leadership l) {
        FencingToken token = l.token();
        if (!isCurrentWithLease(l)) {
            log.info("not taking VIP {} over for {}: the leadership ended or its lease has no more than the"
                    + " {} ms margin left", config.address(), token, config.releaseMargin().toMillis());
            retryWhenRenewed(l);
            return;
        }
        if (config.duplicateProbe()) {
            HostSetup.Probe probe = setup.probe();
            if (probe.error() != null) {
                error("no takeover for " + token + ": the duplicate-address probe failed: " + probe.error());
                return;
            }
            if (probe.duplicate()) {
                String who = probe.mac().orElse("a host with unknown MAC");
                if (config.fencer().isEmpty()) {
                    error("no takeover for " + token + ": " + who + " still answers for VIP " + config.address()
                            + " and no Fencer is configured");
                    return;
                }
                log.warn("{} still answers for VIP {}: fencing it before the takeover ({})", who, config.address(), token);
                String failure = fence(new Fencer.FenceRequest(config.address(), config.interfaceName(), probe.mac(), token));
                if (failure != null) {
                    error("no takeover for " + token + ": fencing " + who + " failed: " + failure);
                    return;
                }
                log.info("fenced {} for VIP {} ({})", who, config.address(), token);
            }
        }
        synchronized (lock) {
            if (!isCurrentWithLease(l)) {
                log.info("not taking VIP {} over for {}: the leadership ended or its lease ran low during the"
                        + " probe or fence", config.address(), token);
                retryWhenRenewed(l);
                return;
            }
            holding = true; // from here on the address may be present, even if the command times out
            holdingFor = l;
            Commands.Result add = run(addrCommand("add"));
            if (!add.ok() && !isAddressPresent(add)) {
                error("no takeover for " + token + ": " + add);
                if (!add.timedOut()) {
                    holding = false;
                    holdingFor = null;
                }
                return;
            }
            lastTakeoverAt = Instant.now();
        }
        log.info("VIP {} taken over on {} for {} ({} ms of lease left)", config.address(), config.interfaceName(),
                token, l.remainingLease().toMillis());
        announce(l, config.garpCount());
        prepareRelease(l);
        if (config.garpRepeatCount() > 0) {
            watchdog.schedule(() -> announce(l, config.garpRepeatCount()),
                    config.garpRepeatDelay().toNanos(), TimeUnit.NANOSECONDS);
        }
    }

    /** Returns null on success, else why the fence failed. Bounded by {@link VipConfig#fenceTimeout()}. */
    private String fence(Fencer.FenceRequest request) {
        Fencer fencer = config.fencer().orElseThrow();
        Future<?> f;
        try {
            f = workers.submit(() -> {
                fencer.fence(request);
                return null;
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            return "the holder is closing";
        }
        try {
            f.get(config.fenceTimeout().toNanos(), TimeUnit.NANOSECONDS);
            return null;
        } catch (TimeoutException e) {
            f.cancel(true);
            return "no answer within the fence timeout of " + config.fenceTimeout().toMillis() + " ms";
        } catch (ExecutionException e) {
            return String.valueOf(e.getCause().getMessage() != null ? e.getCause().getMessage() : e.getCause());
        } catch (InterruptedException e) {
            f.cancel(true);
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    /**
     * IPv4: starts {@code count} gratuitous ARP processes together, if the VIP is still held for
     * {@code l}. IPv6: checks that the kernel's announcement settings still hold.
     */
    private void announce(Leadership l, int count) {
        if (config.address().isIpv6()) {
            // the kernel sent the one unsolicited neighbour advertisement when ip addr add added the VIP
            try {
                workers.execute(() -> {
                    if (isHoldingFor(l)) {
                        verifyIpv6Settings();
                    }
                });
            } catch (java.util.concurrent.RejectedExecutionException e) {
                // closing
            }
            return;
        }
        List<String> argv = List.of(config.arpingCommand().toString(), "-U", "-c", "1", "-I", config.interfaceName(),
                config.address().host());
        AtomicInteger failures = new AtomicInteger();
        for (int i = 0; i < count; i++) {
            try {
                workers.execute(() -> {
                    if (!isHoldingFor(l)) {
                        return;
                    }
                    // arping -U -c 1 sends at once, then lingers about a second: allow for that
                    Commands.Result r = commands.run(argv, config.commandTimeout().plusSeconds(1));
                    // a failure after the release (or a close that interrupted arping) does not matter
                    if (!r.ok() && isHoldingFor(l) && failures.getAndIncrement() == 0) {
                        error("announcing VIP " + config.address() + " failed: " + r);
                    }
                });
            } catch (java.util.concurrent.RejectedExecutionException e) {
                return; // closing
            }
        }
    }

    /**
     * Starts, on a worker, the {@code ip} process that will remove the VIP ({@link Commands#standby}),
     * so that the release, which must finish within the margin, costs no process start.
     */
    private void prepareRelease(Leadership l) {
        try {
            workers.execute(() -> {
                Commands.Standby del = commands.standby(List.of(ip(), family()), delCommand());
                synchronized (lock) {
                    if (!closed && holding && holdingFor == l && preparedDel == null) {
                        preparedDel = del;
                        return;
                    }
                }
                del.cancel(); // released (or closed) meanwhile
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closing
        }
    }

    // ---------------------------------------------------------------- watchdog

    private void scheduleWatchdog(Leadership l, Duration delay) {
        synchronized (lock) {
            if (closed || current != l) {
                return;
            }
            cancelWatchdog();
            watchdogTask = watchdog.schedule(() -> checkLease(l), Math.max(0, delay.toNanos()), TimeUnit.NANOSECONDS);
        }
    }

    private void checkLease(Leadership l) {
        try {
            synchronized (lock) {
                if (closed || current != l) {
                    return;
                }
            }
            Duration left = l.isValid() ? l.remainingLease() : Duration.ZERO;
            Duration untilRelease = left.minus(config.releaseMargin());
            if (!untilRelease.isNegative() && !untilRelease.isZero()) {
                synchronized (lock) {
                    if (retryPending == l) {
                        // a takeover of l was refused for a short lease, and the lease is long now:
                        // the renewal watch takes over (this check may have replaced its task)
                        watchRenewal(l);
                        return;
                    }
                }
                scheduleWatchdog(l, untilRelease);
                return;
            }
            synchronized (lock) {
                if (current != l) {
                    return;
                }
                watchdogTask = null;
            }
            log.warn("lease of {} ends in {} ms (release margin {} ms) and was not renewed: removing VIP {}",
                    l.token(), left.toMillis(), config.releaseMargin().toMillis(), config.address());
            release("lease watchdog: " + left.toMillis() + " ms of lease left (" + l.token() + ")", RELEASE_RETRIES);
            watchRenewal(l);
        } catch (RuntimeException e) {
            error("lease watchdog failed: " + e);
        }
    }

    /**
     * After the watchdog removed the VIP, the lease may still be renewed: a late majority answer
     * can arrive inside the release margin, and the node then stays leader. Polls the lease every
     * {@link #RENEWAL_POLL} until the leadership ends (revoked, a new elected, or the lease runs
     * out, which Raft never renews within a term) or the lease has more than 1.5 times the margin
     * left again (a renewal restores about the whole lease, well above that for any margin that
     * is below the lease minus the heartbeat interval); in that case the VIP is taken over again
     * exactly as on {@code elected}, which is as safe: a valid lease means no other node can have
     * been elected.
     */
    private void watchRenewal(Leadership l) {
        synchronized (lock) {
            if (closed || current != l) {
                return;
            }
            if (!l.isValid()) {
                current = null; // the lease ran out: this leadership can never take the VIP again
                return;
            }
            Duration left = l.remainingLease();
            if (left.compareTo(config.releaseMargin().multipliedBy(3).dividedBy(2).plus(RENEWAL_POLL)) > 0) {
                log.warn("lease of {} was renewed ({} ms left) after the watchdog removed VIP {}: taking it over"
                        + " again", l.token(), left.toMillis(), config.address());
                cancelWatchdog(); // at most one renewal watch takes over
                retryPending = null;
                try {
                    workers.execute(() -> {
                        scheduleWatchdog(l, Duration.ZERO);
                        try {
                            takeover(l);
                        } catch (RuntimeException e) {
                            error("takeover for " + l.token() + " after a renewal failed: " + e);
                        }
                    });
                } catch (java.util.concurrent.RejectedExecutionException e) {
                    // closing
                }
                return;
            }
            cancelWatchdog(); // at most one renewal watch pending
            try {
                watchdogTask = watchdog.schedule(() -> watchRenewal(l), RENEWAL_POLL.toNanos(), TimeUnit.NANOSECONDS);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                // closing
            }
        }
    }

    /**
     * A takeover refused because the lease was too short (an {@code elected} delivered late on a
     * busy host): the node may stay leader with its lease renewed, and the watchdog, which only
     * acts near the lease's end, would then never try again, leaving the leader without its VIP
     * for the whole term. Nothing is held for {@code l}, so the lease watch is replaced by the
     * renewal watch, which takes the VIP over as soon as the lease has enough left (and re-arms
     * the watchdog), or stops when the leadership ends.
     */
    private void retryWhenRenewed(Leadership l) {
        synchronized (lock) {
            if (closed || current != l || !l.isValid()) {
                return;
            }
            retryPending = l;
            cancelWatchdog();
            try {
                watchdogTask = watchdog.schedule(() -> watchRenewal(l), RENEWAL_POLL.toNanos(), TimeUnit.NANOSECONDS);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                // closing
            }
        }
    }

    private void cancelWatchdog() {
        if (watchdogTask != null) {
            watchdogTask.cancel(false);
            watchdogTask = null;
        }
    }

    // ---------------------------------------------------------------- release

    private void release(String reason, int retriesLeft) {
        synchronized (lock) {
            if (!holding) {
                return;
            }
            Commands.Standby prepared = preparedDel;
            preparedDel = null;
            Commands.Result del = prepared != null ? prepared.run(config.commandTimeout()) : run(addrCommand("del"));
            if (del.ok() || isAddressMissing(del)) {
                holding = false;
                holdingFor = null;
                lastReleaseAt = Instant.now();
                lastReleaseReason = reason;
                log.info("VIP {} released from {} in {} ms ({})", config.address(), config.interfaceName(),
                        del.elapsed().toMillis(), reason);
                if (del.elapsed().compareTo(config.releaseMargin()) > 0) {
                    log.warn("`ip addr del` took {} ms, more than the release margin of {} ms: when the lease runs"
                            + " out, a new leader could add the VIP before it is gone here; raise releaseMargin",
                            del.elapsed().toMillis(), config.releaseMargin().toMillis());
                }
                return;
            }
            error("removing VIP " + config.address() + " failed (" + reason + "): " + del
                    + (retriesLeft > 0 ? "; retrying" : "; giving up: remove it by hand"));
            if (retriesLeft <= 0 || watchdog.isShutdown()) {
                return;
            }
        }
        watchdog.schedule(() -> {
            synchronized (lock) {
                if (current != null && current == holdingFor && isCurrentWithLease(current)) {
                    // a newer leadership, or this one after a renewal, has added the VIP meanwhile
                    return;
                }
            }
            release(reason, retriesLeft - 1);
        }, RELEASE_RETRY_DELAY.toNanos(), TimeUnit.NANOSECONDS);
    }

    /**
     * Removes the VIP if this holder added it, stops the watchdog and the worker threads.
     * Idempotent; later transitions are ignored.
     */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            current = null;
            cancelWatchdog();
        }
        watchdog.shutdown();
        release("closed", 0);
        synchronized (lock) {
            if (preparedDel != null) { // prepared after the release above had run
                preparedDel.cancel();
                preparedDel = null;
            }
        }
        workers.shutdownNow();
        watchdog.shutdownNow();
        try {
            if (!workers.awaitTermination(config.commandTimeout().toMillis() + 1000, TimeUnit.MILLISECONDS)) {
                log.warn("some ip/arping processes of VIP {} did not stop in time", config.address());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A snapshot of what this holder is doing; cheap, never blocks on a running command for long. */
    public VipStatus status() {
        synchronized (lock) {
            return new VipStatus(config.address(), started, closed, holding,
                    Optional.ofNullable(holdingFor).map(Leadership::token),
                    Optional.ofNullable(lastTakeoverAt), Optional.ofNullable(lastReleaseAt),
                    Optional.ofNullable(lastReleaseReason), Optional.ofNullable(lastError),
                    Optional.ofNullable(lastErrorAt));
        }
    }

    // ---------------------------------------------------------------- helpers

    private boolean isCurrentWithLease(Leadership l) {
        synchronized (lock) {
            return !closed && current == l && l.isValid()
                    && l.remainingLease().compareTo(config.releaseMargin()) > 0;
        }
    }

    private boolean isHoldingFor(Leadership l) {
        synchronized (lock) {
            return holding && holdingFor == l && current == l;
        }
    }

    private void error(String message) {
        log.error(message);
        synchronized (lock) {
            lastError = message;
            lastErrorAt = Instant.now();
        }
    }

    private String ip() {
        return config.ipCommand().toString();
    }

    private String family() {
        return config.address().isIpv6() ? "-6" : "-4";
    }

    private List<String> addrCommand(String verb) {
        // IPv6 without nodad: with accept_dad = 0 there is no DAD anyway, and only then does the
        // kernel send its unsolicited neighbour advertisement (see the class documentation)
        return List.of(ip(), family(), "addr", verb, config.address().cidr(), "dev", config.interfaceName());
    }

    private List<String> delCommand() {
        return addrCommand("del").subList(2, 7);
    }

    private Commands.Result run(List<String> argv) {
        return commands.run(argv, config.commandTimeout());
    }

    static boolean isPermissionDenied(Commands.Result r) {
        String out = r.output().toLowerCase(Locale.ROOT);
        return out.contains("operation not permitted") || out.contains("permission denied");
    }

    /** {@code ip addr del} of an absent address: "Cannot assign requested address" or "Address not found". */
    static boolean isAddressMissing(Commands.Result r) {
        String out = r.output().toLowerCase(Locale.ROOT);
        return !r.timedOut() && (out.contains("cannot assign requested address") || out.contains("address not found"));
    }

    /** {@code ip addr add} of an address already present: "File exists" / "Address already assigned". */
    static boolean isAddressPresent(Commands.Result r) {
        String out = r.output().toLowerCase(Locale.ROOT);
        return !r.timedOut() && (out.contains("file exists") || out.contains("already assigned"));
    }

    private static ThreadFactory daemon(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
