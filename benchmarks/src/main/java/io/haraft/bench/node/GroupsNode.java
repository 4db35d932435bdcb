package io.haraft.bench.node;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A node hosting many named groups {@code g0 .. g<N-1>} (the {@code groups} suite). It reports every
 * group leadership that can serve with {@link Events#groupReady}; its view is always {@code "- 0"}
 * (the driver follows the groups through those events). {@code LOAD} spreads the clients' submits
 * round robin over the groups this node leads when the load starts ({@link #submitUnavailable()}
 * takes that list).
 */
abstract class GroupsNode implements SystemNode {

    private volatile List<String> loadGroups = List.of();
    private final AtomicLong next = new AtomicLong();

    static String name(int i) {
        return "g" + i;
    }

    /** The groups this node leads now. */
    abstract List<String> ledNow();

    /** Commits {@code payload} in {@code group} (this node leads it). */
    abstract CompletableFuture<?> submit(String group, byte[] payload);

    @Override
    public String view() {
        return "- 0";
    }

    @Override
    public String submitUnavailable() {
        List<String> led = ledNow();
        loadGroups = led;
        return led.isEmpty() ? "this node leads no group" : null;
    }

    @Override
    public CompletableFuture<?> submit(byte[] payload) {
        List<String> groups = loadGroups;
        return submit(groups.get((int) Math.floorMod(next.getAndIncrement(), (long) groups.size())), payload);
    }
}
