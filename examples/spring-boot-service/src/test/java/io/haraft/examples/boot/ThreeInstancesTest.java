package io.haraft.examples.boot;

import io.haraft.FencingToken;
import io.haraft.Leadership;
import io.haraft.examples.boot.ServiceInstances.View;
import io.haraft.examples.boot.TickDatabase.Row;
import io.haraft.fencing.jdbc.StaleTokenException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

/**
 * Three instances of the service as separate JVMs on loopback, writing to a schema of their own in
 * a real PostgreSQL: one leads (as the nodes' own {@code GET /leader} say) and only its job writes;
 * after {@code kill -9} of the leader a survivor leads and writes with a larger token; the tokens
 * of the rows never go back, and a write with the dead leader's token is refused.
 *
 * <p>Who did what is never guessed: who leads is what the nodes report, and each row names the
 * node and token that wrote it, checked against the tokens that node reports it was granted.
 */
class ThreeInstancesTest {

    /** Three Spring Boot JVMs starting at once on a small, shared machine. */
    private static final Duration START = Duration.ofMinutes(4);
    private static final Duration FAILOVER = Duration.ofMinutes(2);
    /** Rows of one leadership to see before its checks. */
    private static final int ROWS = 3;
    private static final long POLL_MILLIS = 200;
    private static final String TABLE = "ticks";
    private static final String FENCE_TABLE = "haraft_fence";
    private static final String RESOURCE = "ticks";

    @TempDir
    Path dir;

    /** A leader as it reported itself. */
    private record Leader(String id, long term, long token) {
    }

    /**
     * Rows read between two rounds of views in which {@code leader} held the same leadership, the
     * views of the second round ({@code alive}) and the last views of killed nodes.
     */
    private record Snapshot(Leader leader, List<Row> rows, Map<String, View> alive, Map<String, View> dead) {
    }

    /** The dead leader's leadership, as its job would still hold it after a pause: it believes itself valid. */
    private record StaleLeadership(String nodeId, long term, FencingToken token) implements Leadership {
        @Override
        public boolean isValid() {
            return true;
        }

        @Override
        public Duration remainingLease() {
            return Duration.ofSeconds(1);
        }

        @Override
        public FencingToken checkValid() {
            return token;
        }
    }

    @Test
    void onlyTheLeaderWritesAndAfterKill9ASurvivorWritesWithALargerTokenWhileTheDeadLeadersTokenIsRefused()
            throws Exception {
        TickDatabase.require();
        try (TickDatabase db = new TickDatabase(TABLE);
             ServiceInstances nodes = new ServiceInstances(dir, List.of("n1", "n2", "n3"), List.of(
                     "--spring.datasource.url=" + db.url(), "--example.table=" + TABLE,
                     "--example.fence-table=" + FENCE_TABLE, "--example.resource=" + RESOURCE,
                     "--example.interval=300ms"))) {
            try {
                run(db, nodes);
            } catch (Throwable t) {
                t.addSuppressed(new AssertionError("the instances' last log lines:" + nodes.logTails(80)));
                throw t;
            }
        }
    }

    private static void run(TickDatabase db, ServiceInstances nodes) throws Exception {
        nodes.startAll();

        Leader first = awaitLeader(nodes, 0, START);
        Snapshot before = awaitSteadyWriting(nodes, db, first, Map.of(), START);
        checkOnlyLeadersWrote(before);
        String health = nodes.health(first.id()).orElseThrow();
        assertThat(ServiceInstances.topLevelStatus(health)).as("Actuator health of the leader: %s", health)
                .isEqualTo("UP");
        assertThat(health).as("Actuator health of the leader").contains("\"haraft\":{");

        View lastWords = nodes.view(first.id()).orElseThrow();   // what it granted itself, just before it dies
        nodes.kill(first.id());

        Leader second = awaitLeader(nodes, first.token(), FAILOVER);
        assertThat(second.id()).isNotEqualTo(first.id());
        Snapshot after = awaitSteadyWriting(nodes, db, second, Map.of(first.id(), lastWords), FAILOVER);
        checkOnlyLeadersWrote(after);
        assertThat(after.rows()).as("the first leader's rows are still there")
                .anyMatch(r -> r.nodeId().equals(first.id()) && r.token() == first.token());

        // The dead leader's job, had it been paused instead of killed, would now try this write.
        TickTable asDeadLeader = new TickTable(db.dataSource(),
                new TickProperties(Duration.ofMillis(300), TABLE, FENCE_TABLE, RESOURCE));
        long oldRows = count(db.rows(), first.id(), first.token());
        assertThatThrownBy(() -> asDeadLeader.write(new StaleLeadership(first.id(), first.term(),
                FencingToken.of(first.token()))))
                .isInstanceOf(StaleTokenException.class);
        List<Row> last = db.rows();
        assertThat(count(last, first.id(), first.token())).as("rows with the dead leader's token").isEqualTo(oldRows);
        checkTokensNeverGoBack(last);
    }

