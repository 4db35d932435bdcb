package io.haraft.idle;

import io.haraft.GroupOptions;
import io.haraft.RaftGroups;
import io.haraft.RaftNode;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/**
 * A node for measuring what an idle node costs, by hand (not a test): one JVM per node, started
 * as {@code IdleNodeMain <id> <groups> <dataDir> n1=host:port n2=... n3=...}; {@code groups} 0
 * runs a plain {@link RaftNode}, N > 0 a node hosting N groups. Heartbeat 100 ms, election 300 ms.
 * It does nothing but stay up; the caller reads its CPU time from /proc.
 */
public final class IdleNodeMain {
    private IdleNodeMain() {
    }

    public static void main(String[] args) throws Exception {
        String id = args[0];
        int groups = Integer.parseInt(args[1]);
        RaftNode.Builder b = RaftNode.builder().clusterId("idle").nodeId(id).dataDir(Path.of(args[2]))
                .heartbeatInterval(Duration.ofMillis(100)).electionTimeout(Duration.ofMillis(300));
        for (int i = 3; i < args.length; i++) {
            String[] kv = args[i].split("=", 2);
            b.member(kv[0], kv[1]);
        }
        AutoCloseable node;
        if (groups == 0) {
            RaftNode n = b.build();
            n.start();
            node = n;
        } else {
            RaftGroups g = b.buildGroups();
            g.start();
            for (int i = 0; i < groups; i++) {
                g.newGroup("g" + i, GroupOptions.defaults());
            }
            node = g;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
            } catch (Exception e) {
                // exiting anyway
            }
        }));
        new CountDownLatch(1).await();
    }
}
