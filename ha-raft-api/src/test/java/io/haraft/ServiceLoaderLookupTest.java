package io.haraft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.haraft.spi.RaftNodeFactory;
import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Exercises {@link RaftNode.Builder#build()} through the real {@link java.util.ServiceLoader}. */
public class ServiceLoaderLookupTest {

    @TempDir
    Path tmp;

    /** Registered through a services file written at test time. */
    public static final class Provider implements RaftNodeFactory {
        @Override
        public RaftNode create(RaftConfig config, LeadershipListener listener, StateMachine stateMachine) {
            return new RaftNodeBuilderTest.FakeNode(config);
        }
    }

    private RaftNode buildWithServices(String servicesFileContent) throws IOException {
        Path services = Files.createDirectories(tmp.resolve("cp/META-INF/services"));
        Files.writeString(services.resolve(RaftNodeFactory.class.getName()), servicesFileContent);
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        try (URLClassLoader loader = new URLClassLoader(new URL[] {tmp.resolve("cp").toUri().toURL()}, previous)) {
            thread.setContextClassLoader(loader);
            return RaftNode.builder().clusterId("c").nodeId("n1").member("n1", "127.0.0.1:7001")
                    .dataDir(tmp.resolve("data")).build();
        } finally {
            thread.setContextClassLoader(previous);
        }
    }

    @Test
    void findsTheRegisteredImplementation() throws IOException {
        RaftNode node = buildWithServices(Provider.class.getName() + "\n");
        assertThat(node).isInstanceOf(RaftNodeBuilderTest.FakeNode.class);
        assertThat(node.config().nodeId()).isEqualTo("n1");
    }

    @Test
    void aBrokenRegistrationIsExplained() {
        assertThatThrownBy(() -> buildWithServices("io.haraft.DoesNotExist\n"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("is on the class path but cannot be loaded")
                .hasMessageContaining("same version as ha-raft-api (0.1.0-SNAPSHOT)");
    }
}
