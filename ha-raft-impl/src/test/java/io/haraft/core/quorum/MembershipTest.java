package io.haraft.core.quorum;

import io.haraft.core.quorum.Membership.Member;
import io.haraft.core.quorum.Membership.Role;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MembershipTest {
    private static final Membership M = Membership.of(List.of(
            new Member("n1", "10.0.0.1:7000", Role.VOTER),
            new Member("n2", "[fe80::1]:7000", Role.VOTER),
            new Member("w", "witness.example:7000", Role.WITNESS),
            new Member("n4", "h\u00e9te:7000", Role.LEARNER),
            new Member("w2", "", Role.WITNESS_LEARNER)));

    @Test
    void rolesDecideWhoVotesLeadsAndStoresPayloads() {
        assertThat(M.voters()).containsExactly("n1", "n2", "w");
        assertThat(M.canLead("n1")).isTrue();
        assertThat(M.canLead("w")).as("a witness never leads").isFalse();
        assertThat(M.isVoter("n4")).isFalse();
        assertThat(M.isWitness("w2")).isTrue();
        assertThat(M.quorum().isMajority(Set.of("n1", "w"))).isTrue();
        assertThat(M.quorum().isMajority(Set.of("n1", "n4", "w2"))).as("learners count for nothing").isFalse();
        assertThat(Role.WITNESS_LEARNER.promoted()).isEqualTo(Role.WITNESS);
        assertThat(Role.LEARNER.promoted()).isEqualTo(Role.VOTER);
    }

    @Test
    void theByteFormRoundTripsAndRejectsDamage() {
        byte[] bytes = M.encode();
        assertThat(Membership.decode(bytes)).isEqualTo(M);
        assertThatThrownBy(() -> Membership.decode(Arrays.copyOf(bytes, bytes.length - 1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("corrupt configuration");
        byte[] future = bytes.clone();
        future[0] = 9;
        assertThatThrownBy(() -> Membership.decode(future)).hasMessageContaining("unknown configuration format 9");
        byte[] longer = Arrays.copyOf(bytes, bytes.length + 2);
        assertThatThrownBy(() -> Membership.decode(longer)).hasMessageContaining("trailing bytes");
    }

    @Test
    void singleServerChangesDifferByAtMostOneVoter() {
        Membership three = Membership.ofVoters(List.of("a", "b", "c"));
        assertThat(three.votingDifference(three.withMember(new Member("d", "", Role.LEARNER)))).isZero();
        assertThat(three.votingDifference(three.withMember(new Member("d", "", Role.VOTER)))).isEqualTo(1);
        assertThat(three.votingDifference(three.without("a"))).isEqualTo(1);
        assertThat(three.votingDifference(three.without("a").withMember(new Member("d", "", Role.VOTER)))).isEqualTo(2);
        assertThatThrownBy(() -> Membership.of(List.of(new Member("w", "", Role.WITNESS))))
                .hasMessageContaining("witnesses never lead");
        assertThatThrownBy(() -> three.withMember(new Member("a", "", Role.LEARNER)).without("b").without("c"))
                .hasMessageContaining("at least one voter");
    }

    @Test
    void aJointQuorumNeedsBothMajorities() {
        Quorum old = Quorum.of(List.of("a", "b", "c"));
        Quorum grown = Quorum.of(List.of("a", "b", "c", "d"));
        Quorum j = Quorum.joint(old, grown);
        assertThat(j.isJoint()).isTrue();
        assertThat(j.voters()).containsExactly("a", "b", "c", "d");
        assertThat(j.isMajority(Set.of("a", "b"))).as("a majority of the old set only").isFalse();
        assertThat(j.isMajority(Set.of("a", "b", "d"))).isTrue();
        Map<String, Long> match = Map.of("a", 9L, "b", 8L, "c", 1L, "d", 2L);
        // old: 3 voters {9, 8, 1} -> 8; grown: {9, 8, 1, 2} -> 2; joint: the smaller
        assertThat(j.committedIndex(match::get)).isEqualTo(2);
        assertThat(j.tally(Map.of("a", true, "b", true))).isEqualTo(Quorum.VoteResult.PENDING);
        assertThat(j.tally(Map.of("c", false, "d", false))).isEqualTo(Quorum.VoteResult.LOST);
        assertThat(Quorum.joint(old, Quorum.of(List.of("c", "b", "a")))).as("same voters: not joint").isSameAs(old);
        assertThatThrownBy(j::size).isInstanceOf(IllegalStateException.class);
    }
}
