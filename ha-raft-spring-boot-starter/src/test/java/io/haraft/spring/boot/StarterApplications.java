package io.haraft.spring.boot;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.springframework.boot.Banner;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;

/**
 * Spring Boot applications in this JVM that have nothing but the starter (and what the test class
 * path brings), each with its own node on a loopback port.
 */
final class StarterApplications {

    private StarterApplications() {
    }

    /**
     * An application whose node is {@code id} of {@code clusterId}, with the given members, its data
     * under {@code dir}, and an election timeout long enough that leadership does not move under the
     * load of a shared build machine; not run yet.
     */
    static SpringApplicationBuilder node(String clusterId, String id, Map<String, String> members, Path dir) {
        Map<String, Object> properties = new HashMap<>();
        properties.put("haraft.cluster-id", clusterId);
        properties.put("haraft.node-id", id);
        members.forEach((m, address) -> properties.put("haraft.members." + m, address));
        properties.put("haraft.data-dir", dir.resolve(id).toString());
        properties.put("haraft.election-timeout", "2s");
        return new SpringApplicationBuilder(ThreeApplicationsClusterTest.App.class).web(WebApplicationType.NONE)
                .bannerMode(Banner.Mode.OFF).logStartupInfo(false).registerShutdownHook(false)
                .properties(properties);
    }
}
