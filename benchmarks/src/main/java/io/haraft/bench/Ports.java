package io.haraft.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.BitSet;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Loopback ports for benchmarked nodes, each handed out once per driver run, taken from 15000-31999:
 * below the range Linux draws the local ports of outgoing connections from (32768 and up). The
 * failover suite kills nodes and starts them again on the same port; a port the OS picked with
 * {@code new ServerSocket(0)} could meanwhile have become the local port of some outgoing connection
 * (the load's clients open many), and the restarted node would fail with "Address already in use".
 */
final class Ports {
    private static final int FIRST = 15000;
    private static final int COUNT = 17000;
    private static final BitSet USED = new BitSet(COUNT);

    private Ports() {
    }

    /** A port nothing listens on now and that this run has not handed out before. */
    static synchronized int free() {
        int start = ThreadLocalRandom.current().nextInt(COUNT);
        for (int i = 0; i < COUNT; i++) {
            int k = (start + i) % COUNT;
            if (USED.get(k)) {
                continue;
            }
            try (ServerSocket probe = new ServerSocket(FIRST + k, 1, InetAddress.getLoopbackAddress())) {
                USED.set(k);
                return FIRST + k;
            } catch (IOException taken) {
                USED.set(k);   // in use by someone else: do not try it again
            }
        }
        throw new IllegalStateException("no free loopback port in " + FIRST + ".." + (FIRST + COUNT - 1));
    }
}
