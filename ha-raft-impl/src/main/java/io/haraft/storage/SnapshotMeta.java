package io.haraft.storage;

import io.haraft.core.quorum.Membership;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What a snapshot covers: the last log entry it includes (index and term) and the cluster
 * configuration in force at that entry (members with their addresses and roles).
 *
 * <p>Immutable. An index of 0 with term 0 would be "nothing", so a snapshot always covers at
 * least entry 1. The configuration is empty only for a snapshot written by a version of HA-Raft
 * that recorded member ids alone (snapshot format 1, when membership was static): a node then
 * falls back to the configuration of its log, or of its startup arguments.
 *
 * <pre>{@code
 * SnapshotMeta meta = new SnapshotMeta(1200, 7, core.membershipAt(1200));
 * }</pre>
 *
 * @param lastIndex  index of the last entry included in the snapshot, {@code >= 1}
 * @param lastTerm   term of that entry, {@code >= 1}
 * @param membership the configuration in force at {@code lastIndex}; empty if the snapshot does
 *                   not record one (format 1)
 */
public record SnapshotMeta(long lastIndex, long lastTerm, Optional<Membership> membership) {
    /** Validates. */
    public SnapshotMeta {
        if (lastIndex < 1) {
            throw new IllegalArgumentException("snapshot lastIndex must be >= 1, got " + lastIndex);
        }
        if (lastTerm < 1) {
            throw new IllegalArgumentException("snapshot lastTerm must be >= 1, got " + lastTerm);
        }
        Objects.requireNonNull(membership, "membership (use Optional.empty() if unknown)");
    }

    /** A snapshot with a known configuration. */
    public SnapshotMeta(long lastIndex, long lastTerm, Membership membership) {
        this(lastIndex, lastTerm, Optional.of(Objects.requireNonNull(membership, "membership")));
    }

    /**
     * A snapshot whose configuration is {@code voters}, every one a voter without an address
     * (tests and the simulator, which need no transport).
     */
    public SnapshotMeta(long lastIndex, long lastTerm, List<String> voters) {
        this(lastIndex, lastTerm, Membership.ofVoters(Objects.requireNonNull(voters, "voters")));
    }

    /** The ids of the members, in configuration order; empty if the configuration is unknown. */
    public List<String> members() {
        return membership.map(Membership::ids).orElse(List.of());
    }
}
