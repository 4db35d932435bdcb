package io.haraft.examples.chaos;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Decides whether a history of one object is linearizable with respect to a {@link Model}.
 *
 * <p>The search is Wing and Gong's, with Lowe's memoization, as in Porcupine: the calls and
 * returns are put in one list ordered by time; the search repeatedly picks a call whose operation
 * the model accepts in the current state, "lifts" it (and its return) out of the list, and goes
 * back to the front; reaching a return whose operation has not been linearized means the last
 * choice was wrong, so it backtracks. A set of (linearized operations, state) pairs already
 * explored cuts repeated work.
 *
 * <p>Outcomes: {@link Op.Outcome#FAILED} operations are left out (they took no effect); an
 * {@link Op.Outcome#UNKNOWN} operation may take effect at any point after its start, so its return
 * is placed after everything else (it can always be linearized last, where it affects nothing);
 * an UNKNOWN read is left out (it constrains nothing). Calls sort before returns at the same
 * instant, so operations touching at one nanosecond count as concurrent.
 *
 * <p>Not thread-safe; one instance per check. Exponential in the worst case: {@code maxSteps}
 * bounds the work, and the result then says {@link Verdict#GAVE_UP}.
 */
public final class LinearizabilityChecker {

    /** The answer. */
    public enum Verdict { LINEARIZABLE, NOT_LINEARIZABLE, GAVE_UP }

    /**
     * @param verdict the answer
     * @param ops     operations searched (FAILED ones and unknown reads left out)
     * @param steps   search steps taken
     * @param detail  for NOT_LINEARIZABLE, the operation that could not be placed and the longest
     *                linearizable prefix found; otherwise empty
     */
    public record Result(Verdict verdict, int ops, long steps, String detail) {
        public boolean linearizable() {
            return verdict == Verdict.LINEARIZABLE;
        }
    }

    private static final int NIL = -1;
    private static final int HEAD = 0;

    private record Key(BitSet linearized, long state) {
    }

    private record Frame(int entry, long state, BitSet linearized) {
    }

    private LinearizabilityChecker() {
    }

    public static Result check(Model model, List<Op> history) {
        return check(model, history, 10_000_000L);
    }

    public static Result check(Model model, List<Op> history, long maxSteps) {
        List<Op> ops = new ArrayList<>();
        for (Op op : history) {
            if (op.outcome() == Op.Outcome.FAILED) {
                continue;
            }
            if (op.outcome() == Op.Outcome.UNKNOWN && op.kind() == Op.Kind.READ && op.output() == null) {
                continue;
            }
            ops.add(op);
        }
        int n = ops.size();
        // entries 1..2n: call of op i and its return; entry 0 is the head sentinel
        record Event(int op, boolean call, long time) {
        }
        List<Event> events = new ArrayList<>(2 * n);
        for (int i = 0; i < n; i++) {
            Op op = ops.get(i);
            events.add(new Event(i, true, op.start()));
            events.add(new Event(i, false, op.outcome() == Op.Outcome.UNKNOWN ? Long.MAX_VALUE : op.end()));
        }
        events.sort(Comparator.comparingLong(Event::time).thenComparing(e -> !e.call()).thenComparingInt(Event::op));
        int size = 2 * n + 1;
        int[] next = new int[size];
        int[] prev = new int[size];
        int[] opOf = new int[size];
        boolean[] isCall = new boolean[size];
        int[] match = new int[size];
        int[] callEntry = new int[n];
        for (int k = 0; k < events.size(); k++) {
            Event ev = events.get(k);
            int e = k + 1;
            opOf[e] = ev.op();
            isCall[e] = ev.call();
            if (ev.call()) {
                callEntry[ev.op()] = e;
            } else {
                match[callEntry[ev.op()]] = e;
            }
        }
        for (int e = 0; e < size; e++) {
            next[e] = e + 1 < size ? e + 1 : NIL;
            prev[e] = e - 1;
        }

        Set<Key> cache = new HashSet<>();
        Deque<Frame> stack = new ArrayDeque<>();
        long state = model.initial();
        BitSet linearized = new BitSet(n);
        int e = next[HEAD];
        long steps = 0;
        int deepest = -1;
        String detail = "";
        while (next[HEAD] != NIL) {
            if (++steps > maxSteps) {
                return new Result(Verdict.GAVE_UP, n, steps, "gave up after " + maxSteps + " steps");
            }
            if (isCall[e]) {
                Op op = ops.get(opOf[e]);
                long after = model.step(state, op);
                if (after != Model.REFUSED) {
                    BitSet nowLinearized = (BitSet) linearized.clone();
                    nowLinearized.set(opOf[e]);
                    if (cache.add(new Key(nowLinearized, after))) {
                        stack.push(new Frame(e, state, linearized));
                        state = after;
                        linearized = nowLinearized;
                        lift(e, match[e], next, prev);
                        e = next[HEAD];
                        continue;
                    }
                }
                e = next[e];
            } else {
                if (stack.size() > deepest) {
                    deepest = stack.size();
                    detail = "no linearization places " + ops.get(opOf[e]) + " before its response; the longest"
                            + " linearizable prefix has " + deepest + " of " + n + " operations and ends in "
                            + model.name() + " state " + state;
                }
                if (stack.isEmpty()) {
                    return new Result(Verdict.NOT_LINEARIZABLE, n, steps, detail);
                }
                Frame f = stack.pop();
                state = f.state();
                linearized = f.linearized();
                unlift(f.entry(), match[f.entry()], next, prev);
                e = next[f.entry()];
            }
        }
        return new Result(Verdict.LINEARIZABLE, n, steps, "");
    }

    private static void lift(int call, int ret, int[] next, int[] prev) {
        next[prev[call]] = next[call];
        prev[next[call]] = prev[call]; // a call is always followed by at least its return
        next[prev[ret]] = next[ret];
        if (next[ret] != NIL) {
            prev[next[ret]] = prev[ret];
        }
    }

    private static void unlift(int call, int ret, int[] next, int[] prev) {
        next[prev[ret]] = ret;
        if (next[ret] != NIL) {
            prev[next[ret]] = ret;
        }
        next[prev[call]] = call;
        prev[next[call]] = call;
    }

    /** For messages: the operations in start order. */
    static String describe(List<Op> ops) {
        Op[] a = ops.toArray(new Op[0]);
        Arrays.sort(a, Comparator.comparingLong(Op::start));
        StringBuilder sb = new StringBuilder();
        for (Op op : a) {
            sb.append(op).append('\n');
        }
        return sb.toString();
    }
}
