package io.haraft.examples.chaos;

import io.haraft.Committed;
import io.haraft.StateMachine;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * The replicated state of the chaos nodes: a counter and a register, plus the result of every
 * applied operation by its id (so that, after the run, an operation whose client never heard back
 * can be resolved: applied with this result, or never applied).
 *
 * <p>Command: {@code type(1) opId(8) a(8) b(8)}; result: one {@code long}. Types: {@link #INC}
 * (result the new counter value), {@link #WRITE} (register = a; result 0), {@link #CAS} (if
 * register == a then register = b, result 1; else result 0), {@link #NOP} (result 0).
 * Deterministic; thread-safe (apply and the readers synchronize on this).
 */
final class ChaosStateMachine implements StateMachine {
    static final byte INC = 1;
    static final byte WRITE = 2;
    static final byte CAS = 3;
    static final byte NOP = 4;

    private long counter;
    private long register;
    /** opId -> result, in apply order. */
    private final Map<Long, Long> results = new LinkedHashMap<>();

    static byte[] encode(byte type, long opId, long a, long b) {
        return ByteBuffer.allocate(25).put(type).putLong(opId).putLong(a).putLong(b).array();
    }

    static long decodeResult(byte[] result) {
        return ByteBuffer.wrap(result).getLong();
    }

    @Override
    public synchronized byte[] apply(Committed entry) {
        ByteBuffer in = entry.dataBuffer();
        byte type = in.get();
        long opId = in.getLong();
        long a = in.getLong();
        long b = in.getLong();
        long result = switch (type) {
            case INC -> ++counter;
            case WRITE -> {
                register = a;
                yield 0;
            }
            case CAS -> {
                if (register == a) {
                    register = b;
                    yield 1;
                }
                yield 0;
            }
            default -> 0;
        };
        results.put(opId, result);
        return ByteBuffer.allocate(8).putLong(result).array();
    }

    synchronized long counter() {
        return counter;
    }

    synchronized long register() {
        return register;
    }

    /** {@code <counter> <register> <applied ops> <digest of the (id, result) sequence>}. */
    synchronized String summary() {
        CRC32C crc = new CRC32C();
        ByteBuffer b = ByteBuffer.allocate(16);
        for (Map.Entry<Long, Long> e : results.entrySet()) {
            b.clear();
            b.putLong(e.getKey()).putLong(e.getValue());
            crc.update(b.array());
        }
        return counter + " " + register + " " + results.size() + " " + Long.toHexString(crc.getValue());
    }

    /** {@code id:result,id:result,...} in apply order. */
    synchronized String results() {
        StringBuilder sb = new StringBuilder(results.size() * 12);
        for (Map.Entry<Long, Long> e : results.entrySet()) {
            if (!sb.isEmpty()) {
                sb.append(',');
            }
            sb.append(e.getKey()).append(':').append(e.getValue());
        }
        return sb.isEmpty() ? "-" : sb.toString();
    }

    @Override
    public synchronized void snapshot(OutputStream out) throws IOException {
        DataOutputStream d = new DataOutputStream(out);
        d.writeLong(counter);
        d.writeLong(register);
        d.writeInt(results.size());
        for (Map.Entry<Long, Long> e : results.entrySet()) {
            d.writeLong(e.getKey());
            d.writeLong(e.getValue());
        }
        d.flush();
    }

    @Override
    public synchronized void restore(InputStream in) throws IOException {
        DataInputStream d = new DataInputStream(in);
        counter = d.readLong();
        register = d.readLong();
        int n = d.readInt();
        results.clear();
        for (int i = 0; i < n; i++) {
            results.put(d.readLong(), d.readLong());
        }
    }
}
