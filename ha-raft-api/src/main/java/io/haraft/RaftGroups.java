package io.haraft;

import java.util.Optional;
import java.util.SortedSet;

/**
 * One member of an HA-Raft cluster hosting many named Raft groups (active-active): each group
 * elects its own leader, so different nodes can lead different groups at the same time, and a
 * dead node's groups are taken over by the survivors. Built with
 * {@link RaftNode.Builder#buildGroups()}.
 *
 * <p><b>Guarantees.</b>
 * <ul>
 *   <li>Each group is a full Raft group, with every guarantee of {@link RaftNode} on its own: its
 *       own term, leader, lease and {@link FencingToken} (strictly increasing within the group;
 *       tokens of different groups are unrelated), its own listeners and optional
 *       {@link StateMachine}, snapshots and log. Every {@link Leadership} names its group
 *       ({@link Leadership#group()}).</li>
 *   <li>A group spans the node's members: it elects a leader once a majority of the members host a
 *       group of the same name. Groups are created on each node by the application, with the same
 *       name everywhere.</li>
 *   <li>Shared, bounded cost: all groups use the node's one listening address (one connection per
 *       peer carries every group's messages), its one data directory (each group in
 *       {@code <dataDir>/groups/<name>/}, with small preallocated log segments; the node's drain in
 *       {@code <dataDir>/drained}), and one fixed set of threads: creating more groups starts no
 *       more threads.</li>
 *   <li>Leaderships are balanced: the members that are up and not drained ({@link #drain()}) end
 *       up leading numbers of groups that differ by at most one (see {@link #setBalancing}). A
 *       group given a preferred leader ({@link GroupOptions#withPreferredLeader}) is led by that
 *       member whenever it is up, not drained and caught up with the group's log; the other
 *       groups are balanced around it.</li>
 *   <li>A message for a group this node does not host is dropped (with a rate-limited WARN); it
 *       never affects the other groups.</li>
 *   <li>All methods are thread-safe. {@link #start()}, {@link #close()}, {@link #remove} and
 *       {@link #removeAndDeleteData} block; {@link #drain()} and {@link #undrain()} block until a
 *       small file is durable (a few fsyncs); the others do not block.</li>
 * </ul>
 *
 * <pre>{@code
 * try (RaftGroups node = RaftNode.builder()
 *         .clusterId("jobs").nodeId("n1")
 *         .member("n1", "10.0.0.1:7001").member("n2", "10.0.0.2:7001").member("n3", "10.0.0.3:7001")
 *         .dataDir(Path.of("/var/lib/jobs/raft"))
 *         .buildGroups()) {
 *     node.start();
 *     for (int p = 0; p < 12; p++) {
 *         node.newGroup("partition-" + p, GroupOptions.defaults().withListener(partitionWorker(p)));
 *     }
 *     ...
 * }
 * }</pre>
 *
 * <p><b>Limits.</b> The handles do not support membership changes yet ({@code addLearner},
 * {@code promote}, {@code removeMember}, ... fail with {@link UnsupportedOperationException}):
 * every group has the node's members.
 *
 * <p><b>Heartbeats are coalesced per peer.</b> The leaders of all groups of a node send their
 * heartbeats together (a node-wide tick every 0.9 heartbeat intervals), and the heartbeats to one
 * peer, and the answers to them, travel as one frame after waiting at most a twentieth of the
 * heartbeat interval (1 to 10 ms) for each other. Appends, votes and snapshot chunks are never held
 * and never share a frame. Each group's messages, terms and lease rules are unchanged: a lease
 * counts from the moment its round started, so a wait can delay its renewal but never lengthen it.
 * Each group still produces and handles its own heartbeat; what is shared is the frames and TCP
 * segments. A peer of an older version, which does not announce that it accepts batches, gets
 * every message alone.
 */
public interface RaftGroups extends AutoCloseable {

    /**
     * Starts the node: binds its listening address, starts its shared threads and starts the
     * groups created so far. Returns without waiting for elections. If the data directory records a
     * drain ({@link #drain()}, by an earlier run or before this call), the node starts drained.
     *
     * @throws IllegalStateException        if already started or closed
     * @throws java.io.UncheckedIOException if the address cannot be bound or a group's storage cannot
     *                                      be opened; the node is then closed
     */
    void start();

