package io.haraft.examples.chaos;

import io.haraft.examples.chaos.LinearizabilityChecker.Result;
import io.haraft.examples.chaos.LinearizabilityChecker.Verdict;
import io.haraft.examples.chaos.Op.Kind;
import io.haraft.examples.chaos.Op.Outcome;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** Hand-made histories, linearizable and not, including indeterminate operations. */
class LinearizabilityCheckerTest {

    private long ids;

    private Op inc(long output, long start, long end) {
        return Op.ok(++ids, Kind.INC, 0, 0, output, start, end);
    }

    private Op read(long output, long start, long end) {
        return Op.ok(++ids, Kind.READ, 0, 0, output, start, end);
    }

    private Op write(long value, long start, long end) {
        return Op.ok(++ids, Kind.WRITE, value, 0, null, start, end);
    }

    private Op cas(long expect, long update, boolean success, long start, long end) {
        return Op.ok(++ids, Kind.CAS, expect, update, success ? 1L : 0L, start, end);
    }

    private Op unknown(Kind kind, long arg, long arg2, Long output, long start) {
        return new Op(++ids, 9, kind, arg, arg2, output, Outcome.UNKNOWN, start, Long.MAX_VALUE);
    }

    private Op failed(Kind kind, long arg, long start, long end) {
        return new Op(++ids, 9, kind, arg, 0, null, Outcome.FAILED, start, end);
    }

    private static Verdict counter(Op... ops) {
        return LinearizabilityChecker.check(Model.COUNTER, List.of(ops)).verdict();
    }

    private static Verdict register(Op... ops) {
        return LinearizabilityChecker.check(Model.REGISTER, List.of(ops)).verdict();
    }

    @Test
    void emptyHistoryIsLinearizable() {
        assertThat(counter()).isEqualTo(Verdict.LINEARIZABLE);
    }

    @Test
    void counterSequentialAndConcurrent() {
        assertThat(counter(inc(1, 0, 10), inc(2, 20, 30), read(2, 40, 50))).isEqualTo(Verdict.LINEARIZABLE);
        // overlapping increments may take effect in either order
        assertThat(counter(inc(2, 0, 10), inc(1, 5, 15), read(2, 20, 30))).isEqualTo(Verdict.LINEARIZABLE);
        // a read concurrent with an increment may see either value
        assertThat(counter(inc(1, 0, 10), read(0, 5, 6))).isEqualTo(Verdict.LINEARIZABLE);
        assertThat(counter(inc(1, 0, 10), read(1, 5, 6))).isEqualTo(Verdict.LINEARIZABLE);
    }

    @Test
    void counterViolationsAreCaught() {
        // the same value returned twice by increments that do not overlap
        assertThat(counter(inc(1, 0, 10), inc(1, 20, 30))).isEqualTo(Verdict.NOT_LINEARIZABLE);
        // a stale read after an acknowledged increment (a follower read without read-index)
        assertThat(counter(inc(1, 0, 10), read(0, 20, 30))).isEqualTo(Verdict.NOT_LINEARIZABLE);
        // values going backwards between reads
        assertThat(counter(inc(1, 0, 100), inc(2, 0, 100), read(2, 10, 20), read(1, 30, 40)))
                .isEqualTo(Verdict.NOT_LINEARIZABLE);
        // an increment that returns a value no order can produce
        assertThat(counter(inc(1, 0, 10), inc(3, 20, 30))).isEqualTo(Verdict.NOT_LINEARIZABLE);
        // touching at one instant counts as concurrent, one nanosecond apart does not
        assertThat(counter(inc(1, 0, 10), read(0, 10, 12))).isEqualTo(Verdict.LINEARIZABLE);
        assertThat(counter(inc(1, 0, 10), read(0, 11, 12))).isEqualTo(Verdict.NOT_LINEARIZABLE);
    }

