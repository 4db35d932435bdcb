package io.haraft.it;

import io.haraft.Committed;
import io.haraft.StateMachine;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** A state machine that remembers every applied command (as UTF-8 text) and answers "ok:" + it. */
final class Commands implements StateMachine {
    final List<Committed> applied = new CopyOnWriteArrayList<>();
    /** While set, apply() waits until it is opened (counted down), as a slow state machine would. */
    volatile java.util.concurrent.CountDownLatch gate;

    @Override
    public byte[] apply(Committed entry) {
        java.util.concurrent.CountDownLatch g = gate;
        if (g != null) {
            try {
                g.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        applied.add(entry);
        return ("ok:" + text(entry.data())).getBytes(StandardCharsets.UTF_8);
    }

    List<String> commands() {
        return applied.stream().map(c -> text(c.data())).toList();
    }

    static String text(byte[] data) {
        return new String(data, StandardCharsets.UTF_8);
    }

    /** Every applied command with its position, so that a restored node lists them all again. */
    @Override
    public void snapshot(OutputStream out) throws java.io.IOException {
        java.io.DataOutputStream d = new java.io.DataOutputStream(out);
        List<Committed> all = List.copyOf(applied);
        d.writeInt(all.size());
        for (Committed c : all) {
            d.writeLong(c.term());
            d.writeLong(c.index());
            byte[] data = c.data();
            d.writeInt(data.length);
            d.write(data);
        }
        d.flush();
    }

    @Override
    public void restore(InputStream in) throws java.io.IOException {
        java.io.DataInputStream d = new java.io.DataInputStream(in);
        List<Committed> all = new java.util.ArrayList<>();
        for (int n = d.readInt(); n > 0; n--) {
            long term = d.readLong();
            long index = d.readLong();
            byte[] data = new byte[d.readInt()];
            d.readFully(data);
            all.add(new Committed(term, index, data));
        }
        applied.clear();
        applied.addAll(all);
    }
}
