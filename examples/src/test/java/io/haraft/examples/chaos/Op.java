package io.haraft.examples.chaos;

/**
 * One operation of a recorded history: what a client asked, what it got, and when (monotonic
 * nanos of the host, {@link System#nanoTime()}, shared by all processes on Linux).
 *
 * @param id      unique id of the operation in the run
 * @param client  the client (thread) that ran it
 * @param kind    what was asked
 * @param arg     the written value (WRITE), the expected value (CAS); else 0
 * @param arg2    the new value (CAS); else 0
 * @param output  the result: the new counter value (INC), the value read (READ), 1 or 0 for a
 *                CAS that succeeded or failed; {@code null} if unknown (or for WRITE)
 * @param outcome whether the operation took effect
 * @param start   invocation time, nanos
 * @param end     response time, nanos; ignored for {@link Outcome#UNKNOWN} (it may take effect
 *                at any time after {@code start})
 */
public record Op(long id, int client, Kind kind, long arg, long arg2, Long output, Outcome outcome,
                 long start, long end) {

    /** Operations of the two models. */
    public enum Kind {
        /** Counter: add one, output the new value. */
        INC,
        /** Counter or register: output the current value. */
        READ,
        /** Register: set to {@code arg}. */
        WRITE,
        /** Register: if the value is {@code arg}, set it to {@code arg2} (output 1), else output 0. */
        CAS
    }

    /** What the client knows about the effect. */
    public enum Outcome {
        /** Took effect between start and end, with {@code output}. */
        OK,
        /** Definitely did not take effect (for example refused by a node that is not leader). */
        FAILED,
        /** May or may not have taken effect, at any time after start (timeout, crash, lost leadership). */
        UNKNOWN
    }

    public Op {
        if (outcome == Outcome.OK && end < start) {
            throw new IllegalArgumentException("op " + id + " ends before it starts");
        }
    }

    public static Op ok(long id, Kind kind, long arg, long arg2, Long output, long start, long end) {
        return new Op(id, 0, kind, arg, arg2, output, Outcome.OK, start, end);
    }

    /** A copy with another outcome, output and end. */
    public Op resolved(Outcome newOutcome, Long newOutput, long newEnd) {
        return new Op(id, client, kind, arg, arg2, newOutput, newOutcome, start, newEnd);
    }

    @Override
    public String toString() {
        String what = switch (kind) {
            case INC -> "inc";
            case READ -> "read";
            case WRITE -> "write(" + arg + ")";
            case CAS -> "cas(" + arg + "->" + arg2 + ")";
        };
        return "op " + id + " client " + client + " " + what + " -> " + (output == null ? "?" : output) + " "
                + outcome + " [" + start + ", " + (outcome == Outcome.UNKNOWN ? "inf" : Long.toString(end)) + "]";
    }
}
