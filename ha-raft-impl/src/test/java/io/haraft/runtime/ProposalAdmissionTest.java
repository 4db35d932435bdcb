package io.haraft.runtime;

import io.haraft.Committed;
import io.haraft.OverloadedException;
import io.haraft.RaftConfig;
import io.haraft.RaftNode;
import io.haraft.core.Message;
import io.haraft.core.quorum.Membership;
import io.haraft.core.quorum.Membership.Member;
import io.haraft.core.quorum.Membership.Role;
import io.haraft.transport.Transport;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/** Submit's admission alone: the in-progress bound and the one-message size rule. No clock, no thread. */
class ProposalAdmissionTest {
    private static final int KIB = 1024;

    private static RaftConfig config(int maxPending, int maxMessageBytes) {
        return RaftNode.builder().clusterId("c").nodeId("n1").dataDir(Path.of("/nonexistent", "n1"))
                .member("n1", "h:1").member("n2", "h:2").member("n3", "h:3")
                .maxPendingProposals(maxPending).maxMessageBytes(maxMessageBytes).config();
    }

    /** A transport that only knows the peers' maxMessageBytes. */
    private static Transport knowing(Map<String, Integer> limits) {
        return new Transport() {
            @Override
            public void start(Listener listener) {
            }

            @Override
            public void send(Message message) {
            }

            @Override
            public OptionalInt maxMessageBytesOf(String peer) {
                Integer l = limits.get(peer);
                return l == null ? OptionalInt.empty() : OptionalInt.of(l);
            }

            @Override
            public void close() {
            }
        };
    }

    private static Membership members(Role n3) {
        return Membership.of(List.of(new Member("n1", "h:1", Role.VOTER), new Member("n2", "h:2", Role.LEARNER),
                new Member("n3", "h:3", n3)));
    }

    @Test
    void atMostMaxPendingCommandsAreInProgressAndAFinishedOneFreesItsSlot() {
        ProposalAdmission a = new ProposalAdmission(config(2, 64 * KIB));
        CompletableFuture<Committed> first = new CompletableFuture<>();
        CompletableFuture<Committed> second = new CompletableFuture<>();
        CompletableFuture<Committed> c1 = a.admit(first);
        CompletableFuture<Committed> c2 = a.admit(second);
        assertThat(a.pending()).isEqualTo(2);
        CompletableFuture<Committed> refused = a.admit(new CompletableFuture<>());
        assertThat(refused).isCompletedExceptionally();
        assertThat(refused.handle((x, e) -> e).join()).isInstanceOf(OverloadedException.class);
        assertThat(a.pending()).as("a refusal takes no slot").isEqualTo(2);

        first.complete(Committed.position(3, 10));
        assertThat(c1).isCompletedWithValue(Committed.position(3, 10));
        assertThat(a.pending()).isEqualTo(1);
        RuntimeException failure = new IllegalStateException("indeterminate");
        second.completeExceptionally(failure);
        assertThat(c2.handle((x, e) -> e).join()).isSameAs(failure);
        assertThat(a.pending()).as("a failed command frees its slot too").isZero();
    }

    @Test
    void aCallerRetryingFromTheCompletionOfItsFutureIsAdmitted() {
        ProposalAdmission a = new ProposalAdmission(config(1, 64 * KIB));
        CompletableFuture<Committed> inLoop = new CompletableFuture<>();
        List<CompletableFuture<Committed>> retries = new ArrayList<>();
        a.admit(inLoop).whenComplete((x, e) -> retries.add(a.admit(new CompletableFuture<>())));
        inLoop.completeExceptionally(new IllegalStateException("lost leadership"));
        assertThat(retries).hasSize(1);
        assertThat(retries.get(0)).as("the slot is free before the caller hears").isNotDone();
        assertThat(a.pending()).isEqualTo(1);
    }

    @Test
    void aCommandFitsIntoOneMessageToEveryMemberThatKeepsTheLog() {
        int room = 64 * KIB - RaftNodeImpl.MESSAGE_OVERHEAD_BYTES;
        ProposalAdmission a = new ProposalAdmission(config(10, 128 * KIB));
        Membership m = members(Role.VOTER);
        // before start (no transport): this node's own bound
        assertThat(a.tooLarge(128 * KIB - RaftNodeImpl.MESSAGE_OVERHEAD_BYTES, null, m)).isNull();
        assertThat(a.tooLarge(128 * KIB - RaftNodeImpl.MESSAGE_OVERHEAD_BYTES + 1, null, m))
                .contains("at most " + (128 * KIB - RaftNodeImpl.MESSAGE_OVERHEAD_BYTES))
                .contains("maxMessageBytes " + 128 * KIB);
        // the learner n2 takes at most 64 KiB: that bounds the command, exactly
        Transport t = knowing(Map.of("n2", 64 * KIB, "n3", 96 * KIB));
        assertThat(a.tooLarge(room, t, m)).isNull();
        assertThat(a.tooLarge(room + 1, t, m)).contains("to node n2").contains("maxMessageBytes is " + 64 * KIB)
                .contains("at most " + room);
        // a peer with a larger bound than this node's does not raise it
        Transport larger = knowing(Map.of("n2", 256 * KIB, "n3", 256 * KIB));
        assertThat(a.tooLarge(128 * KIB - RaftNodeImpl.MESSAGE_OVERHEAD_BYTES + 1, larger, m))
                .doesNotContain("to node");
    }

    @Test
    void aWitnessAndThisNodeItselfDoNotBoundTheCommand() {
        ProposalAdmission a = new ProposalAdmission(config(10, 128 * KIB));
        int room = 128 * KIB - RaftNodeImpl.MESSAGE_OVERHEAD_BYTES;
        Transport t = knowing(Map.of("n1", 64 * KIB, "n3", 64 * KIB));
        assertThat(a.tooLarge(room, t, members(Role.WITNESS))).as("witnesses get entries without data").isNull();
        assertThat(a.tooLarge(room, t, members(Role.VOTER))).contains("to node n3");
    }
}
