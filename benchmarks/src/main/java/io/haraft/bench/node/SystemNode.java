package io.haraft.bench.node;

import java.util.concurrent.CompletableFuture;

/** One benchmarked system's node, as the node JVM drives it. Implementations call {@link Events}. */
public interface SystemNode {

    /** Starts the node; returns once it runs (not necessarily once a leader exists). */
    void start(NodeArgs args) throws Exception;

    /** The leader this node currently follows, or {@code null}, and its term: {@code "n2 7"}. */
    String view();

    /** Graceful shutdown as the system documents it (a leader hands over where it can). */
    void stopGracefully() throws Exception;

    /**
     * Commits {@code payload} through the cluster from inside this JVM (the driver sends the load to
     * the leader's JVM, since HA-Raft is embedded and has no remote client).
     */
    CompletableFuture<?> submit(byte[] payload);

    /** Why {@link #submit} cannot work, or {@code null} when it can. */
    default String submitUnavailable() {
        return null;
    }
}
