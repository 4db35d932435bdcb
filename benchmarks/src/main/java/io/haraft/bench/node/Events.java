package io.haraft.bench.node;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ConcurrentHashMap;
import java.util.Set;

/**
 * The node-to-driver half of the line protocol. Every protocol line starts with {@code "@@ "} and
 * goes to the process's real standard output; {@link #install()} points {@code System.out} at
 * standard error, so whatever a library prints can never be mistaken for an event.
 *
 * <p>Times are {@code System.nanoTime()} values. On Linux that is CLOCK_MONOTONIC, shared by every
 * process on the machine, so the driver subtracts them from its own readings directly.
 */
public final class Events {

    private static PrintStream out;
    private static final Set<Long> READY_TERMS = ConcurrentHashMap.newKeySet();
    private static final Set<Long> LEADER_TERMS = ConcurrentHashMap.newKeySet();
    private static final Set<String> GROUP_READY = ConcurrentHashMap.newKeySet();
    private static volatile String nodeId = "?";

    private Events() {
    }

    static synchronized void install(String id) {
        nodeId = id;
        out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
        System.setOut(System.err);
    }

    public static synchronized void emit(String line) {
        out.println("@@ " + line);
    }

    /** This node won an election in {@code term} (Raft-level; it may not serve yet). */
    public static void leader(long term) {
        long now = System.nanoTime();
        if (LEADER_TERMS.add(term)) {
            emit("LEADER " + nodeId + " " + term + " " + now);
        }
    }

    /** This node is leader of {@code term} and can serve: its first entry of the term is committed. */
    public static void ready(long term) {
        long now = System.nanoTime();
        if (READY_TERMS.add(term)) {
            emit("READY " + nodeId + " " + term + " " + now);
        }
    }

    /**
     * Group {@code group} of this node has a leader that can serve here, in {@code term}: the line
     * {@code GREADY id group term nanos}. Emitted once per group and term.
     */
    public static void groupReady(String group, long term) {
        long now = System.nanoTime();
        if (GROUP_READY.add(group + " " + term)) {
            emit("GREADY " + nodeId + " " + group + " " + term + " " + now);
        }
    }
}
