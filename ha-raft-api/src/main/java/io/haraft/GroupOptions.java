package io.haraft;

import java.util.Objects;
import java.util.Optional;

/**
 * What one Raft group hosted by {@link RaftGroups} has of its own: its leadership listener, its
 * state machine and, optionally, the member that should lead it. Everything else (members, timing,
 * port, data directory, TLS) is the node's and shared by all its groups.
 *
 * <p><b>Guarantees.</b> Immutable and thread-safe; every {@code with...} method returns a new
 * object and rejects {@code null} with a {@link NullPointerException}.
 *
 * <pre>{@code
 * RaftNode orders = groups.newGroup("orders-7", GroupOptions.defaults()
 *         .withListener(ordersListener)
 *         .withStateMachine(new OrdersStateMachine()));
 * }</pre>
 */
public final class GroupOptions {
    private static final GroupOptions DEFAULTS = new GroupOptions(null, null, null);

    private final LeadershipListener listener;
    private final StateMachine stateMachine;
    private final String preferredLeader;

    private GroupOptions(LeadershipListener listener, StateMachine stateMachine, String preferredLeader) {
        this.listener = listener;
        this.stateMachine = stateMachine;
        this.preferredLeader = preferredLeader;
    }

    /** No listener of its own (the node's listener, if any, still hears the group) and no state machine. */
    public static GroupOptions defaults() {
        return DEFAULTS;
    }

    /** A copy with {@code listener} receiving this group's leadership transitions. */
    public GroupOptions withListener(LeadershipListener listener) {
        return new GroupOptions(Objects.requireNonNull(listener, "listener"), stateMachine, preferredLeader);
    }

    /** A copy with {@code stateMachine} as the group's replicated state; one instance per group. */
    public GroupOptions withStateMachine(StateMachine stateMachine) {
        return new GroupOptions(listener, Objects.requireNonNull(stateMachine, "stateMachine"), preferredLeader);
    }

    /**
     * A copy whose group should be led by member {@code nodeId} whenever that member is up and not
     * drained, like a keepalived instance's highest priority: the leadership balancer hands the
     * group to it (a graceful handover) and never moves it away from it; when it is down or drained,
     * the group is led elsewhere like any other and handed back once it returns. The other groups
     * are balanced around the groups held by their preferred members, so with many preferences on
     * one member the counts per member can differ by more than one. The preference only steers the
     * balancer: elections, fencing and every safety guarantee are unchanged. Give every node the
     * same preference for a group. {@link RaftGroups#newGroup(String, GroupOptions)} refuses a
     * member that cannot lead (not a member, or a witness).
     */
    public GroupOptions withPreferredLeader(String nodeId) {
        return new GroupOptions(listener, stateMachine, Objects.requireNonNull(nodeId, "nodeId"));
    }

    /** The group's own listener, if one was given. */
    public Optional<LeadershipListener> listener() {
        return Optional.ofNullable(listener);
    }

    /** The group's state machine, if one was given. */
    public Optional<StateMachine> stateMachine() {
        return Optional.ofNullable(stateMachine);
    }

    /** The member that should lead the group, if one was given. */
    public Optional<String> preferredLeader() {
        return Optional.ofNullable(preferredLeader);
    }

    @Override
    public String toString() {
        return "GroupOptions[listener=" + listener + ", stateMachine=" + stateMachine
                + (preferredLeader == null ? "" : ", preferredLeader=" + preferredLeader) + "]";
    }
}
