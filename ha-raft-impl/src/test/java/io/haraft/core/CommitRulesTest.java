package io.haraft.core;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * When a leader commits: once a majority durably holds an entry of its own term, the leader's own
 * copy counting only once it is durable, and a follower never commits past what it holds.
 */
class CommitRulesTest {

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Steps {@code m} into its addressee and returns what that node sends back once durable. */
    private static List<Message> deliver(CoreCluster c, Message m) {
        RaftCore to = c.core(m.to());
        to.step(m, c.now);
        List<Message> out = new java.util.ArrayList<>(to.takeUrgentMessages());
        Ready r = to.ready();
        out.addAll(r.messages());
        to.advance(r, c.now);
        return out;
    }

    @Test
    void theLeaderCountsItsOwnEntryOnlyOnceItIsDurable() {
        CoreCluster c = new CoreCluster(3);
        c.elect("n1");
        RaftCore n1 = c.core("n1");
        long before = n1.commitIndex();
        long index = n1.propose(bytes("x"), c.now);
        assertThat(index).isEqualTo(before + 1);
        List<Message> appends = n1.takeUrgentMessages();
        Message toN2 = appends.stream().filter(m -> m instanceof Message.Append && m.to().equals("n2")).findFirst()
                .orElseThrow();
        for (Message answer : deliver(c, toN2)) {
            n1.step(answer, c.now);
        }
        assertThat(n1.commitIndex()).as("n2 holds it, but the leader's own copy is not durable").isEqualTo(before);
        Ready own = n1.ready();
        assertThat(own.entries()).extracting(e -> e.index()).containsExactly(index);
        n1.advance(own, c.now);
        assertThat(n1.commitIndex()).as("leader and n2: a majority of three").isEqualTo(index);
    }

    @Test
    void oneFollowerIsNotAMajorityOfFive() {
        CoreCluster c = new CoreCluster(5);
        c.elect("n1");
        RaftCore n1 = c.core("n1");
        long before = n1.commitIndex();
        long index = n1.propose(bytes("x"), c.now);
        Ready own = n1.ready();
        List<Message> appends = own.messages();
        n1.advance(own, c.now);
        appends = new java.util.ArrayList<>(appends);
        appends.addAll(n1.takeUrgentMessages());
        for (String peer : List.of("n2", "n3")) {
            Message to = appends.stream().filter(m -> m instanceof Message.Append && m.to().equals(peer)).findFirst()
                    .orElseThrow();
            for (Message answer : deliver(c, to)) {
                n1.step(answer, c.now);
            }
            if (peer.equals("n2")) {
                assertThat(n1.commitIndex()).as("leader and n2 of five").isEqualTo(before);
            }
        }
        assertThat(n1.commitIndex()).as("leader, n2 and n3 of five").isEqualTo(index);
    }

    @Test
    void aFollowerCommitsNoFurtherThanWhatItHolds() {
        CoreCluster c = new CoreCluster(3);
        c.elect("n1");
        RaftCore n2 = c.core("n2");
        long last = n2.lastIndex();
        n2.step(new Message.Heartbeat("n1", "n2", c.core("n1").term(), last + 5, 1, 300 * CoreCluster.MS), c.now);
        assertThat(n2.commitIndex()).isEqualTo(last);
        n2.step(new Message.Append("n1", "n2", c.core("n1").term(), last, c.core("n1").term(),
                List.of(io.haraft.core.log.Entry.command(last + 1, c.core("n1").term(), bytes("y"))), last + 9, 1,
                300 * CoreCluster.MS), c.now);
        assertThat(n2.commitIndex()).as("the leader's commit, capped at the last new entry").isEqualTo(last + 1);
    }
}
