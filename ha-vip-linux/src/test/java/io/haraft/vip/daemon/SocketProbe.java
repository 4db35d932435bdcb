package io.haraft.vip.daemon;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

/**
 * A client of the admin socket that needs nothing but the JDK, so that a test can run it as
 * another user ({@code setpriv}): it connects, asks for the status of the cluster named by its
 * second argument, and prints the first line it gets back, or {@code CONNECT FAILED: why}.
 */
public final class SocketProbe {
    private SocketProbe() {
    }

    public static void main(String[] args) {
        try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(args[0]))) {
            try {
                c.write(ByteBuffer.wrap((AdminReply.HELLO + " " + args[1] + "\n1000 status\n")
                        .getBytes(StandardCharsets.UTF_8)));
            } catch (java.io.IOException e) {
                // refused at once: read the answer anyway
            }
            String line = new BufferedReader(new InputStreamReader(Channels.newInputStream(c),
                    StandardCharsets.UTF_8)).readLine();
            System.out.println("REPLY: " + line);
        } catch (Exception e) {
            System.out.println("CONNECT FAILED: " + e);
        }
    }
}
