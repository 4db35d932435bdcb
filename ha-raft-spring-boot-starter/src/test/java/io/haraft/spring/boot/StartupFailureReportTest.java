package io.haraft.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.Banner;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.diagnostics.FailureAnalysisReporter;

/**
 * What a user sees when a property is wrong: a real Spring Boot start fails, and Spring Boot's
 * failure report (recorded by a reporter registered in this module's test resources) says what is
 * wrong and what to do, with the property's name.
 */
class StartupFailureReportTest {

    /** Records the analyses Spring Boot reports; registered in META-INF/spring.factories of the tests. */
    public static class Recorder implements FailureAnalysisReporter {
        static final List<FailureAnalysis> REPORTED = new CopyOnWriteArrayList<>();

        @Override
        public void report(FailureAnalysis analysis) {
            REPORTED.add(analysis);
        }
    }

    @TempDir
    Path dir;

    @Test
    void aWrongPropertyIsReportedAsDescriptionAndAction() {
        Recorder.REPORTED.clear();
        SpringApplicationBuilder app = new SpringApplicationBuilder(ThreeApplicationsClusterTest.App.class)
                .web(WebApplicationType.NONE).bannerMode(Banner.Mode.OFF).logStartupInfo(false)
                .registerShutdownHook(false)
                .properties("haraft.cluster-id=orders", "haraft.node-id=n1", "haraft.members.n1=127.0.0.1:7101",
                        "haraft.members.n2=127.0.0.1:7102", "haraft.data-dir=" + dir);
        assertThatThrownBy(app::run).hasRootCauseInstanceOf(io.haraft.RaftConfigException.class);
        assertThat(Recorder.REPORTED).hasSize(1);
        FailureAnalysis analysis = Recorder.REPORTED.get(0);
        assertThat(analysis.getDescription()).startsWith("The HA-Raft node is not configured correctly: 2 voters"
                + " are configured [n1, n2]");
        assertThat(analysis.getAction()).contains("add a witness").contains("haraft.members.n1=127.0.0.1:7101,"
                + " haraft.members.n2=127.0.0.1:7102, haraft.witnesses.w1=host3:port.");
    }
}
