package io.haraft.vip.daemon;

import io.haraft.MemberRole;
import io.haraft.vip.Await;
import io.haraft.vip.daemon.AdminCluster.Run;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;

import static io.haraft.vip.daemon.AdminCluster.WAIT;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code ha-vipd admin} end to end: real nodes over gRPC on loopback, each with the admin endpoint
 * its config file names, driven through the command line entry point {@link VipDaemon#run}.
 */
class AdminCliTest {

    @TempDir
    Path dir;

    @Test
    void growThreeToFourFromAFollowerThenStatusThenRemove() {
        try (AdminCluster c = new AdminCluster(dir).startVoters()) {
            String follower = c.follower();
            c.start("n4", MemberRole.LEARNER);

            Run add = c.admin(follower, "add", "n4=" + c.address("n4"));
            assertThat(add.code()).as(add.toString()).isZero();
            assertThat(add.out()).as(add.toString())
                    .containsPattern("node " + follower + " is not the leader; sending the command to the leader n\\d's"
                            + " daemon at " + java.util.regex.Pattern.quote(c.socketDir() + "/admin-test-") + "n\\d\\.sock")
                    .contains("n4 at " + c.address("n4") + " is a member as learner")
                    .contains("promoted n4; it votes now")
                    .contains("members = n1=" + c.address("n1") + ",n2=" + c.address("n2") + ",n3=" + c.address("n3")
                            + ",n4=" + c.address("n4"));
            assertThat(c.configuration()).containsExactly("n1 VOTER", "n2 VOTER", "n3 VOTER", "n4 VOTER");

            String leader = c.leader();
            Run status = c.admin(leader, "status");
            assertThat(status.code()).as(status.toString()).isZero();
            assertThat(status.out()).as(status.toString())
                    .contains("node " + leader + ": leader, term ")
                    .containsPattern("n4 +127\\.0\\.0\\.1:\\d+ +voter +\\d+ entries +\\d+ ms ago")
                    .containsPattern(leader + " +127\\.0\\.0\\.1:\\d+ +voter \\(leader\\) \\(this node\\) +0 entries")
                    .contains("members = n1=");

            Run fromFollower = c.admin(follower, "status");
            assertThat(fromFollower.code()).as(fromFollower.toString()).isZero();
            assertThat(fromFollower.out()).as(fromFollower.toString())
                    .contains("node " + follower + ": follower, term ")
                    .contains("lag and last contact are known on the leader only")
                    .contains("the leader " + leader + "'s view")
                    .contains("node " + leader + ": leader");

            Run remove = c.admin(follower, "remove", "n4");
            assertThat(remove.code()).as(remove.toString()).isZero();
            assertThat(remove.out()).contains("removed n4");
            assertThat(c.configuration()).containsExactly("n1 VOTER", "n2 VOTER", "n3 VOTER");
        }
    }

    @Test
    void replaceAMemberByANewNode() {
        try (AdminCluster c = new AdminCluster(dir).startVoters()) {
            String old = c.follower();
            c.start("n5", MemberRole.LEARNER);

            Run replace = c.admin(c.leader(), "replace", old, "n5=" + c.address("n5"));
            assertThat(replace.code()).as(replace.toString()).isZero();
            assertThat(replace.out()).as("done, by this attempt or by one the command retried after a leader change")
                    .containsAnyOf("replaced " + old + " by n5", old + " is not a member and n5 votes");
            assertThat(c.configuration()).containsExactlyInAnyOrder(
                    java.util.stream.Stream.of("n1", "n2", "n3", "n5").filter(id -> !id.equals(old))
                            .map(id -> id + " VOTER").toArray(String[]::new));

            Run again = c.admin(c.leader(), "replace", old, "n5=" + c.address("n5"));
            assertThat(again.code()).as("a retry finds the work done: " + again).isZero();
            assertThat(again.out()).contains("the replacement is done already");
        }
    }

    @Test
    void refusalsSayWhatAndWhetherToRetry() {
        try (AdminCluster c = new AdminCluster(dir).startVoters()) {
            String leader = c.leader();

            Run unknown = c.admin(leader, "remove", "n9");
            assertThat(unknown.code()).isEqualTo(1);
            assertThat(unknown.err()).contains("refused (UNKNOWN_MEMBER): unknown member n9: the members are n1"
                    + " (voter), n2 (voter), n3 (voter); nothing to remove");
            assertThat(c.admin(leader, "promote", "n9").err()).contains("unknown member n9");
            assertThat(c.admin(leader, "replace", "n9", "n8=127.0.0.1:1").err()).contains("unknown member n9");

            Run twoVoters = c.admin(leader, "remove", c.follower());
            assertThat(twoVoters.code()).isEqualTo(1);
            assertThat(twoVoters.err()).as(twoVoters.toString()).contains("refused (INVALID)").contains("2 voters")
                    .contains("the same command cannot succeed as it is")
                    .contains("'replace OLD_ID NEW_ID=HOST:PORT', or 'add-witness W_ID=HOST:PORT'");

            Run sameAddress = c.admin(leader, "add-learner", "n1=127.0.0.1:1");
            assertThat(sameAddress.code()).isEqualTo(1);
            assertThat(sameAddress.err()).contains("refused (INVALID)").contains("n1 is already a member");
            assertThat(c.configuration()).containsExactly("n1 VOTER", "n2 VOTER", "n3 VOTER");
        }
    }

    @Test
    void aSecondChangeWhileOneRunsIsRefusedAndALearnerThatNeverAnswersIsNotPromoted() throws Exception {
        try (AdminCluster c = new AdminCluster(dir).startVoters()) {
            String leader = c.leader();
            String n6 = "n6=" + c.address("n6");   // never started
            CompletableFuture<Run> first = CompletableFuture.supplyAsync(
                    () -> c.admin(leader, "--timeout", "5", "add", n6));
            Await.until(WAIT, () -> c.configuration().contains("n6 LEARNER") || first.isDone(),
                    () -> "n6 joins as a learner");
            assertThat(first).as("still waiting for n6 to answer").isNotDone();

            Run second = c.admin(c.follower(), "add-learner", "n7=127.0.0.1:1");
            assertThat(second.code()).isEqualTo(1);
            assertThat(second.err()).as(second.toString())
                    .contains("refused (CHANGE_IN_PROGRESS): change in progress: 'add n6 " + c.address("n6")
                            + "' has been running through this daemon")
                    .contains("Nothing was changed; run the command again once it is done");

            Run firstRun = first.get();
            assertThat(firstRun.code()).isEqualTo(1);
            assertThat(firstRun.out()).contains("waiting for n6 to answer the leader");
            assertThat(firstRun.err()).as(firstRun.toString())
                    .contains("refused (NOT_CAUGHT_UP): n6 has never answered the leader " + leader)
                    .contains("is its ha-vipd running at " + c.address("n6"))
                    .contains("It stays a learner, which does not vote")
                    .contains("run the same command again (safe");
            assertThat(c.configuration()).containsExactly("n1 VOTER", "n2 VOTER", "n3 VOTER", "n6 LEARNER");

            Run promote = c.admin(leader, "--timeout", "1", "promote", "n6");
            assertThat(promote.code()).isEqualTo(1);
            assertThat(promote.err()).contains("NOT_CAUGHT_UP");
            assertThat(c.admin(leader, "remove", "n6").code()).isZero();
            assertThat(c.configuration()).containsExactly("n1 VOTER", "n2 VOTER", "n3 VOTER");
        }
    }

    @Test
    void aWitnessJoinsAndTheThirdServerLeaves() {
        try (AdminCluster c = new AdminCluster(dir).startVoters()) {
            c.start("w1", MemberRole.WITNESS_LEARNER);
            Run add = c.admin(c.leader(), "add-witness", "w1=" + c.address("w1"));
            assertThat(add.code()).as(add.toString()).isZero();
            assertThat(add.out()).contains("is a member as witness-learner").contains("promoted w1")
                    .contains("w1=" + c.address("w1") + "/witness");
            String gone = c.follower();
            Run remove = c.admin(c.leader(), "remove", gone);
            assertThat(remove.code()).as(remove.toString()).isZero();
            assertThat(c.configuration()).hasSize(3).contains("w1 WITNESS");
            Run status = c.admin("w1", "status");
            assertThat(status.out()).as(status.toString()).containsPattern("w1 +127\\.0\\.0\\.1:\\d+ +witness \\(this node\\)");
        }
    }

    @Test
    void whenTheLeadersEndpointCannotBeReachedItSaysWhereToRun() {
        try (AdminCluster c = new AdminCluster(dir).startVoters()) {
            String leader = c.leader();
            String follower = c.follower();
            c.stopAdmin(leader);
            Run r = c.admin(follower, "add", "n4=127.0.0.1:1");
            assertThat(r.code()).isEqualTo(1);
            assertThat(r.err()).as(r.toString())
                    .contains("node " + follower + " is not the leader; the leader is " + leader
                            + " on host 127.0.0.1, and its admin socket is not on this host (no "
                            + c.socketDir().resolve("admin-test-" + leader + ".sock") + ")")
                    .contains("Nothing was changed. Run the command on the leader's host: java -jar ha-vipd.jar admin"
                            + " --config <its config file> add n4=127.0.0.1:1");
        }
    }

    @Test
    void aDaemonThatDoesNotRunIsNamed() {
        AdminCluster c = new AdminCluster(dir);
        Path file = c.file("n1", MemberRole.VOTER);
        Run r = AdminCluster.run("admin", "--config", file.toString(), "status");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).startsWith("ha-vipd admin: cannot reach the admin socket of node n1 at "
                + c.socketDir().resolve("admin-test-n1.sock") + " (")
                .endsWith("): is ha-vipd running with this config (" + file + ")? Nothing was changed\n");
    }

    @Test
    void theSocketOfAnotherClustersDaemonIsNotUsed() throws Exception {
        try (AdminCluster c = new AdminCluster(dir).startVoters()) {
            Path other = Files.writeString(dir.resolve("other.properties"), Files.readString(c.file("n1"))
                    .replace("cluster.id = " + AdminCluster.CLUSTER, "cluster.id = other"));
            Run r = AdminCluster.run("admin", "--config", other.toString(), "status");
            assertThat(r.code()).isEqualTo(1);
            assertThat(r.err()).as("the socket's name carries the cluster id")
                    .contains("cannot reach the admin socket of node n1 at " + c.socketDir().resolve("other-n1.sock"));
        }
    }

    @Test
    void commandLineMistakesExitWith2() {
        AdminCluster c = new AdminCluster(dir);
        String f = c.file("n1", MemberRole.VOTER).toString();
        assertThat(AdminCluster.run("admin", "status").err()).startsWith("ha-vipd admin: --config FILE is required");
        Run bogus = AdminCluster.run("admin", "--config", f, "grow", "n4");
        assertThat(bogus.code()).isEqualTo(2);
        assertThat(bogus.err()).startsWith("ha-vipd admin: unknown command 'grow'\nusage: java -jar ha-vipd.jar admin");
        assertThat(AdminCluster.run("admin", "--config", f, "add", "n4").err())
                .startsWith("ha-vipd admin: 'n4' is not ID=HOST:PORT");
        assertThat(AdminCluster.run("admin", "--config", f, "add", "n4=host").err())
                .startsWith("ha-vipd admin: Address \"host\" of member \"n4\" is not \"host:port\"");
        assertThat(AdminCluster.run("admin", "--config", f, "remove").err())
                .startsWith("ha-vipd admin: 'remove' takes one argument, the member's id, got 0");
        assertThat(AdminCluster.run("admin", "--config", f, "--timeout", "soon", "status").code()).isEqualTo(2);
        Run help = AdminCluster.run("admin", "--help");
        assertThat(help.code()).isZero();
        assertThat(help.out()).contains("replace OLD_ID NEW_ID=HOST:PORT");
        assertThat(AdminCluster.run("--help").out()).contains("admin --config FILE COMMAND");
    }
}
