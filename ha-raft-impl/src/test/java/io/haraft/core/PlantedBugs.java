package io.haraft.core;

import io.haraft.core.log.RaftLog;
import org.slf4j.Logger;

import java.util.random.RandomGenerator;

/**
 * Test-only access to the bugs that {@link Bugs} can plant in a core, so that tests can prove the
 * simulator's checkers catch them. Lives in test sources only: no production path reaches it.
 */
public enum PlantedBugs {
    NONE(Bugs.NONE),
    /** A node may vote for two candidates in one term. */
    VOTE_TWICE(new Bugs(true, false, false, false, false, false, false)),
    /** Followers ignore leader stickiness and vote while a leader is alive. */
    NO_STICKINESS(new Bugs(false, true, false, false, false, false, false)),
    /** A leader commits entries of earlier terms by counting replicas (Raft paper, Figure 8). */
    COMMIT_OLD_TERM(new Bugs(false, false, true, false, false, false, false)),
    /**
     * The original single-server membership change: a new leader starts a change before an entry
     * of its own term commits, and commits under the new configuration alone.
     */
    UNSAFE_MEMBERSHIP(new Bugs(false, false, false, true, false, false, false)),
    /**
     * A leader that serves a snapshot older than its log's (read just before it compacted further)
     * sends it without the configuration in force at its index.
     */
    SNAPSHOT_WITHOUT_CONFIGURATION(new Bugs(false, false, false, false, true, false, false)),
    /**
     * A new leader serves reads before the first entry of its term commits, at a commit index that
     * may miss entries an earlier leader committed and acknowledged.
     */
    READ_BEFORE_FIRST_COMMIT(new Bugs(false, false, false, false, false, true, false)),
    /**
     * A follower honours only its own election timeout, not the longer stickiness of its leader,
     * though it acknowledges the leader's: caught when nodes run with different timeouts.
     */
    IGNORE_LEADER_STICKINESS(new Bugs(false, false, false, false, false, false, true)),
    /**
     * A node learns the cluster identity from the entry at index 1 as soon as it stores it, before
     * it is committed, when another leader may still replace it with its own.
     */
    IDENTITY_BEFORE_COMMIT(new Bugs(false, false, false, false, false, false, false, true)),
    /**
     * A node that does not know whether the latest configuration in its log is committed (after a
     * restart) takes its start-up configuration as the committed one: once the members it started
     * with were replaced and stopped, a whole-cluster restart leaves the cluster unable to commit.
     */
    RESTART_WITH_STARTUP_CONFIGURATION(new Bugs(false, false, false, false, false, false, false, false, true));

    private final Bugs bugs;

    PlantedBugs(Bugs bugs) {
        this.bugs = bugs;
    }

    public RaftCore newCore(CoreConfig cfg, HardState hs, RaftLog log, long now, RandomGenerator random,
                            Logger logger) {
        return new RaftCore(cfg, hs, log, now, random, logger, bugs);
    }
}