    @Test
    void counterWithIndeterminateIncrements() {
        // an increment that timed out may have taken effect, later than anything else
        assertThat(counter(unknown(Kind.INC, 0, 0, null, 0), read(1, 100, 110))).isEqualTo(Verdict.LINEARIZABLE);
        assertThat(counter(unknown(Kind.INC, 0, 0, null, 0), read(0, 100, 110), read(1, 200, 210)))
                .isEqualTo(Verdict.LINEARIZABLE);
        // ... or not at all
        assertThat(counter(unknown(Kind.INC, 0, 0, null, 0), inc(1, 100, 110))).isEqualTo(Verdict.LINEARIZABLE);
        // but once seen, it stays
        assertThat(counter(unknown(Kind.INC, 0, 0, null, 0), read(1, 100, 110), read(0, 200, 210)))
                .isEqualTo(Verdict.NOT_LINEARIZABLE);
        // it cannot take effect before it started
        assertThat(counter(read(1, 0, 10), unknown(Kind.INC, 0, 0, null, 20))).isEqualTo(Verdict.NOT_LINEARIZABLE);
        // one unknown plus one acknowledged increment make at most 2
        Op u = unknown(Kind.INC, 0, 0, null, 10);
        assertThat(counter(u, inc(1, 20, 30), read(2, 40, 50))).isEqualTo(Verdict.LINEARIZABLE);
        assertThat(counter(u, inc(1, 20, 30), read(3, 40, 50))).isEqualTo(Verdict.NOT_LINEARIZABLE);
        // an unknown increment whose result the state machine reported (resolved after the run)
        assertThat(counter(unknown(Kind.INC, 0, 0, 2L, 0), inc(1, 20, 30), read(2, 40, 50)))
                .isEqualTo(Verdict.LINEARIZABLE);
        assertThat(counter(unknown(Kind.INC, 0, 0, 1L, 0), inc(1, 20, 30))).isEqualTo(Verdict.NOT_LINEARIZABLE);
    }

    @Test
    void failedOperationsTakeNoEffect() {
        assertThat(counter(failed(Kind.INC, 0, 0, 10), read(0, 20, 30))).isEqualTo(Verdict.LINEARIZABLE);
        assertThat(counter(failed(Kind.INC, 0, 0, 10), read(1, 20, 30))).isEqualTo(Verdict.NOT_LINEARIZABLE);
        assertThat(register(failed(Kind.WRITE, 5, 0, 10), read(5, 20, 30))).isEqualTo(Verdict.NOT_LINEARIZABLE);
    }

    @Test
    void registerWithCompareAndSet() {
        assertThat(register(write(1, 0, 10), cas(1, 2, true, 20, 30), read(2, 40, 50)))
                .isEqualTo(Verdict.LINEARIZABLE);
        assertThat(register(write(1, 0, 10), cas(5, 2, false, 20, 30), read(1, 40, 50)))
                .isEqualTo(Verdict.LINEARIZABLE);
        // two concurrent CAS from the same value: exactly one may win
        assertThat(register(cas(0, 1, true, 0, 10), cas(0, 2, false, 0, 10), read(1, 20, 30)))
                .isEqualTo(Verdict.LINEARIZABLE);
        assertThat(register(cas(0, 1, true, 0, 10), cas(0, 2, true, 0, 10))).isEqualTo(Verdict.NOT_LINEARIZABLE);
        // a CAS that succeeded although the value was something else
        assertThat(register(write(1, 0, 10), cas(0, 2, true, 20, 30))).isEqualTo(Verdict.NOT_LINEARIZABLE);
        // a CAS that failed although the value matched and nothing was concurrent
        assertThat(register(write(1, 0, 10), cas(1, 2, false, 20, 30))).isEqualTo(Verdict.NOT_LINEARIZABLE);
        // a stale read
        assertThat(register(write(1, 0, 10), write(2, 20, 30), read(1, 40, 50))).isEqualTo(Verdict.NOT_LINEARIZABLE);
        // concurrent writes may land in either order, but all readers must agree on it
        assertThat(register(write(1, 0, 100), write(2, 0, 100), read(1, 10, 20), read(2, 30, 40)))
                .isEqualTo(Verdict.LINEARIZABLE);
        assertThat(register(write(1, 0, 100), write(2, 0, 100), read(1, 110, 120), read(2, 130, 140)))
                .isEqualTo(Verdict.NOT_LINEARIZABLE);
    }

