package io.haraft;

import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * One configuration of the cluster: its members with their addresses and roles, and the log
 * index that holds it. A membership change on {@link RaftNode} completes with the configuration
 * it committed.
 *
 * <p><b>Guarantees.</b> Immutable; the member list is an unmodifiable copy in configuration
 * order; ids are unique; no component is {@code null}.
 *
 * <pre>{@code
 * ClusterConfiguration c = leader.addLearner("n4", "10.0.0.4:7001").get();
 * c.member("n4").map(ClusterConfiguration.Member::role);     // Optional[LEARNER]
 * c.voters();                                               // [n1, n2, n3]
 * }</pre>
 *
 * <p><b>Limits.</b> Index 0 stands for the start-up configuration, which is in no log entry.
 *
 * @param index   the log index of the entry that holds this configuration, or the index of the
 *                snapshot that records it; 0 for the start-up configuration
 * @param members every member, in configuration order
 */
public record ClusterConfiguration(long index, List<Member> members) {

    /**
     * Validates and copies.
     *
     * @throws IllegalArgumentException if {@code index} is negative or an id appears twice
     * @throws NullPointerException     if a component or a member is {@code null}
     */
    public ClusterConfiguration {
        if (index < 0) {
            throw new IllegalArgumentException("configuration index must be >= 0, got " + index);
        }
        members = List.copyOf(members);
        Set<String> ids = new HashSet<>();
        for (Member m : members) {
            if (!ids.add(m.id())) {
                throw new IllegalArgumentException("member id " + m.id() + " appears twice in " + members);
            }
        }
    }

    /** The member with this id, if any. */
    public Optional<Member> member(String id) {
        Objects.requireNonNull(id, "id");
        return members.stream().filter(m -> m.id().equals(id)).findFirst();
    }

    /** Whether {@code id} is a member, in any role. */
    public boolean contains(String id) {
        return member(id).isPresent();
    }

    /** The ids of the voting members (voters and witnesses), in configuration order. */
    public List<String> voters() {
        return members.stream().filter(m -> m.role().votes()).map(Member::id).toList();
    }

    /**
     * One member of a configuration. Immutable; no component is {@code null}; equal when id,
     * address and role are equal. Values come from a configuration the cluster stored (or the
     * start-up members), so they were validated when that configuration was made.
     *
     * @param id      the node id
     * @param address where the other nodes reach it, {@code host:port}
     * @param role    what it does
     */
    public record Member(String id, String address, MemberRole role) {
        /**
         * Validates.
         *
         * @throws NullPointerException if a component is {@code null}
         */
        public Member {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(address, "address");
            Objects.requireNonNull(role, "role");
        }

        /** Returns {@code "id@address"}, followed by the role unless it is a voter. */
        @Override
        public String toString() {
            return id + "@" + address + (role == MemberRole.VOTER ? "" : " (" + role.name().toLowerCase(
                    java.util.Locale.ROOT).replace('_', ' ') + ")");
        }
    }
}
