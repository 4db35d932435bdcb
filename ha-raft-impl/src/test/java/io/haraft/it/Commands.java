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

    @Override
    public void snapshot(OutputStream out) {
        throw new UnsupportedOperationException("snapshots are not used by these tests");
    }

    @Override
    public void restore(InputStream in) {
        throw new UnsupportedOperationException("snapshots are not used by these tests");
    }
}
