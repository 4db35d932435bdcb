package io.haraft.transport;

import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.haraft.RaftConfigException;
import io.haraft.TlsConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.Date;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads and checks a node's TLS files, and builds the server and client contexts of mutual TLS.
 *
 * <p><b>Guarantees.</b> {@link #load} parses the certificate chain, the private key and the trust
 * certificates and checks that the key belongs to the chain's first certificate (by signing and
 * verifying a sample), so a wrong file fails the node's start with a {@link RaftConfigException}
 * that names the files and the fix, never later inside a connection. It warns (once, at start)
 * when the node's own certificate is outside its validity period or would not speak for this node
 * under {@link CertificateBinding}'s rule, since peers would then refuse it. Stateless; thread-safe.
 */
final class TlsSetup {
    private static final Logger log = LoggerFactory.getLogger(GrpcTransport.class);
    private static final Pattern PEM = Pattern.compile("-----BEGIN ([A-Z0-9 ]+)-----([^-]*)-----END \\1-----");

    /** The contexts of one node: both sides require and check the other's certificate. */
    record Contexts(SslContext server, SslContext client) { }

    private TlsSetup() {
    }

    /**
     * Checks the files of {@code tls} for node {@code nodeId} listening on {@code host} and builds
     * the contexts.
     *
     * @throws RaftConfigException if a file cannot be parsed, the key does not match the
     *                             certificate, or the TLS library refuses them
     */
    static Contexts load(TlsConfig tls, String nodeId, String host) {
        List<X509Certificate> chain = certificates(tls.certificateChain(), "certificate chain");
        List<X509Certificate> trust = certificates(tls.trustCertificates(), "trust certificates");
        PrivateKey key = privateKey(tls.privateKey(), chain.get(0), tls.certificateChain());
        checkKeyMatches(key, chain.get(0), tls);
        warnAboutOwnCertificate(chain.get(0), tls.certificateChain(), nodeId, host, trust, tls.trustCertificates());
        try {
            SslContext server = GrpcSslContexts.forServer(tls.certificateChain().toFile(), tls.privateKey().toFile())
                    .trustManager(tls.trustCertificates().toFile())
                    .clientAuth(ClientAuth.REQUIRE)
                    .build();
            SslContext client = GrpcSslContexts.forClient()
                    .keyManager(tls.certificateChain().toFile(), tls.privateKey().toFile())
                    .trustManager(tls.trustCertificates().toFile())
                    .build();
            return new Contexts(server, client);
        } catch (IOException | RuntimeException e) {
            throw new RaftConfigException("The TLS files of node " + nodeId + " (certificate chain "
                    + tls.certificateChain() + ", private key " + tls.privateKey() + ", trust certificates "
                    + tls.trustCertificates() + ") were refused by the TLS library: " + rootMessage(e) + ".",
                    "Check that they are PEM files: the chain with this node's certificate first, an unencrypted"
                            + " PKCS#8 key, and the CA certificates that sign the peers' certificates.", e);
        }
    }

    private static List<X509Certificate> certificates(Path file, String role) {
        List<X509Certificate> certs = new ArrayList<>();
        try (InputStream in = Files.newInputStream(file)) {
            Collection<? extends Certificate> all = CertificateFactory.getInstance("X.509").generateCertificates(in);
            for (Certificate c : all) {
                if (c instanceof X509Certificate x) {
                    certs.add(x);
                }
            }
        } catch (IOException | CertificateException e) {
            throw new RaftConfigException("The TLS " + role + " file " + file + " cannot be read as PEM certificates: "
                    + rootMessage(e) + ".", "Give a PEM file of '-----BEGIN CERTIFICATE-----' blocks"
                    + " (check it with: openssl x509 -noout -text -in " + file + ").", e);
        }
        if (certs.isEmpty()) {
            throw new RaftConfigException("The TLS " + role + " file " + file + " holds no certificate.",
                    "Give a PEM file of '-----BEGIN CERTIFICATE-----' blocks.");
        }
        return certs;
    }

