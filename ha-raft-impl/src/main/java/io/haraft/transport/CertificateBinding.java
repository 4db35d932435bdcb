package io.haraft.transport;

import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.cert.Certificate;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;

/**
 * Which node a peer's TLS certificate may speak for.
 *
 * <p><b>The rule.</b> A certificate speaks for node {@code id}, reached at (or configured with)
 * host {@code host}, when its subject alternative names
 * <ol>
 *   <li>contain a DNS name or a URI equal to {@code id} (DNS names compare case-insensitively), or</li>
 *   <li>name no other member's id that way, and contain a DNS name equal to {@code host} or, if
 *       {@code host} is an IP literal, an IP address equal to it.</li>
 * </ol>
 * So a certificate issued for a node id speaks for that node alone; a certificate that names only
 * hosts (as host-name verification asks) speaks for the members configured on those hosts, which
 * cannot tell apart several nodes that share one host. The subject's common name is not used.
 * Wildcard names are not expanded. Pure functions; thread-safe.
 */
final class CertificateBinding {
    private static final int DNS = 2;
    private static final int URI = 6;
    private static final int IP = 7;

    private CertificateBinding() {
    }

    /** One subject alternative name: its type ("DNS", "URI" or "IP") and value. */
    record Name(String type, String value) {
        @Override
        public String toString() {
            return type + ":" + value;
        }
    }

    /** The DNS, URI and IP subject alternative names of {@code cert}, in order. */
    static List<Name> names(X509Certificate cert) {
        List<Name> names = new ArrayList<>();
        Collection<List<?>> sans;
        try {
            sans = cert.getSubjectAlternativeNames();
        } catch (CertificateParsingException e) {
            return names;
        }
        if (sans == null) {
            return names;
        }
        for (List<?> san : sans) {
            if (san.size() < 2 || !(san.get(0) instanceof Integer type) || !(san.get(1) instanceof String value)) {
                continue;
            }
            switch (type) {
                case DNS -> names.add(new Name("DNS", value));
                case URI -> names.add(new Name("URI", value));
                case IP -> names.add(new Name("IP", value));
                default -> { }
            }
        }
        return names;
    }

    /**
     * Why {@code cert} may not speak for node {@code id} at {@code host} (null: it may), given the
     * ids of the other members this node knows.
     */
    static String problem(X509Certificate cert, String id, String host, Set<String> otherIds) {
        List<Name> names = names(cert);
        for (Name n : names) {
            if (namesId(n, id)) {
                return null;
            }
        }
        for (Name n : names) {
            for (String other : otherIds) {
                if (!other.equals(id) && namesId(n, other)) {
                    return "its certificate (" + describe(cert, names) + ") belongs to node '" + other
                            + "', not to '" + id + "'";
                }
            }
        }
        if (host != null && !host.isEmpty()) {
            for (Name n : names) {
                if (n.type().equals("DNS") && n.value().equalsIgnoreCase(host)
                        || n.type().equals("IP") && sameIp(n.value(), host)) {
                    return null;
                }
            }
        }
        return "its certificate (" + describe(cert, names) + ") names neither the node id '" + id + "' nor its host '"
                + host + "'";
    }

    /** The leaf certificate of {@code session}'s peer, or null if there is none (plain TCP). */
    static X509Certificate peerLeaf(SSLSession session) {
        if (session == null) {
            return null;
        }
        try {
            Certificate[] chain = session.getPeerCertificates();
            return chain.length > 0 && chain[0] instanceof X509Certificate x ? x : null;
        } catch (SSLPeerUnverifiedException e) {
            return null;
        }
    }

    static String describe(X509Certificate cert, List<Name> names) {
        return "subject '" + GrpcTransport.shown(cert.getSubjectX500Principal().getName(), 200) + "', alternative names "
                + (names.isEmpty() ? "none" : GrpcTransport.shown(names.toString(), 400));
    }

    private static boolean namesId(Name n, String id) {
        return n.type().equals("DNS") && n.value().equalsIgnoreCase(id) || n.type().equals("URI") && n.value().equals(id);
    }

    private static boolean sameIp(String san, String host) {
        String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        if (!isIpLiteral(h) || !isIpLiteral(san)) {
            return false;
        }
        try {
            return InetAddress.getByName(san).equals(InetAddress.getByName(h));
        } catch (UnknownHostException e) {
            return false;
        }
    }

    /** Literal IPv4 or IPv6 (so that {@link InetAddress#getByName} does not resolve a name). */
    private static boolean isIpLiteral(String s) {
        return s.contains(":") ? s.matches("[0-9a-fA-F:.%]+") : s.matches("\\d{1,3}(\\.\\d{1,3}){3}");
    }

}
