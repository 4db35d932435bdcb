package io.haraft.spring.boot;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.springframework.context.event.EventListener;

/**
 * Records, in one application context, every HA-Raft leadership event it receives, with the name
 * of that context: which node got what is read from the events themselves.
 */
class EventLog {

    /** One received event; {@code nodeId} and {@code token} come from the event. */
    record Entry(String context, LeadershipEvent event) {
        boolean granted() {
            return event instanceof LeadershipGrantedEvent;
        }

        long token() {
            return event.getToken().value();
        }
    }

    private final String context;
    private final List<Entry> entries;

    EventLog(String context, List<Entry> entries) {
        this.context = context;
        this.entries = entries;
    }

    @EventListener
    void on(LeadershipEvent event) {
        entries.add(new Entry(context, event));
    }

    static List<Entry> newList() {
        return new CopyOnWriteArrayList<>();
    }
}
