package io.haraft.examples;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Free loopback ports for the local examples and their tests, each handed out once per JVM.
 *
 * <p>Ports come from below the range the operating system draws the local ports of outgoing
 * connections from (32768 and up on Linux, 49152 and up on macOS and Windows). A node that is
 * killed and restarted binds its port again: had the port come from that range (as a port the
 * OS picks for {@code new ServerSocket(0)} does), any outgoing connection made meanwhile (a
 * client, a database connection, a peer reconnecting) could have been given it, and the restart
 * would fail with "Address already in use".
 */
public final class LoopbackPorts {
    private static final int FIRST = 15000;
    private static final int LAST = 32000;
    /** A port released by a stopped node is free again; two members must never share one. */
    private static final Set<Integer> HANDED_OUT = new HashSet<>();

    private LoopbackPorts() {
    }

    /** A port that nothing listens on now, outside the ephemeral range, not handed out before by this JVM. */
    public static synchronized int free() {
        for (int attempt = 0; attempt < 1000; attempt++) {
            int port = ThreadLocalRandom.current().nextInt(FIRST, LAST + 1);
            if (HANDED_OUT.contains(port)) {
                continue;
            }
            try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                HANDED_OUT.add(port);
                return port;
            } catch (IOException e) {
                // taken: try another
            }
        }
        throw new IllegalStateException("no free loopback port between " + FIRST + " and " + LAST
                + " after 1000 attempts");
    }
}
