package io.haraft.vip.daemon;

import io.haraft.RaftConfig;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.regex.Pattern;

/**
 * Where a daemon serves its admin endpoint ({@link AdminServer}) and where {@code ha-vipd admin}
 * finds it: the keys {@code admin.bind} (default {@code 127.0.0.1}) and {@code admin.port}
 * (default: the node's Raft port + {@value #PORT_OFFSET}).
 *
 * <p>Immutable. The bind address is an IP literal (never a DNS lookup).
 *
 * @param bind    the local address the endpoint listens on; a wildcard (0.0.0.0, ::) listens on all
 * @param port    its TCP port
 * @param portSet whether {@code admin.port} was set in the file (else it was derived)
 */
record AdminSettings(InetAddress bind, int port, boolean portSet) {

    /** The default admin port is the node's Raft port plus this. */
    static final int PORT_OFFSET = 1000;

    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(%[A-Za-z0-9_.-]+)?");

    /** The default bind address: IPv4 loopback. */
    static InetAddress defaultBind() {
        return InetAddress.getLoopbackAddress();
    }

    /**
     * Parses {@code admin.bind}: an IPv4 or IPv6 literal (brackets allowed).
     *
     * @throws IllegalArgumentException if it is not an IP literal
     */
    static InetAddress parseBind(String value) {
        String v = value.startsWith("[") && value.endsWith("]") ? value.substring(1, value.length() - 1) : value;
        boolean v4 = IPV4.matcher(v).matches()
                && java.util.Arrays.stream(v.split("\\.")).allMatch(octet -> Integer.parseInt(octet) <= 255);
        if (v4 || IPV6.matcher(v).matches()) {   // literals only: getByName does no DNS lookup for them
            try {
                return InetAddress.getByName(v);
            } catch (UnknownHostException e) {
                // fall through to the message below
            }
        }
        throw new IllegalArgumentException("must be an IP address: 127.0.0.1 (loopback, the default), ::1, a"
                + " local address of this host, or 0.0.0.0 (every interface)");
    }

    /**
     * The default port for a node whose Raft port is {@code raftPort}.
     *
     * @return empty if it would be above 65535
     */
    static OptionalInt derivedPort(int raftPort) {
        int p = raftPort + PORT_OFFSET;
        return p <= 65535 ? OptionalInt.of(p) : OptionalInt.empty();
    }

    /** Whether only this host can reach the endpoint (it is bound to a loopback address). */
    boolean loopbackOnly() {
        return bind.isLoopbackAddress();
    }

    /** The address the endpoint listens on. */
    InetSocketAddress listenAddress() {
        return new InetSocketAddress(bind, port);
    }

    /** Where a client on this host connects: the bind address, or loopback for a wildcard bind. */
    InetSocketAddress connectAddress() {
        return new InetSocketAddress(bind.isAnyLocalAddress() ? InetAddress.getLoopbackAddress() : bind, port);
    }

    /**
     * The admin endpoint of another member's daemon, assuming that it is configured like this one
     * (the same {@code admin.port}, or the default derived from its own Raft port), if a client
     * here can reach it: either its host is a loopback address (it runs on this host), or this
     * daemon's endpoint is not loopback-only (so the cluster serves its endpoints on the network).
     */
    Optional<InetSocketAddress> endpointOf(RaftConfig.Member member) {
        boolean sameHost = isLoopbackName(member.host());
        if (!sameHost && loopbackOnly()) {
            return Optional.empty();
        }
        OptionalInt p = portSet ? OptionalInt.of(port) : derivedPort(member.port());
        if (p.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(InetSocketAddress.createUnresolved(member.host(), p.getAsInt()));
    }

    /** The admin port the daemon of a member would use, for messages. */
    String portDescription(RaftConfig.Member member) {
        if (portSet) {
            return String.valueOf(port);
        }
        OptionalInt p = derivedPort(member.port());
        return p.isPresent() ? String.valueOf(p.getAsInt()) : "its admin.port";
    }

    private static boolean isLoopbackName(String host) {
        String h = host.toLowerCase(Locale.ROOT);
        return h.equals("localhost") || (IPV4.matcher(h).matches() && h.startsWith("127."))
                || h.equals("::1") || h.equals("0:0:0:0:0:0:0:1");
    }

    /** For logs and {@code --check}. */
    String describe() {
        String where = bind.getHostAddress() + ":" + port + (portSet ? "" : " (default: Raft port + " + PORT_OFFSET + ")");
        if (loopbackOnly()) {
            return "admin endpoint " + where + ", loopback only: run ha-vipd admin on this host";
        }
        return "admin endpoint " + where + ", reachable from the network WITHOUT authentication: anyone who can"
                + " connect can change the cluster's members; firewall it to the cluster's hosts";
    }
}
