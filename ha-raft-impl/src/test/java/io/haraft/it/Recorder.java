package io.haraft.it;

import io.haraft.Leadership;
import io.haraft.LeadershipListener;
import io.haraft.RevokeReason;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * Records every leadership transition of one node object with the time it was delivered, and
 * checks the {@link LeadershipListener} contract as the calls arrive (alternation, same object,
 * increasing tokens, revoked only once invalid).
 */
final class Recorder implements LeadershipListener {

    record Event(boolean elected, Leadership leadership, RevokeReason reason, long atNanos) {
        long term() {
            return leadership.term();
        }

        @Override
        public String toString() {
            return elected ? "elected(" + term() + ")" : "revoked(" + term() + "," + reason + ")";
        }
    }

    final String nodeId;
    final List<Event> events = new CopyOnWriteArrayList<>();
    final List<String> violations = new CopyOnWriteArrayList<>();
    /** Runs inside elected(), on the callback thread, after the event was recorded; may block. */
    volatile Consumer<Leadership> onElected;

    Recorder(String nodeId) {
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
        events.add(new Event(true, leadership, null, now));
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
        events.add(new Event(false, leadership, reason, now));
    }

    Event last() {
        return events.isEmpty() ? null : events.get(events.size() - 1);
    }

    /** The open leadership according to the callbacks, or null. */
    Leadership current() {
        Event e = last();
        return e != null && e.elected() ? e.leadership() : null;
    }

    Event elected(long term) {
        return events.stream().filter(e -> e.elected() && e.term() == term).findFirst().orElse(null);
    }

    List<Event> revocations(long term) {
        return events.stream().filter(e -> !e.elected() && e.term() == term).toList();
    }

    @Override
    public String toString() {
        return nodeId + ": " + events;
    }
}