    @Test
    void registerWithIndeterminateOperations() {
        // a write that timed out shows up later, or never
        assertThat(register(unknown(Kind.WRITE, 5, 0, null, 0), read(0, 10, 20), read(5, 30, 40)))
                .isEqualTo(Verdict.LINEARIZABLE);
        assertThat(register(unknown(Kind.WRITE, 5, 0, null, 0), read(5, 10, 20), read(0, 30, 40)))
                .isEqualTo(Verdict.NOT_LINEARIZABLE);
        // a CAS with unknown output: either branch
        assertThat(register(unknown(Kind.CAS, 0, 7, null, 0), read(7, 10, 20))).isEqualTo(Verdict.LINEARIZABLE);
        assertThat(register(unknown(Kind.CAS, 0, 7, null, 0), read(0, 10, 20))).isEqualTo(Verdict.LINEARIZABLE);
        assertThat(register(write(3, 0, 5), unknown(Kind.CAS, 0, 7, null, 10), read(7, 20, 30)))
                .isEqualTo(Verdict.NOT_LINEARIZABLE);
        // unknown reads constrain nothing
        assertThat(register(unknown(Kind.READ, 0, 0, null, 0), write(1, 10, 20))).isEqualTo(Verdict.LINEARIZABLE);
    }

    @Test
    void generatedLinearizableHistoriesPassAndCorruptedOnesFail() {
        Random random = new Random(42);
        for (int round = 0; round < 20; round++) {
            List<Op> history = generateCounterHistory(random, 300, 5);
            Result ok = LinearizabilityChecker.check(Model.COUNTER, history);
            assertThat(ok.verdict()).as(ok.detail()).isEqualTo(Verdict.LINEARIZABLE);
            // corrupt one acknowledged read: it returns a value larger than any increment made
            List<Op> bad = new ArrayList<>(history);
            for (int i = bad.size() - 1; i >= 0; i--) {
                Op op = bad.get(i);
                if (op.kind() == Kind.READ && op.outcome() == Outcome.OK) {
                    bad.set(i, op.resolved(Outcome.OK, (long) history.size() + 1, op.end()));
                    break;
                }
            }
            Result caught = LinearizabilityChecker.check(Model.COUNTER, bad);
            assertThat(caught.verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
            assertThat(caught.detail()).contains("no linearization places");
        }
    }

    /**
     * Clients run operations with random overlapping intervals; each takes effect at a random
     * instant inside its interval, and outputs follow from the order of those instants. Some
     * increments lose their response (UNKNOWN), some are refused (FAILED).
     */
    private List<Op> generateCounterHistory(Random random, int count, int clients) {
        record Planned(int client, Kind kind, long start, long end, long point, Outcome outcome) {
        }
        List<Planned> planned = new ArrayList<>();
        long[] clock = new long[clients];
        for (int i = 0; i < count; i++) {
            int c = random.nextInt(clients);
            long start = clock[c] + random.nextInt(50);
            long end = start + 1 + random.nextInt(200);
            clock[c] = end;
            Kind kind = random.nextBoolean() ? Kind.INC : Kind.READ;
            int r = random.nextInt(20);
            Outcome outcome = r == 0 ? Outcome.UNKNOWN : r == 1 ? Outcome.FAILED : Outcome.OK;
            planned.add(new Planned(c, kind, start, end, start + random.nextLong(end - start + 1), outcome));
        }
        List<Planned> byPoint = new ArrayList<>(planned);
        byPoint.sort(Comparator.comparingLong(Planned::point));
        long value = 0;
        List<Op> ops = new ArrayList<>();
        for (Planned p : byPoint) {
            if (p.outcome() == Outcome.FAILED) {
                ops.add(new Op(++ids, p.client(), p.kind(), 0, 0, null, Outcome.FAILED, p.start(), p.end()));
                continue;
            }
            if (p.kind() == Kind.INC) {
                value++;
            }
            if (p.outcome() == Outcome.UNKNOWN) {
                ops.add(new Op(++ids, p.client(), p.kind(), 0, 0, null, Outcome.UNKNOWN, p.start(), Long.MAX_VALUE));
            } else {
                ops.add(new Op(++ids, p.client(), p.kind(), 0, 0, value, Outcome.OK, p.start(), p.end()));
            }
        }
        return ops;
    }
}
