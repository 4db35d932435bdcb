package io.haraft.depstest;

import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import javax.xml.parsers.DocumentBuilderFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.JarFile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The published ha-raft-impl artifact: an application that depends on ha-raft-api and ha-raft-impl
 * gets three jars, and the impl jar carries its third-party code relocated under io.haraft.shaded,
 * native libraries and service files included.
 */
class ThreeJarsIT {
    private static final Set<String> THREE_JARS = Set.of("io.haraft:ha-raft-api", "io.haraft:ha-raft-impl", "org.slf4j:slf4j-api");

    @Test
    void anApplicationGetsExactlyThreeJarsAtRunTime() throws Exception {
        // written by maven-dependency-plugin:list (compile and runtime scope) in this build
        Path list = Path.of(System.getProperty("deps.runtime.list"));
        Set<String> resolved = new TreeSet<>();
        for (String line : Files.readAllLines(list)) {
            String[] coordinates = line.trim().split("\\s+")[0].split(":");
            if (coordinates.length >= 5) { // group:artifact:type[:classifier]:version:scope
                resolved.add(coordinates[0] + ":" + coordinates[1]);
            }
        }
        assertThat(resolved).as("the run-time dependencies Maven resolved for ha-raft-api + ha-raft-impl (%s)", list)
                .containsExactlyInAnyOrderElementsOf(THREE_JARS);
    }

    @Test
    void thePublishedImplPomDeclaresOnlyTheApiAndSlf4j() throws Exception {
        Path pom = Path.of(System.getProperty("deps.impl.pom"));
        var doc = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(pom.toFile());
        NodeList deps = doc.getElementsByTagName("dependency");
        List<String> runtime = new ArrayList<>();
        for (int i = 0; i < deps.getLength(); i++) {
            Element d = (Element) deps.item(i);
            if (d.getParentNode().getParentNode() != doc.getDocumentElement()) {
                continue; // in dependencyManagement or a plugin, not a dependency of the artifact
            }
            String scope = text(d, "scope");
            if (scope.isEmpty() || scope.equals("compile") || scope.equals("runtime")) {
                assertThat(text(d, "optional")).as("optional dependency in %s", pom).isNotEqualTo("true");
                runtime.add(text(d, "groupId") + ":" + text(d, "artifactId"));
            }
        }
        assertThat(runtime).as("compile and runtime dependencies of the dependency-reduced POM %s", pom)
                .containsExactlyInAnyOrder("io.haraft:ha-raft-api", "org.slf4j:slf4j-api");
    }

    @Test
    void theImplJarHoldsNoClassOutsideIoHaraft() {
        List<String> entries = ImplJar.entries();
        assertThat(entries).as("classes of ha-raft-impl").anyMatch(e -> e.startsWith("io/haraft/runtime/"));
        assertThat(entries).as("relocated gRPC, Netty, protobuf and Guava")
                .contains("io/haraft/shaded/io/grpc/Server.class",
                        "io/haraft/shaded/io/grpc/netty/shaded/io/netty/channel/epoll/Epoll.class",
                        "io/haraft/shaded/com/google/protobuf/Message.class",
                        "io/haraft/shaded/com/google/common/collect/ImmutableList.class");
        assertThat(entries.stream().filter(e -> e.endsWith(".class")))
                .as("classes of the impl jar outside io/haraft/ (an application's own versions would clash with them)")
                .allMatch(e -> e.startsWith("io/haraft/"));
        assertThat(entries).as(".proto files (an application's protoc build would pick them up)")
                .noneMatch(e -> e.endsWith(".proto"));
    }

    @Test
    void theApiAndTheShadedImplJarNameTheirModules() throws Exception {
        // an application on the module path requires them by these names
        assertThat(moduleName(ImplJar.path())).isEqualTo("io.haraft.impl");
        assertThat(moduleName(ImplJar.locationOf("io.haraft.RaftNode"))).isEqualTo("io.haraft.api");
    }

    private static String moduleName(Path jar) throws Exception {
        assertThat(jar.getFileName().toString()).as("a packaged jar, not a classes directory").endsWith(".jar");
        try (JarFile file = new JarFile(jar.toFile())) {
            return file.getManifest().getMainAttributes().getValue("Automatic-Module-Name");
        }
    }

    @Test
    void serviceFilesNameTheRelocatedClasses() {
        List<String> services = ImplJar.entries().stream().filter(e -> e.startsWith("META-INF/services/")).toList();
        assertThat(services).contains("META-INF/services/io.haraft.spi.RaftNodeFactory",
                "META-INF/services/io.haraft.shaded.io.grpc.ManagedChannelProvider",
                "META-INF/services/io.haraft.shaded.io.grpc.LoadBalancerProvider",
                "META-INF/services/io.haraft.shaded.io.grpc.NameResolverProvider");
        for (String s : services) {
            assertThat(s).as("service file name").startsWith("META-INF/services/io.haraft.");
            for (String line : ImplJar.read(s).split("\n")) {
                String impl = line.replaceAll("#.*", "").trim();
                if (!impl.isEmpty()) {
                    assertThat(impl).as("implementation named in %s", s).startsWith("io.haraft.");
                }
            }
        }
    }

    @Test
    void nettyLoadsItsNativeLibrariesUnderTheRelocatedNames() throws Exception {
        String os = System.getProperty("os.name").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch");
        assumeTrue(os.contains("linux") && Set.of("amd64", "x86_64", "aarch64").contains(arch),
                "the jar carries epoll for Linux on x86_64 and aarch64 only");
        assertThat(ImplJar.entries()).as("native libraries named after the relocated package")
                .anyMatch(e -> e.startsWith("META-INF/native/libio_haraft_shaded_io_grpc_netty_shaded_netty_transport_native_epoll_"))
                .noneMatch(e -> e.startsWith("META-INF/native/libio_grpc_netty_shaded_"));
        String netty = "io.haraft.shaded.io.grpc.netty.shaded.io.netty.";
        assertAvailable(netty + "channel.epoll.Epoll"); // the transport's event loops (else NIO)
        assertAvailable(netty + "handler.ssl.OpenSsl"); // TLS through BoringSSL (else the JDK's)
    }

    private static void assertAvailable(String className) throws Exception {
        Class<?> c = Class.forName(className);
        assertThat(ImplJar.locationOf(className)).isEqualTo(ImplJar.path());
        boolean available = (boolean) c.getMethod("isAvailable").invoke(null);
        Throwable cause = (Throwable) c.getMethod("unavailabilityCause").invoke(null);
        assertThat(available).as("%s.isAvailable(); unavailability cause: %s", className, cause).isTrue();
    }

    private static String text(Element parent, String tag) {
        NodeList l = parent.getElementsByTagName(tag);
        return l.getLength() == 0 ? "" : l.item(0).getTextContent().trim();
    }
}
