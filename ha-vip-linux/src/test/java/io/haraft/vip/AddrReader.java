package io.haraft.vip;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code ip -o -n NS -batch -}, kept running, that says whether a namespace's {@code eth0} carries
 * an address (or which of several addresses it carries): each question writes {@code addr show dev eth0} and {@code addr show dev lo} (the end
 * marker) and reads the answer, a netlink dump taking well under a millisecond, instead of starting
 * a process per sample (tens of ms on a loaded 2-core machine). Only {@code addr} commands are
 * mixed: ip's batch mode keeps its filter between commands, and a {@code link show} in between
 * changes what {@code addr show} prints.
 *
 * <p>{@link #ask()} and {@link #answer()} are separate so that a sampler can put the question to
 * several namespaces first and then collect the answers: the dumps then run at nearly the same
 * instant. Not thread-safe; one thread per reader.
 */
final class AddrReader implements AutoCloseable {

    private final String ns;
    private final List<String> hosts;
    private final Process process;
    private final Writer in;
    private final BufferedReader out;

    /**
     * Starts the reader.
     *
     * @param ns   the namespace
     * @param hosts the addresses to look for, as {@code ip} prints them (192.0.2.50, 2001:db8::50), all of
     *              one family
     */
    AddrReader(String ns, String... hosts) {
        this.ns = ns;
        this.hosts = List.of(hosts);
        try {
            process = new ProcessBuilder(List.of("stdbuf", "-oL", NetnsLan.IP, "-o", hosts[0].contains(":") ? "-6" : "-4",
                    "-force", "-n", ns, "-batch", "-")).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new AssertionError("cannot start ip -batch for " + ns, e);
        }
        in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.US_ASCII);
        out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.US_ASCII));
    }

    String namespace() {
        return ns;
    }

    /** Puts the question; {@link #answer()} reads the reply. */
    void ask() throws IOException {
        in.write("addr show dev eth0\naddr show dev lo\n");
        in.flush();
    }

    /** Whether eth0 carried the (first) address when ip handled the last {@link #ask()}. */
    boolean answer() throws IOException {
        return answerAll().contains(hosts.get(0));
    }

    /** Which of the addresses eth0 carried when ip handled the last {@link #ask()}. */
    Set<String> answerAll() throws IOException {
        Set<String> held = new LinkedHashSet<>();
        String line;
        while ((line = out.readLine()) != null) {
            if (line.startsWith("1: lo")) { // loopback is interface 1 in every namespace
                return held;
            }
            for (String host : hosts) {
                if (line.contains(" " + host + "/")) {
                    held.add(host);
                }
            }
        }
        throw new IOException("ip -batch for " + ns + " ended");
    }

    /** {@link #ask()} then {@link #answer()}. */
    boolean holds() throws IOException {
        ask();
        return answer();
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }
}
