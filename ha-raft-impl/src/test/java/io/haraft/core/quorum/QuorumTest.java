package io.haraft.core.quorum;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class QuorumTest {

    @ParameterizedTest(name = "{0} voters, matches {1} -> committed {2}")
    @CsvSource({
        "1, 7,         7",
        "3, 5 5 5,     5",
        "3, 9 1 4,     4",
        "3, 0 0 9,     0",
        "5, 1 2 3 4 5, 3",
        "5, 9 9 0 0 1, 1",
        "4, 4 3 2 1,   2",
    })
    void committedIndexIsTheValueAMajorityHasReached(int n, String matches, long expected) {
        long[] values = Arrays.stream(matches.trim().split(" +")).mapToLong(Long::parseLong).toArray();
        List<String> ids = ids(n);
        Quorum q = Quorum.of(ids);
        assertThat(q.committedIndex(id -> values[ids.indexOf(id)])).isEqualTo(expected);
    }

    @ParameterizedTest(name = "{0} voters, votes {1} -> {2}")
    @CsvSource({
        "3, y,       PENDING",
        "3, y y,     WON",
        "3, y n,     PENDING",
        "3, y n n,   LOST",
        "5, y y n,   PENDING",
        "5, y y y,   WON",
        "5, y n n n, LOST",
        "1, y,       WON",
    })
    void tallyDecidesAsSoonAsTheOutcomeIsCertain(int n, String votes, Quorum.VoteResult expected) {
        List<String> ids = ids(n);
        Map<String, Boolean> v = new HashMap<>();
        String[] vs = votes.trim().split(" +");
        for (int i = 0; i < vs.length; i++) {
            v.put(ids.get(i), vs[i].equals("y"));
        }
        v.put("stranger", true);
        assertThat(Quorum.of(ids).tally(v)).isEqualTo(expected);
    }

    private static final Quorum OLD = Quorum.of(List.of("n1", "n2", "n3"));
    private static final Quorum NEW = Quorum.of(List.of("n2", "n3", "n4"));

    @ParameterizedTest(name = "old n1 n2 n3, new n2 n3 n4, yes {0}, no {1} -> {2}")
    @CsvSource({
        "n1 n2, -,     PENDING",
        "n3 n4, -,     PENDING",
        "n2 n3, -,     WON",
        "n1 n4, n2 n3, LOST",
        "-,     n1 n2, LOST",
        "-,     n3 n4, LOST",
        "n2,    -,     PENDING",
    })
    void aJointQuorumIsWonOnlyWithAMajorityOfEachSetAndLostWithEither(String yes, String no,
                                                                      Quorum.VoteResult expected) {
        Map<String, Boolean> v = new HashMap<>();
        for (String id : yes.trim().split(" +")) {
            if (!id.equals("-")) {
                v.put(id, true);
            }
        }
        for (String id : no.trim().split(" +")) {
            if (!id.equals("-")) {
                v.put(id, false);
            }
        }
        assertThat(Quorum.joint(OLD, NEW).tally(v)).isEqualTo(expected);
    }

    @org.junit.jupiter.api.Test
    void aJointQuorumHasTheVotersOfBothSets() {
        Quorum joint = Quorum.joint(OLD, NEW);
        assertThat(joint.isJoint()).isTrue();
        assertThat(OLD.isJoint()).isFalse();
        assertThat(Quorum.joint(OLD, Quorum.of(List.of("n3", "n2", "n1")))).as("the same set: no joint quorum")
                .isSameAs(OLD);
        assertThat(joint.voters()).containsExactly("n1", "n2", "n3", "n4");
        assertThat(OLD.voters()).containsExactly("n1", "n2", "n3");
        assertThat(joint.contains("n1")).isTrue();
        assertThat(joint.contains("n4")).isTrue();
        assertThat(joint.contains("n5")).isFalse();
        assertThat(OLD.contains("n4")).isFalse();
    }

    private static List<String> ids(int n) {
        return java.util.stream.IntStream.rangeClosed(1, n).mapToObj(i -> "n" + i).toList();
    }
}
