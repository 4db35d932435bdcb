package io.haraft.vip.daemon;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The drain of a daemon with several VIPs, on node n1 of three (the others need not run; no VIP
 * holder, no {@code ip}), with real gRPC and real files: it survives a restart of the daemon until
 * undrain, and a drain that cannot be recorded in the data directory is answered with
 * {@code ERROR} and what to fix, not with a dropped connection.
 */
class VipGroupsDrainTest {
    @TempDir
    Path dir;

    private final List<String> lines = new ArrayList<>();
    private final MembershipCommands.Out out = new MembershipCommands.Out() {
        @Override
        public void info(String line) {
            lines.add(line);
        }

        @Override
        public void leader(String id, String address) {
        }
    };
    private final String members = "n1=127.0.0.1:" + AdminCluster.freePort() + ",n2=127.0.0.1:"
            + AdminCluster.freePort() + ",n3=127.0.0.1:" + AdminCluster.freePort();
    private VipGroups running;

    @AfterEach
    void close() {
        if (running != null) {
            running.close();
        }
    }

    /** The daemon of n1 with two VIPs, started anew on its data directory (without VIP holders). */
    private VipGroups restart() {
        if (running != null) {
            running.close();
        }
        DaemonConfig c = DaemonConfig.parse(dir.resolve("n1.properties"), "cluster.id = drain-vip\nnode.id = n1\n"
                + "members = " + members + "\ndata.dir = " + dir.resolve("data") + "\nheartbeat.ms = 100\n"
                + "election.ms = 1000\nvip.web-1.address = 192.0.2.51/24\nvip.web-2.address = 192.0.2.52/24\n"
                + "interface = eth0\n", new ArrayList<>());
        running = VipGroups.create(c, Map.of());
        running.start();
        return running;
    }

    private String statusLine(VipGroups g) {
        lines.clear();
        g.status(out);
        return lines.get(0);
    }

    @Test
    void aDrainSurvivesARestartOfTheDaemonUntilUndrain() {
        VipGroups g = restart();
        assertThat(statusLine(g)).contains("not drained");
        AdminReply drained = g.drain(out);
        assertThat(drained.kind()).as(drained.toString()).isEqualTo(AdminReply.Kind.OK);
        assertThat(drained.text()).isEqualTo("node n1 is drained and leads no group: it holds no VIP until undrain,"
                + " also after a restart of this daemon");

        g = restart();
        assertThat(statusLine(g)).contains("DRAINED");
        assertThat(g.undrain(out).kind()).isEqualTo(AdminReply.Kind.OK);

        g = restart();
        assertThat(statusLine(g)).contains("not drained");
    }

    @Test
    void aDrainThatCannotBeRecordedIsAnsweredWithErrorAndWhatToFix() throws Exception {
        VipGroups g = restart();
        Files.createDirectories(dir.resolve("data").resolve("drained.tmp").resolve("in-the-way"));
        AdminReply r = g.drain(out);
        assertThat(r.kind()).as(r.toString()).isEqualTo(AdminReply.Kind.FAILED);
        assertThat(r.code()).isEqualTo(AdminReply.ERROR);
        assertThat(r.text()).startsWith("node n1 is drained now, but recording the drain in " + dir.resolve("data")
                .resolve("drained").toAbsolutePath() + " failed").endsWith("then call drain() again to record it (with"
                + " ha-vipd: admin drain)");
        assertThat(statusLine(g)).contains("DRAINED");
    }
}
