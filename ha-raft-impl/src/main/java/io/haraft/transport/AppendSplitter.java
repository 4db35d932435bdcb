package io.haraft.transport;

import com.google.protobuf.CodedOutputStream;
import io.haraft.core.Message;
import io.haraft.core.log.Entry;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits an append that is too large for its receiver into consecutive appends that each fit.
 *
 * <p><b>Why this is safe.</b> Piece {@code k} carries the entries after the last entry of piece
 * {@code k - 1} (the first piece starts at the original {@code prevIndex}/{@code prevTerm}), with
 * the original term, commit index and heartbeat round. Each piece is an append the leader could
 * have sent itself: its entries are consecutive entries of the leader's log and its
 * {@code prevIndex}/{@code prevTerm} name the entry just before them. A follower commits at most
 * {@code min(commit, last new entry)}, acknowledges each piece on its own (match indexes only
 * grow), and a piece that arrives without its predecessor is rejected like any append whose
 * previous entry is missing. The round is the leader's, so every acknowledgement counts for the
 * lease exactly as an acknowledgement of the whole append would. Pure; thread-safe.
 */
final class AppendSplitter {
    /** Room for the varint growth of prevIndex and prevTerm when a piece starts later than the whole. */
    private static final int SLACK = 24;

    private AppendSplitter() {
    }

    /**
     * The pieces of {@code append}, each at most {@code limit} bytes serialised, in order. If an
     * entry alone does not fit, the pieces stop before it (those after it would be refused anyway);
     * the result is then missing entries, and empty if the first entry does not fit.
     */
    static List<Message> split(Message.Append append, int limit) {
        List<Message> pieces = new ArrayList<>();
        Message.Append empty = piece(append, append.prevIndex(), append.prevTerm(), List.of());
        int base = MessageCodec.encode(empty).getSerializedSize() + SLACK;
        List<Entry> entries = append.entries();
        long prevIndex = append.prevIndex();
        long prevTerm = append.prevTerm();
        List<Entry> current = new ArrayList<>();
        long size = base;
        for (Entry e : entries) {
            int entrySize = MessageCodec.encodeEntry(e).getSerializedSize();
            long framed = 1 + CodedOutputStream.computeUInt32SizeNoTag(entrySize) + (long) entrySize;
            if (base + framed > limit) {
                break;   // this entry alone does not fit
            }
            if (size + framed > limit) {
                pieces.add(piece(append, prevIndex, prevTerm, current));
                Entry last = current.get(current.size() - 1);
                prevIndex = last.index();
                prevTerm = last.term();
                current = new ArrayList<>();
                size = base;
            }
            current.add(e);
            size += framed;
        }
        if (!current.isEmpty()) {
            pieces.add(piece(append, prevIndex, prevTerm, current));
        }
        return pieces;
    }

    private static Message.Append piece(Message.Append whole, long prevIndex, long prevTerm, List<Entry> entries) {
        return new Message.Append(whole.from(), whole.to(), whole.term(), prevIndex, prevTerm, entries, whole.commit(),
                whole.round(), whole.stickiness());
    }
}
