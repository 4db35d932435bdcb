package io.haraft.runtime;

import io.haraft.Committed;
import io.haraft.StateMachine;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Remembers every applied command; answers "ok:" + the command. Its state ({@link #applied}) is
 * the list of commands applied, which {@link #snapshot} writes and {@link #restore} replaces;
 * {@link #events} records, in order, each apply ("apply:index") and restore ("restore:" + the
 * index of the last command restored, 0 if none) this object saw.
 */
final class RecordingStateMachine implements StateMachine {
    final List<Committed> applied = new CopyOnWriteArrayList<>();
    final List<String> threads = new CopyOnWriteArrayList<>();
    final List<String> events = new CopyOnWriteArrayList<>();
    /** A command that makes apply() throw, or null. */
    volatile String poison;

    @Override
    public byte[] apply(Committed entry) {
        if (poison != null && poison.equals(new String(entry.data(), StandardCharsets.UTF_8))) {
            throw new IllegalStateException("poisoned command " + poison);
        }
        threads.add(Thread.currentThread().getName());
        events.add("apply:" + entry.index());
        applied.add(entry);
        return ("ok:" + new String(entry.data(), StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8);
    }

    List<String> commands() {
        return applied.stream().map(c -> new String(c.data(), StandardCharsets.UTF_8)).toList();
    }

    /** The indexes passed to {@link #apply}, in order. */
    List<Long> applyIndexes() {
        return events.stream().filter(e -> e.startsWith("apply:")).map(e -> Long.parseLong(e.substring(6))).toList();
    }

    @Override
    public void snapshot(OutputStream out) throws IOException {
        DataOutputStream d = new DataOutputStream(out);
        List<Committed> state = List.copyOf(applied);
        d.writeInt(state.size());
        for (Committed c : state) {
            d.writeLong(c.term());
            d.writeLong(c.index());
            d.writeInt(c.data().length);
            d.write(c.data());
        }
        d.flush();
    }

    @Override
    public void restore(InputStream in) throws IOException {
        DataInputStream d = new DataInputStream(in);
        int n = d.readInt();
        List<Committed> state = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            long term = d.readLong();
            long index = d.readLong();
            byte[] data = new byte[d.readInt()];
            d.readFully(data);
            state.add(new Committed(term, index, data));
        }
        // The event first: a test that waits for the state and then reads the events finds it.
        events.add("restore:" + (state.isEmpty() ? 0 : state.get(state.size() - 1).index()));
        applied.clear();
        applied.addAll(state);
    }
}
