package io.haraft.fencing;

import io.haraft.apicheck.ApiSignature;
import io.haraft.fencing.jdbc.JdbcFence;
import org.junit.jupiter.api.Test;

/**
 * The public API of ha-raft-fencing is the one committed in {@code api/ha-raft-fencing.api}: a
 * change to that file is a reviewed API change (docs/contributing.md).
 */
class PublicApiTest {

    @Test
    void publicApiIsTheCommittedOne() {
        ApiSignature.checkModule("ha-raft-fencing",
                "mvn -B -pl ha-raft-fencing -am package -Dtest=PublicApiTest -Dharaft.api.accept=true",
                JdbcFence.class, "io.haraft.fencing.jdbc", "io.haraft.fencing.job");
    }
}
