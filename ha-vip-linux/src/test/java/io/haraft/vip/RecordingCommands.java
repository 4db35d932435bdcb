package io.haraft.vip;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.LongSupplier;

/** A Commands fake: records every argv (with a lease reading taken when it ran) and answers from a table. */
final class RecordingCommands implements Commands {

    /** One recorded run. */
    record Call(String line, long leaseNanosLeft) {
    }

    private final List<Call> calls = new ArrayList<>();
    private volatile Function<String, Result> responder = line -> null;
    private volatile LongSupplier leaseProbe = () -> Long.MAX_VALUE;
    /** Prepared commands ({@link #standby}): how many were prepared, and how many of them run. */
    final AtomicInteger prepared = new AtomicInteger();
    final AtomicInteger preparedRun = new AtomicInteger();

    /** Answers runs whose joined command line contains {@code fragment}. Later rules win. */
    synchronized RecordingCommands when(String fragment, Function<List<String>, Result> answer) {
        Function<String, Result> previous = responder;
        responder = line -> line.contains(fragment) ? answer.apply(List.of(line.split(" "))) : previous.apply(line);
        return this;
    }

    RecordingCommands whenFails(String fragment, int exit, String output) {
        return when(fragment, argv -> Result.failed(argv, exit, output));
    }

    void leaseProbe(LongSupplier probe) {
        this.leaseProbe = probe;
    }

    @Override
    public Result run(List<String> argv, Duration timeout) {
        String line = String.join(" ", argv);
        synchronized (this) {
            calls.add(new Call(line, leaseProbe.getAsLong()));
        }
        Result r = responder.apply(line);
        if (r != null) {
            return r;
        }
        if (line.endsWith("arping -V")) {
            return Result.ok(argv, "arping from iputils 20221126");
        }
        if (line.contains("sysctl -n ")) {
            // net.ipv6.conf.all.accept_dad, eth0's accept_dad and ndisc_notify as a fresh host has them
            return Result.ok(argv, "0\n1\n0");
        }
        if (line.contains(" link show dev ")) {
            return Result.ok(argv, "2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 state UP");
        }
        if (line.contains(" addr del ")) {
            return Result.failed(argv, 2, "Error: ipv4: Address not found.");
        }
        return Result.ok(argv, "");
    }

    /** Counts the prepared command; running it records the whole command line like {@link #run}. */
    @Override
    public Standby standby(List<String> ip, List<String> command) {
        prepared.incrementAndGet();
        Standby plain = Commands.super.standby(ip, command);
        return new Standby() {
            @Override
            public Result run(Duration timeout) {
                preparedRun.incrementAndGet();
                return plain.run(timeout);
            }

            @Override
            public void cancel() {
                // nothing was started
            }
        };
    }

    synchronized List<Call> calls() {
        return List.copyOf(calls);
    }

    synchronized List<String> lines() {
        return calls.stream().map(Call::line).toList();
    }

    synchronized long count(String fragment) {
        return calls.stream().filter(c -> c.line().contains(fragment)).count();
    }

    synchronized void clear() {
        calls.clear();
    }
}
