package io.haraft.vip;

import java.io.IOException;
import java.io.PrintStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The scenario tests' client probe, a program run in the namespaces of a {@link NetnsLan}:
 * {@code answer NAME PORT} runs in each node namespace and answers every UDP datagram on PORT
 * with the datagram followed by the node's NAME; {@code ask HOST PORT MILLIS} runs in the client
 * namespace, sends a numbered datagram to HOST (the VIP) every MILLIS ms through the client's real
 * ARP cache, and prints one line per answer: {@code <epoch ms when it arrived> <number> <NAME>}.
 * So every answer names the node that holds the VIP as the client sees it.
 */
public final class NameProbe {

    private NameProbe() {
    }

    /**
     * {@code answer NAME PORT} or {@code ask HOST PORT MILLIS}.
     *
     * @param args the mode and its arguments
     * @throws IOException if the socket cannot be opened
     */
    public static void main(String[] args) throws IOException {
        if (args.length == 3 && args[0].equals("answer")) {
            answer(args[1], Integer.parseInt(args[2]));
        } else if (args.length == 4 && args[0].equals("ask")) {
            ask(args[1], Integer.parseInt(args[2]), Integer.parseInt(args[3]));
        } else {
            System.err.println("usage: NameProbe answer NAME PORT | ask HOST PORT MILLIS");
            System.exit(2);
        }
    }

    private static void answer(String name, int port) throws IOException {
        byte[] suffix = (" " + name).getBytes(StandardCharsets.US_ASCII);
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(port))) {
            byte[] buf = new byte[64];
            while (true) {
                DatagramPacket in = new DatagramPacket(buf, buf.length - suffix.length);
                socket.receive(in);
                System.arraycopy(suffix, 0, buf, in.getLength(), suffix.length);
                try {
                    socket.send(new DatagramPacket(buf, in.getLength() + suffix.length, in.getSocketAddress()));
                } catch (IOException e) {
                    // the client is unreachable for a moment: it asks again in 10 ms
                }
            }
        }
    }

    private static void ask(String host, int port, int millis) throws IOException {
        SocketAddress to = new InetSocketAddress(InetAddress.getByName(host), port);
        DatagramSocket socket = new DatagramSocket();
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.US_ASCII);
        AtomicLong seq = new AtomicLong();
        ScheduledExecutorService sender = Executors.newSingleThreadScheduledExecutor();
        sender.scheduleAtFixedRate(() -> {
            byte[] b = Long.toString(seq.incrementAndGet()).getBytes(StandardCharsets.US_ASCII);
            try {
                socket.send(new DatagramPacket(b, b.length, to));
            } catch (IOException e) {
                // no route or neighbour for a moment (the VIP is moving): the next probe tries again
            }
        }, 0, millis, TimeUnit.MILLISECONDS);
        byte[] buf = new byte[64];
        while (true) {
            DatagramPacket in = new DatagramPacket(buf, buf.length);
            try {
                socket.receive(in);
            } catch (IOException e) {
                continue; // an ICMP error reported on the socket; keep listening
            }
            long now = System.currentTimeMillis();
            out.println(now + " " + new String(buf, 0, in.getLength(), StandardCharsets.US_ASCII));
        }
    }
}
