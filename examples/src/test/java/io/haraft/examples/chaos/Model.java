package io.haraft.examples.chaos;

/**
 * A sequential specification over a {@code long} state, for {@link LinearizabilityChecker}.
 * {@link #step} is deterministic given the state; an unknown output ({@code null}) is not checked.
 */
public interface Model {
    /** Returned by {@link #step} when the operation, with its output, cannot happen in the state. */
    long REFUSED = Long.MIN_VALUE;

    String name();

    long initial();

    /** The state after {@code op}, or {@link #REFUSED}. */
    long step(long state, Op op);

    /** A counter starting at 0: INC outputs the new value, READ the current one. */
    Model COUNTER = new Model() {
        @Override
        public String name() {
            return "counter";
        }

        @Override
        public long initial() {
            return 0;
        }

        @Override
        public long step(long state, Op op) {
            return switch (op.kind()) {
                case INC -> op.output() == null || op.output() == state + 1 ? state + 1 : REFUSED;
                case READ -> op.output() == null || op.output() == state ? state : REFUSED;
                default -> throw new IllegalArgumentException("a counter has no " + op.kind());
            };
        }
    };

    /** A register starting at 0 with WRITE, READ and compare-and-set. Values must not be {@link #REFUSED}. */
    Model REGISTER = new Model() {
        @Override
        public String name() {
            return "register";
        }

        @Override
        public long initial() {
            return 0;
        }

        @Override
        public long step(long state, Op op) {
            return switch (op.kind()) {
                case WRITE -> op.arg();
                case READ -> op.output() == null || op.output() == state ? state : REFUSED;
                case CAS -> {
                    boolean success = state == op.arg();
                    if (op.output() != null && (op.output() == 1) != success) {
                        yield REFUSED;
                    }
                    yield success ? op.arg2() : state;
                }
                default -> throw new IllegalArgumentException("a register has no " + op.kind());
            };
        }
    };
}
