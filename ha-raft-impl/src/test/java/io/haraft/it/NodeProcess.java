package io.haraft.it;

import io.haraft.Leadership;
import io.haraft.LeadershipListener;
import io.haraft.NodeStatus;
import io.haraft.RaftNode;
import io.haraft.RevokeReason;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.locks.LockSupport;

/**
 * One HA-Raft node in its own JVM, for {@link ProcessFailoverTest}. Arguments:
 * {@code <clusterId> <nodeId> <dataDir> <heartbeatMs> <electionMs> <id>=<host:port>...}.
 *
 * <p>Prints one line per fact on standard output, each with {@link System#nanoTime()} (on Linux
 * the same monotonic clock in every process of the machine, so the test can order lines of
 * different processes):
 * <ul>
 *   <li>{@code STARTED <id> <pid> <nanos>} once the node is started;</li>
 *   <li>{@code ELECTED <id> <token> <nanos>} and {@code REVOKED <id> <token> <reason> <nanos>} from the
 *       listener;</li>
 *   <li>{@code VALID <id> <token> <nanos>} every 20 ms while the current leadership is valid, where
 *       {@code nanos} is read <em>before</em> {@code isValid()} returned true: a pause between the
 *       check and the print cannot make the line claim a later validity than was checked;</li>
 *   <li>{@code STATUS <id> <role> <term> <leader|-> <nanos>} whenever role, term or leader change.</li>
 * </ul>
 * Runs until killed.
 */
public final class NodeProcess {
    private static final PrintStream OUT = new PrintStream(new FileOutputStream(FileDescriptor.out), true,
            StandardCharsets.UTF_8);

    private NodeProcess() {
    }

    public static void main(String[] args) {
        String clusterId = args[0];
        String nodeId = args[1];
        RaftNode.Builder b = RaftNode.builder().clusterId(clusterId).nodeId(nodeId).dataDir(Path.of(args[2]))
                .heartbeatInterval(Duration.ofMillis(Long.parseLong(args[3])))
                .electionTimeout(Duration.ofMillis(Long.parseLong(args[4])));
        for (int i = 5; i < args.length; i++) {
            String[] member = args[i].split("=", 2);
            b.member(member[0], member[1]);
        }
        Leadership[] current = new Leadership[1];
        b.listener(new LeadershipListener() {
            @Override
            public void elected(Leadership l) {
                synchronized (current) {
                    current[0] = l;
                }
                OUT.println("ELECTED " + nodeId + " " + l.term() + " " + System.nanoTime());
            }

            @Override
            public void revoked(Leadership l, RevokeReason reason) {
                OUT.println("REVOKED " + nodeId + " " + l.term() + " " + reason + " " + System.nanoTime());
            }
        });
        RaftNode node = b.build();
        node.start();
        OUT.println("STARTED " + nodeId + " " + ProcessHandle.current().pid() + " " + System.nanoTime());
        String lastStatus = "";
        while (true) {
            Leadership l;
            synchronized (current) {
                l = current[0];
            }
            if (l != null) {
                long checkedAt = System.nanoTime();
                if (l.isValid()) {
                    OUT.println("VALID " + nodeId + " " + l.term() + " " + checkedAt);
                }
            }
            NodeStatus s = node.status();
            String status = s.role() + " " + s.term() + " " + s.leaderId().orElse("-");
            if (!status.equals(lastStatus)) {
                lastStatus = status;
                OUT.println("STATUS " + nodeId + " " + status + " " + System.nanoTime());
            }
            LockSupport.parkNanos(20_000_000);
        }
    }
}
