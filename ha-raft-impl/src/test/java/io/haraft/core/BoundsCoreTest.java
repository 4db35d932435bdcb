package io.haraft.core;

import io.haraft.core.log.Entry;
import io.haraft.core.log.RaftLog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.event.Level;

import java.util.List;
import java.util.SplittableRandom;

import static io.haraft.core.CoreCluster.MS;
import static org.assertj.core.api.Assertions.assertThat;

/** Counters from the network are bounded: an absurd term or index is refused, logged, never adopted. */
class BoundsCoreTest {
    private static final List<String> VOTERS = List.of("n1", "n2", "n3");

    /** Three nodes, {@code id} logging to {@code log}, n1 elected. */
    private static CoreCluster electedWithLogger(String id, RecordingLogger log) {
        CoreCluster c = new CoreCluster(3);
        c.loggers.put(id, log);
        c.restart(id);
        c.elect("n1");
        return c;
    }

    @Test
    void aForgedHeartbeatWithTermNearTheEndOfALongChangesNoTermAndElectionsGoOn() {
        RecordingLogger log = new RecordingLogger();
        CoreCluster c = electedWithLogger("n2", log);
        c.run(500 * MS);
        long term = c.core("n1").term();

        for (int i = 0; i < 3; i++) { // n3's id, claimed by anyone who can reach n2
            c.core("n2").step(new Message.Heartbeat("n3", "n2", Long.MAX_VALUE - 1, 0, 1), c.now);
            c.core("n2").step(new Message.Append("n3", "n2", Long.MAX_VALUE - 1, 0, 0, List.of(), 0, 1), c.now);
        }
        c.flush();
        assertThat(c.core("n2").term()).isEqualTo(term);
        assertThat(c.core("n2").leader()).isEqualTo("n1");
        assertThat(c.hardStates.get("n2").term()).as("nothing of it reached the disk").isEqualTo(term);
        assertThat(log.at(Level.WARN)).as("one warning for the sender, naming it and the value").singleElement()
                .asString().contains("refusing Heartbeat from n3", "term 9223372036854775806");

        c.drop = CoreCluster.isolate("n1");
        c.run(3_000 * MS);
        assertThat(c.leaders()).as("the others still elect a leader").containsAnyOf("n2", "n3");
        String next = c.leaders().stream().filter(id -> !id.equals("n1")).findFirst().orElseThrow();
        assertThat(c.core(next).term()).isGreaterThan(term).isLessThan(term + 10);

        c.elapse(61_000 * MS); // a minute later the same sender is worth another warning
        c.core("n2").step(new Message.Heartbeat("n3", "n2", Long.MAX_VALUE - 1, 0, 1), c.now);
        assertThat(log.at(Level.WARN)).hasSize(2);
        assertThat(log.at(Level.WARN).get(1)).contains("5 more refused from it since the last warning");
    }

    /** Messages from n1, the leader of term 5, to follower n2, each with one counter out of bounds. */
    static List<Message> outOfBounds() {
        long t = 5;
        return List.of(
                new Message.Heartbeat("n1", "n2", Bounds.MAX_TERM + 1, 0, 1),
                new Message.Heartbeat("n1", "n2", -1, 0, 1),
                new Message.Heartbeat("n1", "n2", t, -1, 1),
                new Message.Heartbeat("n1", "n2", t, 0, 1, Bounds.MAX_STICKINESS_NANOS + 1),
                new Message.Append("n1", "n2", t, 0, 0, List.of(Entry.noop(1, 6)), 0, 1),
                new Message.Append("n1", "n2", t, 0, 0, List.of(Entry.noop(1, Long.MAX_VALUE)), 0, 1),
                new Message.Append("n1", "n2", t, 0, 0, List.of(Entry.noop(2, 5)), 0, 1),
                new Message.Append("n1", "n2", t, 0, 6, List.of(), 0, 1),
                new Message.Append("n1", "n2", t, Bounds.MAX_INDEX + 1, 5, List.of(), 0, 1),
                new Message.Append("n1", "n2", t, 0, 0, List.of(), Long.MAX_VALUE, 1),
                new Message.InstallSnapshot("n1", "n2", t, 10, 9, 0, new byte[1], false, 1),
                new Message.InstallSnapshot("n1", "n2", t, 10, 5, Long.MAX_VALUE, new byte[1], false, 1),
                new Message.PreVote("n3", "n2", Long.MAX_VALUE, 0, 0),
                new Message.Vote("n3", "n2", 6, 0, 7, false),
                new Message.Vote("n3", "n2", 6, -1, 0, false));
    }

    @ParameterizedTest
    @MethodSource("outOfBounds")
    void aMessageWithACounterOutOfBoundsIsRefusedWholeAndLogged(Message m) {
        RecordingLogger log = new RecordingLogger();
        long now = 1_000 * MS;
        RaftCore f = new RaftCore(CoreConfig.defaults("n2", VOTERS), new HardState(5, null),
                new RaftLog(0, 0, List.of(Entry.noop(1, 5))), now, new SplittableRandom(1), log);
        now += 400 * MS; // past the restart's stickiness: a valid vote request would be answered
        f.step(m, now);
        assertThat(f.term()).isEqualTo(5);
        assertThat(f.lastIndex()).isEqualTo(1);
        assertThat(f.commitIndex()).isZero();
        assertThat(f.leader()).isNull();
        assertThat(f.takeUrgentMessages()).isEmpty();
        assertThat(f.hasReady()).isFalse();
        assertThat(log.at(Level.WARN)).singleElement().asString().contains("refusing", "from " + m.from());
    }

    @Test
    void aLeaderRefusesAnAcknowledgementOfEntriesItNeverHad() {
        RecordingLogger log = new RecordingLogger();
        CoreCluster c = electedWithLogger("n1", log);
        long last = c.core("n1").lastIndex();
        c.core("n1").step(new Message.AppendResponse("n2", "n1", c.core("n1").term(), true, Bounds.MAX_INDEX, 0, 0,
                1, 300 * MS), c.now);
        assertThat(c.core("n1").progress("n2").match()).isLessThanOrEqualTo(last);
        assertThat(log.at(Level.WARN)).singleElement().asString().contains("beyond this leader's last index");
    }

    @Test
    void aNodeWhoseTermIsAtTheBoundSaysSoAndNeverCampaigns() {
        RecordingLogger log = new RecordingLogger();
        long now = 1_000 * MS;
        RaftCore n = new RaftCore(CoreConfig.defaults("n1", VOTERS), new HardState(Bounds.MAX_TERM, null),
                RaftLog.empty(), now, new SplittableRandom(1), log);
        assertThat(log.at(Level.ERROR)).singleElement().asString()
                .contains("term 9007199254740992 has reached the largest term", "will never campaign again",
                        "bootstrap the cluster again");
        for (int i = 0; i < 50; i++) {
            now += 100 * MS;
            n.tick(now);
            assertThat(n.takeUrgentMessages()).as("no pre-vote for a term past the bound").isEmpty();
        }
        n.step(new Message.TimeoutNow("n2", "n1", Bounds.MAX_TERM), now);
        assertThat(n.role()).isEqualTo(Role.FOLLOWER);
        assertThat(n.term()).isEqualTo(Bounds.MAX_TERM);
        assertThat(log.at(Level.ERROR)).as("said again once a minute, not at every timeout").hasSize(1);
        now += 60_000 * MS;
        n.tick(now);
        assertThat(log.at(Level.ERROR)).hasSize(2);
    }
}
