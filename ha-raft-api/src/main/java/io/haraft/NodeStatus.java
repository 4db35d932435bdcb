package io.haraft;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A point-in-time snapshot of one node's Raft state, of the cluster configuration it uses and of
 * its heartbeat statistics per peer, returned by {@link RaftNode#status()}.
 *
 * <p><b>Guarantees.</b> Immutable; the peer and member lists are unmodifiable copies. No component is
 * {@code null}: an unknown leader is an empty {@link Optional}. The values were read together
 * from the Raft loop, so they are mutually consistent, but they may be stale by the time you look
 * at them.
 *
 * <p><b>Running or not.</b> {@link #state()} says whether the node takes part in the cluster:
 * {@link State#NOT_STARTED}, {@link State#RUNNING}, {@link State#STOPPED} (from the moment
 * {@link RaftNode#close()} is called, or once a removed node stopped itself) or
 * {@link State#FAILED} (it stopped itself after a fatal error, such as a disk that failed a
 * write; {@link #failure()} says which). A node that is not running is never shown as
 * {@link Role#LEADER} and knows no leader: its role is {@link Role#FOLLOWER}, its leader empty;
 * its term and indexes are the last it knew. Monitor {@code state()}: a node that failed does not
 * come back by itself.
 *
 * <p><b>Health.</b> {@link #health()} sums it up for a health check: {@link Health.Status#UP}
 * (running, with quorum contact), {@link Health.Status#DEGRADED} (running without quorum contact:
 * a leader without a valid lease, or another node that heard from no leader for longer than the
 * election timeout) or {@link Health.Status#DOWN} (not running: not started, stopped or failed),
 * with a reason to show.
 *
 * <pre>{@code
 * NodeStatus s = node.status();
 * for (NodeStatus.PeerStats p : s.peers()) {
 *     if (p.heartbeatsSent() > 0 && p.reliability() < 0.9) {
 *         log.warn("link to {} loses {}% of heartbeats, p99 {}", p.peerId(),
 *                  Math.round(100 * (1 - p.reliability())), p.rttP99());
 *     }
 * }
 * for (NodeStatus.MemberStatus m : s.members()) {                  // the configuration
 *     log.info("{} {} {} lag {}", m.id(), m.address(), m.role(), m.lag());
 * }
 * }</pre>
 *
 * <p><b>Limits.</b> Heartbeat statistics are kept by the node that sends the heartbeats, a leader;
 * a node that never led has zero counters for each peer (except {@link PeerStats#lastContact()}),
 * and a former leader shows what it measured while it led.
 * The round trips and {@link PeerStats#reliability()} cover a sliding window of recent heartbeats;
 * only {@link PeerStats#totalHeartbeatsSent()} and {@link PeerStats#totalHeartbeatsAnswered()}
 * count since the node started. Only the leader knows how far each member lags
 * ({@link MemberStatus#lag()}).
 *
 * @param nodeId       this node's id
 * @param role         this node's role now
 * @param term         this node's current term ({@code 0} before its first election)
 * @param leaderId     the leader this node knows of in the current term; empty if none
 * @param commitIndex  the highest log index known to be committed
 * @param appliedIndex the highest log index applied to the state machine ({@code <= commitIndex})
 * @param peers        one entry per other member, in configuration order
 * @param members      the latest configuration this node knows (from its log, else its snapshot,
 *                     else its start-up configuration), every member with its role, this node
 *                     included
 * @param configurationPending whether that configuration is not yet committed: a change is in
 *                     progress
 * @param removed      whether this node learned that it was removed from the cluster; it then
 *                     stops itself
 * @param state        whether the node runs, was stopped or failed
 * @param failure      when {@code state} is {@link State#FAILED}, what went wrong (the error's
 *                     type and message, as logged); empty otherwise
 * @param health       whether the node is up, degraded (no quorum contact) or down, and why
 */
public record NodeStatus(String nodeId, Role role, long term, Optional<String> leaderId,
                         long commitIndex, long appliedIndex, List<PeerStats> peers,
                         List<MemberStatus> members, boolean configurationPending, boolean removed,
                         State state, Optional<String> failure, Health health) {

    /**
     * A node's health in one word, with a reason, for a health check (a Kubernetes probe, a load
     * balancer, an Actuator endpoint).
     *
     * <p>Immutable; no component is {@code null}, the reason is never blank.
     *
     * <pre>{@code
     * NodeStatus.Health h = node.status().health();
     * if (h.status() != NodeStatus.Health.Status.UP) {
     *     log.warn("raft node {}: {}", h.status(), h.reason());
     * }
     * }</pre>
     *
     * <p><b>Limits.</b> {@code DEGRADED} is this node's view: a follower cut off from the leader
     * is degraded while the rest of the cluster is fine. A cluster is healthy when a majority of
     * its voters are {@code UP} and exactly one of them leads.
     *
     * @param status UP, DEGRADED or DOWN
     * @param reason why, in words, such as {@code "no leader heard for 1200 ms (election timeout 300 ms)"}
     */
    public record Health(Status status, String reason) {

        /** The three health states. */
        public enum Status {
            /**
             * Running with quorum contact: a leader whose lease is valid (a majority acknowledged
             * it recently), or another node that heard from a leader within the election timeout.
             */
            UP,
            /**
             * Running, but without quorum contact: a leader without a valid lease (it is about to
             * step down), or another node that heard from no leader for more than the election
             * timeout (an election is running, or a majority is unreachable). Commands and reads
             * fail meanwhile. Usually short; a node that stays degraded for more than a few
             * election timeouts is cut off from a majority.
             */
            DEGRADED,
            /** Not running: not started yet, stopped (closed or removed) or failed ({@link NodeStatus#failure()}). */
            DOWN
        }

        /**
         * Validates.
         *
         * @throws NullPointerException     if a component is null
         * @throws IllegalArgumentException if the reason is blank
         */
        public Health {
            Objects.requireNonNull(status, "status");
            Objects.requireNonNull(reason, "reason");
            if (reason.isBlank()) {
                throw new IllegalArgumentException("a health needs a reason, got a blank one for " + status);
            }
        }

        /**
         * The health of a node that is not {@link State#RUNNING}: {@link Status#DOWN} with the state
         * (and the failure or the removal) as reason.
         *
         * @throws IllegalArgumentException if {@code state} is {@code RUNNING}
         */
        public static Health down(State state, Optional<String> failure, boolean removed) {
            Objects.requireNonNull(failure, "failure");
            return switch (Objects.requireNonNull(state, "state")) {
                case NOT_STARTED -> new Health(Status.DOWN, "not started");
                case STOPPED -> new Health(Status.DOWN, removed ? "stopped: removed from the cluster" : "stopped");
                case FAILED -> new Health(Status.DOWN, "failed: " + failure.orElse("unknown error"));
                case RUNNING -> throw new IllegalArgumentException("a RUNNING node is UP or DEGRADED, not DOWN");
            };
        }

        /** Whether the status is {@link Status#UP}. */
        public boolean isUp() {
            return status == Status.UP;
        }
    }

    /**
     * Whether a node takes part in its cluster. Only a {@link #RUNNING} node votes, replicates or
     * leads; the others are shown as {@link Role#FOLLOWER} with no known leader.
     */
    public enum State {
        /** Built, {@link RaftNode#start()} not called yet. */
        NOT_STARTED,
        /** Started and taking part in the cluster. */
        RUNNING,
        /**
         * {@link RaftNode#close()} was called (the node may still be finishing), or the node was
         * removed from the cluster and stopped itself ({@link NodeStatus#removed()}).
         */
        STOPPED,
        /**
         * Stopped itself after a fatal error: a storage write or fsync that failed, a state
         * machine that threw, or a failed start. {@link NodeStatus#failure()} says what happened;
         * the log has the details. Fix the cause and start a new node object on the same data
         * directory.
         */
        FAILED
    }

    /**
     * The Raft role of a node in its current term, as seen when {@link RaftNode#status()} was
     * called (a snapshot: it may change at once). At most one node is {@link #LEADER} of a given
     * term. A role is not a permission: act as leader only with a valid {@link Leadership}
     * ({@link RaftNode#leadership()}), which a {@code LEADER} may not hold yet (its term's first
     * entry has not committed) or not any more (its lease ran out).
     */
    public enum Role {
        /** Follows a leader, or waits for one. The role of learners and witnesses, always. */
        FOLLOWER,
        /** Asks for pre-votes, without raising its term, to learn whether it could win. */
        PRE_CANDIDATE,
        /** Has raised its term and asks for votes. */
        CANDIDATE,
        /** Leads the current term. A leader's leadership may still be waiting for its first commit. */
        LEADER
    }

    /**
     * Validates and copies.
     *
     * @throws NullPointerException     if a component is null
     * @throws IllegalArgumentException if a number is negative, {@code appliedIndex > commitIndex},
     *                                  a node that is not running is shown as leader or with a
     *                                  leader, a failure is given for a node that did not fail
     *                                  (or none for one that did), or the health is DOWN for a
     *                                  running node (or not DOWN for one that is not running)
     */
    public NodeStatus {
        Objects.requireNonNull(nodeId, "nodeId");
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(leaderId, "leaderId (use Optional.empty())");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(failure, "failure (use Optional.empty())");
        Objects.requireNonNull(health, "health");
        if ((state == State.RUNNING) == (health.status() == Health.Status.DOWN)) {
            throw new IllegalArgumentException("the health is DOWN exactly when the node is not RUNNING, got state "
                    + state + " and health " + health);
        }
        if (state != State.RUNNING && (role != Role.FOLLOWER || leaderId.isPresent())) {
            throw new IllegalArgumentException("a node in state " + state + " is shown as a FOLLOWER with no leader,"
                    + " got role " + role + " and leader " + leaderId.orElse("none"));
        }
        if ((state == State.FAILED) != failure.isPresent()) {
            throw new IllegalArgumentException("a failure is given exactly when the state is FAILED, got state "
                    + state + " and failure " + failure.orElse("none"));
        }
        if (term < 0 || commitIndex < 0 || appliedIndex < 0) {
            throw new IllegalArgumentException("term and indexes must be >= 0, got term " + term
                    + ", commitIndex " + commitIndex + ", appliedIndex " + appliedIndex);
        }
        if (appliedIndex > commitIndex) {
            throw new IllegalArgumentException(
                    "appliedIndex " + appliedIndex + " > commitIndex " + commitIndex);
        }
        peers = List.copyOf(Objects.requireNonNull(peers, "peers"));
        members = List.copyOf(Objects.requireNonNull(members, "members"));
    }

    /**
     * A status without a health from the node (as before nodes reported it): a running node is
     * {@link Health.Status#UP}, any other {@link Health.Status#DOWN} (see {@link Health#down}).
     *
     * @throws NullPointerException     if a component is null
     * @throws IllegalArgumentException as the canonical constructor
     */
    public NodeStatus(String nodeId, Role role, long term, Optional<String> leaderId, long commitIndex,
                      long appliedIndex, List<PeerStats> peers, List<MemberStatus> members,
                      boolean configurationPending, boolean removed, State state, Optional<String> failure) {
        this(nodeId, role, term, leaderId, commitIndex, appliedIndex, peers, members, configurationPending, removed,
                state, failure, state == State.RUNNING ? new Health(Health.Status.UP, "running")
                        : Health.down(state, failure, removed));
    }

    /**
     * A status without configuration details (no member list, nothing pending, not removed).
     *
     * @throws NullPointerException     if a component is null
     * @throws IllegalArgumentException if a number is negative or {@code appliedIndex > commitIndex}
     */
    public NodeStatus(String nodeId, Role role, long term, Optional<String> leaderId, long commitIndex,
                      long appliedIndex, List<PeerStats> peers) {
        this(nodeId, role, term, leaderId, commitIndex, appliedIndex, peers, List.of(), false, false);
    }

    /**
     * The status of a {@link State#RUNNING running} node (as before nodes reported their state).
     *
     * @throws NullPointerException     if a component is null
     * @throws IllegalArgumentException if a number is negative or {@code appliedIndex > commitIndex}
     */
    public NodeStatus(String nodeId, Role role, long term, Optional<String> leaderId, long commitIndex,
                      long appliedIndex, List<PeerStats> peers, List<MemberStatus> members,
                      boolean configurationPending, boolean removed) {
        this(nodeId, role, term, leaderId, commitIndex, appliedIndex, peers, members, configurationPending, removed,
                State.RUNNING, Optional.empty());
    }

    /** The member with this id in {@link #members()}, if any. */
    public Optional<MemberStatus> member(String id) {
        Objects.requireNonNull(id, "id");
        return members.stream().filter(m -> m.id().equals(id)).findFirst();
    }

    /**
     * One member of the configuration a node uses.
     *
     * <p>Immutable; no component is {@code null}.
     *
     * @param id      the member's node id
     * @param address where the other nodes reach it, {@code host:port}
     * @param role    what it does: voter, learner, witness (or witness learner)
     * @param lag     on the leader, how many log entries the member is behind the leader's last
     *                entry (0 for the leader itself); empty on other nodes
     */
    public record MemberStatus(String id, String address, MemberRole role, OptionalLong lag) {
        /**
         * Validates.
         *
         * @throws NullPointerException     if a component is null
         * @throws IllegalArgumentException if the lag is negative
         */
        public MemberStatus {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(address, "address");
            Objects.requireNonNull(role, "role");
            Objects.requireNonNull(lag, "lag (use OptionalLong.empty())");
            if (lag.isPresent() && lag.getAsLong() < 0) {
                throw new IllegalArgumentException("lag of " + id + " must be >= 0, got " + lag.getAsLong());
            }
        }
    }

    /** Returns whether this node is leader (a leader is always {@link State#RUNNING}). */
    public boolean isLeader() {
        return role == Role.LEADER;
    }

    /** Returns whether this node is {@link State#RUNNING}: started, not stopped and not failed. */
    public boolean isRunning() {
        return state == State.RUNNING;
    }

    /**
     * Heartbeat statistics of the link from this node to one peer: over a sliding window of recent
     * heartbeats, and as counters since this node started.
     *
     * <p>Immutable; no component is {@code null}. Durations without a sample are
     * {@link Duration#ZERO}, and {@link #lastContact()} is empty if the peer was never heard
     * from since this node started.
     *
     * <p>The window (the runtime keeps the last 128 heartbeats) shows the link now; it is too short
     * to judge a link at 99.9%. For that, take two readings and subtract the totals: they count
     * every heartbeat once, when its outcome is known (answered, or unanswered for an election
     * timeout, or pushed out of the window unanswered), so the differences are the heartbeats
     * decided between the two readings. A heartbeat counted as lost stays lost in the totals even
     * if a late answer arrives (the window then counts it as answered). With heartbeats more often
     * than every election timeout / 128, an answer slower than 128 heartbeats is counted as lost
     * before the election timeout has passed: keep 128 heartbeat intervals above the election
     * timeout when you measure with the totals. Only a node that sends
     * heartbeats, a leader, moves the counters; they never decrease while the node runs.
     *
     * <pre>{@code
     * PeerStats before = ..., after = ...;              // the same peer, two status() readings
     * long sent = after.totalHeartbeatsSent() - before.totalHeartbeatsSent();
     * long answered = after.totalHeartbeatsAnswered() - before.totalHeartbeatsAnswered();
     * }</pre>
     *
     * @param peerId                  the peer's id
     * @param rttP50                  median heartbeat round-trip time in the window
     * @param rttP99                  99th percentile heartbeat round-trip time in the window
     * @param rttMax                  longest heartbeat round-trip time in the window
     * @param heartbeatsSent          heartbeats sent to the peer in the window
     * @param heartbeatsAnswered      of those, the ones the peer answered
     * @param lastContact             how long ago this node last received any message from the peer
     * @param totalHeartbeatsSent     heartbeats sent to the peer since this node started (or since
     *                                the peer joined its configuration) whose outcome is known
     * @param totalHeartbeatsAnswered of those, the ones the peer answered in time
     */
    public record PeerStats(String peerId, Duration rttP50, Duration rttP99, Duration rttMax, long heartbeatsSent,
                            long heartbeatsAnswered, Optional<Duration> lastContact, long totalHeartbeatsSent,
                            long totalHeartbeatsAnswered) {

        /**
         * Validates.
         *
         * @throws NullPointerException     if a component is null
         * @throws IllegalArgumentException if a count or duration is negative, or more heartbeats
         *                                  were answered than sent (in the window or in total)
         */
        public PeerStats {
            Objects.requireNonNull(peerId, "peerId");
            Objects.requireNonNull(rttP50, "rttP50");
            Objects.requireNonNull(rttP99, "rttP99");
            Objects.requireNonNull(rttMax, "rttMax");
            Objects.requireNonNull(lastContact, "lastContact (use Optional.empty())");
            if (rttP50.isNegative() || rttP99.isNegative() || rttMax.isNegative()
                    || lastContact.map(Duration::isNegative).orElse(false)) {
                throw new IllegalArgumentException("durations must not be negative for peer " + peerId);
            }
            if (heartbeatsSent < 0 || heartbeatsAnswered < 0 || heartbeatsAnswered > heartbeatsSent) {
                throw new IllegalArgumentException("need 0 <= heartbeatsAnswered <= heartbeatsSent, got "
                        + heartbeatsAnswered + " answered of " + heartbeatsSent + " for peer " + peerId);
            }
            if (totalHeartbeatsSent < 0 || totalHeartbeatsAnswered < 0
                    || totalHeartbeatsAnswered > totalHeartbeatsSent) {
                throw new IllegalArgumentException("need 0 <= totalHeartbeatsAnswered <= totalHeartbeatsSent, got "
                        + totalHeartbeatsAnswered + " answered of " + totalHeartbeatsSent + " for peer " + peerId);
            }
        }

        /**
         * Statistics without separate totals (as before the totals existed): the totals are the
         * window's counts.
         *
         * @throws NullPointerException     if a component is null
         * @throws IllegalArgumentException if a count or duration is negative, or more heartbeats
         *                                  were answered than sent
         */
        public PeerStats(String peerId, Duration rttP50, Duration rttP99, Duration rttMax, long heartbeatsSent,
                         long heartbeatsAnswered, Optional<Duration> lastContact) {
            this(peerId, rttP50, rttP99, rttMax, heartbeatsSent, heartbeatsAnswered, lastContact, heartbeatsSent,
                    heartbeatsAnswered);
        }

        /**
         * The reliability score: the share of heartbeats in the window that the peer answered, in
         * {@code [0, 1]}. Returns {@code 1.0} when none were sent (no evidence of loss); look at
         * {@link #heartbeatsSent()} to tell that case apart.
         */
        public double reliability() {
            return heartbeatsSent == 0 ? 1.0 : (double) heartbeatsAnswered / heartbeatsSent;
        }
    }
}
