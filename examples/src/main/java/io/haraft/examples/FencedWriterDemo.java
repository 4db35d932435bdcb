package io.haraft.examples;

import io.haraft.fencing.jdbc.JdbcFence;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.List;

/**
 * The classic split-brain write, reproduced and stopped. A leader checks its lease and takes its
 * token, then freezes (SIGSTOP) before it writes, for longer than its lease. A new leader is
 * elected and writes to PostgreSQL with its larger token. The old leader resumes and performs its
 * write: PostgreSQL refuses it, because its token is lower than one it already accepted.
 *
 * <p>Needs a PostgreSQL on 127.0.0.1:5432 with database/user/password {@code haraft}
 * ({@code examples/scripts/postgres-setup.sh} makes one). Ends with one line
 * {@code fenced: stale_write_rejected=<true|false> old_token=<t> new_token=<t>}; exits 0 only if
 * the stale write was rejected.
 */
public final class FencedWriterDemo {
    static final String URL = System.getProperty("haraft.jdbc.url", "jdbc:postgresql://127.0.0.1:5432/haraft");
    static final String USER = System.getProperty("haraft.jdbc.user", "haraft");
    static final String PASSWORD = System.getProperty("haraft.jdbc.password", "haraft");

    private FencedWriterDemo() {
    }

    public static void main(String[] args) throws Exception {
        int code;
        try (ProcessCluster cluster = new ProcessCluster(List.of("n1", "n2", "n3"), nodeArgs())) {
            code = run(cluster) ? 0 : 1;
        }
        System.exit(code);
    }

    /**
     * The fenced resource of this run. A resource is fenced by the tokens of ONE cluster: a new
     * cluster's terms start again at 1, so each demo run fences its own resource.
     */
    static final String RESOURCE = "demo-ledger-" + Long.toHexString(System.currentTimeMillis());

    /** The arguments that make the demo nodes write to the fenced resource. */
    static List<String> nodeArgs() {
        return List.of("--jdbc", URL, USER, PASSWORD, RESOURCE);
    }

    static boolean run(ProcessCluster cluster) throws Exception {
        JdbcFence fenced = JdbcFence.builder(() -> DriverManager.getConnection(URL, USER, PASSWORD)).resource(RESOURCE)
                .build();
        fenced.createTableIfNotExists();
        try (Connection c = DriverManager.getConnection(URL, USER, PASSWORD); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS demo_ledger (id bigserial PRIMARY KEY, writer text, token bigint, label text)");
        }
        cluster.startAll();
        ProcessCluster.Event first = cluster.await("ELECTED", e -> true);
        cluster.awaitAllFollow(first.node());
        say("leader " + first.node() + " holds token " + first.field(2));
        ProcessCluster.Event prepared = prepare(cluster, first.node(), java.util.Set.of());
        String old = prepared.node();
        long oldToken = Long.parseLong(prepared.field(2));
        say(old + " checked its lease and took token " + oldToken + "; it freezes (SIGSTOP) before writing");
        cluster.pause(old);

        ProcessCluster.Event elected = cluster.await("ELECTED", e -> !e.node().equals(old));
        String electedNode = elected.node();
        say(electedNode + " is elected with token " + elected.field(2) + " while " + old + " is frozen");
        ProcessCluster.Event freshPrepared = prepare(cluster, electedNode, java.util.Set.of(old));
        String fresh = freshPrepared.node();
        long newToken = Long.parseLong(freshPrepared.field(2));
        cluster.send(fresh, "write new-leader");
        ProcessCluster.Event wrote = cluster.await("WROTE", e -> e.node().equals(fresh), "REJECTED",
                e -> e.node().equals(fresh));
        if (!wrote.kind().equals("WROTE")) {
            throw new IllegalStateException("the new leader's write was refused: " + String.join(" ", wrote.fields()));
        }
        say(fresh + " wrote with token " + newToken);

        cluster.resume(old);
        say(old + " resumes and performs the write it prepared, with token " + oldToken);
        cluster.send(old, "write old-leader");
        ProcessCluster.Event outcome = cluster.await("WROTE", e -> e.node().equals(old),
                "REJECTED", e -> e.node().equals(old));
        boolean rejected = outcome.kind().equals("REJECTED");
        if (rejected) {
            say("PostgreSQL rejected the stale write: token " + oldToken + " < " + outcome.field(3)
                    + " already accepted (table haraft_fence)");
        } else {
            say("the stale write was ACCEPTED: fencing failed");
        }
        System.out.printf("fenced: stale_write_rejected=%s old_token=%d new_token=%d%n", rejected, oldToken, newToken);
        return rejected && newToken > oldToken;
    }

    /**
     * Asks {@code leader} to check its lease and take its token. A leader can lose its lease before
     * that on a starved host (a renewal came too late): then the current leader is asked instead,
     * every 200 ms (the followers may still name the leader that just stepped down) for up to 30 s.
     */
    private static ProcessCluster.Event prepare(ProcessCluster cluster, String leader, java.util.Set<String> exclude)
            throws InterruptedException {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
        while (true) {
            String l = leader;
            cluster.send(l, "prepare");
            ProcessCluster.Event e = cluster.await("PREPARED", x -> x.node().equals(l), "NOT-PREPARED",
                    x -> x.node().equals(l));
            if (e.kind().equals("PREPARED")) {
                return e;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("no leader kept its lease long enough to prepare a write within 30 s;"
                        + " last: " + String.join(" ", e.fields()));
            }
            say(l + " was no longer leader when asked to prepare (" + e.field(2) + "); asking the current leader");
            Thread.sleep(200);
            leader = cluster.awaitCommonLeader(exclude);
        }
    }

    private static void say(String s) {
        System.out.println("fenced: " + s);
    }
}