    /**
     * Creates and hosts group {@code name} with {@link GroupOptions#defaults()}; see
     * {@link #newGroup(String, GroupOptions)}.
     */
    RaftNode newGroup(String name);

    /**
     * Creates and hosts group {@code name}: it is started at once if this node runs, else by
     * {@link #start()}. If {@code <dataDir>/groups/<name>/} holds data (the group was hosted before
     * a restart, or removed with {@link #remove}), the group continues from it.
     *
     * <p>The returned handle behaves as a {@link RaftNode} of the group, with these differences:
     * {@link RaftNode#start()} throws {@link IllegalStateException} (this object starts it);
     * {@link RaftNode#close()} is {@link #remove(String)}; the membership methods fail with
     * {@link UnsupportedOperationException}; {@link RaftNode#config()} is the node's configuration
     * with the group's data directory.
     *
     * @return the group's handle
     * @throws IllegalArgumentException if {@code name} is not a valid group name ({@link GroupNames})
     *                                  or a group of that name is hosted already
     * @throws IllegalStateException    if this node is closed
     * @throws java.io.UncheckedIOException if this node runs and the group's storage cannot be
     *                                  opened; nothing is hosted then
     */
    RaftNode newGroup(String name, GroupOptions options);

    /** The handle of group {@code name} if this node hosts it now. */
    Optional<RaftNode> group(String name);

    /** The names of the groups hosted now, sorted; an immutable copy. */
    SortedSet<String> groupNames();

    /**
     * Stops hosting group {@code name}, as {@link RaftNode#close()} stops a node (a leader hands
     * its leadership over first), and keeps its data: a later {@link #newGroup} of the same name
     * continues from it. Blocks until the group has stopped.
     *
     * @return whether the group was hosted
     */
    boolean remove(String name);

    /**
     * Stops hosting group {@code name} as {@link #remove} does, then deletes
     * {@code <dataDir>/groups/<name>/}. Only for a group that the whole cluster gives up (or
     * that this node will rejoin as a new, empty member): its votes and log are gone.
     *
     * <p>The data of {@link GroupNames#DEFAULT} carries the cluster identity that this node's
     * connections are checked against (a node of another cluster with the same names is refused
     * by it), so it can be deleted only while the node does not run: before {@link #start()}, or
     * once {@link #close()} has returned (by this method or by hand). While {@link #close()} runs,
     * no group's data is deleted (the call throws {@link IllegalStateException}).
     *
     * @return whether the group was hosted or had data
     * @throws IllegalStateException        if {@code name} is {@link GroupNames#DEFAULT} and this
     *                                      node runs (nothing is removed then), or the group is
     *                                      still closing or was created again meanwhile (its data is kept)
     * @throws java.io.UncheckedIOException if the directory cannot be deleted
     */
    boolean removeAndDeleteData(String name);

    /** The node's configuration (its data directory is the parent of every group's). */
    RaftConfig config();

    /**
     * Turns leadership balancing on or off on this node; it is on from the start. While on, every
     * few heartbeat intervals this node compares how many groups each member leads (as far as it
     * knows the leaders of the groups it hosts) and, if it leads at least two more than a member it
     * heard from within the last election timeout and that is not drained, hands one of its groups
     * to the member leading the fewest (in a group whose log that member has caught up with, within
     * {@link RaftConfig#promoteMaxLag()} entries), with a graceful handover
     * ({@link RaftNode#transferLeadership}). Every node does so on its own, so the live members
     * that are not drained end up leading numbers of groups that differ by at most one.
     *
     * <p><b>Guarantees.</b> A node runs at most one handover at a time, and hands a group only to
     * a member it heard from lately, in that group (a member that does not host the group is
     * never chosen for it). Each handover is a normal leadership transfer: the
     * group keeps every guarantee of {@link RaftNode}; the group is without leader for about one
     * transfer (a round trip and an election), and the new leader's fencing token is higher.
     * Turning it off stops this node's rounds at once; handovers already started finish.
     *
     * <p><b>Limits.</b> Counts are per group (groups are not weighted and have no preferred node),
     * and each node decides on what it knows, so for a moment two nodes can hand a group to the
     * same member; a later round moves one back. A node that is balanced off keeps its
     * leaderships, but the other nodes still balance towards it.
     *
     * @param on whether this node balances
     */
    void setBalancing(boolean on);

