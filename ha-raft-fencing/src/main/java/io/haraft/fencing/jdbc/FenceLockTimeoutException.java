package io.haraft.fencing.jdbc;

import java.sql.SQLTransientException;
import java.time.Duration;

/**
 * The fence row stayed locked by another transaction for longer than the configured
 * {@linkplain JdbcFence.Builder#lockTimeout lock timeout}, so this write gave up waiting.
 *
 * <p><b>Guarantees.</b> Nothing of this transaction was committed. Transient: a retry may succeed
 * (still with a token from {@code Leadership.checkValid()} taken right before it). The holder is
 * typically a writer whose process is paused inside its transaction (a GC, SIGSTOP, a frozen VM)
 * or a long transaction of this or a former leader. Make the database end abandoned transactions
 * (PostgreSQL {@code idle_in_transaction_session_timeout}, MySQL {@code wait_timeout}) so that a
 * paused former leader cannot hold the fence for long.
 */
public final class FenceLockTimeoutException extends SQLTransientException {

    /**
     * Creates the exception.
     *
     * @param resource the fenced resource
     * @param table    the fence table
     * @param waited   how long the write waited for the row lock
     * @param cause    the driver's exception (a cancelled statement)
     */
    public FenceLockTimeoutException(String resource, String table, Duration waited, Throwable cause) {
        super("the fence row of resource '" + resource + "' in table " + table + " stayed locked for "
                + waited.toMillis() + " ms by another transaction (another writer, perhaps a former leader paused"
                + " inside its transaction); nothing was written. Retry with a freshly checked token, and let the"
                + " database end abandoned transactions (PostgreSQL idle_in_transaction_session_timeout, MySQL"
                + " wait_timeout) or raise lockTimeout", cause);
    }
}
