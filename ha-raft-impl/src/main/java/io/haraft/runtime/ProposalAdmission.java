package io.haraft.runtime;

import io.haraft.Committed;
import io.haraft.OverloadedException;
import io.haraft.RaftConfig;
import io.haraft.core.quorum.Membership;
import io.haraft.transport.Transport;

import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Decides whether {@code submit} may hand a command to the Raft loop: it must fit into one message
 * to every member that keeps the log, and fewer than {@link RaftConfig#maxPendingProposals()}
 * commands of this node may be in progress.
 *
 * <p><b>Guarantees.</b> Thread-safe. A command counts as in progress from {@link #admit} until its
 * future completes, whichever way (committed, refused by the loop, indeterminate, failed at close);
 * its slot is free again before the caller's future completes, so a caller that retries from a
 * stage of that future is admitted. A refused command never reaches the loop, so nothing of it is
 * appended.
 */
final class ProposalAdmission {
    private final RaftConfig config;
    private final AtomicInteger pending = new AtomicInteger();

    ProposalAdmission(RaftConfig config) {
        this.config = config;
    }

    /**
     * Why a command of {@code bytes} cannot be replicated (null if it can): every member that keeps
     * the log (voters and learners; witnesses get entries without data) must be able to receive it
     * in one message, under its own {@code maxMessageBytes} as far as the transport {@code t} (null
     * before start) has told this node, and this node's; {@code m} is the latest configuration.
     */
    String tooLarge(int bytes, Transport t, Membership m) {
        int limit = config.maxMessageBytes();
        String smallest = config.nodeId();
        if (t != null) {
            for (Membership.Member member : m.members()) {
                if (member.id().equals(config.nodeId()) || m.isWitness(member.id())) {
                    continue;
                }
                OptionalInt theirs = t.maxMessageBytesOf(member.id());
                if (theirs.isPresent() && theirs.getAsInt() < limit) {
                    limit = theirs.getAsInt();
                    smallest = member.id();
                }
            }
        }
        int room = limit - RaftNodeImpl.MESSAGE_OVERHEAD_BYTES;
        if (bytes <= room) {
            return null;
        }
        if (smallest.equals(config.nodeId())) {
            return "the command has " + bytes + " bytes; at most " + room + " fit into maxMessageBytes " + limit
                    + ". Nothing was appended, and the same command will be refused again: split it, or raise"
                    + " maxMessageBytes on every node";
        }
        return "the command has " + bytes + " bytes; at most " + room + " fit into a message to node " + smallest
                + ", whose maxMessageBytes is " + limit + " (this node's is " + config.maxMessageBytes() + "). Nothing was"
                + " appended, and the same command will be refused again: split it, or raise maxMessageBytes on "
                + smallest + " (every node should have the same value)";
    }

    /**
     * Takes a slot for a command whose loop future is {@code inLoop}: returns the future for the
     * caller, which completes as {@code inLoop} does once the slot is free again; or, if every slot
     * is taken, a future failed with {@link OverloadedException} (then do not hand the command to
     * the loop).
     */
    CompletableFuture<Committed> admit(CompletableFuture<Committed> inLoop) {
        if (pending.incrementAndGet() > config.maxPendingProposals()) {
            pending.decrementAndGet();
            return CompletableFuture.failedFuture(new OverloadedException(config.nodeId(), config.maxPendingProposals()));
        }
        CompletableFuture<Committed> caller = new CompletableFuture<>();
        inLoop.whenComplete((committed, failure) -> {
            pending.decrementAndGet();
            if (failure != null) {
                caller.completeExceptionally(failure);
            } else {
                caller.complete(committed);
            }
        });
        return caller;
    }

    /** How many commands are in progress now. */
    int pending() {
        return pending.get();
    }
}
