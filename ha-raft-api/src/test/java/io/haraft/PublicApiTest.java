package io.haraft;

import io.haraft.apicheck.ApiSignature;
import org.junit.jupiter.api.Test;

/**
 * The public API of ha-raft-api is the one committed in {@code api/ha-raft-api.api}: a change to
 * that file is a reviewed API change (docs/contributing.md).
 */
class PublicApiTest {

    @Test
    void publicApiIsTheCommittedOne() {
        ApiSignature.checkModule("ha-raft-api",
                "mvn -B -pl ha-raft-api test -Dtest=PublicApiTest -Dharaft.api.accept=true",
                RaftNode.class, "io.haraft", "io.haraft.spi", "io.haraft.metrics");
    }
}
