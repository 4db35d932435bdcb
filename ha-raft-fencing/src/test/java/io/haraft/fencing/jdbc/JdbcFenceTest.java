package io.haraft.fencing.jdbc;

import io.haraft.FencingToken;
import io.haraft.LeaseExpiredException;
import io.haraft.fencing.Await;
import io.haraft.fencing.FakeLeadership;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@link JdbcFence} against a real PostgreSQL. Each test has its own fence table (with
 * non-default column names, to prove they are used) and ledger table, dropped afterwards. A
 * "ledger row" stands for the protected write: it carries the writer's token and a label, and its
 * serial id gives the commit order (fenced transactions of a resource run one at a time).
 */
class JdbcFenceTest {
    private final String suffix = Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE);
    private final String table = "fence_test_" + suffix;
    private final String ledger = "ledger_test_" + suffix;
    private final ExecutorService threads = Executors.newCachedThreadPool();
    private JdbcFence fence;

    @BeforeEach
    void createTables() throws SQLException {
        Postgres.require();
        fence = fence(JdbcFence.DEFAULT_LOCK_TIMEOUT);
        fence.createTableIfNotExists();
        try (Connection c = Postgres.connect(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE " + ledger + " (id bigserial PRIMARY KEY, token bigint NOT NULL, label text NOT NULL)");
        }
    }

    @AfterEach
    void dropTables() throws SQLException {
        threads.shutdownNow();
        if (fence != null) {
            try (Connection c = Postgres.connect(); Statement s = c.createStatement()) {
                s.execute("DROP TABLE IF EXISTS " + table);
                s.execute("DROP TABLE IF EXISTS " + ledger);
            }
        }
    }

    @Test
    void aStaleTokenIsRefusedAndNothingOfItsTransactionCommits() throws Exception {
        write(5, "leader-5");

        StaleTokenException e = catchStale(() -> write(4, "deposed-4"));

        assertThat(e.token()).isEqualTo(FencingToken.of(4));
        assertThat(e.highest()).isEqualTo(FencingToken.of(5));
        assertThat(e.resource()).isEqualTo("billing");
        assertThat(e.getMessage()).contains("'billing'", "token 4", "token 5", "Do not retry", "elected()");
        assertThat(ledger()).containsExactly("5 leader-5");
        assertThat(fence.highestToken()).contains(FencingToken.of(5));
    }

    @Test
    void aNewerTokenWinsAndALeaderWritesAsOftenAsItLikes() throws Exception {
        assertThat(fence.highestToken()).isEmpty();
        write(3, "a");
        write(3, "b");
        write(7, "c");
        write(7, "d");

        assertThat(catchStale(() -> write(3, "e")).highest()).isEqualTo(FencingToken.of(7));
        assertThat(ledger()).containsExactly("3 a", "3 b", "7 c", "7 d");
        assertThat(fence.highestToken()).contains(FencingToken.of(7));
    }

    @Test
    void aNewerWriterWaitsForAnOlderOneThatHoldsTheFenceAndCommitsAfterIt() throws Exception {
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Future<Integer> older = background(() -> fence.write(FencingToken.of(5), c -> {
            insert(c, 5, "older");
            inside.countDown();
            await(release);
            return 1;
        }));
        assertThat(inside.await(30, TimeUnit.SECONDS)).as("the older writer is inside its transaction").isTrue();
        Future<Integer> newer = background(() -> fence.write(FencingToken.of(6), c -> insert(c, 6, "newer")));

        awaitWritersBlockedOnTheFence(1);
        assertThat(newer).as("the newer writer waits for the fence row").isNotDone();
        release.countDown();

        assertThat(newer.get(30, TimeUnit.SECONDS)).isEqualTo(1);
        assertThat(older.get(30, TimeUnit.SECONDS)).isEqualTo(1);
        assertThat(ledger()).containsExactly("5 older", "6 newer");
        assertThat(fence.highestToken()).contains(FencingToken.of(6));
    }

    @Test
    void anOlderWriterThatWaitedForANewerOneIsRefusedOnceTheNewerCommits() throws Exception {
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Future<Integer> newer = background(() -> fence.write(FencingToken.of(6), c -> {
            insert(c, 6, "newer");
            inside.countDown();
            await(release);
            return 1;
        }));
        assertThat(inside.await(30, TimeUnit.SECONDS)).isTrue();
        Future<Integer> older = background(() -> fence.write(FencingToken.of(5), c -> insert(c, 5, "older")));

        awaitWritersBlockedOnTheFence(1);
        release.countDown();

        assertThat(newer.get(30, TimeUnit.SECONDS)).isEqualTo(1);
        assertThatThrownBy(() -> older.get(30, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(StaleTokenException.class).hasMessageContaining("token 6");
        assertThat(ledger()).containsExactly("6 newer");
    }

    @Test
    void concurrentWritersWithMixedTokensCommitInAnOrderWhereTokensNeverDecrease() throws Exception {
        int writers = 6;
        int writesEach = 15;
        AtomicInteger accepted = new AtomicInteger();
        AtomicInteger refused = new AtomicInteger();
        List<Future<?>> all = new ArrayList<>();
        for (int w = 0; w < writers; w++) {
            int writer = w;
            all.add(background(() -> {
                for (int i = 0; i < writesEach; i++) {
                    long token = ThreadLocalRandom.current().nextLong(1, 12);
                    try {
                        fence.write(FencingToken.of(token), c -> insert(c, token, "w" + writer));
                        accepted.incrementAndGet();
                    } catch (StaleTokenException e) {
                        assertThat(e.highest()).isGreaterThan(e.token());
                        refused.incrementAndGet();
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : all) {
            f.get(60, TimeUnit.SECONDS);
        }

        List<Long> tokens = ledger().stream().map(r -> Long.parseLong(r.split(" ")[0])).toList();
        assertThat(accepted.get() + refused.get()).isEqualTo(writers * writesEach);
        assertThat(tokens).as("committed writes, in commit order").hasSize(accepted.get()).isSorted();
        assertThat(fence.highestToken()).contains(FencingToken.of(tokens.get(tokens.size() - 1)));
    }

    @Test
    void aWriterPausedInsideItsTransactionCannotCommitAfterANewerTokenCommitted() throws Exception {
        // the old leader's transaction (managed by the caller) is open and has written, then the
        // process pauses; the new leader commits meanwhile; the old one resumes and reaches the fence
        try (Connection old = Postgres.connect()) {
            old.setAutoCommit(false);
            insert(old, 5, "paused-old-leader");

            write(6, "new-leader");

            assertThatThrownBy(() -> fence.guard(old, FencingToken.of(5))).isInstanceOf(StaleTokenException.class);
            old.rollback();
        }
        assertThat(ledger()).containsExactly("6 new-leader");
    }

    @Test
    void aWriterPausedWhileHoldingTheFencePastItsLeaseDoesNotCommitAndTheNewerWriterThenDoes() throws Exception {
        FakeLeadership oldLeader = new FakeLeadership(5);
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch resume = new CountDownLatch(1);
        Future<Integer> old = background(() -> fence.write(oldLeader, c -> {
            insert(c, 5, "paused-old-leader");
            inside.countDown();
            await(resume);              // the pause: the lease ends meanwhile
            return 1;
        }));
        assertThat(inside.await(30, TimeUnit.SECONDS)).isTrue();
        oldLeader.expire();
        Future<Integer> newer = background(() -> fence.write(new FakeLeadership(6), c -> insert(c, 6, "new-leader")));
        awaitWritersBlockedOnTheFence(1);

        resume.countDown();

        assertThatThrownBy(() -> old.get(30, TimeUnit.SECONDS)).cause().isInstanceOf(LeaseExpiredException.class);
        assertThat(newer.get(30, TimeUnit.SECONDS)).isEqualTo(1);
        assertThat(ledger()).containsExactly("6 new-leader");
        assertThat(fence.highestToken()).contains(FencingToken.of(6));
    }

    @Test
    void aWriteWithAnExpiredLeaseWritesNothing() throws Exception {
        assertThatThrownBy(() -> fence.write(new FakeLeadership(3).expire(), c -> insert(c, 3, "x")))
                .isInstanceOf(LeaseExpiredException.class);
        assertThat(ledger()).isEmpty();
        assertThat(fence.highestToken()).isEmpty();
    }

    @Test
    void aWriterGivesUpWithAClearErrorWhenTheFenceStaysLockedLongerThanItsLockTimeout() throws Exception {
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Future<Integer> holder = background(() -> fence.write(FencingToken.of(5), c -> {
            inside.countDown();
            await(release);
            return insert(c, 5, "holder");
        }));
        assertThat(inside.await(30, TimeUnit.SECONDS)).isTrue();
        JdbcFence impatient = fence(Duration.ofSeconds(1));

        assertThatThrownBy(() -> impatient.write(FencingToken.of(6), c -> insert(c, 6, "impatient")))
                .isInstanceOf(FenceLockTimeoutException.class)
                .hasMessageContaining("'billing'").hasMessageContaining(table).hasMessageContaining("Retry");

        release.countDown();
        assertThat(holder.get(30, TimeUnit.SECONDS)).isEqualTo(1);
        assertThat(ledger()).containsExactly("5 holder");
    }

    @Test
    void guardNeedsATransaction() throws Exception {
        try (Connection c = Postgres.connect()) {
            assertThatThrownBy(() -> fence.guard(c, FencingToken.of(1))).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("setAutoCommit(false)");
        }
    }

    @Test
    void resourcesAreFencedIndependently() throws Exception {
        JdbcFence other = JdbcFence.builder(Postgres::connect).resource("shipping").table(table)
                .resourceColumn("res_name").tokenColumn("fence_token").build();
        write(9, "billing-9");
        other.write(FencingToken.of(2), c -> insert(c, 2, "shipping-2"));
        assertThat(other.highestToken()).contains(FencingToken.of(2));
        assertThat(fence.highestToken()).contains(FencingToken.of(9));
    }

    @Test
    void theFirstWriteToAResourceNeedsOnlyOneConnectionAtATime() throws Exception {
        // a pool of one: a second connection, opened while the first is held, never comes
        Semaphore pool = new Semaphore(1);
        ConnectionSource poolOfOne = () -> {
            try {
                if (!pool.tryAcquire(5, TimeUnit.SECONDS)) {
                    throw new SQLException("pool of one exhausted: a second connection was asked for");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SQLException(e);
            }
            Connection real = Postgres.connect();
            return (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(),
                    new Class<?>[] {Connection.class}, (proxy, method, args) -> {
                        if (method.getName().equals("close")) {
                            pool.release();
                        }
                        try {
                            return method.invoke(real, args);
                        } catch (InvocationTargetException e) {
                            throw e.getCause();
                        }
                    });
        };
        JdbcFence pooled = JdbcFence.builder(poolOfOne).resource("pooled").table(table).resourceColumn("res_name")
                .tokenColumn("fence_token").build();

        int inserted = pooled.write(FencingToken.of(4), c -> insert(c, 4, "pooled"));

        assertThat(inserted).isEqualTo(1);
        assertThat(ledger()).containsExactly("4 pooled");
    }

    @Test
    void eachRefusedStaleTokenCountsInTheRejectedCounterAndAThrowingCounterNeverFailsAWrite() throws Exception {
        java.util.Map<io.haraft.metrics.MeterId, java.util.concurrent.atomic.AtomicLong> counts =
                new java.util.concurrent.ConcurrentHashMap<>();
        fence = JdbcFence.builder(Postgres::connect).resource("billing").table(table).resourceColumn("res_name")
                .tokenColumn("fence_token").metrics(new CountingMetrics(counts, false)).build();
        write(5, "leader-5");
        catchStale(() -> write(4, "deposed-4"));
        catchStale(() -> write(3, "deposed-3"));
        write(5, "leader-5-again");

        assertThat(counts).hasSize(1);
        io.haraft.metrics.MeterId id = counts.keySet().iterator().next();
        assertThat(id.name()).isEqualTo("haraft.fence.rejected");
        assertThat(id.tags()).containsEntry("resource", "billing");
        assertThat(counts.get(id).get()).isEqualTo(2);

        fence = JdbcFence.builder(Postgres::connect).resource("billing").table(table).resourceColumn("res_name")
                .tokenColumn("fence_token").metrics(new CountingMetrics(counts, true)).build();
        catchStale(() -> write(4, "deposed-4"));          // refused as before, not failed by the counter
        write(6, "leader-6");
        assertThat(ledger()).containsExactly("5 leader-5", "5 leader-5-again", "6 leader-6");
    }

    /** Counts in {@code counts}; or, if {@code broken}, throws from every increment. */
    private record CountingMetrics(java.util.Map<io.haraft.metrics.MeterId, java.util.concurrent.atomic.AtomicLong>
            counts, boolean broken) implements io.haraft.metrics.RaftMetrics {
        @Override
        public Counter counter(io.haraft.metrics.MeterId id) {
            java.util.concurrent.atomic.AtomicLong c = counts.computeIfAbsent(id,
                    k -> new java.util.concurrent.atomic.AtomicLong());
            return amount -> {
                if (broken) {
                    throw new IllegalStateException("counter broken");
                }
                c.addAndGet(amount);
            };
        }

        @Override
        public Timer timer(io.haraft.metrics.MeterId id) {
            return nanos -> { };
        }

        @Override
        public Distribution distribution(io.haraft.metrics.MeterId id) {
            return amount -> { };
        }

        @Override
        public void gauge(io.haraft.metrics.MeterId id, java.util.function.DoubleSupplier value) {
        }
    }

    // ---------------------------------------------------------------------------------- helpers

    private JdbcFence fence(Duration lockTimeout) {
        return JdbcFence.builder(Postgres::connect).resource("billing").table(table).resourceColumn("res_name")
                .tokenColumn("fence_token").lockTimeout(lockTimeout).build();
    }

    private void write(long token, String label) throws Exception {
        int inserted = fence.write(FencingToken.of(token), c -> insert(c, token, label));
        assertThat(inserted).isEqualTo(1);
    }

    private int insert(Connection c, long token, String label) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("INSERT INTO " + ledger + " (token, label) VALUES (?, ?)")) {
            p.setLong(1, token);
            p.setString(2, label);
            return p.executeUpdate();
        }
    }

    /** The ledger's rows in commit order, as {@code "<token> <label>"}. */
    private List<String> ledger() throws SQLException {
        List<String> rows = new ArrayList<>();
        try (Connection c = Postgres.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT token, label FROM " + ledger + " ORDER BY id")) {
            while (rs.next()) {
                rows.add(rs.getLong(1) + " " + rs.getString(2));
            }
        }
        return rows;
    }

    /** Waits until {@code n} sessions wait for a lock in a statement on this test's fence table. */
    private void awaitWritersBlockedOnTheFence(int n) {
        Await.until(() -> blockedOnTheFence() >= n, () -> n + " writer(s) waiting for the fence row of " + table);
    }

    private long blockedOnTheFence() {
        try (Connection c = Postgres.connect(); PreparedStatement p = c.prepareStatement(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE ?")) {
            p.setString(1, "%" + table + "%");
            try (ResultSet rs = p.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        } catch (SQLException e) {
            throw new AssertionError(e);
        }
    }

    private <T> Future<T> background(Callable<T> c) {
        return threads.submit(c);
    }

    private static void await(CountDownLatch latch) throws SQLException {
        try {
            if (!latch.await(60, TimeUnit.SECONDS)) {
                throw new SQLException("the test never released this writer");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SQLException(e);
        }
    }

    private interface Write {
        void run() throws Exception;
    }

    private static StaleTokenException catchStale(Write write) throws Exception {
        try {
            write.run();
        } catch (StaleTokenException e) {
            return e;
        }
        throw new AssertionError("the write was accepted, but its token is stale");
    }
}
