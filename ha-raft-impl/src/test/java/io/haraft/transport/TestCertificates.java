package io.haraft.transport;

import io.haraft.TlsConfig;

import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Makes certificate authorities and node certificates for TLS tests, at test time, with the JDK's
 * own {@code keytool} (no extra library, no openssl): keys are RSA 2048, certificates are valid for
 * two days for {@code localhost} and {@code 127.0.0.1} (or the subject alternative names given),
 * and carry both server and client usage.
 *
 * <pre>{@code
 * TestCertificates.Authority ca = TestCertificates.authority(tempDir, "ca1");
 * TlsConfig n1 = ca.issue("n1");      // chain = n1 + ca1, PKCS#8 key, trust = ca1
 * }</pre>
 *
 * <p>Not thread-safe per directory; each call runs {@code keytool} processes (about a second).
 */
public final class TestCertificates {
    private static final String PASSWORD = "changeit";

    private TestCertificates() {
    }

    /** A certificate authority whose files live in {@code dir}. */
    public record Authority(Path dir, String name, Path keystore, Path certificate) {

        /** A node certificate signed by this authority; the node trusts this authority only. */
        public TlsConfig issue(String node) {
            return issue(node, certificate);
        }

        /**
         * A node certificate signed by this authority, with {@code trust} as the node's trust file
         * (e.g. {@link TestCertificates#bundle} of several authorities).
         */
        public TlsConfig issue(String node, Path trust) {
            return issue(node, trust, "dns:localhost,ip:127.0.0.1");
        }

        /**
         * A node certificate signed by this authority with the given subject alternative names, in
         * keytool's syntax (e.g. {@code "dns:n1,dns:localhost,ip:127.0.0.1"}).
         */
        public TlsConfig issue(String node, Path trust, String subjectAlternativeNames) {
            Path nodeStore = dir.resolve(node + ".p12");
            Path csr = dir.resolve(node + ".csr");
            Path cert = dir.resolve(node + ".crt");
            keytool("-genkeypair", "-keystore", nodeStore.toString(), "-storetype", "PKCS12", "-storepass", PASSWORD,
                    "-alias", node, "-dname", "CN=" + node, "-keyalg", "RSA", "-keysize", "2048", "-validity", "2");
            keytool("-certreq", "-keystore", nodeStore.toString(), "-storepass", PASSWORD, "-alias", node,
                    "-file", csr.toString());
            keytool("-gencert", "-keystore", keystore.toString(), "-storepass", PASSWORD, "-alias", name,
                    "-infile", csr.toString(), "-outfile", cert.toString(), "-rfc", "-validity", "2",
                    "-ext", "SAN=" + subjectAlternativeNames,
                    "-ext", "KU=digitalSignature,keyEncipherment",
                    "-ext", "EKU=serverAuth,clientAuth");
            try {
                Path chain = dir.resolve(node + "-chain.pem");
                Files.writeString(chain, Files.readString(cert) + Files.readString(certificate));
                Path key = dir.resolve(node + ".key");
                Files.writeString(key, privateKeyPem(nodeStore, node));
                return new TlsConfig(chain, key, trust);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** A new self-signed authority named {@code name} in {@code dir}. */
    public static Authority authority(Path dir, String name) {
        Path store = dir.resolve(name + ".p12");
        Path cert = dir.resolve(name + ".crt");
        keytool("-genkeypair", "-keystore", store.toString(), "-storetype", "PKCS12", "-storepass", PASSWORD,
                "-alias", name, "-dname", "CN=" + name, "-keyalg", "RSA", "-keysize", "2048", "-validity", "2",
                "-ext", "bc:c", "-ext", "KU=keyCertSign,cRLSign");
        keytool("-exportcert", "-keystore", store.toString(), "-storepass", PASSWORD, "-alias", name,
                "-rfc", "-file", cert.toString());
        return new Authority(dir, name, store, cert);
    }

    /** One PEM file holding the certificates of several authorities. */
    public static Path bundle(Path file, Authority... authorities) {
        StringBuilder pem = new StringBuilder();
        try {
            for (Authority a : authorities) {
                pem.append(Files.readString(a.certificate()));
            }
            Files.writeString(file, pem);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String privateKeyPem(Path store, String alias) {
        try (InputStream in = new FileInputStream(store.toFile())) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(in, PASSWORD.toCharArray());
            Key key = ks.getKey(alias, PASSWORD.toCharArray());
            // getEncoded() of an RSA private key is PKCS#8.
            return "-----BEGIN PRIVATE KEY-----\n"
                    + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(key.getEncoded())
                    + "\n-----END PRIVATE KEY-----\n";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot read the key of " + alias + " from " + store, e);
        }
    }

    private static void keytool(String... args) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        command.add("-noprompt");
        command.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            byte[] output = p.getInputStream().readAllBytes();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("keytool did not finish: " + command);
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException("keytool failed (" + p.exitValue() + "): " + command + "\n"
                        + new String(output, StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running keytool", e);
        }
    }
}
