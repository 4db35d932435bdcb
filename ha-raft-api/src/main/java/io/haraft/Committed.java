package io.haraft;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Objects;

/**
 * A position in the replicated log that is known to be committed, with the bytes that go with it.
 *
 * <p>What {@link #data()} holds depends on where the value comes from:
 * <ul>
 *   <li>passed to {@link StateMachine#apply(Committed)}: the command, exactly as given to
 *       {@link RaftNode#submit(byte[])};</li>
 *   <li>returned by {@link RaftNode#submit(byte[])}: the result that {@link StateMachine#apply}
 *       returned for that command (empty when no state machine is configured);</li>
 *   <li>returned by {@link RaftNode#readIndex()}: empty; the index is the read barrier.</li>
 * </ul>
 *
 * <p><b>Guarantees.</b> Immutable and safe to share between threads. The array is copied when the
 * record is created and again by every call to {@link #data()}, so no caller can change what
 * another caller sees; use {@link #dataBuffer()} or {@link #size()} to avoid the copy.
 * {@code equals} and {@code hashCode} compare the array contents. {@code data} is never
 * {@code null} (an empty command is an empty array).
 *
 * <pre>{@code
 * Committed c = node.submit("debit 42".getBytes(UTF_8)).join();
 * log.info("committed at index {} in term {}: {}", c.index(), c.term(), new String(c.data(), UTF_8));
 * }</pre>
 *
 * <p><b>Limits.</b> {@link #data()} copies on every call; for large payloads read it once.
 *
 * @param term  the term of the leader that appended the entry, {@code >= 1}
 * @param index the entry's position in the log, {@code >= 1}
 * @param data  the command or result bytes (see above); copied, never {@code null}
 */
public record Committed(long term, long index, byte[] data) {

    private static final byte[] EMPTY = new byte[0];

    /**
     * Creates a value, copying {@code data}.
     *
     * @throws IllegalArgumentException if {@code term < 1} or {@code index < 1}
     * @throws NullPointerException     if {@code data} is null
     */
    public Committed {
        if (term < 1) {
            throw new IllegalArgumentException("term must be >= 1, got " + term);
        }
        if (index < 1) {
            throw new IllegalArgumentException("index must be >= 1, got " + index);
        }
        Objects.requireNonNull(data, "data (use an empty array, not null)");
        data = data.length == 0 ? EMPTY : data.clone();
    }

    /** Returns a value with empty data, as {@link RaftNode#readIndex()} does. */
    public static Committed position(long term, long index) {
        return new Committed(term, index, EMPTY);
    }

    /** Returns a copy of the bytes; changing it does not change this value. */
    @Override
    public byte[] data() {
        return data.length == 0 ? EMPTY : data.clone();
    }

    /** Returns a read-only view of the bytes, without copying. */
    public ByteBuffer dataBuffer() {
        return ByteBuffer.wrap(data).asReadOnlyBuffer();
    }

    /** Returns the number of bytes, without copying. */
    public int size() {
        return data.length;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Committed c && c.term == term && c.index == index && Arrays.equals(c.data, data);
    }

    @Override
    public int hashCode() {
        return (Long.hashCode(term) * 31 + Long.hashCode(index)) * 31 + Arrays.hashCode(data);
    }

    /** Returns for example {@code "Committed{index 42, term 7, 16 B}"}; the bytes are not shown. */
    @Override
    public String toString() {
        return "Committed{index " + index + ", term " + term + ", " + data.length + " B}";
    }
}
