package io.haraft;

import io.haraft.metrics.RaftMetrics;
import io.haraft.spi.RaftNodeFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One member of an HA-Raft cluster, embedded in the application: it takes part in leader
 * election, tells the application when it becomes and stops being leader, and replicates
 * commands to an optional {@link StateMachine}.
 *
 * <p><b>Guarantees</b>:
 * <ul>
 *   <li>At most one leader per term, elected by a majority of the members.</li>
 *   <li>Each leadership carries a {@link FencingToken} (the term) that strictly increases from one
 *       leadership to the next, across restarts of every node.</li>
 *   <li>While {@link Leadership#isValid()} is true, no other node can have been elected; the
 *       leader revokes itself when its lease runs out, even while it is busy.</li>
 *   <li>{@link LeadershipListener} callbacks strictly alternate, are never dropped and run on
 *       their own thread (or on an executor given to {@link #addListener(LeadershipListener, Executor)}),
 *       per listener.</li>
 *   <li>Committed entries are never lost while a majority of nodes keeps its disk.</li>
 * </ul>
 *
 * <p><b>Threads.</b> All methods are thread-safe and non-blocking except {@link #start()},
 * {@link #close()} and {@link #awaitLeadership(Duration)}. Futures returned by {@link #submit}, {@link #readIndex()},
 * {@link #transferLeadership}, {@link #awaitLeadership()} and the membership methods are completed on the node's apply thread: dependent stages attached
 * with the non-async methods ({@code thenApply}, ...) run there and delay later applies, so use
 * the {@code ...Async} variants for anything slow. Cancelling a future does not withdraw the
 * operation.
 *
 * <pre>{@code
 * try (RaftNode node = RaftNode.builder()
 *         .clusterId("orders").nodeId("n1")
 *         .member("n1", "10.0.0.1:7001").member("n2", "10.0.0.2:7001").member("n3", "10.0.0.3:7001")
 *         .dataDir(Path.of("/var/lib/orders/raft"))
 *         .listener(myListener)
 *         .build()) {
 *     node.start();
 *     ...
 * }   // close(): a leader hands over its leadership first
 * }</pre>
 *
 * <p><b>Everyday use.</b> {@link #awaitLeadership()} waits until this node leads;
 * {@link #isLeader()} and {@link #leadership()} say whether it holds a valid lease now;
 * {@link #addListener} and {@link #addLeaderChangeListener} register any number of listeners, each
 * with its own executor if wanted; {@link #submit} refuses commands beyond
 * {@link RaftConfig#maxPendingProposals()} with {@link OverloadedException}.
 *
 * <p><b>Membership.</b> The cluster's configuration changes while it runs, one voter at a time:
 * {@link #addLearner}, {@link #addWitness}, {@link #promote}, {@link #removeMember} and
 * {@link #replaceMember}, on the leader. Each completes once the new configuration is committed;
 * only one change runs at a time.
 *
 * <p><b>Limits.</b> A process pause can outlast any lease: see {@link Leadership} for why writes outside the process must carry the token.
 * Lease-based reads rely on the configured clock-drift bound; {@link #readIndex()} does not.
 */
public interface RaftNode extends AutoCloseable {

    /** Returns a new builder; every node starts here. */
    static Builder builder() {
        return new Builder();
    }

    /**
     * Starts the node: opens its storage, restores its state machine from the latest snapshot and
     * log, listens on its address and starts its threads. Returns without waiting for an election.
     *
     * <p>A restarted node withholds its votes for one election timeout (it may have acknowledged a
     * heartbeat just before it stopped, and has forgotten when), so a cluster restarted all at once
     * elects its first leader after about two election timeouts.
     *
     * @throws IllegalStateException        if the node was already started or closed
     * @throws java.io.UncheckedIOException if the storage cannot be opened or the address cannot be
     *                                      bound (the message names the address, why, and what to do,
     *                                      e.g. a port already in use); the node is then closed
     * @throws RaftConfigException          if the TLS files cannot be parsed or the private key does
     *                                      not belong to the certificate; the node is then closed
     */
    void start();

    /**
     * Stops the node gracefully, blocking until it has stopped. A leader first revokes its own
     * leadership (callback {@code revoked} with {@link RevokeReason#LEADERSHIP_TRANSFERRED}), hands
     * leadership to the most up-to-date peer and waits at most one election timeout for it to take
     * over; the peer then needs no election timeout to pass. A single-node cluster, or a leader
     * with no reachable peer, revokes with {@link RevokeReason#SHUT_DOWN} instead. Any other node
     * just stops. The leader's listening socket closes only after its leadership was revoked, which
     * is what makes fast failover on a refused connection safe.
     *
     * <p>Then pending operations fail (a submitted command not yet known to be committed with
     * {@link IndeterminateOutcomeException}, anything else with {@link NotLeaderException}), the
     * listener's last callback is delivered, threads stop, the listening socket and files are
     * closed. Idempotent; never throws; may be called on a node that was never started.
     *
     * <p>A listener callback that blocks delays close by at most 10 s (in all, however many
     * listeners block): then close logs an ERROR naming each blocked callback and goes on, and the
     * callbacks queued behind it are still delivered, in order, once it returns (see
     * {@link LeadershipListener}, "Never dropped"). Futures of {@link #awaitLeadership()} still
     * waiting fail with {@link IllegalStateException}.
     */
    @Override
    void close();

    /**
     * Replicates a command: appends it to the log on the leader, waits until a majority has it
     * durably and the local {@link StateMachine} has applied it, and completes with its position
     * and the result of {@link StateMachine#apply}.
     *
     * <p>The future fails with:
     * <ul>
     *   <li>{@link NotLeaderException} if this node is not the leader (or not running): nothing was
     *       appended, retrying is safe;</li>
     *   <li>{@link OverloadedException} if {@link RaftConfig#maxPendingProposals()} commands submitted
     *       to this node are still in progress (neither completed nor failed): nothing was appended,
     *       retrying is safe once some of them complete;</li>
     *   <li>{@link IndeterminateOutcomeException} if leadership was lost after the command was
     *       appended and before its commit was known: it may or may not commit;</li>
     *   <li>{@link IllegalArgumentException} if the command does not fit into one message to every
     *       member that keeps the log: this node's {@code maxMessageBytes}, and that of each voter or
     *       learner whose limit this node has learned (nodes tell each other their limits when they
     *       connect; witnesses get entries without data and do not count). Nothing was appended;
     *       retrying the same command fails the same way. The message names the node with the
     *       smallest limit.</li>
     * </ul>
     *
     * @param command the command; copied, so the caller may reuse the array
     * @return the committed position and the state machine's result
     * @throws NullPointerException if {@code command} is null
     */
    CompletableFuture<Committed> submit(byte[] command);

    /**
     * A linearizable read barrier that does not depend on clocks. The leader records its commit
     * index, confirms with a heartbeat round acknowledged by a majority that it is still leader,
     * waits until its state machine has applied up to that index, and then completes with that
     * index and its term (the data is empty). A read of the local state machine made after the
     * future completes reflects every command whose {@code submit} completed before
     * {@code readIndex()} was called.
     *
     * <p>Costs one heartbeat round trip (concurrent calls share rounds); on a leader whose first
     * entry of its term has not committed yet, it waits for that commit first. The future fails with
     * {@link NotLeaderException} on a node that is not leader (retrying is safe), also when it
     * loses leadership before the barrier is confirmed.
     *
     * @return the read barrier: {@link Committed#index()} is the index the state machine has
     *         reached
     */
    CompletableFuture<Committed> readIndex();

    /**
     * Runs a read of local state under this node's lease, without any network round trip, and
     * returns its result only if the lease held for the whole read. The read therefore sees every
     * command whose {@code submit} completed before {@code leaseRead} was called, and no other
     * node can have been elected while it ran.
     *
     * <p>Before the read, the node checks that it holds a valid lease and that the first entry of
     * its term has committed, and waits (at most for the remaining lease) until its state machine
     * has applied every entry committed when the read began. Called on the apply thread (in a
     * stage of a future this node completed), where nothing can be applied while it waits, it waits
     * only for the entries committed before its term began: every command acknowledged since is
     * applied there already. After the read it checks the lease again; if the
     * lease ended in between (for instance because the process was paused), the result is
     * discarded and {@link LeaseExpiredException} is thrown.
     *
     * <pre>{@code
     * long balance = node.leaseRead(l -> accounts.balance(id));   // accounts updated by apply()
     * }</pre>
     *
     * <p>{@code read} runs on the caller's thread, concurrently with {@link StateMachine#apply} on
     * the apply thread; the state it reads must be safe for that. It receives the leadership under
     * which it runs, for example to put its token into a response.
     *
     * <p>Correctness depends on the configured {@code clockDriftBound} holding for the monotonic
     * clocks of all nodes. If that cannot be assumed, use {@link #readIndex()}.
     *
     * @param read the read; it should be short (well under the lease) and must not block on this
     *             node
     * @param <T>  the type of the result
     * @return what {@code read} returned
     * @throws NotLeaderException    if this node is not leader; retrying on the leader is safe
     * @throws LeaseExpiredException if the lease ended before or during the read
     * @throws NullPointerException  if {@code read} is null
     */
    <T> T leaseRead(Function<? super Leadership, ? extends T> read);

    /**
     * Hands leadership to another member: this leader revokes its own leadership first
     * ({@link RevokeReason#LEADERSHIP_TRANSFERRED}), lets the target catch up with its log, and
     * tells it to start an election at once. The future completes when this node learns that the
     * target is leader. A transfer to this node itself, while it is leader, completes at once.
     *
     * <p>The future fails with {@link NotLeaderException} if this node is not leader (nothing
     * changed), with {@link IllegalArgumentException} if {@code targetNodeId} is not a member, and
     * with {@link java.util.concurrent.TimeoutException} if the target has not become leader within
     * two election timeouts; this node has given up its leadership in any case, and the cluster
     * elects a leader the usual way.
     *
     * @param targetNodeId the id of the member that should become leader
     * @throws NullPointerException if {@code targetNodeId} is null
     */
    CompletableFuture<Void> transferLeadership(String targetNodeId);

    /** The default time {@link #promote(String)} and {@link #replaceMember(String, String, String)} give a learner to catch up: 1 minute. */
    Duration DEFAULT_CATCH_UP_TIMEOUT = Duration.ofMinutes(1);

    /**
     * Adds a member that receives the log and snapshots but does not vote: the first step of
     * growing the cluster or of replacing a node. Start the new node first, with the current
     * members and itself as a learner ({@link Builder#learner}); it catches up from the leader
     * once it is added. Promote it with {@link #promote} once it has caught up.
     *
     * <p>The future completes with the committed configuration. It fails with
     * {@link NotLeaderException} on a node that is not leader (nothing changed; the hint names the
     * leader), and with {@link MembershipChangeException}: {@code CHANGE_IN_PROGRESS} while
     * another change runs, {@code INVALID} if {@code id} is a member with another address,
     * {@code OUTCOME_UNKNOWN} if leadership was lost before the change was known to commit.
     * Idempotent: if {@code id} is already a member at {@code address}, completes at once.
     *
     * @param id      the new member's node id
     * @param address where the other nodes reach it, {@code host:port}
     * @throws NullPointerException if an argument is null
     * @throws RaftConfigException  if the id or address is malformed
     */
    CompletableFuture<ClusterConfiguration> addLearner(String id, String address);

    /**
     * Adds a witness that does not vote yet ({@link MemberRole#WITNESS_LEARNER}); {@link #promote}
     * makes it a voting {@link MemberRole#WITNESS}. A witness stores only terms, votes and the
     * (index, term) of entries: the leader sends it entries without payloads. Failures and
     * idempotence as for {@link #addLearner}.
     *
     * @param id      the witness's node id
     * @param address where the other nodes reach it, {@code host:port}
     * @throws NullPointerException if an argument is null
     * @throws RaftConfigException  if the id or address is malformed
     */
    CompletableFuture<ClusterConfiguration> addWitness(String id, String address);

    /**
     * Promotes a learner to voter (a witness learner to witness) within
     * {@link #DEFAULT_CATCH_UP_TIMEOUT}; see {@link #promote(String, Duration)}.
     *
     * @throws NullPointerException if {@code id} is null
     */
    CompletableFuture<ClusterConfiguration> promote(String id);

    /**
     * Promotes a learner to voter (a witness learner to witness) once it is at most
     * {@link RaftConfig#promoteMaxLag()} entries behind the leader, waiting for that at most
     * {@code catchUpTimeout}. Completes with the committed configuration; at once if {@code id}
     * already votes. Fails with {@link NotLeaderException} on a node that is not leader, with
     * {@link MembershipChangeException} {@code LAGGING} if the learner did not catch up in time,
     * {@code INVALID} if {@code id} is not a member, and as for {@link #addLearner} otherwise.
     *
     * @param id             the learner to promote
     * @param catchUpTimeout how long to wait for the learner to catch up
     * @throws NullPointerException if an argument is null
     */
    CompletableFuture<ClusterConfiguration> promote(String id, Duration catchUpTimeout);

    /**
     * Removes a member in any role. Completes with the committed configuration that no longer has
     * it; at once if {@code id} is not a member. The removed node learns it and stops itself
     * ({@link NodeStatus#removed()}).
     *
     * <p>If {@code id} is this leader itself, it first hands leadership over to the most
     * up-to-date voter that stays (revoking its own leadership, {@link RevokeReason#LEADERSHIP_TRANSFERRED}),
     * and the new leader removes it; the future completes when this node learns that the
     * configuration without it is committed. A removal that would leave 2 voting members fails
     * with {@code INVALID}: replace the node instead ({@link #replaceMember}), or add a witness
     * first. Other failures as for {@link #addLearner}.
     *
     * @param id the member to remove
     * @throws NullPointerException if {@code id} is null
     */
    CompletableFuture<ClusterConfiguration> removeMember(String id);

    /**
     * Replaces member {@code oldId} by a new node within {@link #DEFAULT_CATCH_UP_TIMEOUT}; see
     * {@link #replaceMember(String, String, String, Duration)}.
     *
     * @throws NullPointerException if an argument is null
     * @throws RaftConfigException  if the new id or address is malformed
     */
    CompletableFuture<ClusterConfiguration> replaceMember(String oldId, String newId, String newAddress);

    /**
     * Replaces member {@code oldId} (for example a dead machine, or one whose disk was wiped) by
     * a new node {@code newId}, in four committed steps: add the new node as a learner (a witness
     * learner if the old one is a witness), wait until it has caught up (at most
     * {@code catchUpTimeout}), promote it, remove the old member. Start the new node first, as
     * for {@link #addLearner}. Never give the new node the id of a node whose disk was lost: its
     * promises (votes, acknowledged entries) were lost with the disk.
     *
     * <p>Safe to retry after any failure: each step skips what the configuration already shows.
     * Completes with the final committed configuration. Failures as for {@link #addLearner} and
     * {@link #promote}; while the operation runs, other changes are refused with
     * {@code CHANGE_IN_PROGRESS}.
     *
     * @param oldId          the member to replace
     * @param newId          the new member's node id (not a current member other than as a
     *                       learner left by an earlier attempt)
     * @param newAddress     where the other nodes reach the new member, {@code host:port}
     * @param catchUpTimeout how long to wait for the new member to catch up
     * @throws NullPointerException if an argument is null
     * @throws RaftConfigException  if the new id or address is malformed
     */
    CompletableFuture<ClusterConfiguration> replaceMember(String oldId, String newId, String newAddress,
                                                          Duration catchUpTimeout);

    /**
     * Returns this node's current role, term, leader, indexes, per-peer statistics, and the
     * configuration it uses (each member's role, and on the leader each member's lag), and whether
     * it runs ({@link NodeStatus#state()}): after {@link #close()} it is
     * {@link NodeStatus.State#STOPPED}, after a fatal error (a failed storage write, a state machine
     * that threw, a failed start) {@link NodeStatus.State#FAILED} with the cause in
     * {@link NodeStatus#failure()}; a node that does not run is never shown as leader. Its
     * {@link NodeStatus#health()} is UP, DEGRADED (running without quorum contact) or DOWN, with
     * a reason, for health checks. Never throws, in any state.
     */
    NodeStatus status();

    /**
     * Returns this node's current leadership if it is leader and its lease is valid at the moment
     * of the call; empty otherwise. The returned object stays the same for the whole leadership
     * (the one passed to {@link LeadershipListener#elected}), and may become invalid at any time.
     */
    Optional<Leadership> leadership();

    /**
     * Returns whether this node is leader and holds a valid lease at the moment of the call: the
     * same as {@code leadership().isPresent()}. Cheap (no lock shared with the Raft loop, no I/O), so
     * it may be called before every action; a {@code true} answer can be stale by the time the
     * caller acts (see {@link Leadership}), so writes outside the process still carry the token.
     */
    default boolean isLeader() {
        return leadership().isPresent();
    }

    /**
     * Returns a future that completes with this node's leadership once it is leader with a valid
     * lease, like Curator's {@code LeaderLatch.await()}: at once if it is leader now, else when it
     * is next elected (after its first entry of the term committed, as for
     * {@link LeadershipListener#elected}). May be called before {@link #start()}.
     *
     * <p>The leadership was valid when the future completed and may end at any time after; check
     * {@link Leadership#isValid()} before acting. A leadership that ended before the future could
     * be completed with it is skipped, and the future waits for the next one. The future fails with
     * {@link IllegalStateException} once the node is closed, stops after a fatal error or is removed
     * from the cluster, without having been elected (at once if that happened already); the message
     * says which. Cancelling the future stops the wait and changes nothing else. Each call returns
     * a new future; completed on the apply thread (see "Threads" above).
     *
     * <pre>{@code
     * node.awaitLeadership().thenAcceptAsync(l -> jobs.runWhileValid(l), workers);
     * }</pre>
     *
     * @return the leadership, valid at completion
     */
    CompletableFuture<Leadership> awaitLeadership();

    /**
     * Waits, blocking the caller, at most {@code timeout} until this node is leader with a valid
     * lease (see {@link #awaitLeadership()}); returns at once if it is.
     *
     * <pre>{@code
     * Optional<Leadership> l = node.awaitLeadership(Duration.ofSeconds(30));
     * }</pre>
     *
     * @param timeout how long to wait at most; zero or negative only checks
     * @return the leadership, valid when it was found; empty if the timeout passed first
     * @throws InterruptedException  if the calling thread was interrupted while waiting
     * @throws IllegalStateException if the node is closed, failed or removed before it was elected
     * @throws NullPointerException  if {@code timeout} is null
     */
    default Optional<Leadership> awaitLeadership(Duration timeout) throws InterruptedException {
        Objects.requireNonNull(timeout, "timeout");
        CompletableFuture<Leadership> f = awaitLeadership();
        try {
            long nanos = timeout.isNegative() ? 0 : timeout.compareTo(Duration.ofDays(365)) > 0
                    ? TimeUnit.DAYS.toNanos(365) : timeout.toNanos();
            return Optional.of(f.get(nanos, TimeUnit.NANOSECONDS));
        } catch (TimeoutException e) {
            f.cancel(false);
            return Optional.empty();
        } catch (InterruptedException e) {
            f.cancel(false);
            throw e;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    /**
     * Adds a leadership listener whose calls run on the node's callback thread, shared with the
     * listener given to {@link Builder#listener} and with every other listener added without an
     * executor: a listener there that blocks delays the others there. Equivalent to
     * {@link #addListener(LeadershipListener, Executor)} without an executor.
     *
     * @return the registration; {@link Subscription#cancel()} removes the listener
     * @throws NullPointerException if {@code listener} is null
     */
    Subscription addListener(LeadershipListener listener);

    /**
     * Adds a leadership listener whose calls run on {@code executor}. The guarantees of
     * {@link LeadershipListener} hold for each listener on its own: its calls alternate and are
     * never dropped, one at a time, each seeing the effects of the one before, whatever threads
     * the executor uses. A listener that blocks delays only its own later calls, never another
     * listener's, and never heartbeats, elections or the lease. If this node leads when the listener
     * is added, its first call is {@code elected} with the current leadership. May be called
     * before {@link #start()} (then nothing is missed) and from within a callback.
     *
     * <p>{@link #close()} waits for every listener's last callback as described there (at most 10
     * s in all); {@link #transferLeadership} and the handover in {@code close()} send the target
     * its start signal only after every listener's {@code revoked} returned. If the executor
     * refuses a call (it was shut down), the call runs on the node's callback thread instead, with
     * a WARN: a transition is never dropped.
     *
     * @param listener the listener
     * @param executor where its calls run; the application owns it (the node never shuts it down)
     * @return the registration; {@link Subscription#cancel()} removes the listener
     * @throws NullPointerException if an argument is null
     */
    Subscription addListener(LeadershipListener listener, Executor executor);

    /**
     * Adds a listener for changes of the leader this node knows, on the node's callback thread;
     * see {@link #addLeaderChangeListener(LeaderChangeListener, Executor)}.
     *
     * @return the registration; {@link Subscription#cancel()} removes the listener
     * @throws NullPointerException if {@code listener} is null
     */
    Subscription addLeaderChangeListener(LeaderChangeListener listener);

    /**
     * Adds a listener for changes of the leader this node knows (the leader's id and the term), on
     * every node whatever its role, with the guarantees of {@link LeaderChangeListener}; its calls
     * run on {@code executor}, one at a time. If the node has published its knowledge already, the
     * first call delivers it.
     *
     * @param listener the listener
     * @param executor where its calls run; the application owns it
     * @return the registration; {@link Subscription#cancel()} removes the listener
     * @throws NullPointerException if an argument is null
     */
    Subscription addLeaderChangeListener(LeaderChangeListener listener, Executor executor);

    /**
     * Returns the configuration this node was built with. Its members are the bootstrap
     * configuration; the configuration in use is in {@link NodeStatus#members()}.
     */
    RaftConfig config();

    /**
     * Collects a node's configuration and builds the node.
     *
     * <p><b>Guarantees.</b> {@link #build()} and {@link #config()} validate everything and report
     * the first problem as a {@link RaftConfigException} that explains the fix. Setters reject
     * {@code null} with a {@link NullPointerException} at once; setting a value twice keeps the
     * last one, except {@link #member}, {@link #witness} and {@link #learner}, which add. Not thread-safe: use a builder from one thread.
     *
     * <p><b>Defaults.</b> Heartbeat 100 ms and election timeout 300 ms. If only one of the two is
     * set, the other follows the three-missed-heartbeats rule: {@code electionTimeout =
     * 3 * heartbeatInterval}. Clock-drift bound 0.01, fast failover on a refused connection on,
     * no TLS, messages up to 4 MiB, a snapshot every 10,000 entries or 64 MiB of log (whichever
     * comes first), learners promoted within 1,000 entries of the leader, at most 10,000 commands in
     * progress, no listener, no state machine, no
     * metrics. Bounds: heartbeat 1 ms to 30 s, election timeout at least twice the heartbeat and
     * at most 60 s, messages 64 KiB to 1 GiB, the snapshot byte bound 64 KiB to 1 TiB, commands in
     * progress 1 to 10,000,000. A problem
     * with a value the builder derived (the election timeout from the heartbeat, or the reverse)
     * names the setting that was given.
     * Required: {@code clusterId}, {@code nodeId}, the members and {@code dataDir}.
     *
     * <pre>{@code
     * RaftNode node = RaftNode.builder()
     *     .clusterId("orders").nodeId("n1")
     *     .member("n1", "10.0.0.1:7001").member("n2", "10.0.0.2:7001").member("n3", "10.0.0.3:7001")
     *     .dataDir(Path.of("/var/lib/orders/raft"))
     *     .heartbeatInterval(Duration.ofMillis(50))    // election timeout becomes 150 ms
     *     .listener(listener)
     *     .stateMachine(stateMachine)
     *     .build();
     * }</pre>
     *
     * <p><b>Limits.</b> {@link #build()} needs an implementation on the class path (Maven artifact
     * {@code io.haraft:ha-raft-impl}); {@link #config()} does not.
     */
    final class Builder {

        private static final Logger LOG = LoggerFactory.getLogger(RaftNode.class);
        private static final LeadershipListener NO_LISTENER = new NoListener();
        private static final StateMachine NO_STATE_MACHINE = new NoStateMachine();

        private String clusterId;
        private String nodeId;
        private final List<RaftConfig.Member> members = new ArrayList<>();
        private Path dataDir;
        private Duration heartbeatInterval;
        private Duration electionTimeout;
        private double clockDriftBound = RaftConfig.DEFAULT_CLOCK_DRIFT_BOUND;
        private boolean fastFailoverOnRefusedConnection = true;
        private TlsConfig tls;
        private int maxMessageBytes = RaftConfig.DEFAULT_MAX_MESSAGE_BYTES;
        private long snapshotThreshold = RaftConfig.DEFAULT_SNAPSHOT_THRESHOLD;
        private long promoteMaxLag = RaftConfig.DEFAULT_PROMOTE_MAX_LAG;
        private long snapshotThresholdBytes = RaftConfig.DEFAULT_SNAPSHOT_THRESHOLD_BYTES;
        private int maxPendingProposals = RaftConfig.DEFAULT_MAX_PENDING_PROPOSALS;
        private LeadershipListener listener;
        private StateMachine stateMachine;
        private RaftMetrics metrics;

        private Builder() {
        }

        /** The cluster's name, the same on every node; checked on every connection. Required. */
        public Builder clusterId(String clusterId) {
            this.clusterId = Objects.requireNonNull(clusterId, "clusterId");
            return this;
        }

        /** This node's id; must be one of the members. Required. */
        public Builder nodeId(String nodeId) {
            this.nodeId = Objects.requireNonNull(nodeId, "nodeId");
            return this;
        }

        /**
         * Adds a voting member, this node included. Every node of a new cluster must be given the
         * same members (the bootstrap configuration; see {@link RaftConfig}).
         *
         * @param id      the member's node id
         * @param address {@code "host:port"} where it listens for other nodes; IPv6 in brackets
         * @throws RaftConfigException if the id or address is malformed
         */
        public Builder member(String id, String address) {
            return member(id, address, MemberRole.VOTER);
        }

        /**
         * Adds a witness: a voting member that stores no data and never leads. Two servers plus
         * one witness survive the failure of any one of the three:
         * {@code .member("n1", a1).member("n2", a2).witness("w1", a3)}. The witness node itself
         * is started with the same members and {@code nodeId("w1")}.
         *
         * @param id      the witness's node id
         * @param address {@code "host:port"} where it listens for other nodes
         * @throws RaftConfigException if the id or address is malformed
         */
        public Builder witness(String id, String address) {
            return member(id, address, MemberRole.WITNESS);
        }

        /**
         * Adds a learner: a member that receives the log but does not vote. A node that joins a
         * running cluster is started with the current members plus itself as a learner, then
         * added on the leader with {@link RaftNode#addLearner} (or {@link RaftNode#replaceMember}).
         *
         * @param id      the learner's node id
         * @param address {@code "host:port"} where it listens for other nodes
         * @throws RaftConfigException if the id or address is malformed
         */
        public Builder learner(String id, String address) {
            return member(id, address, MemberRole.LEARNER);
        }

        /**
         * Adds a member with the given role (for example {@link MemberRole#WITNESS_LEARNER} for a
         * witness that joins a running cluster through {@link RaftNode#addWitness}).
         *
         * @throws RaftConfigException if the id or address is malformed
         */
        public Builder member(String id, String address, MemberRole role) {
            Objects.requireNonNull(id, "id");
            members.add(RaftConfig.Member.parse(id, Objects.requireNonNull(address, "address"),
                    Objects.requireNonNull(role, "role")));
            return this;
        }

        /** Where this node keeps its log, term and snapshots; created if missing. Required. */
        public Builder dataDir(Path dataDir) {
            this.dataDir = Objects.requireNonNull(dataDir, "dataDir");
            return this;
        }

        /** How often the leader sends heartbeats; default 100 ms. */
        public Builder heartbeatInterval(Duration heartbeatInterval) {
            this.heartbeatInterval = Objects.requireNonNull(heartbeatInterval, "heartbeatInterval");
            return this;
        }

        /**
         * The minimum election timeout T (actual timeouts are random in {@code [T, 2T)});
         * at least twice the heartbeat interval; default 300 ms.
         */
        public Builder electionTimeout(Duration electionTimeout) {
            this.electionTimeout = Objects.requireNonNull(electionTimeout, "electionTimeout");
            return this;
        }

        /**
         * The assumed bound on the rate difference between nodes' monotonic clocks, in
         * {@code [0, 0.1)}; default 0.01. The lease is shortened by twice this bound.
         */
        public Builder clockDriftBound(double clockDriftBound) {
            this.clockDriftBound = clockDriftBound;
            return this;
        }

        /**
         * Whether a follower whose connection to the leader is refused (nothing listens there)
         * may treat the leader as gone at once instead of waiting out the election timeout;
         * default {@code true}. This assumes that a refused connection means the leader process
         * is gone: a node closes its listener only after revoking its own leadership. Turn it off
         * if something between nodes (a firewall sending resets, a proxy) can refuse connections
         * while the leader is alive.
         */
        public Builder fastFailoverOnRefusedConnection(boolean enabled) {
            this.fastFailoverOnRefusedConnection = enabled;
            return this;
        }

        /** Mutual TLS between nodes; default none (plain TCP). */
        public Builder tls(TlsConfig tls) {
            this.tls = Objects.requireNonNull(tls, "tls");
            return this;
        }

        /** The largest message sent or accepted, which bounds one command; default 4 MiB. */
        public Builder maxMessageBytes(int maxMessageBytes) {
            this.maxMessageBytes = maxMessageBytes;
            return this;
        }

        /** How many entries are applied between two snapshots; default 10,000. */
        public Builder snapshotThreshold(long entries) {
            this.snapshotThreshold = entries;
            return this;
        }

        /**
         * How many bytes of log are applied between two snapshots, in {@code [64 KiB, 1 TiB]};
         * default 64 MiB. Each entry counts as its payload plus
         * {@value RaftConfig#SNAPSHOT_ENTRY_OVERHEAD_BYTES} bytes. A snapshot is taken when this
         * bound or {@link #snapshotThreshold} is reached, whichever comes first; so the log a node
         * holds in memory, and reads back into memory when it restarts, stays near this size. Give
         * the JVM a heap of at least twice this plus what the state machine needs.
         */
        public Builder snapshotThresholdBytes(long bytes) {
            this.snapshotThresholdBytes = bytes;
            return this;
        }

        /**
         * How many log entries a learner may be behind the leader and still be promoted to
         * voter; default 1,000. {@link RaftNode#promote} waits until it is within this lag. On a
         * node hosting groups ({@link #buildGroups()}), the leadership balancer hands a group only
         * to a member within this lag of the group's log.
         */
        public Builder promoteMaxLag(long entries) {
            this.promoteMaxLag = entries;
            return this;
        }

        /**
         * How many submitted commands may be in progress on this node at once (not yet committed
         * and applied, nor failed), in {@code [1, 10,000,000]}; default 10,000. One more is refused
         * at once with {@link OverloadedException}: it is not appended, so retrying it is safe.
         * This bounds the memory that commands waiting for their commit take when the cluster
         * cannot keep up (a slow disk, no quorum).
         */
        public Builder maxPendingProposals(int commands) {
            this.maxPendingProposals = commands;
            return this;
        }

        /**
         * Receives this node's leadership transitions on the node's callback thread; default none.
         * Setting it twice keeps the last one. Further listeners, each on an executor of its own if
         * wanted, are added to the node with {@link RaftNode#addListener}.
         */
        public Builder listener(LeadershipListener listener) {
            this.listener = Objects.requireNonNull(listener, "listener");
            return this;
        }

        /** The replicated state; default none (commands are replicated, results are empty). */
        public Builder stateMachine(StateMachine stateMachine) {
            this.stateMachine = Objects.requireNonNull(stateMachine, "stateMachine");
            return this;
        }

        /**
         * Where the node reports its measurements (leader, term, elections, commit and fsync
         * latency, lease, heartbeats per peer, ...); default none. For Micrometer use
         * {@code io.haraft:ha-raft-micrometer}. See {@link RaftMetrics} for the threads that call
         * it and what happens when it throws.
         */
        public Builder metrics(RaftMetrics metrics) {
            this.metrics = Objects.requireNonNull(metrics, "metrics");
            return this;
        }

        /**
         * Validates the settings into a configuration, without building a node or touching the
         * file system. Logs a warning for a single-node or even-sized cluster.
         *
         * @throws RaftConfigException if a setting is invalid or missing
         */
        public RaftConfig config() {
            Duration heartbeat = heartbeatInterval;
            Duration election = electionTimeout;
            if (heartbeat == null && election == null) {
                heartbeat = RaftConfig.DEFAULT_HEARTBEAT_INTERVAL;
                election = RaftConfig.DEFAULT_ELECTION_TIMEOUT;
            } else if (election == null) {
                election = deriveElectionTimeout(heartbeat);
            } else if (heartbeat == null) {
                heartbeat = deriveHeartbeatInterval(election);
            }
            RaftConfig config = new RaftConfig(clusterId, nodeId, members, dataDir, heartbeat, election,
                    clockDriftBound, fastFailoverOnRefusedConnection, Optional.ofNullable(tls),
                    maxMessageBytes, snapshotThreshold, promoteMaxLag, snapshotThresholdBytes, maxPendingProposals);
            int n = config.voters().size();
            if (n == 1) {
                LOG.warn("Cluster {} has a single voter ({}): fine for development, but it tolerates no"
                        + " failure. Use 3 voters in production.", config.clusterId(), config.nodeId());
            } else if (n % 2 == 0) {
                LOG.warn("Cluster {} has {} voters: an even count tolerates no more failures than {}, and"
                        + " every commit waits for {} of them. Prefer {} voters.",
                        config.clusterId(), n, n - 1, config.quorum(), n - 1);
            }
            return config;
        }

        /**
         * Only the heartbeat interval was set: the election timeout is three of them. A problem is
         * blamed on the heartbeat interval, the one setting the user gave.
         */
        private static Duration deriveElectionTimeout(Duration heartbeat) {
            RaftConfig.checkHeartbeatInterval(heartbeat);
            Duration election = heartbeat.multipliedBy(3);
            if (election.compareTo(RaftConfig.MAX_ELECTION_TIMEOUT) > 0) {
                throw new RaftConfigException("heartbeatInterval " + RaftConfig.show(heartbeat) + " gives an"
                        + " electionTimeout of " + RaftConfig.show(election) + " (3 x heartbeatInterval, as"
                        + " electionTimeout is not set), above the maximum of "
                        + RaftConfig.show(RaftConfig.MAX_ELECTION_TIMEOUT) + ".",
                        "Use a heartbeatInterval of at most " + RaftConfig.show(RaftConfig.MAX_ELECTION_TIMEOUT
                                .dividedBy(3)) + " (100 ms is the default), or also set electionTimeout (at most "
                                + RaftConfig.show(RaftConfig.MAX_ELECTION_TIMEOUT) + ").");
            }
            return election;
        }

        /**
         * Only the election timeout was set: the heartbeat interval is a third of it. A problem is
         * blamed on the election timeout, the one setting the user gave.
         */
        private static Duration deriveHeartbeatInterval(Duration election) {
            RaftConfig.checkElectionTimeout(election);
            Duration heartbeat = election.dividedBy(3);
            if (heartbeat.compareTo(RaftConfig.MIN_HEARTBEAT_INTERVAL) < 0) {
                throw new RaftConfigException("electionTimeout " + RaftConfig.show(election) + " is too short: it"
                        + " gives a heartbeatInterval of " + RaftConfig.show(heartbeat) + " (electionTimeout / 3,"
                        + " as heartbeatInterval is not set), below the minimum of 1 ms.",
                        "Use an electionTimeout of at least 3 ms (300 ms is the default), or also set"
                                + " heartbeatInterval (at least 1 ms, at most half the electionTimeout).");
            }
            return heartbeat;
        }

        /**
         * Validates the settings, prepares the data directory and creates the node through the
         * implementation found by {@link ServiceLoader}. The node is not started.
         *
         * @throws RaftConfigException   if a setting is invalid or the data directory cannot be
         *                               created or written
         * @throws IllegalStateException if no implementation (or more than one) is on the class
         *                               path; the message names the Maven artifact to add
         */
        public RaftNode build() {
            return build(discover());
        }

        /** The implementations on the class path: the context class loader's first (application servers, plugin hosts), then our own. */
        private static List<RaftNodeFactory> discover() {
            ClassLoader context = Thread.currentThread().getContextClassLoader();
            List<RaftNodeFactory> found = context == null ? List.of() : load(context);
            if (found.isEmpty() && context != RaftNode.class.getClassLoader()) {
                found = load(RaftNode.class.getClassLoader());
            }
            return found;
        }

        /**
         * Validates the settings, prepares the data directory and creates a node that hosts many
         * named Raft groups ({@link RaftGroups}), not started yet. The listener set with
         * {@link #listener}, if any, hears every group (tell them apart by
         * {@link Leadership#group()}); each group gets its own listener and state machine through
         * {@link GroupOptions}. The {@link #metrics} set here, if any, get every group's meters,
         * each tagged with the group's name ({@code group}).
         *
         * @throws RaftConfigException   if a setting is invalid, the data directory cannot be
         *                               prepared, or a {@link #stateMachine} was set (a state
         *                               machine belongs to one group)
         * @throws IllegalStateException if no implementation (or more than one) is on the class
         *                               path
         */
        public RaftGroups buildGroups() {
            return buildGroups(discover());
        }

        /** {@link #buildGroups()} with the given factories instead of the ones {@link ServiceLoader} finds. */
        RaftGroups buildGroups(Iterable<? extends RaftNodeFactory> factories) {
            if (stateMachine != null) {
                throw new RaftConfigException("A state machine was set on a builder of several Raft groups.",
                        "Give each group its own: groups.newGroup(name, GroupOptions.defaults().withStateMachine(sm)).");
            }
            RaftConfig config = config().prepareDataDir();
            RaftNodeFactory factory = single(factories);
            RaftGroups groups = factory.createGroups(config, listener == null ? NO_LISTENER : listener,
                    metrics == null ? RaftMetrics.none() : metrics);
            if (groups == null) {
                throw new IllegalStateException(factory.getClass().getName() + ".createGroups returned null;"
                        + " that is a bug in the implementation");
            }
            return groups;
        }

        /** Builds with the given factories instead of the ones {@link ServiceLoader} finds. */
        RaftNode build(Iterable<? extends RaftNodeFactory> factories) {
            RaftConfig config = config().prepareDataDir();
            RaftNodeFactory factory = single(factories);
            RaftNode node = factory.create(config,
                    listener == null ? NO_LISTENER : listener,
                    stateMachine == null ? NO_STATE_MACHINE : stateMachine,
                    metrics == null ? RaftMetrics.none() : metrics);
            if (node == null) {
                throw new IllegalStateException(factory.getClass().getName() + ".create returned null;"
                        + " that is a bug in the implementation");
            }
            return node;
        }

        private static List<RaftNodeFactory> load(ClassLoader loader) {
            List<RaftNodeFactory> result = new ArrayList<>();
            try {
                Iterator<RaftNodeFactory> it = ServiceLoader.load(RaftNodeFactory.class, loader).iterator();
                while (it.hasNext()) {
                    result.add(it.next());
                }
            } catch (ServiceConfigurationError e) {
                throw new IllegalStateException("An HA-Raft implementation (" + RaftNodeFactory.class.getName()
                        + ") is on the class path but cannot be loaded: " + e.getMessage()
                        + ". Check that ha-raft-impl has the same version as ha-raft-api ("
                        + apiVersion() + ") and that its dependencies are present.", e);
            }
            return result;
        }

        private static RaftNodeFactory single(Iterable<? extends RaftNodeFactory> factories) {
            List<RaftNodeFactory> list = new ArrayList<>();
            factories.forEach(list::add);
            if (list.isEmpty()) {
                throw new IllegalStateException(noImplementationMessage());
            }
            if (list.size() > 1) {
                throw new IllegalStateException("Found " + list.size() + " HA-Raft implementations on the"
                        + " class path: " + list.stream().map(f -> f.getClass().getName()).toList()
                        + ". Keep exactly one (normally io.haraft:ha-raft-impl) and remove the others.");
            }
            return list.get(0);
        }

        static String noImplementationMessage() {
            String version = apiVersion();
            return "No HA-Raft implementation found: RaftNode.builder().build() looks up "
                    + RaftNodeFactory.class.getName() + " with java.util.ServiceLoader and found none on"
                    + " the class path. Add the implementation artifact io.haraft:ha-raft-impl:" + version
                    + ", for Maven: <dependency><groupId>io.haraft</groupId>"
                    + "<artifactId>ha-raft-impl</artifactId><version>" + version + "</version></dependency>"
                    + " (Gradle: implementation(\"io.haraft:ha-raft-impl:" + version + "\")).";
        }

        static String apiVersion() {
            try (InputStream in = RaftNode.class.getResourceAsStream("ha-raft-api.properties")) {
                if (in != null) {
                    Properties p = new Properties();
                    p.load(in);
                    String v = p.getProperty("version", "");
                    if (!v.isBlank() && !v.startsWith("$")) {
                        return v;
                    }
                }
            } catch (IOException e) {
                LOG.debug("cannot read ha-raft-api.properties", e);
            }
            return "<the version of ha-raft-api>";
        }

        /** Listener used when the application configured none. */
        private static final class NoListener implements LeadershipListener {
            @Override
            public void elected(Leadership leadership) {
            }

            @Override
            public void revoked(Leadership leadership, RevokeReason reason) {
            }

            @Override
            public String toString() {
                return "no listener";
            }
        }

        /** State machine used when the application configured none: keeps no state. */
        private static final class NoStateMachine implements StateMachine {
            private static final byte[] EMPTY = new byte[0];

            @Override
            public byte[] apply(Committed entry) {
                return EMPTY;
            }

            @Override
            public void snapshot(OutputStream out) {
            }

            @Override
            public void restore(InputStream in) {
            }

            @Override
            public String toString() {
                return "no state machine";
            }
        }
    }
}
