package io.haraft.core;

import io.haraft.core.log.Entry;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class BoundsTest {
    @Test
    void valuesAtTheBoundsAreAcceptedAndOneBeyondIsNot() {
        long t = Bounds.MAX_TERM;
        assertThat(Bounds.violation(new Message.Heartbeat("a", "b", t, Bounds.MAX_INDEX, Bounds.MAX_INDEX,
                Bounds.MAX_STICKINESS_NANOS))).isNull();
        assertThat(Bounds.violation(new Message.Heartbeat("a", "b", t + 1, 0, 0))).isEqualTo("term " + (t + 1));
        assertThat(Bounds.violation(new Message.Heartbeat("a", "b", 1, Bounds.MAX_INDEX + 1, 0)))
                .startsWith("commit ");
        assertThat(Bounds.violation(new Message.AppendResponse("a", "b", 1, true, 3, 0, t + 1, 1)))
                .startsWith("hintTerm ");
        assertThat(Bounds.violation(new Message.InstallSnapshotResponse("a", "b", 1, 3, -1, false, 1)))
                .startsWith("nextOffset ");
    }

    @Test
    void entriesMustFollowThePreviousOneWithTermsUpToTheSendersTerm() {
        assertThat(Bounds.violation(new Message.Append("a", "b", 4, 2, 2,
                List.of(Entry.noop(3, 2), Entry.noop(4, 3), Entry.noop(5, 4)), 0, 1))).isNull();
        assertThat(Bounds.violation(new Message.Append("a", "b", 4, 2, 2, List.of(Entry.noop(3, 1)), 0, 1)))
                .startsWith("entry term 1 at index 3");
        assertThat(Bounds.violation(new Message.Append("a", "b", 4, 2, 2, List.of(Entry.noop(3, 5)), 0, 1)))
                .startsWith("entry term 5 at index 3");
        assertThat(Bounds.violation(new Message.Append("a", "b", 4, 2, 2, List.of(Entry.noop(4, 3)), 0, 1)))
                .startsWith("entry index 4 (expected 3)");
    }
}
