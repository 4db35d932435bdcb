package io.haraft.examples.boot;

import org.junit.jupiter.api.Assumptions;
import org.postgresql.ds.PGSimpleDataSource;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A schema of its own in the PostgreSQL of {@code examples/scripts/postgres-setup.sh}
 * (127.0.0.1:5432, database, user and password {@code haraft}), dropped by {@link #close()}.
 * Without a PostgreSQL the test is skipped, except in CI ({@code CI=true}), where it fails.
 */
final class TickDatabase implements AutoCloseable {

    /** One row the service wrote. */
    record Row(long id, String nodeId, long term, long token) {
    }

    static final String HOST_URL = System.getProperty("haraft.jdbc.url", "jdbc:postgresql://127.0.0.1:5432/haraft");
    static final String USER = System.getProperty("haraft.jdbc.user", "haraft");
    static final String PASSWORD = System.getProperty("haraft.jdbc.password", "haraft");

    private final String schema = "tick_example_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    private final PGSimpleDataSource dataSource = new PGSimpleDataSource();
    private final String table;

    /** Creates the schema for the tables named {@code table} and the fence table, which the service creates. */
    TickDatabase(String table) throws SQLException {
        this.table = table;
        PGSimpleDataSource plain = new PGSimpleDataSource();
        plain.setUrl(HOST_URL);
        plain.setUser(USER);
        plain.setPassword(PASSWORD);
        try (Connection c = plain.getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA " + schema);
        }
        dataSource.setUrl(url());
        dataSource.setUser(USER);
        dataSource.setPassword(PASSWORD);
    }

    /** Skips the test (fails it in CI) when no PostgreSQL answers. */
    static void require() {
        boolean reachable;
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setUrl(HOST_URL);
        ds.setUser(USER);
        ds.setPassword(PASSWORD);
        try (Connection c = ds.getConnection()) {
            reachable = c.isValid(5);
        } catch (SQLException e) {
            reachable = false;
        }
        if (!reachable) {
            assertThat(System.getenv("CI")).as("PostgreSQL must be running in CI (examples/scripts/postgres-setup.sh)")
                    .isNotEqualTo("true");
            Assumptions.abort("no PostgreSQL on " + HOST_URL + "; run examples/scripts/postgres-setup.sh");
        }
    }

    /** The JDBC URL of the schema: give it to the service as {@code spring.datasource.url}. */
    String url() {
        return HOST_URL + (HOST_URL.contains("?") ? "&" : "?") + "currentSchema=" + schema;
    }

    /** Connections to the schema. */
    PGSimpleDataSource dataSource() {
        return dataSource;
    }

    /** Every row, in the order they were inserted; none before the service created the table. */
    List<Row> rows() throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            try (PreparedStatement exists = c.prepareStatement("SELECT to_regclass(?)")) {
                exists.setString(1, schema + "." + table);
                try (ResultSet rs = exists.executeQuery()) {
                    if (!rs.next() || rs.getString(1) == null) {
                        return List.of();
                    }
                }
            }
            List<Row> rows = new ArrayList<>();
            try (Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT id, node_id, term, token FROM " + table + " ORDER BY id")) {
                while (rs.next()) {
                    rows.add(new Row(rs.getLong(1), rs.getString(2), rs.getLong(3), rs.getLong(4)));
                }
            }
            return rows;
        }
    }

    @Override
    public void close() throws SQLException {
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
            s.execute("DROP SCHEMA " + schema + " CASCADE");
        }
    }
}
