package io.haraft.runtime;

import io.haraft.ClusterConfiguration;
import io.haraft.MemberRole;
import io.haraft.RaftConfig;
import io.haraft.core.quorum.Membership;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Translations between the public configuration types ({@link RaftConfig.Member},
 * {@link MemberRole}, {@link ClusterConfiguration}) and the core's {@link Membership}. The two
 * role enums name the same four roles.
 *
 * <p>Stateless; every method is a pure function.
 */
final class Configurations {
    private Configurations() {
    }

    /** The bootstrap configuration of a node: its configured members with their addresses and roles. */
    static Membership bootstrap(RaftConfig config) {
        return Membership.of(config.members().stream()
                .map(m -> new Membership.Member(m.id(), m.address(), toCore(m.role())))
                .toList());
    }

    static Membership.Role toCore(MemberRole role) {
        return Membership.Role.valueOf(role.name());
    }

    static MemberRole toApi(Membership.Role role) {
        return MemberRole.valueOf(role.name());
    }

    /** The public form of {@code membership}, held at log index {@code index}. */
    static ClusterConfiguration toApi(Membership membership, long index) {
        List<ClusterConfiguration.Member> members = membership.members().stream()
                .map(m -> new ClusterConfiguration.Member(m.id(), m.address(), toApi(m.role())))
                .toList();
        return new ClusterConfiguration(index, members);
    }

    /**
     * The addresses of every member of the given configurations except {@code self}, in order of
     * first appearance; a member without an address (none of a validated {@link RaftConfig}) is
     * left out.
     */
    static Map<String, String> peerAddresses(String self, Membership... configurations) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Membership c : configurations) {
            for (Membership.Member m : c.members()) {
                if (!m.id().equals(self) && !m.address().isBlank()) {
                    out.put(m.id(), m.address());
                }
            }
        }
        return out;
    }
}
