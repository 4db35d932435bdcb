package io.haraft.runtime;

import io.haraft.Leadership;
import io.haraft.LeadershipListener;
import io.haraft.RevokeReason;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/** Records every transition with its time and checks the listener contract as calls arrive. */
public final class RecordingListener implements LeadershipListener {

    /** One call: which, with what, when, and on which thread (its name and its {@link Thread#getId()}). */
    public record Event(boolean elected, Leadership leadership, RevokeReason reason, long atNanos, String thread,
                        long threadId) {
        public long term() {
            return leadership.term();
        }
    }

    public final String nodeId;
    public final List<Event> events = new CopyOnWriteArrayList<>();
    public final List<String> violations = new CopyOnWriteArrayList<>();
    /** Runs inside elected(), on the callback thread, if set. */
    public volatile Consumer<Leadership> onElected;
    /** Runs inside revoked(), on the callback thread, if set. */
    public volatile Consumer<Leadership> onRevoked;

    public RecordingListener(String nodeId) {
        this.nodeId = nodeId;
    }

    @Override
    public void elected(Leadership leadership) {
        long now = System.nanoTime();
        Event last = last();
        if (last != null && last.elected()) {
            violations.add(nodeId + ": elected(" + leadership.term() + ") after elected(" + last.term() + ")");
        }
        if (last != null && leadership.term() <= last.term()) {
            violations.add(nodeId + ": token " + leadership.term() + " not above the previous " + last.term());
        }
        if (!leadership.nodeId().equals(nodeId)) {
            violations.add(nodeId + ": leadership names node " + leadership.nodeId());
        }
        events.add(new Event(true, leadership, null, now, Thread.currentThread().getName(),
                Thread.currentThread().getId()));
        Consumer<Leadership> hook = onElected;
        if (hook != null) {
            hook.accept(leadership);
        }
    }

    @Override
    public void revoked(Leadership leadership, RevokeReason reason) {
        long now = System.nanoTime();
        Event last = last();
        if (last == null || !last.elected()) {
            violations.add(nodeId + ": revoked(" + leadership.term() + ", " + reason + ") without an open elected");
        } else if (last.leadership() != leadership) {
            violations.add(nodeId + ": revoked a different Leadership object than the elected before it");
        }
        if (leadership.isValid()) {
            violations.add(nodeId + ": revoked(" + leadership.term() + ") while the leadership is still valid");
        }
        events.add(new Event(false, leadership, reason, now, Thread.currentThread().getName(),
                Thread.currentThread().getId()));
        Consumer<Leadership> hook = onRevoked;
        if (hook != null) {
            hook.accept(leadership);
        }
    }

    public Event last() {
        return events.isEmpty() ? null : events.get(events.size() - 1);
    }

    /** The open leadership according to the callbacks, or null. */
    public Leadership current() {
        Event e = last();
        return e != null && e.elected() ? e.leadership() : null;
    }

    public List<Event> revocations(long term) {
        List<Event> out = new ArrayList<>();
        for (Event e : events) {
            if (!e.elected() && e.term() == term) {
                out.add(e);
            }
        }
        return out;
    }

    public Event elected(long term) {
        for (Event e : events) {
            if (e.elected() && e.term() == term) {
                return e;
            }
        }
        return null;
    }

    static String ms(long nanos) {
        return Duration.ofNanos(nanos).toMillis() + " ms";
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(nodeId).append(": ");
        for (Event e : events) {
            sb.append(e.elected() ? "elected(" + e.term() + ") " : "revoked(" + e.term() + "," + e.reason() + ") ");
        }
        return sb.toString();
    }
}
