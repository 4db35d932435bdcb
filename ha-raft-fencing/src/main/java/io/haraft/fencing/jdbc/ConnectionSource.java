package io.haraft.fencing.jdbc;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * Opens a connection to the fenced database: {@code dataSource::getConnection}, a pool, or
 * {@code () -> DriverManager.getConnection(url, user, password)}.
 *
 * <p>Called from the threads that write; must be thread-safe. {@link JdbcFence} closes every
 * connection it opens.
 */
@FunctionalInterface
public interface ConnectionSource {

    /**
     * Returns a new (or pooled) connection that the caller closes.
     *
     * @throws SQLException if no connection can be opened
     */
    Connection open() throws SQLException;
}
