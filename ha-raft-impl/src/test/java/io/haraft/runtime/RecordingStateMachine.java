package io.haraft.runtime;

import io.haraft.Committed;
import io.haraft.StateMachine;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Remembers every applied command; answers "ok:" + the command. */
final class RecordingStateMachine implements StateMachine {
    final List<Committed> applied = new CopyOnWriteArrayList<>();
    final List<String> threads = new CopyOnWriteArrayList<>();
    /** A command that makes apply() throw, or null. */
    volatile String poison;

    @Override
    public byte[] apply(Committed entry) {
        if (poison != null && poison.equals(new String(entry.data(), StandardCharsets.UTF_8))) {
            throw new IllegalStateException("poisoned command " + poison);
        }
        applied.add(entry);
        threads.add(Thread.currentThread().getName());
        return ("ok:" + new String(entry.data(), StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8);
    }

    List<String> commands() {
        return applied.stream().map(c -> new String(c.data(), StandardCharsets.UTF_8)).toList();
    }

    @Override
    public void snapshot(OutputStream out) {
        throw new UnsupportedOperationException("not used by these tests");
    }

    @Override
    public void restore(InputStream in) {
        throw new UnsupportedOperationException("not used by these tests");
    }
}
