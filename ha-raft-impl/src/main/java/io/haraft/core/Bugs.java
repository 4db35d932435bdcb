package io.haraft.core;

/**
 * Known protocol bugs that tests plant on purpose to prove the simulator's checkers can fail.
 * Package-private: production code cannot switch them on; test code in this package exposes them
 * to the simulator. Every field is {@code false} in {@link #NONE}.
 */
record Bugs(boolean voteTwice, boolean noStickiness, boolean commitOldTermEntries) {
    static final Bugs NONE = new Bugs(false, false, false);
}
