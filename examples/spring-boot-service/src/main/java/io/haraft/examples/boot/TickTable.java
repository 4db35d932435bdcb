package io.haraft.examples.boot;

import io.haraft.Leadership;
import io.haraft.fencing.jdbc.JdbcFence;
import io.haraft.fencing.jdbc.StaleTokenException;
import org.springframework.stereotype.Component;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.regex.Pattern;

/**
 * The table the leader's job writes to: one row per tick with the node id, the term and the
 * fencing token of the leadership that wrote it, each row inserted in a {@link JdbcFence}
 * transaction. The fence refuses a token smaller than one it already accepted, so the tokens of
 * the rows, in the order the rows were inserted ({@code id}), never decrease.
 *
 * <p>Thread-safe: every write uses its own connection from the pool.
 */
@Component
public class TickTable {

    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    private final DataSource dataSource;
    private final JdbcFence fence;
    private final String table;
    private final String insertSql;

    TickTable(DataSource dataSource, TickProperties properties) {
        this.dataSource = dataSource;
        this.table = properties.table();
        if (table == null || !IDENTIFIER.matcher(table).matches()) {
            throw new IllegalArgumentException("example.table is '" + table + "': it is put into SQL as it is, so it"
                    + " must be a plain identifier (letters, digits and _, not starting with a digit)");
        }
        this.fence = JdbcFence.builder(dataSource).table(properties.fenceTable()).resource(properties.resource())
                .build();
        this.insertSql = "INSERT INTO " + table + " (node_id, term, token) VALUES (?, ?, ?)";
    }

    /** Creates the fence table and the tick table if they do not exist. */
    public void createTablesIfNotExist() throws SQLException {
        fence.createTableIfNotExists();
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS " + table + " (id BIGSERIAL PRIMARY KEY, node_id VARCHAR(255) NOT NULL,"
                    + " term BIGINT NOT NULL, token BIGINT NOT NULL, written_at TIMESTAMPTZ NOT NULL DEFAULT now())");
        }
    }

    /**
     * Inserts one row for {@code leadership}, fenced with its token.
     *
     * @throws StaleTokenException if a newer leadership has written already; nothing was written
     * @throws io.haraft.LeaseExpiredException if the lease ended before the commit; nothing was written
     */
    public void write(Leadership leadership) throws SQLException, StaleTokenException {
        fence.write(leadership, c -> {
            try (PreparedStatement p = c.prepareStatement(insertSql)) {
                p.setString(1, leadership.nodeId());
                p.setLong(2, leadership.term());
                p.setLong(3, leadership.token().value());
                return p.executeUpdate();
            }
        });
    }
}
