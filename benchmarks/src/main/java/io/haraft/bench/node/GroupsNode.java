package io.haraft.bench.node;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A node hosting many named groups {@code g0 .. g<N-1>} (the {@code groups} suite). It reports every
 * group leadership that can serve with {@link Events#groupReady}; its view is always {@code "- 0"}
 * (the driver follows the groups through those events). {@code LOAD} spreads the clients' submits
 * round robin over the groups this node leads when the load starts ({@link #submitUnavailable()}
 * takes that list); a group whose submit fails leaves the list.
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

    /**
     * Submits in the next group of the load's list, round robin. A group whose submit fails leaves the
     * list (its leadership moved, say), so the clients do not spin on it; with none left, submits fail
     * and the load generator gives up as it does on a single group.
     */
    @Override
    public CompletableFuture<?> submit(byte[] payload) {
        List<String> groups = loadGroups;
        if (groups.isEmpty()) {
            return CompletableFuture.failedFuture(new IllegalStateException("this node leads none of the loaded groups"));
        }
        String group = groups.get((int) Math.floorMod(next.getAndIncrement(), (long) groups.size()));
        CompletableFuture<?> f = submit(group, payload);
        f.whenComplete((r, e) -> {
            if (e != null) {
                dropFromLoad(group);
            }
        });
        return f;
    }

    private synchronized void dropFromLoad(String group) {
        if (loadGroups.contains(group)) {
            List<String> rest = new java.util.ArrayList<>(loadGroups);
            rest.remove(group);
            loadGroups = List.copyOf(rest);
        }
    }
}
