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

    private static final long I = Bounds.MAX_INDEX;
    private static final long S = Bounds.MAX_STICKINESS_NANOS;

    /**
     * Every bounded field of every message, one at a time: at its bound the message is accepted,
     * one beyond (or negative) it is refused naming that field.
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.MethodSource("eachField")
    void eachFieldIsCheckedOnBothSides(String field, java.util.function.LongFunction<Message> withValue, long max) {
        assertThat(Bounds.violation(withValue.apply(max))).as("%s at its bound", field).isNull();
        assertThat(Bounds.violation(withValue.apply(0))).as("%s at 0", field).isNull();
        assertThat(Bounds.violation(withValue.apply(max + 1))).as("%s beyond", field).startsWith(field + " ");
        assertThat(Bounds.violation(withValue.apply(-1))).as("%s negative", field).startsWith(field + " ");
    }

    static java.util.stream.Stream<org.junit.jupiter.params.provider.Arguments> eachField() {
        long t = 9;
        return java.util.stream.Stream.of(
                field("lastIndex", v -> new Message.PreVote("a", "b", t, v, 1), I),
                field("lastTerm", v -> new Message.PreVote("a", "b", t, 1, v), t),
                field("lastIndex", v -> new Message.Vote("a", "b", t, v, 1, false), I),
                field("lastTerm", v -> new Message.Vote("a", "b", t, 1, v, false), t),
                field("prevIndex", v -> new Message.Append("a", "b", t, v, 1, List.of(), 0, 1, 0), I),
                field("prevTerm", v -> new Message.Append("a", "b", t, 1, v, List.of(), 0, 1, 0), t),
                field("commit", v -> new Message.Append("a", "b", t, 1, 1, List.of(), v, 1, 0), I),
                field("round", v -> new Message.Append("a", "b", t, 1, 1, List.of(), 0, v, 0), I),
                field("stickiness", v -> new Message.Append("a", "b", t, 1, 1, List.of(), 0, 1, v), S),
                field("index", v -> new Message.AppendResponse("a", "b", t, true, v, 0, 0, 1, 0), I),
                field("hintIndex", v -> new Message.AppendResponse("a", "b", t, false, 1, v, 0, 1, 0), I),
                field("hintTerm", v -> new Message.AppendResponse("a", "b", t, false, 1, 0, v, 1, 0), Bounds.MAX_TERM),
                field("round", v -> new Message.AppendResponse("a", "b", t, true, 1, 0, 0, v, 0), I),
                field("stickiness", v -> new Message.AppendResponse("a", "b", t, true, 1, 0, 0, 1, v), S),
                field("commit", v -> new Message.Heartbeat("a", "b", t, v, 1, 0), I),
                field("round", v -> new Message.Heartbeat("a", "b", t, 0, v, 0), I),
                field("stickiness", v -> new Message.Heartbeat("a", "b", t, 0, 1, v), S),
                field("round", v -> new Message.HeartbeatResponse("a", "b", t, v, 0), I),
                field("stickiness", v -> new Message.HeartbeatResponse("a", "b", t, 1, v), S),
                field("snapIndex", v -> snapshot(t, v, 1, 0, 1, 0), I),
                field("snapTerm", v -> snapshot(t, 1, v, 0, 1, 0), t),
                field("offset", v -> snapshot(t, 1, 1, v, 1, 0), I),
                field("round", v -> snapshot(t, 1, 1, 0, v, 0), I),
                field("stickiness", v -> snapshot(t, 1, 1, 0, 1, v), S),
                field("snapIndex", v -> new Message.InstallSnapshotResponse("a", "b", t, v, 0, false, 1, 0), I),
                field("nextOffset", v -> new Message.InstallSnapshotResponse("a", "b", t, 1, v, false, 1, 0), I),
                field("round", v -> new Message.InstallSnapshotResponse("a", "b", t, 1, 0, false, v, 0), I),
                field("stickiness", v -> new Message.InstallSnapshotResponse("a", "b", t, 1, 0, false, 1, v), S),
                field("term", v -> new Message.TimeoutNow("a", "b", v, false), Bounds.MAX_TERM),
                field("term", v -> new Message.VoteResponse("a", "b", v, true), Bounds.MAX_TERM));
    }

    private static org.junit.jupiter.params.provider.Arguments field(String name,
            java.util.function.LongFunction<Message> withValue, long max) {
        return org.junit.jupiter.params.provider.Arguments.of(name, withValue, max);
    }

    private static Message snapshot(long term, long snapIndex, long snapTerm, long offset, long round, long stickiness) {
        return new Message.InstallSnapshot("a", "b", term, snapIndex, snapTerm, offset, new byte[1], false, round, null,
                stickiness);
    }

    @Test
    void aLogTermAboveTheMessagesTermSaysSo() {
        assertThat(Bounds.violation(new Message.PreVote("a", "b", 4, 1, 5))).isEqualTo("lastTerm 5 (above the message's term 4)");
        assertThat(Bounds.violation(new Message.PreVote("a", "b", 4, 1, -1))).isEqualTo("lastTerm -1");
        assertThat(Bounds.violation(new Message.AppendResponse("a", "b", 1, false, 1, 0, Bounds.MAX_TERM + 1, 1)))
                .isEqualTo("hintTerm " + (Bounds.MAX_TERM + 1));
        assertThat(Bounds.violation(new Message.Heartbeat("a", "b", -1, 0, 0))).isEqualTo("term -1");
        assertThat(Bounds.violation(new Message.Heartbeat("a", "b", 1, 0, 0, S + 1)))
                .isEqualTo("stickiness " + (S + 1) + " ns");
    }

    @Test
    void anEntryIndexBeyondTheMaximumIsRefusedEvenWhenContiguous() {
        assertThat(Bounds.violation(new Message.Append("a", "b", 4, I, 2, List.of(Entry.noop(I + 1, 2)), 0, 1)))
                .startsWith("entry index " + (I + 1));
        assertThat(Bounds.violation(new Message.Append("a", "b", 4, I - 1, 2, List.of(Entry.noop(I, 2)), 0, 1)))
                .isNull();
        assertThat(Bounds.violation(new Message.Append("a", "b", 4, 2, 2,
                List.of(Entry.noop(3, 3), Entry.noop(4, 2)), 0, 1))).as("terms never decrease")
                .startsWith("entry term 2 at index 4 (expected 3..4)");
    }
}
