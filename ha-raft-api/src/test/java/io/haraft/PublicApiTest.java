package io.haraft;

import io.haraft.apicheck.ApiSignature;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The public API of ha-raft-api is the one committed in {@code api/ha-raft-api.api}: a change to
 * that file is a reviewed API change (docs/contributing.md).
 */
class PublicApiTest {

    @Test
    void publicApiIsTheCommittedOne() {
        List<String> api = ApiSignature.ofModule(RaftNode.class, "io.haraft", "io.haraft.spi", "io.haraft.metrics");

        // the classes were found: an empty list must not be accepted as "no change"
        assertThat(api).contains("io.haraft.RaftNode type: public interface extends java.lang.AutoCloseable");
        ApiSignature.check(Path.of(System.getProperty("basedir", "."), "api", "ha-raft-api.api"), api,
                "mvn -B -pl ha-raft-api test -Dtest=PublicApiTest -Dharaft.api.accept=true");
    }
}
