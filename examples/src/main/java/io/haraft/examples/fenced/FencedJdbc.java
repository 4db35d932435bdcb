package io.haraft.examples.fenced;

import io.haraft.FencingToken;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The resource side of fencing for a SQL database: every write carries the writer's fencing token,
 * and the database refuses a token lower than the highest one it has already accepted.
 *
 * <p>The guard is one row per fenced resource in table {@code haraft_fence}. Inside the writer's
 * transaction, before its own statements, this runs
 * <pre>{@code
 * INSERT INTO haraft_fence(resource, token) VALUES (?, ?)
 *   ON CONFLICT (resource) DO UPDATE SET token = EXCLUDED.token
 *   WHERE haraft_fence.token <= EXCLUDED.token
 * }</pre>
 * which locks the row; if it updates nothing, a newer leader has written and the transaction is
 * rolled back with {@link StaleTokenException}. Because the row lock is held to commit, a deposed
 * leader's transaction can never interleave with, or land after, a newer leader's write.
 * The same pattern works in any database with a conditional update (PostgreSQL syntax here).
 *
 * <pre>{@code
 * FencedJdbc fenced = new FencedJdbc(dataSource::getConnection, "billing");
 * fenced.write(leadership.checkValid(), c -> { try (var s = c.prepareStatement("UPDATE ...")) { ... } return null; });
 * }</pre>
 *
 * <p>Thread-safe: each {@link #write} uses its own connection.
 */
public final class FencedJdbc {
    /** Opens a connection. */
    @FunctionalInterface
    public interface ConnectionSource {
        Connection open() throws SQLException;
    }

    /** Work done inside the fenced transaction. */
    @FunctionalInterface
    public interface SqlWork<T> {
        T run(Connection c) throws SQLException;
    }

    private final ConnectionSource connections;
    private final String resource;

    public FencedJdbc(ConnectionSource connections, String resource) {
        this.connections = connections;
        this.resource = resource;
    }

    /** Creates the guard table if it does not exist. */
    public void createSchema() throws SQLException {
        try (Connection c = connections.open(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS haraft_fence (resource text PRIMARY KEY, token bigint NOT NULL)");
        }
    }

    /**
     * Runs {@code work} in one transaction guarded by {@code token}.
     *
     * @throws StaleTokenException if a larger token has already written (nothing was written)
     */
    public <T> T write(FencingToken token, SqlWork<T> work) throws SQLException, StaleTokenException {
        try (Connection c = connections.open()) {
            c.setAutoCommit(false);
            try {
                int updated;
                try (PreparedStatement p = c.prepareStatement(
                        "INSERT INTO haraft_fence(resource, token) VALUES (?, ?) ON CONFLICT (resource) "
                                + "DO UPDATE SET token = EXCLUDED.token WHERE haraft_fence.token <= EXCLUDED.token")) {
                    p.setString(1, resource);
                    p.setLong(2, token.value());
                    updated = p.executeUpdate();
                }
                if (updated == 0) {
                    long current = currentToken(c);
                    c.rollback();
                    throw new StaleTokenException(resource, token.value(), current);
                }
                T result = work.run(c);
                c.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        }
    }

    /** The highest token accepted so far, or 0. */
    public long currentToken() throws SQLException {
        try (Connection c = connections.open()) {
            return currentToken(c);
        }
    }

    private long currentToken(Connection c) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT token FROM haraft_fence WHERE resource = ?")) {
            p.setString(1, resource);
            try (ResultSet rs = p.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0;
            }
        }
    }
}
