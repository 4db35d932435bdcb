package io.haraft.runtime;

/**
 * Runs a node's {@link NodeLoop}: in the library, on a thread of its own that blocks on the loop's
 * inbox until a task arrives or the core's next deadline passes ({@link OwnThread}); in a
 * simulator, from its deterministic event queue, one {@link NodeLoop#step()} at a time.
 *
 * <p>Thread-safety: every method may be called from any thread.
 */
interface LoopDriver {

    /** Starts running {@code loop} until it stops. Called once. */
    void start(NodeLoop loop);

    /** A task was queued for the loop (a driver whose thread blocks on the inbox needs nothing). */
    void wake();

    /** Interrupts the loop's thread if it has one (a crash-like stop). */
    void interrupt();

    /** Whether the caller is the one running the loop. */
    boolean inLoop();

    /** Whether the loop may still be running (started and not yet ended). */
    boolean isAlive();

    /** The library's driver: a daemon thread {@code haraft-loop-<nodeId>} running {@link NodeLoop#runBlocking()}. */
    final class OwnThread implements LoopDriver {
        private final String clusterId;
        private final String nodeId;
        private volatile Thread thread;

        OwnThread(String clusterId, String nodeId) {
            this.clusterId = clusterId;
            this.nodeId = nodeId;
        }

        @Override
        public void start(NodeLoop loop) {
            Thread t = Threads.factory("haraft-loop-" + nodeId, clusterId, nodeId).newThread(loop::runBlocking);
            thread = t;
            t.start();
        }

        @Override
        public void wake() {
        }

        @Override
        public void interrupt() {
            Thread t = thread;
            if (t != null) {
                t.interrupt();
            }
        }

        @Override
        public boolean inLoop() {
            return Thread.currentThread() == thread;
        }

        @Override
        public boolean isAlive() {
            Thread t = thread;
            return t != null && t.isAlive();
        }
    }
}
