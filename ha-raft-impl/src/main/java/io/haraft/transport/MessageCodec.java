package io.haraft.transport;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.haraft.core.Message;
import io.haraft.core.log.Entry;
import io.haraft.transport.proto.EntryKind;
import io.haraft.transport.proto.RaftMessage;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Maps core {@link Message} records to the protobuf {@link RaftMessage} of {@code raft.proto}, and
 * back.
 *
 * <p><b>Guarantees.</b> For every core message {@code m}, {@code decode(encode(m)).equals(m)}:
 * every field, every entry (index, term, kind and payload bytes) survives the round trip.
 * {@link #decode} never returns a partly filled message: a protobuf message without a body, with an
 * entry of unknown kind, or with an entry position the core refuses (index or term below 1) is
 * rejected with a {@link MalformedMessageException}. Stateless and thread-safe; payloads are
 * copied, so neither side shares a mutable array with the other.
 *
 * <pre>{@code
 * RaftMessage wire = MessageCodec.encode(new Message.Heartbeat("n1", "n2", 7, 40, 12));
 * Message back = MessageCodec.decode(wire);   // equal to the heartbeat above
 * }</pre>
 *
 * <p><b>Limits.</b> The codec does not check that ids are valid or that {@code from}/{@code to}
 * match a connection: {@link GrpcTransport} does that for each stream.
 */
public final class MessageCodec {

    private MessageCodec() {
    }

    /**
     * A protobuf message that does not describe a valid core message: no body, an entry of unknown
     * kind, an entry index or term below 1, or a malformed configuration. Thrown by
     * {@link #decode} before any message is built, so nothing partial escapes. The message says
     * which field is wrong; it may quote values from the wire, which come from the peer. The
     * transport closes the stream it came on ({@code INVALID_ARGUMENT}) and delivers nothing after
     * it; unchecked, because every caller handles it the same way.
     */
    public static final class MalformedMessageException extends RuntimeException {
        MalformedMessageException(String message) {
            super(message);
        }

        MalformedMessageException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * Encodes {@code message} of group {@code group}; {@code null} for the default group, whose
     * messages carry no group name (so nodes that host one group understand them).
     */
    public static RaftMessage encode(Message message, String group) {
        return encode(message, group, false);
    }

    /**
     * Encodes {@code message} of group {@code group} ({@code null} for the default group) sent by
     * a node that is drained ({@code senderDrained}) or not; the flag is absent when false.
     */
    public static RaftMessage encode(Message message, String group, boolean senderDrained) {
        RaftMessage wire = encode(message);
        if (group == null && !senderDrained) {
            return wire;
        }
        RaftMessage.Builder b = wire.toBuilder();
        if (group != null) {
            b.setGroup(group);
        }
        return b.setSenderDrained(senderDrained).build();
    }

    /**
     * Encodes a core message of the default group: without a group name, as every node that hosts
     * a single group sends and expects.
     *
     * @throws NullPointerException if {@code message} or one of its ids is {@code null}
     */
    public static RaftMessage encode(Message message) {
        Objects.requireNonNull(message, "message");
        RaftMessage.Builder b = RaftMessage.newBuilder()
                .setFrom(Objects.requireNonNull(message.from(), "from"))
                .setTo(Objects.requireNonNull(message.to(), "to"))
                .setTerm(message.term());
        if (message instanceof Message.PreVote m) {
            b.setPreVote(io.haraft.transport.proto.PreVote.newBuilder()
                    .setLastIndex(m.lastIndex()).setLastTerm(m.lastTerm()));
        } else if (message instanceof Message.PreVoteResponse m) {
            b.setPreVoteResponse(io.haraft.transport.proto.PreVoteResponse.newBuilder().setGranted(m.granted()));
        } else if (message instanceof Message.Vote m) {
            b.setVote(io.haraft.transport.proto.Vote.newBuilder()
                    .setLastIndex(m.lastIndex()).setLastTerm(m.lastTerm()).setTransfer(m.transfer()));
        } else if (message instanceof Message.VoteResponse m) {
            b.setVoteResponse(io.haraft.transport.proto.VoteResponse.newBuilder().setGranted(m.granted()));
        } else if (message instanceof Message.Append m) {
            io.haraft.transport.proto.Append.Builder a = io.haraft.transport.proto.Append.newBuilder()
                    .setPrevIndex(m.prevIndex()).setPrevTerm(m.prevTerm())
                    .setCommit(m.commit()).setRound(m.round()).setStickinessNanos(m.stickiness());
            for (Entry e : m.entries()) {
                a.addEntries(encodeEntry(e));
            }
            b.setAppend(a);
        } else if (message instanceof Message.AppendResponse m) {
            b.setAppendResponse(io.haraft.transport.proto.AppendResponse.newBuilder()
                    .setSuccess(m.success()).setIndex(m.index())
                    .setHintIndex(m.hintIndex()).setHintTerm(m.hintTerm()).setRound(m.round())
                    .setStickinessNanos(m.stickiness()));
        } else if (message instanceof Message.Heartbeat m) {
            b.setHeartbeat(io.haraft.transport.proto.Heartbeat.newBuilder()
                    .setCommit(m.commit()).setRound(m.round()).setStickinessNanos(m.stickiness()));
        } else if (message instanceof Message.HeartbeatResponse m) {
            b.setHeartbeatResponse(io.haraft.transport.proto.HeartbeatResponse.newBuilder().setRound(m.round())
                    .setStickinessNanos(m.stickiness()));
        } else if (message instanceof Message.TimeoutNow m) {
            b.setTimeoutNow(io.haraft.transport.proto.TimeoutNow.newBuilder().setRemoveSender(m.removeSender()));
        } else if (message instanceof Message.InstallSnapshot m) {
            b.setInstallSnapshot(io.haraft.transport.proto.InstallSnapshot.newBuilder()
                    .setSnapIndex(m.snapIndex()).setSnapTerm(m.snapTerm()).setOffset(m.offset())
                    .setData(com.google.protobuf.ByteString.copyFrom(m.data())).setLast(m.last()).setRound(m.round())
                    .setMembership(m.membership() == null ? ByteString.EMPTY
                            : UnsafeByteOperations.unsafeWrap(m.membership().encode()))
                    .setStickinessNanos(m.stickiness())
                    .setClusterUuid(IdentityCheck.wire(m.clusterUuid())));
        } else if (message instanceof Message.InstallSnapshotResponse m) {
            b.setInstallSnapshotResponse(io.haraft.transport.proto.InstallSnapshotResponse.newBuilder()
                    .setSnapIndex(m.snapIndex()).setNextOffset(m.nextOffset()).setDone(m.done()).setRound(m.round())
                    .setStickinessNanos(m.stickiness()));
        } else {
            // Unreachable while Message stays sealed to the records above; kept so that a new
            // record fails loudly here instead of being sent without a body.
            throw new IllegalArgumentException("no wire form for " + message.getClass().getName());
        }
        return b.build();
    }

    /**
     * Decodes a protobuf message.
     *
     * @throws MalformedMessageException if it has no body or carries an invalid entry
     */
    public static Message decode(RaftMessage wire) {
        Objects.requireNonNull(wire, "wire");
        String from = wire.getFrom();
        String to = wire.getTo();
        long term = wire.getTerm();
        switch (wire.getBodyCase()) {
            case PRE_VOTE: {
                var m = wire.getPreVote();
                return new Message.PreVote(from, to, term, m.getLastIndex(), m.getLastTerm());
            }
            case PRE_VOTE_RESPONSE:
                return new Message.PreVoteResponse(from, to, term, wire.getPreVoteResponse().getGranted());
            case VOTE: {
                var m = wire.getVote();
                return new Message.Vote(from, to, term, m.getLastIndex(), m.getLastTerm(), m.getTransfer());
            }
            case VOTE_RESPONSE:
                return new Message.VoteResponse(from, to, term, wire.getVoteResponse().getGranted());
            case APPEND: {
                var m = wire.getAppend();
                List<Entry> entries = new ArrayList<>(m.getEntriesCount());
                for (io.haraft.transport.proto.Entry e : m.getEntriesList()) {
                    entries.add(decodeEntry(e));
                }
                return new Message.Append(from, to, term, m.getPrevIndex(), m.getPrevTerm(), entries,
                        m.getCommit(), m.getRound(), m.getStickinessNanos());
            }
            case APPEND_RESPONSE: {
                var m = wire.getAppendResponse();
                return new Message.AppendResponse(from, to, term, m.getSuccess(), m.getIndex(),
                        m.getHintIndex(), m.getHintTerm(), m.getRound(), m.getStickinessNanos());
            }
            case HEARTBEAT: {
                var m = wire.getHeartbeat();
                return new Message.Heartbeat(from, to, term, m.getCommit(), m.getRound(), m.getStickinessNanos());
            }
            case HEARTBEAT_RESPONSE: {
                var m = wire.getHeartbeatResponse();
                return new Message.HeartbeatResponse(from, to, term, m.getRound(), m.getStickinessNanos());
            }
            case TIMEOUT_NOW:
                return new Message.TimeoutNow(from, to, term, wire.getTimeoutNow().getRemoveSender());
            case INSTALL_SNAPSHOT: {
                var m = wire.getInstallSnapshot();
                io.haraft.core.quorum.Membership membership = null;
                if (!m.getMembership().isEmpty()) {
                    try {
                        membership = io.haraft.core.quorum.Membership.decode(m.getMembership().toByteArray());
                    } catch (IllegalArgumentException ex) {
                        throw new MalformedMessageException("snapshot " + m.getSnapIndex() + " from '" + from
                                + "' carries an invalid configuration: " + ex.getMessage(), ex);
                    }
                }
                java.util.UUID clusterUuid = null;
                if (!m.getClusterUuid().isEmpty()) {
                    if (m.getClusterUuid().size() != io.haraft.core.ClusterIdentity.BYTES) {
                        throw new MalformedMessageException("snapshot " + m.getSnapIndex() + " from '" + from
                                + "' carries a cluster identity of " + m.getClusterUuid().size() + " bytes, not "
                                + io.haraft.core.ClusterIdentity.BYTES);
                    }
                    clusterUuid = io.haraft.core.ClusterIdentity.decode(m.getClusterUuid().toByteArray());
                }
                return new Message.InstallSnapshot(from, to, term, m.getSnapIndex(), m.getSnapTerm(), m.getOffset(),
                        m.getData().toByteArray(), m.getLast(), m.getRound(), membership, m.getStickinessNanos(),
                        clusterUuid);
            }
            case INSTALL_SNAPSHOT_RESPONSE: {
                var m = wire.getInstallSnapshotResponse();
                return new Message.InstallSnapshotResponse(from, to, term, m.getSnapIndex(), m.getNextOffset(),
                        m.getDone(), m.getRound(), m.getStickinessNanos());
            }
            case BODY_NOT_SET:
            default:
                throw new MalformedMessageException("message from '" + from + "' to '" + to
                        + "' has no body (an unknown message type from a newer version, or corrupt)");
        }
    }

    static io.haraft.transport.proto.Entry encodeEntry(Entry e) {
        EntryKind kind = switch (e.kind()) {
            case COMMAND -> EntryKind.ENTRY_KIND_COMMAND;
            case NOOP -> EntryKind.ENTRY_KIND_NOOP;
            case CONFIG -> EntryKind.ENTRY_KIND_CONFIG;
        };
        // Entry.data() returns a fresh copy that nobody else holds, so wrapping it is safe.
        ByteString data = e.size() == 0 ? ByteString.EMPTY : UnsafeByteOperations.unsafeWrap(e.data());
        return io.haraft.transport.proto.Entry.newBuilder()
                .setIndex(e.index()).setTerm(e.term()).setKind(kind).setData(data).build();
    }

    private static Entry decodeEntry(io.haraft.transport.proto.Entry e) {
        Entry.Kind kind = switch (e.getKind()) {
            case ENTRY_KIND_COMMAND -> Entry.Kind.COMMAND;
            case ENTRY_KIND_NOOP -> Entry.Kind.NOOP;
            case ENTRY_KIND_CONFIG -> Entry.Kind.CONFIG;
            default -> throw new MalformedMessageException("entry " + e.getIndex() + "@" + e.getTerm()
                    + " has kind " + e.getKindValue() + ", which this version does not know");
        };
        try {
            return Entry.of(e.getIndex(), e.getTerm(), kind, e.getData().toByteArray());
        } catch (IllegalArgumentException ex) {
            throw new MalformedMessageException("invalid entry: " + ex.getMessage(), ex);
        }
    }
}
