package io.haraft.runtime;

import io.haraft.core.Message;
import io.haraft.transport.Transport;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** How the router of a node with many groups hands messages over, before and after a group starts. */
class GroupRouterTest {
    private static final Message HEARTBEAT = new Message.Heartbeat("n2", "n1", 3, 7, 1);

    @Test
    void aGroupNotHostedIsRefusedButOneWaitingForTheNodeToStartIsDroppedQuietly() {
        GroupRouter router = new GroupRouter();
        assertThat(router.onMessage("orders", HEARTBEAT)).as("an unknown group: the transport counts and warns")
                .isFalse();

        router.expect("orders");
        assertThat(router.onMessage("orders", HEARTBEAT)).as("created before start, not started yet: taken, dropped")
                .isTrue();
        assertThat(router.onMessage("billing", HEARTBEAT)).isFalse();

        List<Message> received = new ArrayList<>();
        router.transportOf("orders", null).start(listener(received));
        assertThat(router.onMessage("orders", HEARTBEAT)).isTrue();
        assertThat(received).as("once started, the group gets its messages").containsExactly(HEARTBEAT);
    }

    @Test
    void aGroupRemovedBeforeItStartedIsRefusedAgain() {
        GroupRouter router = new GroupRouter();
        router.expect("orders");
        router.forget("orders");
        assertThat(router.onMessage("orders", HEARTBEAT)).isFalse();
    }

    @Test
    void aStartedGroupThatClosesIsRefusedAgainAndNotExpectedAnyMore() {
        GroupRouter router = new GroupRouter();
        router.expect("orders");
        Transport t = router.transportOf("orders", null);
        t.start(listener(new ArrayList<>()));
        t.close();
        assertThat(router.onMessage("orders", HEARTBEAT)).isFalse();
    }

    private static Transport.Listener listener(List<Message> into) {
        return new Transport.Listener() {
            @Override
            public void onMessage(Message message) {
                into.add(message);
            }

            @Override
            public void onConnectionRefused(String peerId) {
            }
        };
    }
}