    /** Whether this node balances leaderships ({@link #setBalancing}); {@code true} unless turned off. */
    boolean isBalancing();

    /**
     * Drains this node, for maintenance: it hands every group it leads to the other members, one
     * handover at a time (as {@link #setBalancing balancing} does, whether balancing is on or not),
     * and tells every member on each message it sends that it is drained, so that balancing nodes
     * hand it no group. Returns at once; {@link RaftNode#isLeader()} of each group's handle shows
     * the progress. Idempotent. Stays in force until {@link #undrain()}, also across restarts, like
     * a cluster manager's standby mode: the drain is recorded in the data directory (the file
     * {@code <dataDir>/drained}) before this returns, and a node started on a directory that
     * records one starts drained (it logs so at INFO, saying how to end it): its first message says
     * it is drained and every group defers its candidacy from its start. So a node can be drained,
     * stopped, upgraded, started and checked while it leads nothing, then undrained. Called before
     * {@link #start()}, it drains the node from its start.
     *
     * <p><b>Guarantees.</b> Drain never weakens a group's safety: each handover is a normal
     * leadership transfer, and a drained node still votes and replicates. It hands a group only to a
     * member it heard from within the last election timeout and that is not drained itself, so a
     * group is never left to a dead node. While drained, the node defers its candidacy in every
     * group: when a group's leader dies or goes silent, it waits one election timeout longer than
     * usual before it campaigns (and after a refused connection to the leader it takes its turn
     * after the other members), so that a member that is not drained and can win is elected first.
     * A node that closes gracefully ({@link #close()}, {@link #remove}) hands a group it leads to a
     * member that is not drained if one answers. Deferring changes only timing: if no other member
     * can win (they are down, drained, or their logs are behind), the drained node still campaigns
     * after that one extra election timeout, so a group is never left without a leader for longer.
     *
     * <p><b>Limits.</b> A member not drained that is slower to notice the leader's loss than the
     * extra election timeout (a paused process) can still let the drained node win; it then hands
     * that group over a few heartbeat intervals later. If no other member may take a group (all are
     * down or drained, or none has caught up with its log within
     * {@link RaftConfig#promoteMaxLag()} entries), this node keeps leading it, after an election up to one election timeout
     * later than without drain. {@link RaftNode#transferLeadership} by hand may still make a
     * drained node leader; drain then hands the group back. Peers learn that this node is drained
     * from its messages; a peer that has not heard from it since the drain may still hand it a
     * group on close. A {@code drained} file that cannot be read or parsed (damaged, or edited by
     * hand) also makes the node start drained, with a WARN that names the file and says to call
     * {@code undrain()} or {@code drain()}: that side never takes a leadership from the others.
     *
     * @throws java.io.UncheckedIOException if the drain could not be recorded (a full file system, a
     *                                      read-only data directory): the node is drained all the
     *                                      same, but a restart would end the drain. The message says
     *                                      what to fix; calling {@code drain()} again then records it
     */
    void drain();

    /**
     * Ends {@link #drain()}: this node removes the record of the drain from its data directory
     * (durably, before this returns), tells the members it is no longer drained, campaigns with
     * the usual timing again, and balancing nodes give it its share of leaderships back, one
     * handover at a time. A restart then starts it not drained. Idempotent.
     *
     * @throws java.io.UncheckedIOException if the record could not be removed: the node stays
     *                                      drained, and a restart might start it drained. The
     *                                      message says what to fix; calling {@code undrain()}
     *                                      again then ends the drain
     */
    void undrain();

    /**
     * Whether this node is drained: {@link #drain()} without {@link #undrain()} since, or, from
     * {@link #start()} on, a drain that the data directory recorded when the node started. Before
     * {@code start()} a drain recorded by an earlier run is not read yet, and this says
     * {@code false} for it.
     */
    boolean isDrained();

    /**
     * Stops every group (each leader hands over first, as {@link RaftNode#close()}), then closes
     * the listening address and stops the shared threads. A group that a {@link #remove} on
     * another thread is stopping meanwhile has stopped too (its listener has returned from
     * {@code revoked}) before the address closes; a listener that blocks delays this no longer
     * than it delays {@link RaftNode#close()}. Idempotent; never throws.
     */
    @Override
    void close();
}
