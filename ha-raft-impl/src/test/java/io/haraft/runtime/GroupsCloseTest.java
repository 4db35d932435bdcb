package io.haraft.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.haraft.Leadership;
import io.haraft.LeadershipListener;
import io.haraft.RaftGroups;
import io.haraft.RaftNode;
import io.haraft.RevokeReason;
import io.haraft.transport.TransportTesting;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Closing a node hosting groups while a {@code remove()} of one of its groups is still closing that
 * group: the removed group also revokes, and its listener returns from {@code revoked}, before the
 * node's shared socket closes (after which the other members may elect a new leader at once).
 */
class GroupsCloseTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path root;

    private final Map<String, Integer> ports = new LinkedHashMap<>();
    private final Map<String, RaftGroups> nodes = new LinkedHashMap<>();
    /** What happened, in order, each recorded by the thread it happened on. */
    private final List<String> events = new CopyOnWriteArrayList<>();
    private final AtomicReference<String> armed = new AtomicReference<>();
    private final CountDownLatch inRevoked = new CountDownLatch(1);
    private final CountDownLatch release = new CountDownLatch(1);

    @AfterEach
    void closeAll() {
        release.countDown();
        nodes.values().forEach(RaftGroups::close);
    }

    /** Blocks in {@code revoked} of group g on the armed node until the test releases it. */
    private LeadershipListener listener(String id) {
        return new LeadershipListener() {
            @Override
            public void elected(Leadership l) {
            }

            @Override
            public void revoked(Leadership l, RevokeReason reason) {
                if (!l.group().equals("g") || !id.equals(armed.get())) {
                    return;
                }
                inRevoked.countDown();
                try {
                    release.await(2, TimeUnit.MINUTES);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                events.add("revoked returned on " + id);
            }
        };
    }

    /** Whether {@code t} waits in a second {@code close()} of a group's node (for the close another thread runs). */
    private static boolean waitsForAnotherClose(Thread t) {
        StackTraceElement[] stack = t.getStackTrace();
        for (int i = 0; i + 1 < stack.length; i++) {
            if (stack[i].getMethodName().equals("awaitQuietly")
                    && stack[i + 1].getClassName().equals(RaftNodeImpl.class.getName())
                    && stack[i + 1].getMethodName().equals("close")) {
                return true;
            }
        }
        return false;
    }

    /** Whether something accepts TCP connections on {@code port} of loopback. */
    private static boolean listening(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    @Test
    void closeWaitsForARemoveInProgressBeforeTheSocketCloses() throws Exception {
        for (String id : List.of("n1", "n2", "n3")) {
            ports.put(id, TransportTesting.freePort());
        }
        for (String id : ports.keySet()) {
            RaftNode.Builder b = RaftNode.builder().clusterId("close").nodeId(id).dataDir(root.resolve(id))
                    .heartbeatInterval(Duration.ofMillis(100)).electionTimeout(Duration.ofMillis(500))
                    .listener(listener(id));
            ports.forEach((m, port) -> b.member(m, "127.0.0.1:" + port));
            RaftGroups n = b.buildGroups();
            nodes.put(id, n);
            n.start();
            n.newGroup("g");
        }
        // Arm the node that leads g now: its revoked(g), on remove() or on losing the lease first, blocks.
        AtomicReference<String> leader = new AtomicReference<>();
        Await.until(WAIT, () -> {
            armed.set(null);
            for (Map.Entry<String, RaftGroups> e : nodes.entrySet()) {
                RaftNode h = e.getValue().group("g").orElseThrow();
                if (h.isLeader()) {
                    armed.set(e.getKey());
                    // long enough that the removed group's close never gives up on the blocked listener here
                    ((GroupNode) h).node().callbackDrainForTest(Duration.ofMinutes(2));
                    if (h.isLeader() || inRevoked.getCount() == 0) {
                        leader.set(e.getKey());
                        return true;
                    }
                }
            }
            return false;
        }, "a leader of group g, armed");
        RaftGroups node = nodes.get(leader.get());

        AtomicBoolean removed = new AtomicBoolean();
        Thread remover = new Thread(() -> {
            removed.set(node.remove("g"));
            events.add("remove returned");
        }, "test-remove");
        remover.start();
        assertThat(inRevoked.await(WAIT.toSeconds(), TimeUnit.SECONDS)).as("revoked(g) reached the listener").isTrue();

        Thread closer = new Thread(() -> {
            node.close();
            events.add("node closed");
        }, "test-close");
        closer.start();
        // Either close() returns at once (it did not wait for the remove), or it waits for the group's close.
        Await.until(WAIT, () -> !closer.isAlive() || waitsForAnotherClose(closer),
                "close() returned or waits for the removed group's close");
        boolean listening = listening(ports.get(leader.get()));
        release.countDown();
        closer.join(WAIT.toMillis());
        remover.join(WAIT.toMillis());
        assertThat(closer.isAlive() || remover.isAlive()).as("both calls returned").isFalse();

        assertThat(removed).isTrue();
        assertThat(listening).as("the node's socket was open while the removed group's listener was in revoked")
                .isTrue();
        List<String> order = new ArrayList<>(events);
        assertThat(order).as("the removed group closed before the node did")
                .containsSubsequence("revoked returned on " + leader.get(), "remove returned", "node closed");
    }
}
