package io.haraft.runtime;

import io.haraft.core.Message;
import io.haraft.metrics.MeterId;

import java.util.List;

/**
 * Test-only reads of, and pokes into, one {@link RaftNodeImpl}'s parts (its loop, apply thread,
 * snapshot transfer, dispatcher and meters), through the node's package-private accessors. Lives in
 * the test sources so that production code carries none of it.
 */
final class NodeTestHooks {
    private NodeTestHooks() {
    }

    /** How many transitions wait for the listener (queued, not yet handed to it). */
    static int queuedTransitions(RaftNodeImpl node) {
        LeadershipDispatcher d = node.dispatcher();
        return d == null ? 0 : d.queuedTransitions();
    }

    /** Runs {@code task} on the Raft loop thread (for example one that blocks the loop). */
    static void runOnLoop(RaftNodeImpl node, Runnable task) {
        node.loop().post(task);
    }

    /** Hands {@code message} to the node as its transport hands what it receives. */
    static void deliver(RaftNodeImpl node, Message message) {
        node.loop().onMessage(message);
    }

    /** How many snapshots received from a leader the node installed since it started. */
    static long snapshotsInstalled(RaftNodeImpl node) {
        SnapshotTransfer st = node.snapshots();
        return st == null ? 0 : st.installed();
    }

    /** How many snapshot chunks the node served to followers since it started. */
    static long snapshotChunksServed(RaftNodeImpl node) {
        SnapshotTransfer st = node.snapshots();
        return st == null ? 0 : st.chunksServed();
    }

    /** The index up to which the node's core has compacted its log (its snapshot's index). */
    static long coreSnapshotIndex(RaftNodeImpl node) {
        NodeLoop loop = node.loop();
        return loop.call(loop::coreSnapshotIndex).join();
    }

    /** Whether the node leads and may send {@code peer} log entries before it hears from it again. */
    static boolean sendsEntriesTo(RaftNodeImpl node, String peer) {
        NodeLoop loop = node.loop();
        return loop.call(() -> loop.sendsEntriesTo(peer)).join();
    }

    /** How many snapshots the node took since it started. */
    static long snapshotsTaken(RaftNodeImpl node) {
        Applier a = node.applier();
        return a == null ? 0 : a.snapshotsTaken();
    }

    /** How many times the node's state machine was restored from a snapshot since it started. */
    static long restores(RaftNodeImpl node) {
        Applier a = node.applier();
        return a == null ? 0 : a.restores();
    }

    /** The meters the node registered (empty before start and after close). */
    static List<MeterId> meters(RaftNodeImpl node) {
        return node.metrics().registeredForTest();
    }
}
