package io.haraft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TlsConfigTest {

    @TempDir
    Path tmp;
    Path cert;
    Path key;
    Path ca;

    @BeforeEach
    void files() throws IOException {
        cert = Files.writeString(tmp.resolve("node.crt"), "cert");
        key = Files.writeString(tmp.resolve("node.key"), "key");
        ca = Files.writeString(tmp.resolve("ca.crt"), "ca");
    }

    @Test
    void readableFilesAreAccepted() {
        TlsConfig tls = new TlsConfig(cert, key, ca);
        assertThat(tls.certificateChain()).isEqualTo(cert.toAbsolutePath());
        assertThat(tls.privateKey()).isEqualTo(key.toAbsolutePath());
        assertThat(tls.trustCertificates()).isEqualTo(ca.toAbsolutePath());
    }

    @Test
    void missingFileIsNamedWithItsRole() {
        Path missing = tmp.resolve("nope.key");
        assertThatThrownBy(() -> new TlsConfig(cert, missing, ca))
                .isInstanceOf(RaftConfigException.class)
                .hasMessageContaining("private key file " + missing.toAbsolutePath() + " does not exist")
                .hasMessageContaining("Check the path");
    }

    @Test
    void directoryIsRefused() {
        assertThatThrownBy(() -> new TlsConfig(cert, key, tmp))
                .isInstanceOf(RaftConfigException.class)
                .hasMessageContaining("trust certificates path")
                .hasMessageContaining("is not a regular file");
    }

    @Test
    void nullPathIsRefused() {
        assertThatThrownBy(() -> new TlsConfig(null, key, ca))
                .isInstanceOf(RaftConfigException.class)
                .hasMessageContaining("certificate chain path is missing");
    }
}
