package io.haraft.fencing.jdbc;

/**
 * How {@link JdbcFence} locks the fence row: the one piece of SQL that differs between databases.
 *
 * <p>Both forms take an exclusive row lock that is held until the transaction ends, and read the
 * latest committed value of the row (not a snapshot), at every isolation level.
 */
public enum RowLock {
    /**
     * {@code SELECT token FROM haraft_fence WHERE resource = ? FOR UPDATE}: PostgreSQL, MySQL
     * (InnoDB), MariaDB, Oracle, DB2, H2. The default.
     */
    FOR_UPDATE,
    /**
     * {@code SELECT token FROM haraft_fence WITH (UPDLOCK, ROWLOCK) WHERE resource = ?}: Microsoft
     * SQL Server, which has no {@code FOR UPDATE} on a plain {@code SELECT}.
     */
    UPDLOCK_HINT
}
