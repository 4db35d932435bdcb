package io.haraft.micrometer;

import io.haraft.apicheck.ApiSignature;
import org.junit.jupiter.api.Test;

/**
 * The public API of ha-raft-micrometer is the one committed in {@code api/ha-raft-micrometer.api}:
 * a change to that file is a reviewed API change (docs/contributing.md).
 */
class PublicApiTest {

    @Test
    void publicApiIsTheCommittedOne() {
        ApiSignature.checkModule("ha-raft-micrometer",
                "mvn -B -pl ha-raft-micrometer -am package -Dtest=PublicApiTest -Dharaft.api.accept=true",
                MicrometerRaftMetrics.class, "io.haraft.micrometer");
    }
}
