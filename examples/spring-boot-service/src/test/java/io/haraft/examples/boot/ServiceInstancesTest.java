package io.haraft.examples.boot;

import io.haraft.examples.boot.ServiceInstances.View;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The readers of the service's JSON, as Jackson 2 (fields in declaration order) and Jackson 3 (sorted) write it. */
class ServiceInstancesTest {

    @Test
    void readsALeaderViewInEitherFieldOrder() {
        View leader = ServiceInstances.parse("{\"nodeId\":\"n2\",\"leaderId\":\"n2\",\"term\":7,\"leader\":true,"
                + "\"token\":7,\"jobRunning\":true,\"granted\":[3,7]}");
        assertThat(leader).isEqualTo(new View("n2", "n2", 7, true, 7L, true, List.of(3L, 7L)));

        View follower = ServiceInstances.parse("{\"granted\":[],\"jobRunning\":false,\"leader\":false,"
                + "\"leaderId\":null,\"nodeId\":\"n1\",\"term\":0,\"token\":null}");
        assertThat(follower).isEqualTo(new View("n1", null, 0, false, null, false, List.of()));

        assertThatThrownBy(() -> ServiceInstances.parse("{\"status\":404}")).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void findsTheHealthStatusOutsideTheComponents() {
        assertThat(ServiceInstances.topLevelStatus("{\"status\":\"UP\",\"components\":{\"db\":{\"status\":\"DOWN\"}}}"))
                .isEqualTo("UP");
        assertThat(ServiceInstances.topLevelStatus("{\"components\":{\"haraft\":{\"details\":{\"leader\":\"a\\\"b\"},"
                + "\"status\":\"UP\"}},\"groups\":[\"status\"],\"status\":\"DOWN\"}")).isEqualTo("DOWN");
        assertThatThrownBy(() -> ServiceInstances.topLevelStatus("{\"components\":{\"db\":{\"status\":\"UP\"}}}"))
                .isInstanceOf(IllegalStateException.class);
    }
}
