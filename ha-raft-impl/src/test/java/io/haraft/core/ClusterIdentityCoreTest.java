package io.haraft.core;

import io.haraft.core.log.Entry;
import io.haraft.core.log.RaftLog;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;

import static io.haraft.core.CoreCluster.MS;
import static org.assertj.core.api.Assertions.assertThat;

/** The cluster identity: proposed by the first leader of an empty log, learnt only from committed state. */
class ClusterIdentityCoreTest {

    private static UUID candidate(String id) {
        return UUID.nameUUIDFromBytes(("candidate of " + id).getBytes(StandardCharsets.UTF_8));
    }

    /** Three nodes, each given its own candidate and no recorded identity. */
    private static CoreCluster withCandidates() {
        CoreCluster c = new CoreCluster(3);
        for (String id : c.ids) {
            c.core(id).bootstrapIdentity(null, candidate(id));
        }
        return c;
    }

    @Test
    void theFirstLeaderProposesItsCandidateAtIndexOneAndEveryNodeLearnsItOnlyOnceCommitted() {
        CoreCluster c = withCandidates();
        c.drop = m -> !m.from().equals("n1") && !m.to().equals("n1") || m instanceof Message.AppendResponse;
        c.elect("n1");
        Entry first = c.core("n1").log().entry(1);
        assertThat(ClusterIdentity.of(first)).isEqualTo(candidate("n1"));
        // n2 and n3 stored index 1, but its acknowledgements were lost: nobody committed it
        assertThat(c.core("n2").log().lastIndex()).isEqualTo(1);
        assertThat(c.core("n1").commitIndex()).isZero();
        for (String id : c.ids) {
            assertThat(c.core(id).clusterUuid()).as("identity of %s before index 1 commits", id).isNull();
        }
        c.drop = m -> false;
        c.run(300 * MS);
        for (String id : c.ids) {
            assertThat(c.core(id).clusterUuid()).as("identity of %s", id).isEqualTo(candidate("n1"));
            assertThat(c.identitiesLearnt.get(id)).as("reported once to the runtime of %s", id)
                    .containsExactly(candidate("n1"));
        }
    }

    @Test
    void anUncommittedIndexOneReplacedByAnotherLeaderNeverBecomesTheIdentity() {
        CoreCluster c = withCandidates();
        c.drop = m -> m instanceof Message.Append;   // n1 wins, but its index 1 reaches nobody
        c.elect("n1");
        assertThat(ClusterIdentity.of(c.core("n1").log().entry(1))).isEqualTo(candidate("n1"));
        c.drop = CoreCluster.isolate("n1");
        c.elect("n2");                               // index 1 is free on n2 and n3: n2 proposes its own
        c.run(300 * MS);
        assertThat(c.core("n2").clusterUuid()).isEqualTo(candidate("n2"));
        c.drop = m -> false;
        c.run(1000 * MS);
        for (String id : c.ids) {
            assertThat(c.core(id).clusterUuid()).as("identity of %s", id).isEqualTo(candidate("n2"));
            assertThat(ClusterIdentity.of(c.core(id).log().entry(1))).isEqualTo(candidate("n2"));
        }
        assertThat(c.identitiesLearnt.get("n1")).as("n1 never took its own uncommitted candidate")
                .containsExactly(candidate("n2"));
    }

    /**
     * The check of the case above can fail: with the planted bug a leader takes the identity from
     * its own index 1 as soon as it hands it out for persisting, before anybody acknowledged it.
     */
    @Test
    void withThePlantedBugALeaderTakesItsOwnUncommittedCandidate() {
        CoreCluster c = new CoreCluster(3, PlantedBugs.IDENTITY_BEFORE_COMMIT, 64);
        for (String id : c.ids) {
            c.core(id).bootstrapIdentity(null, candidate(id));
        }
        c.drop = m -> m instanceof Message.Append;
        c.elect("n1");
        assertThat(c.core("n1").commitIndex()).isZero();
        assertThat(c.core("n1").clusterUuid()).isEqualTo(candidate("n1"));
        assertThat(c.identitiesLearnt.get("n1")).containsExactly(candidate("n1"));
    }

    @Test
    void aLaterLeaderAppendsAnEmptyNoopAndKeepsTheIdentity() {
        CoreCluster c = withCandidates();
        c.elect("n1");
        c.run(300 * MS);
        c.drop = CoreCluster.isolate("n1");
        c.elect("n2");
        long first = c.core("n2").log().lastIndex();
        assertThat(c.core("n2").log().entry(first).kind()).isEqualTo(Entry.Kind.NOOP);
        assertThat(c.core("n2").log().entry(first).size()).isZero();
        assertThat(c.core("n2").clusterUuid()).isEqualTo(candidate("n1"));
    }

    @Test
    void aFollowerThatReceivesTheLeadersSnapshotInsteadOfIndexOneLearnsTheIdentityFromIt() {
        CoreCluster c = withCandidates();
        c.drop = CoreCluster.isolate("n3");
        c.elect("n1");
        for (int i = 0; i < 5; i++) {
            c.core("n1").propose(("c" + i).getBytes(StandardCharsets.UTF_8), c.now);
        }
        c.deliverAll();
        c.run(200 * MS);
        c.compact("n1", c.core("n1").commitIndex(), 20);
        assertThat(c.core("n1").log().firstIndex()).isGreaterThan(1);
        assertThat(c.core("n3").clusterUuid()).isNull();
        c.drop = m -> false;
        c.run(300 * MS);
        assertThat(c.installed.get("n3")).hasSize(1);
        assertThat(c.sent).filteredOn(m -> m instanceof Message.InstallSnapshot)
                .allMatch(m -> candidate("n1").equals(((Message.InstallSnapshot) m).clusterUuid()));
        assertThat(c.core("n3").clusterUuid()).isEqualTo(candidate("n1"));
        assertThat(c.identitiesLearnt.get("n3")).containsExactly(candidate("n1"));
    }

    @Test
    void aRestartedNodeKeepsItsRecordedIdentityAgainstAnotherAtIndexOne() {
        CoreCluster c = new CoreCluster(1);
        UUID recorded = UUID.randomUUID();
        UUID foreign = UUID.randomUUID();
        c.add("n1", PlantedBugs.NONE, 64, new HardState(1, "n1"),
                new RaftLog(0, 0, List.of(Entry.of(1, 1, Entry.Kind.NOOP, ClusterIdentity.encode(foreign)))));
        c.core("n1").bootstrapIdentity(recorded, UUID.randomUUID());
        c.run(2000 * MS);   // n1 alone: elected, commits index 1 (of the foreign log) again
        assertThat(c.core("n1").commitIndex()).isGreaterThanOrEqualTo(1);
        assertThat(c.core("n1").clusterUuid()).isEqualTo(recorded);
        assertThat(c.identitiesLearnt.get("n1")).isNull();
    }
}
