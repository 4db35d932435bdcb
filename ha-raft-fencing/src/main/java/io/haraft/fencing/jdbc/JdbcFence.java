package io.haraft.fencing.jdbc;

import io.haraft.FencingToken;
import io.haraft.Leadership;
import io.haraft.LeaseExpiredException;
import io.haraft.metrics.MeterId;
import io.haraft.metrics.RaftMetrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The resource side of fencing for a SQL database: a write commits only if its fencing token is at
 * least the highest token the database has accepted for the same resource.
 *
 * <p>The database keeps one <em>fence row</em> per fenced resource: its name and the highest
 * token accepted so far. Inside the writer's transaction, before the writer's own statements,
 * the fence locks that row ({@code SELECT token ... FOR UPDATE}), compares, and raises the stored
 * token to the writer's; a smaller token rolls the transaction back with
 * {@link StaleTokenException}. Then it runs the writer's statements, checks the lease once more
 * (when given a {@link Leadership}) and commits.
 *
 * <p><b>Guarantees.</b>
 * <ul>
 *   <li><b>Atomic.</b> The comparison, the raised token and the writer's statements commit
 *       together or not at all: one transaction, one connection.</li>
 *   <li><b>Serialised.</b> The row lock is held until commit, so fenced transactions of one
 *       resource run one at a time, and they commit in an order in which tokens never decrease:
 *       once a transaction with token <i>t</i> has committed, no transaction with a token below
 *       <i>t</i> ever commits. A deposed leader's transaction can neither interleave with nor land
 *       after a newer leader's.</li>
 *   <li><b>Same token, many writes.</b> A token equal to the stored one is accepted: a leader writes
 *       as often as it likes within its leadership.</li>
 *   <li>Instances are immutable and thread-safe; each {@code write} uses its own connection. No
 *       method returns {@code null}.</li>
 *   <li><b>Metrics.</b> With {@link Builder#metrics}, every refused stale token counts in the
 *       counter {@code haraft.fence.rejected} (tag {@code resource}); a metrics implementation that
 *       throws is logged once and never fails a write.</li>
 * </ul>
 *
 * <pre>{@code
 * JdbcFence fence = JdbcFence.builder(dataSource).resource("billing").build();
 * // in a LeadershipListener's worker, with the Leadership it was started with:
 * fence.write(leadership, c -> {
 *     try (PreparedStatement p = c.prepareStatement("UPDATE invoice SET state = 'SENT' WHERE id = ?")) {
 *         p.setLong(1, id);
 *         return p.executeUpdate();
 *     }
 * });
 * }</pre>
 *
 * <p><b>Schema.</b> One table, named and shaped by the {@link Builder} (these are the defaults);
 * {@link #createTableIfNotExists()} issues the first statement, which PostgreSQL, MySQL and
 * MariaDB accept as it is:
 * <pre>{@code
 * -- PostgreSQL, MySQL, MariaDB
 * CREATE TABLE IF NOT EXISTS haraft_fence (resource VARCHAR(255) PRIMARY KEY, token BIGINT NOT NULL);
 * -- MySQL: InnoDB (the default engine); MyISAM has no transactions and no row locks
 * CREATE TABLE IF NOT EXISTS haraft_fence (resource VARCHAR(255) PRIMARY KEY, token BIGINT NOT NULL) ENGINE=InnoDB;
 * }</pre>
 * The fence creates a resource's row (token 0) the first time it writes to it, outside the
 * writer's transaction (committed at once). Never delete a fence row: that resets the resource's fence
 * to 0, and a deposed leader's write would be accepted again.
 *
 * <p><b>Limits.</b>
 * <ul>
 *   <li><b>Process pauses.</b> A pause (GC, SIGSTOP, frozen VM) can start right after the lease
 *       check. A pause <em>before</em> the fence row is locked is harmless: when the writer
 *       resumes, the row shows the newer leader's token and the write is refused. A pause
 *       <em>while</em> the row is locked blocks every other writer of the resource, the new
 *       leader included, until the paused transaction ends; when it resumes, the check before
 *       commit ({@link #write(Leadership, FencedWork)}) finds the lease gone and rolls back. The
 *       new leader's wait is bounded by {@link Builder#lockTimeout}; let the database end
 *       abandoned transactions too (PostgreSQL {@code idle_in_transaction_session_timeout}).</li>
 *   <li>Only statements on the connection handed to {@link FencedWork} are fenced; a token
 *       protects only writes that go through the fence. Every writer of a resource must use it.</li>
 *   <li>The tokens of one resource must all come from one cluster (one cluster id): a new
 *       cluster's tokens start again at 1 and would be refused.</li>
 *   <li>Under PostgreSQL's {@code REPEATABLE READ} or {@code SERIALIZABLE}, a writer that raced a
 *       newer one fails with a serialisation error (SQLSTATE {@code 40001}) instead of
 *       {@link StaleTokenException}; nothing is written either way. {@code READ COMMITTED} (the
 *       PostgreSQL default) and MySQL's default {@code REPEATABLE READ} give the exception.</li>
 *   <li>The row lock needs a transactional engine: InnoDB on MySQL and MariaDB.</li>
 * </ul>
 */
public final class JdbcFence {

    /** The default fence table, {@value}. */
    public static final String DEFAULT_TABLE = "haraft_fence";
    /** The default resource column, {@value}. */
    public static final String DEFAULT_RESOURCE_COLUMN = "resource";
    /** The default token column, {@value}. */
    public static final String DEFAULT_TOKEN_COLUMN = "token";
    /** The default {@link Builder#lockTimeout}: 10 s. */
    public static final Duration DEFAULT_LOCK_TIMEOUT = Duration.ofSeconds(10);
    /** The longest resource name the documented schema holds. */
    public static final int MAX_RESOURCE_LENGTH = 255;

    private static final Logger LOG = LoggerFactory.getLogger(JdbcFence.class);
    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_$]*(\\.[A-Za-z_][A-Za-z0-9_$]*)?");

    private final ConnectionSource connections;
    private final String resource;
    private final String table;
    private final String resourceColumn;
    private final String tokenColumn;
    private final RowLock rowLock;
    private final Duration lockTimeout;
    private final String lockSql;
    private final String readSql;
    private final String updateSql;
    private final String insertSql;
    private final RaftMetrics.Counter rejected;
    private volatile boolean metricsFailed;
    /** Whether this fence has seen its row in the database: the row is created at most once per instance. */
    private volatile boolean rowExists;

    private JdbcFence(Builder b) {
        this.connections = b.connections;
        this.resource = b.resource;
        this.table = b.table;
        this.resourceColumn = b.resourceColumn;
        this.tokenColumn = b.tokenColumn;
        this.rowLock = b.rowLock;
        this.lockTimeout = b.lockTimeout;
        this.rejected = rejectedCounter(b.metrics);
        String where = " WHERE " + resourceColumn + " = ?";
        this.lockSql = switch (rowLock) {
            case FOR_UPDATE -> "SELECT " + tokenColumn + " FROM " + table + where + " FOR UPDATE";
            case UPDLOCK_HINT -> "SELECT " + tokenColumn + " FROM " + table + " WITH (UPDLOCK, ROWLOCK)" + where;
        };
        this.readSql = "SELECT " + tokenColumn + " FROM " + table + where;
        this.updateSql = "UPDATE " + table + " SET " + tokenColumn + " = ?" + where;
        this.insertSql = "INSERT INTO " + table + " (" + resourceColumn + ", " + tokenColumn + ") VALUES (?, 0)";
    }

    /** Starts a fence whose connections come from {@code connections}. */
    public static Builder builder(ConnectionSource connections) {
        return new Builder(Objects.requireNonNull(connections, "connections"));
    }

    /** Starts a fence whose connections come from {@code dataSource} (a pool, typically). */
    public static Builder builder(DataSource dataSource) {
        Objects.requireNonNull(dataSource, "dataSource");
        return new Builder(dataSource::getConnection);
    }

    /**
     * Runs {@code work} in one fenced transaction with the token of {@code leadership}: checks the
     * lease, locks the fence row, refuses a stale token, runs the work, checks the lease again
     * right before commit, commits.
     *
     * <p>The second lease check is not what makes the write safe (the fence row is); it keeps a
     * writer that was paused inside its transaction past its lease from committing when it
     * resumes, and so from holding up the new leader any longer than the pause.
     *
     * @return what {@code work} returned
     * @throws StaleTokenException         if a larger token has already written; nothing was written
     * @throws LeaseExpiredException       if the lease had ended before the write or before its
     *                                     commit; nothing was written
     * @throws FenceLockTimeoutException   if another transaction held the fence row for longer than
     *                                     the lock timeout; nothing was written
     * @throws SQLException                if the database or {@code work} failed; the transaction
     *                                     was rolled back (unless the failure was in the commit
     *                                     itself, whose outcome the driver reports)
     */
    public <T> T write(Leadership leadership, FencedWork<T> work) throws SQLException, StaleTokenException {
        Objects.requireNonNull(leadership, "leadership");
        return run(leadership.checkValid(), leadership, work);
    }

    /**
     * Runs {@code work} in one fenced transaction with {@code token}, which the caller took from
     * {@link Leadership#checkValid()} right before. As {@link #write(Leadership, FencedWork)}
     * without the lease checks: the fence alone decides.
     *
     * @return what {@code work} returned
     * @throws StaleTokenException       if a larger token has already written; nothing was written
     * @throws FenceLockTimeoutException if another transaction held the fence row for longer than the
     *                                   lock timeout; nothing was written
     * @throws SQLException              if the database or {@code work} failed; the transaction was
     *                                   rolled back
     */
    public <T> T write(FencingToken token, FencedWork<T> work) throws SQLException, StaleTokenException {
        return run(Objects.requireNonNull(token, "token"), null, work);
    }

    /**
     * Fences a transaction that the caller manages (a Spring {@code @Transactional} method, say):
     * locks the fence row on {@code connection}, refuses a stale token and records {@code token}.
     * The caller commits or rolls back; the row lock is held until then.
     *
     * <p>Call it first in the transaction, before the statements it protects: then fenced
     * transactions of the resource run one at a time. Called later, the guarantee on the commit
     * order still holds, but statements before it ran unfenced (and maybe on stale data).
     *
     * @throws StaleTokenException        if a larger token has already written; the caller must roll back
     * @throws FenceLockTimeoutException  if another transaction held the fence row for longer than the
     *                                    lock timeout; the caller must roll back
     * @throws IllegalStateException      if {@code connection} is in auto-commit mode: the lock
     *                                    would end with the statement
     * @throws SQLException               if the database failed
     */
    public void guard(Connection connection, FencingToken token) throws SQLException, StaleTokenException {
        Objects.requireNonNull(connection, "connection");
        Objects.requireNonNull(token, "token");
        if (connection.getAutoCommit()) {
            throw new IllegalStateException("JdbcFence.guard for resource '" + resource + "' needs a transaction, but"
                    + " the connection is in auto-commit mode, where the fence row's lock would end with the"
                    + " statement: call connection.setAutoCommit(false) (or run inside your transaction manager's"
                    + " transaction) first");
        }
        if (!rowExists) {
            try (Connection other = connections.open()) {
                other.setAutoCommit(true);
                createRow(other);
            }
        }
        Optional<Long> seen = lockRow(connection);
        if (seen.isEmpty()) {
            rowExists = false;
            throw new SQLException("the fence row of resource '" + resource + "' is missing from table " + table
                    + " although this fence created it: someone deleted it, which resets the fence to 0 and lets a"
                    + " deposed leader write again. Recreate it with the highest token ever used for the resource"
                    + " (or any larger one the current leader holds); the next write recreates it with 0");
        }
        long highest = seen.get();
        if (token.value() < highest) {
            countRejected();
            throw new StaleTokenException(resource, token, FencingToken.of(highest));
        }
        if (token.value() > highest) {
            try (PreparedStatement p = connection.prepareStatement(updateSql)) {
                p.setLong(1, token.value());
                p.setString(2, resource);
                p.executeUpdate();
            }
        }
    }

    /**
     * Returns the highest token the database has accepted for this resource, or empty if no
     * fenced write has committed yet. A plain read: it waits for no lock and may be outdated by the
     * time it returns.
     */
    public Optional<FencingToken> highestToken() throws SQLException {
        try (Connection c = connections.open(); PreparedStatement p = c.prepareStatement(readSql)) {
            p.setString(1, resource);
            try (ResultSet rs = p.executeQuery()) {
                long t = rs.next() ? rs.getLong(1) : 0;
                return t > 0 ? Optional.of(FencingToken.of(t)) : Optional.empty();
            }
        }
    }

    /**
     * Creates the fence table if it does not exist, with the statement in the class documentation
     * (PostgreSQL, MySQL, MariaDB). On databases without {@code CREATE TABLE IF NOT EXISTS} (Oracle
     * before 23c, SQL Server) create the table yourself, with the same two columns.
     */
    public void createTableIfNotExists() throws SQLException {
        try (Connection c = connections.open(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS " + table + " (" + resourceColumn + " VARCHAR("
                    + MAX_RESOURCE_LENGTH + ") PRIMARY KEY, " + tokenColumn + " BIGINT NOT NULL)");
            if (!c.getAutoCommit()) {
                c.commit();
            }
        }
    }

    /** The fenced resource: the key of this fence's row. */
    public String resource() {
        return resource;
    }

    /** The fence table. */
    public String table() {
        return table;
    }

    /** How the fence row is locked. */
    public RowLock rowLock() {
        return rowLock;
    }

    /** How long a write waits for the fence row's lock; {@link Duration#ZERO} for no limit. */
    public Duration lockTimeout() {
        return lockTimeout;
    }

    @Override
    public String toString() {
        return "JdbcFence[resource=" + resource + ", table=" + table + "(" + resourceColumn + ", " + tokenColumn
                + "), rowLock=" + rowLock + ", lockTimeout=" + lockTimeout + "]";
    }

    private RaftMetrics.Counter rejectedCounter(RaftMetrics metrics) {
        if (metrics == null) {
            return amount -> { };
        }
        try {
            return metrics.counter(MeterId.of("haraft.fence.rejected", "Fenced writes refused because their token"
                    + " was below the highest one the database accepted", "", Map.of("resource", resource)));
        } catch (RuntimeException e) {
            metricsFailed(e);
            return amount -> { };
        }
    }

    private void countRejected() {
        try {
            rejected.increment();
        } catch (RuntimeException e) {
            metricsFailed(e);
        }
    }

    private void metricsFailed(RuntimeException e) {
        if (!metricsFailed) {
            metricsFailed = true;
            LOG.warn("JdbcFence for resource '{}': the metrics implementation threw; writes go on, and further"
                    + " failures are not logged. Fix the metrics implementation", resource, e);
        }
    }

    private <T> T run(FencingToken token, Leadership leadership, FencedWork<T> work)
            throws SQLException, StaleTokenException {
        Objects.requireNonNull(work, "work");
        try (Connection c = connections.open()) {
            boolean autoCommit = c.getAutoCommit();
            try {
                if (!rowExists) {
                    // on this connection, before the transaction: a second connection from a pool
                    // of one would wait for this one forever
                    c.setAutoCommit(true);
                    createRow(c);
                }
                c.setAutoCommit(false);
                return inTransaction(c, token, leadership, work);
            } finally {
                restoreAutoCommit(c, autoCommit);
            }
        }
    }

    private <T> T inTransaction(Connection c, FencingToken token, Leadership leadership, FencedWork<T> work)
            throws SQLException, StaleTokenException {
        try {
            guard(c, token);
            T result = work.run(c);
            if (leadership != null) {
                leadership.checkValid();
            }
            c.commit();
            return result;
        } catch (SQLException | StaleTokenException | RuntimeException | Error e) {
            rollback(c, e);
            throw e;
        }
    }

    /** The locked row's token, or empty if the row does not exist. */
    private Optional<Long> lockRow(Connection c) throws SQLException {
        long start = System.nanoTime();
        try (PreparedStatement p = c.prepareStatement(lockSql)) {
            if (!lockTimeout.isZero()) {
                // whole seconds (JDBC's unit), rounded up
                p.setQueryTimeout((int) Math.min(Integer.MAX_VALUE, (lockTimeout.toMillis() + 999) / 1000));
            }
            p.setString(1, resource);
            try (ResultSet rs = p.executeQuery()) {
                return rs.next() ? Optional.of(rs.getLong(1)) : Optional.empty();
            }
        } catch (SQLException e) {
            Duration waited = Duration.ofNanos(System.nanoTime() - start);
            if (!lockTimeout.isZero() && waited.compareTo(lockTimeout) >= 0) {
                throw new FenceLockTimeoutException(resource, table, waited, e);
            }
            throw e;
        }
    }

    /**
     * Creates the fence row with token 0 if it is missing, on {@code c} in auto-commit mode, outside
     * any writer's transaction: inserting it inside one could deadlock with another first writer
     * (MySQL's gap locks) or abort the transaction on a duplicate key (PostgreSQL).
     */
    private void createRow(Connection c) throws SQLException {
        if (!readRow(c)) {
            try (PreparedStatement p = c.prepareStatement(insertSql)) {
                p.setString(1, resource);
                p.executeUpdate();
            } catch (SQLException e) {
                if (!readRow(c)) {   // not a concurrent insert of the same row: a real failure
                    throw e;
                }
            }
        }
        rowExists = true;
    }

    private boolean readRow(Connection c) throws SQLException {
        try (PreparedStatement p = c.prepareStatement(readSql)) {
            p.setString(1, resource);
            try (ResultSet rs = p.executeQuery()) {
                return rs.next();
            }
        }
    }

    private static void rollback(Connection c, Throwable cause) {
        try {
            c.rollback();
        } catch (SQLException | RuntimeException e) {
            cause.addSuppressed(e);
        }
    }

    private static void restoreAutoCommit(Connection c, boolean autoCommit) {
        try {
            c.setAutoCommit(autoCommit);
        } catch (SQLException e) {
            // the connection is closed next anyway; a pool resets it
        }
    }

    /**
     * Configures a {@link JdbcFence}. Not thread-safe; {@link #build()} validates and copies, so a
     * builder may be reused.
     */
    public static final class Builder {
        private final ConnectionSource connections;
        private String resource;
        private String table = DEFAULT_TABLE;
        private String resourceColumn = DEFAULT_RESOURCE_COLUMN;
        private String tokenColumn = DEFAULT_TOKEN_COLUMN;
        private RowLock rowLock = RowLock.FOR_UPDATE;
        private Duration lockTimeout = DEFAULT_LOCK_TIMEOUT;
        private RaftMetrics metrics;

        private Builder(ConnectionSource connections) {
            this.connections = connections;
        }

        /**
         * The fenced resource: the key of the fence row, 1 to {@value #MAX_RESOURCE_LENGTH}
         * characters. Required. Everything the leaders of one cluster write under one token order
         * (a ledger, a queue, a whole schema) is one resource.
         */
        public Builder resource(String resource) {
            this.resource = resource;
            return this;
        }

        /** The fence table, optionally schema-qualified ({@code ops.haraft_fence}); default {@value #DEFAULT_TABLE}. */
        public Builder table(String table) {
            this.table = table;
            return this;
        }

        /** The column holding the resource name (the primary key); default {@value #DEFAULT_RESOURCE_COLUMN}. */
        public Builder resourceColumn(String column) {
            this.resourceColumn = column;
            return this;
        }

        /** The column holding the highest accepted token ({@code BIGINT}); default {@value #DEFAULT_TOKEN_COLUMN}. */
        public Builder tokenColumn(String column) {
            this.tokenColumn = column;
            return this;
        }

        /** How the fence row is locked; default {@link RowLock#FOR_UPDATE}, {@link RowLock#UPDLOCK_HINT} for SQL Server. */
        public Builder rowLock(RowLock rowLock) {
            this.rowLock = rowLock;
            return this;
        }

        /**
         * How long a write waits for the fence row's lock before it fails with
         * {@link FenceLockTimeoutException}; default 10 s, {@link Duration#ZERO} to wait without
         * limit. Applied as the locking statement's JDBC query timeout, in whole seconds (rounded
         * up). It bounds how long a writer paused inside its transaction holds up the new leader.
         */
        public Builder lockTimeout(Duration lockTimeout) {
            this.lockTimeout = lockTimeout;
            return this;
        }

        /**
         * Counts refused stale tokens in the counter {@code haraft.fence.rejected} (tag
         * {@code resource}) of {@code metrics}, for example a {@code MicrometerRaftMetrics} of
         * {@code ha-raft-micrometer}; default none. Alert on any increase: a deposed leader tried
         * to write.
         */
        public Builder metrics(RaftMetrics metrics) {
            this.metrics = Objects.requireNonNull(metrics, "metrics");
            return this;
        }

        /**
         * Validates the settings and returns the fence.
         *
         * @throws IllegalArgumentException naming the setting, its value and the fix, if one is invalid
         */
        public JdbcFence build() {
            if (resource == null || resource.isEmpty() || resource.length() > MAX_RESOURCE_LENGTH) {
                throw new IllegalArgumentException("JdbcFence resource is " + (resource == null ? "not set"
                        : "'" + resource + "' (" + resource.length() + " characters)")
                        + ": it names the fence row and must have 1 to " + MAX_RESOURCE_LENGTH
                        + " characters; call resource(\"billing\"), say");
            }
            identifier("table", table);
            identifier("resourceColumn", resourceColumn);
            identifier("tokenColumn", tokenColumn);
            if (resourceColumn.equalsIgnoreCase(tokenColumn)) {
                throw new IllegalArgumentException("JdbcFence resourceColumn and tokenColumn are both '" + tokenColumn
                        + "': the fence table needs two different columns; give them different names");
            }
            Objects.requireNonNull(rowLock, "rowLock");
            if (lockTimeout == null || lockTimeout.isNegative()) {
                throw new IllegalArgumentException("JdbcFence lockTimeout is " + lockTimeout
                        + ": it must be zero (wait without limit) or positive; the default is "
                        + DEFAULT_LOCK_TIMEOUT.toSeconds() + " s");
            }
            return new JdbcFence(this);
        }

        private static void identifier(String setting, String value) {
            if (value == null || !IDENTIFIER.matcher(value).matches()) {
                throw new IllegalArgumentException("JdbcFence " + setting + " is " + (value == null ? "null"
                        : "'" + value + "'") + ": it is put into SQL as it is, so it must be a plain identifier"
                        + " (letters, digits, _ and $, not starting with a digit), optionally schema-qualified"
                        + " (schema.name); rename it or use a view");
            }
        }
    }
}