    /** Waits until every live node names the same leader, live, which says it leads with a token above {@code above}. */
    private static Leader awaitLeader(ServiceInstances nodes, long above, Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        Map<String, View> views = Map.of();
        while (System.nanoTime() < deadline) {
            views = views(nodes);
            Set<String> named = views.values().stream().map(v -> String.valueOf(v.leaderId())).collect(Collectors.toSet());
            if (views.size() == nodes.alive().size() && named.size() == 1 && views.containsKey(named.iterator().next())) {
                View v = views.get(named.iterator().next());
                if (v.leader() && v.token() != null && v.token() > above) {
                    return new Leader(v.nodeId(), v.term(), v.token());
                }
            }
            Thread.sleep(POLL_MILLIS);
        }
        return fail("the live nodes %s did not agree on a leader with a token above %d within %s; they said %s",
                nodes.alive(), above, within, views);
    }

    /**
     * Waits until the table has {@value #ROWS} rows of {@code leader}'s leadership, read between two
     * rounds of views in which it still held that leadership.
     */
    private static Snapshot awaitSteadyWriting(ServiceInstances nodes, TickDatabase db, Leader leader,
                                               Map<String, View> dead, Duration within)
            throws InterruptedException, SQLException {
        long deadline = System.nanoTime() + within.toNanos();
        Map<String, View> v2 = Map.of();
        List<Row> rows = List.of();
        while (System.nanoTime() < deadline) {
            Map<String, View> v1 = views(nodes);
            rows = db.rows();
            v2 = views(nodes);
            if (holds(v1, leader) && holds(v2, leader) && v1.size() == v2.size() && v2.size() == nodes.alive().size()
                    && v1.get(leader.id()).granted().equals(v2.get(leader.id()).granted())
                    && count(rows, leader.id(), leader.token()) >= ROWS) {
                return new Snapshot(leader, rows, v2, dead);
            }
            Thread.sleep(POLL_MILLIS);
        }
        return fail("%s did not write %d rows with token %d while leading within %s; the nodes said %s, the rows are %s",
                leader.id(), ROWS, leader.token(), within, v2, rows);
    }

    private static boolean holds(Map<String, View> views, Leader leader) {
        View v = views.get(leader.id());
        return v != null && v.leader() && v.token() != null && v.token() == leader.token();
    }

    /**
     * Every row was written by a node that reports it was granted the row's token, one node per
     * token, tokens never going back; while the leader held its leadership (before and after the
     * rows were read) only it wrote and only its job ran.
     */
    private static void checkOnlyLeadersWrote(Snapshot s) {
        List<Row> rows = s.rows();
        checkTokensNeverGoBack(rows);
        Map<String, View> all = new TreeMap<>(s.dead());
        all.putAll(s.alive());
        for (Row r : rows) {
            View writer = all.get(r.nodeId());
            assertThat(writer).as("row %s names a node of the cluster", r).isNotNull();
            assertThat(writer.granted()).as("row %s: tokens %s reports it was granted", r, r.nodeId())
                    .contains(r.token());
        }
        Map<Long, Set<String>> writersByToken = rows.stream().collect(Collectors.groupingBy(Row::token,
                Collectors.mapping(Row::nodeId, Collectors.toSet())));
        assertThat(writersByToken.values()).as("writers per token").allMatch(w -> w.size() == 1);

        Leader leader = s.leader();
        long firstOfLeader = rows.stream().filter(r -> r.nodeId().equals(leader.id()) && r.token() == leader.token())
                .mapToLong(Row::id).min().orElseThrow();
        assertThat(rows.stream().filter(r -> r.id() >= firstOfLeader))
                .as("rows since %s's first with token %d", leader.id(), leader.token())
                .allMatch(r -> r.nodeId().equals(leader.id()) && r.token() == leader.token());
        assertThat(s.alive().get(leader.id()).jobRunning()).as("the job runs on the leader %s", leader.id()).isTrue();
        s.alive().forEach((id, v) -> {
            if (!id.equals(leader.id())) {
                assertThat(v.leader()).as("%s leads besides %s: %s", id, leader.id(), v).isFalse();
                assertThat(v.jobRunning()).as("the job runs on %s, which follows %s: %s", id, leader.id(), v)
                        .isFalse();
            }
        });
    }

    /** Tokens in the order the rows were inserted never decrease. */
    private static void checkTokensNeverGoBack(List<Row> rows) {
        for (int i = 1; i < rows.size(); i++) {
            assertThat(rows.get(i).token()).as("token of row %s after row %s", rows.get(i), rows.get(i - 1))
                    .isGreaterThanOrEqualTo(rows.get(i - 1).token());
        }
    }

    private static long count(List<Row> rows, String node, long token) {
        return rows.stream().filter(r -> r.nodeId().equals(node) && r.token() == token).count();
    }

    /** The views of the live nodes that answer. */
    private static Map<String, View> views(ServiceInstances nodes) {
        nodes.checkNoneDied();
        Map<String, View> views = new TreeMap<>();
        for (String id : nodes.alive()) {
            nodes.view(id).ifPresent(v -> views.put(id, v));
        }
        return views;
    }
}
