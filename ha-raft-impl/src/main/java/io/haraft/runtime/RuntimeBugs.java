package io.haraft.runtime;

/**
 * Runtime bugs that the whole-node simulator plants on purpose, to prove that its checks can fail
 * where no test seam can reach. Package-private; the library's environment has {@link #NONE}, and
 * only a simulated {@link NodeEnvironment} (test code) switches one on.
 *
 * @param revokedTwice the dispatcher delivers {@code revoked} again for a leadership that was
 *                     already revoked (as if the compare-and-set between the lease watchdog and the
 *                     loop were missing): a callback after {@code revoked}
 */
record RuntimeBugs(boolean revokedTwice) {
    static final RuntimeBugs NONE = new RuntimeBugs(false);
}
