package io.haraft.transport;

import io.haraft.core.Message;
import io.haraft.core.log.Entry;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class AppendSplitterTest {

    @Test
    void piecesAreConsecutiveFitTheLimitAndKeepTermCommitRoundAndStickiness() {
        List<Entry> entries = new ArrayList<>();
        for (long i = 11; i <= 40; i++) {
            entries.add(Entry.command(i, 7, new byte[10_000]));
        }
        Message.Append whole = new Message.Append("n1", "n2", 7, 10, 6, entries, 35, 99, 1_500_000_000L);
        int limit = 64 * 1024;

        List<Message> pieces = AppendSplitter.split(whole, limit);

        assertThat(pieces).hasSizeGreaterThan(1);
        long prevIndex = 10;
        long prevTerm = 6;
        List<Entry> seen = new ArrayList<>();
        for (Message m : pieces) {
            Message.Append p = (Message.Append) m;
            assertThat(MessageCodec.encode(p).getSerializedSize()).isLessThanOrEqualTo(limit);
            assertThat(p.prevIndex()).isEqualTo(prevIndex);
            assertThat(p.prevTerm()).isEqualTo(prevTerm);
            assertThat(p.term()).isEqualTo(7);
            assertThat(p.commit()).isEqualTo(35);
            assertThat(p.round()).isEqualTo(99);
            // the stickiness the leader's lease relies on must reach the follower with every piece
            assertThat(p.stickiness()).isEqualTo(1_500_000_000L);
            seen.addAll(p.entries());
            Entry last = p.entries().get(p.entries().size() - 1);
            prevIndex = last.index();
            prevTerm = last.term();
        }
        assertThat(seen).isEqualTo(entries);
    }
}
