package io.haraft;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Mutual TLS between nodes: this node's certificate chain and private key, and the certificates
 * it trusts to sign its peers' certificates.
 *
 * <p><b>Guarantees.</b> With TLS configured, every node-to-node connection is encrypted and both
 * ends are authenticated: a peer whose certificate is not signed by a trusted certificate is
 * refused, on top of the cluster-id and node-id check that every connection makes. The
 * constructor checks that each file exists, is a regular file and is readable, so mistakes show
 * up when the configuration is built, not at the first connection. Immutable; no component is
 * {@code null}. Paths are made absolute.
 *
 * <pre>{@code
 * TlsConfig tls = new TlsConfig(Path.of("/etc/orders/tls/node.crt"),   // PEM, leaf first
 *                               Path.of("/etc/orders/tls/node.key"),   // PEM, PKCS#8
 *                               Path.of("/etc/orders/tls/ca.crt"));    // PEM, one or more
 * RaftNode.builder()...tls(tls)...build();
 * }</pre>
 *
 * <p><b>Certificates are bound to node ids.</b> A peer's certificate must speak for the node id it
 * claims: a subject alternative name (DNS or URI) equal to the node id, or, for a certificate that
 * names no member's id, a DNS name or IP address equal to the host in that member's address. Issue
 * each node a certificate with {@code DNS:<node id>} (plus its host, which host-name verification
 * asks for) so that one node's certificate cannot speak for another.
 *
 * <p><b>Limits.</b> The contents are parsed when the node starts, not here: a file that is not PEM,
 * a key that is not unencrypted PKCS#8 or does not belong to the certificate fails
 * {@link RaftNode#start()} with a {@link RaftConfigException} naming the files. Files are read once
 * at start; rotating certificates needs a restart. Keep the key file readable by the service
 * user only.
 *
 * @param certificateChain  PEM file with this node's certificate, followed by any intermediates
 * @param privateKey        PEM file with the private key of that certificate (PKCS#8)
 * @param trustCertificates PEM file with the CA certificates that sign the peers' certificates
 */
public record TlsConfig(Path certificateChain, Path privateKey, Path trustCertificates) {

    /**
     * Checks that the three files can be read.
     *
     * @throws RaftConfigException if a path is null, or a file is missing, not a regular file or
     *                             not readable; the message names the file and its role
     */
    public TlsConfig {
        certificateChain = checkFile("certificate chain", certificateChain);
        privateKey = checkFile("private key", privateKey);
        trustCertificates = checkFile("trust certificates", trustCertificates);
    }

    private static Path checkFile(String role, Path path) {
        if (path == null) {
            throw new RaftConfigException("The TLS " + role + " path is missing (null).",
                    "Give the path of the PEM file holding the " + role + ".");
        }
        Path absolute = path.toAbsolutePath();
        if (!Files.exists(absolute)) {
            throw new RaftConfigException("The TLS " + role + " file " + absolute + " does not exist.",
                    "Check the path, or create the file (PEM format), before building the node.");
        }
        if (!Files.isRegularFile(absolute)) {
            throw new RaftConfigException("The TLS " + role + " path " + absolute + " is not a regular file.",
                    "Point it at the PEM file itself, not at a directory.");
        }
        if (!Files.isReadable(absolute)) {
            throw new RaftConfigException("The TLS " + role + " file " + absolute
                    + " is not readable by this process.",
                    "Let the user running this JVM read it (for a private key: owner-only read, e.g. chmod 400).");
        }
        return absolute;
    }
}
