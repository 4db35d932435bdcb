package io.haraft.fencing.jdbc;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * The statements of one fenced transaction.
 *
 * <p>Runs on the caller's thread, inside the transaction that holds the fence row's lock. Use only
 * the given connection: statements on any other connection are not fenced. Do not commit, roll
 * back or change auto-commit on it; {@link JdbcFence} does.
 *
 * @param <T> what the work returns, handed back by {@link JdbcFence#write}
 */
@FunctionalInterface
public interface FencedWork<T> {

    /**
     * Runs the statements.
     *
     * @param connection the connection of the fenced transaction; not to be closed
     * @return any value, {@code null} allowed
     * @throws SQLException to roll the transaction back; it is rethrown by {@code write}
     */
    T run(Connection connection) throws SQLException;
}
