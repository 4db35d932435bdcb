package io.haraft.examples;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.util.HashSet;
import java.util.Set;

/** Free loopback ports for the local examples, each handed out once per JVM. */
final class LoopbackPorts {
    /** The OS may offer a port again once it was released; two members must never share one. */
    private static final Set<Integer> HANDED_OUT = new HashSet<>();

    private LoopbackPorts() {
    }

    /** A port that nothing listens on now and that this JVM has not handed out before. */
    static synchronized int free() {
        for (int attempt = 0; attempt < 100; attempt++) {
            try (ServerSocket s = new ServerSocket(0)) {
                if (HANDED_OUT.add(s.getLocalPort())) {
                    return s.getLocalPort();
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot open a loopback port: " + e.getMessage(), e);
            }
        }
        throw new IllegalStateException("no fresh loopback port after 100 attempts");
    }
}
