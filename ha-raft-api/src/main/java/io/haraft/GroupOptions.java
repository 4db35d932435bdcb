package io.haraft;

import java.util.Objects;
import java.util.Optional;

/**
 * What one Raft group hosted by {@link RaftGroups} has of its own: its leadership listener and its
 * state machine. Everything else (members, timing, port, data directory, TLS) is the node's and
 * shared by all its groups.
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
    private static final GroupOptions DEFAULTS = new GroupOptions(null, null);

    private final LeadershipListener listener;
    private final StateMachine stateMachine;

    private GroupOptions(LeadershipListener listener, StateMachine stateMachine) {
        this.listener = listener;
        this.stateMachine = stateMachine;
    }

    /** No listener of its own (the node's listener, if any, still hears the group) and no state machine. */
    public static GroupOptions defaults() {
        return DEFAULTS;
    }

    /** A copy with {@code listener} receiving this group's leadership transitions. */
    public GroupOptions withListener(LeadershipListener listener) {
        return new GroupOptions(Objects.requireNonNull(listener, "listener"), stateMachine);
    }

    /** A copy with {@code stateMachine} as the group's replicated state; one instance per group. */
    public GroupOptions withStateMachine(StateMachine stateMachine) {
        return new GroupOptions(listener, Objects.requireNonNull(stateMachine, "stateMachine"));
    }

    /** The group's own listener, if one was given. */
    public Optional<LeadershipListener> listener() {
        return Optional.ofNullable(listener);
    }

    /** The group's state machine, if one was given. */
    public Optional<StateMachine> stateMachine() {
        return Optional.ofNullable(stateMachine);
    }

    @Override
    public String toString() {
        return "GroupOptions[listener=" + listener + ", stateMachine=" + stateMachine + "]";
    }
}
