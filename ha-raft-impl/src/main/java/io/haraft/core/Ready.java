package io.haraft.core;

import io.haraft.core.log.Entry;

import java.util.List;

/**
 * Work the core hands to the runtime, and the ordering contract that keeps it safe.
 *
 * <p>The runtime processes a {@code Ready} in this order:
 * <ol>
 *   <li>make {@code hardState} (if not {@code null}) and {@code entries} durable. If the first
 *       entry's index is at or below the store's last index, the store first drops its suffix from
 *       that index (the leader overwrote a conflicting tail);</li>
 *   <li>hand {@code events} (leadership changes) to the application, in order. A
 *       {@code Revoked} must be in effect (the leadership invalid) before the next step: a
 *       leadership transfer's TimeoutNow is among the messages, and the new leader must not be
 *       elected while the old one still believes it leads;</li>
 *   <li>only then send {@code messages}: votes and acknowledgements in them promise that the
 *       state above is on disk;</li>
 *   <li>apply {@code committed} to the state machine, in order;</li>
 *   <li>call {@link RaftCore#advance(Ready, long)} with this same object.</li>
 * </ol>
 * The core keeps accepting input between {@link RaftCore#ready()} and {@code advance}, but hands
 * out no new {@code Ready} until {@code advance} is called. A crash at any point loses nothing
 * that was promised, because nothing was promised before it was durable.
 *
 * @param hardState the new term/vote to persist, or {@code null} if unchanged
 * @param entries   entries to persist (may overwrite a suffix, see above)
 * @param messages  messages to send after persisting
 * @param committed entries now known committed, to apply in order
 * @param events    leadership changes, to deliver in order
 * @param reads     outcomes of {@link RaftCore#readIndex} requests: a read may be served once the
 *                  state machine has applied {@link ReadState#index()}
 */
public record Ready(HardState hardState, List<Entry> entries, List<Message> messages,
                    List<Entry> committed, List<LeadershipEvent> events, List<ReadState> reads) {
    public Ready {
        entries = List.copyOf(entries);
        messages = List.copyOf(messages);
        committed = List.copyOf(committed);
        events = List.copyOf(events);
        reads = List.copyOf(reads);
    }

    /**
     * The answer to a linearizable read request.
     *
     * @param requestId the caller's id for the request
     * @param index     the commit index the read must wait for, or {@code -1} if leadership was lost
     *                  before the read could be confirmed (the caller should retry on the leader)
     */
    public record ReadState(long requestId, long index) {
        public boolean failed() {
            return index < 0;
        }
    }

    /** Whether there is nothing to persist. */
    public boolean nothingToPersist() {
        return hardState == null && entries.isEmpty();
    }
}