    private static PrivateKey privateKey(Path file, X509Certificate leaf, Path chainFile) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new RaftConfigException("The TLS private key file " + file + " cannot be read: " + e.getMessage() + ".",
                    "Let the user running this JVM read it (owner-only, e.g. chmod 400).", e);
        } catch (RuntimeException e) {
            text = "";
        }
        Matcher m = PEM.matcher(text);
        if (!m.find()) {
            throw new RaftConfigException("The TLS private key file " + file + " holds no PEM block.",
                    "Give the node's private key as an unencrypted PKCS#8 PEM file ('-----BEGIN PRIVATE KEY-----').");
        }
        String type = m.group(1);
        if (!type.equals("PRIVATE KEY")) {
            String fix = type.equals("ENCRYPTED PRIVATE KEY")
                    ? "Keys protected by a password are not supported: decrypt it into a file only the service user"
                      + " can read: openssl pkcs8 -topk8 -nocrypt -in " + file + " -out node.key"
                    : "Convert it to PKCS#8: openssl pkcs8 -topk8 -nocrypt -in " + file + " -out node.key";
            throw new RaftConfigException("The TLS private key file " + file + " holds a '" + type
                    + "' block, not an unencrypted PKCS#8 'PRIVATE KEY'.", fix);
        }
        byte[] der;
        try {
            der = Base64.getMimeDecoder().decode(m.group(2).trim());
        } catch (IllegalArgumentException e) {
            throw new RaftConfigException("The TLS private key file " + file + " is not valid base64 PEM.",
                    "Give the node's private key as an unencrypted PKCS#8 PEM file.", e);
        }
        String algorithm = leaf.getPublicKey().getAlgorithm();
        try {
            return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
        } catch (GeneralSecurityException e) {
            throw new RaftConfigException("The TLS private key " + file + " is not a " + algorithm
                    + " key, but the certificate in " + chainFile + " (" + subject(leaf) + ") holds a " + algorithm
                    + " public key: the key does not belong to the certificate.",
                    "Give the private key that was created together with this certificate, or the certificate"
                            + " issued for this key.", e);
        }
    }

    private static void checkKeyMatches(PrivateKey key, X509Certificate leaf, TlsConfig tls) {
        String algorithm = signatureAlgorithm(key.getAlgorithm());
        if (algorithm == null) {
            return;   // an unusual key type: the TLS library checks it when it is used
        }
        boolean matches;
        try {
            byte[] sample = "ha-raft key check".getBytes(StandardCharsets.US_ASCII);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(sample);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            PublicKey publicKey = leaf.getPublicKey();
            verifier.initVerify(publicKey);
            verifier.update(sample);
            matches = verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            matches = false;
        }
        if (!matches) {
            throw new RaftConfigException("The TLS private key " + tls.privateKey() + " does not belong to the"
                    + " certificate " + tls.certificateChain() + " (" + subject(leaf) + "): each node needs the key"
                    + " that was created together with its own certificate.",
                    "Give the matching pair; these two commands must print the same key: openssl x509 -noout"
                            + " -pubkey -in " + tls.certificateChain() + " and openssl pkey -pubout -in "
                            + tls.privateKey() + ".");
        }
    }

    private static String signatureAlgorithm(String keyAlgorithm) {
        return switch (keyAlgorithm) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            case "Ed25519", "EdDSA" -> "Ed25519";
            case "Ed448" -> "Ed448";
            case "DSA" -> "SHA256withDSA";
            default -> null;
        };
    }

    private static void warnAboutOwnCertificate(X509Certificate leaf, Path chainFile, String nodeId, String host,
                                                List<X509Certificate> trust, Path trustFile) {
        Date now = new Date();
        if (now.after(leaf.getNotAfter()) || now.before(leaf.getNotBefore())) {
            log.warn("The TLS certificate of node {} in {} is valid only from {} to {}: peers refuse it outside that"
                    + " period; issue a new one", nodeId, chainFile, leaf.getNotBefore(), leaf.getNotAfter());
        }
        String problem = CertificateBinding.problem(leaf, nodeId, host, Set.of());
        if (problem != null) {
            log.warn("The TLS certificate of node {} in {}: {}; peers will refuse this node's connections. Issue it"
                    + " with the subject alternative name DNS:{} (see the security documentation)", nodeId, chainFile,
                    problem, nodeId);
        }
        boolean signedByTrusted = false;
        for (X509Certificate ca : trust) {
            if (ca.getSubjectX500Principal().equals(leaf.getIssuerX500Principal())) {
                signedByTrusted = true;
                break;
            }
        }
        if (!signedByTrusted && trust.stream().noneMatch(leaf::equals)) {
            log.info("The TLS certificate of node {} ({}) is issued by '{}', which is not among the trust certificates"
                    + " in {}: fine if an intermediate in the chain is, otherwise peers that trust the same file will"
                    + " refuse it", nodeId, subject(leaf), leaf.getIssuerX500Principal().getName(), trustFile);
        }
    }

    private static String subject(X509Certificate cert) {
        return "subject '" + cert.getSubjectX500Principal().getName() + "'";
    }

    private static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getClass().getSimpleName() + ": " + root.getMessage();
    }
}
