package io.haraft.fencing.jdbc;

import org.junit.jupiter.api.Assumptions;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The PostgreSQL the tests write to: 127.0.0.1:5432, database, user and password {@code haraft}
 * ({@code examples/scripts/postgres-setup.sh} makes one; {@code .ci/run} runs it). Without it a test
 * is skipped, except in CI ({@code CI=true}), where it fails.
 */
final class Postgres {
    static final String URL = System.getProperty("haraft.jdbc.url", "jdbc:postgresql://127.0.0.1:5432/haraft");
    static final String USER = System.getProperty("haraft.jdbc.user", "haraft");
    static final String PASSWORD = System.getProperty("haraft.jdbc.password", "haraft");

    private Postgres() {
    }

    static Connection connect() throws SQLException {
        return DriverManager.getConnection(URL, USER, PASSWORD);
    }

    /** Skips the test (fails it in CI) when no PostgreSQL answers. */
    static void require() {
        boolean reachable;
        try (Connection c = connect()) {
            reachable = c.isValid(5);
        } catch (SQLException e) {
            reachable = false;
        }
        if (!reachable) {
            assertThat(System.getenv("CI")).as("PostgreSQL must be running in CI (examples/scripts/postgres-setup.sh)")
                    .isNotEqualTo("true");
            Assumptions.abort("no PostgreSQL on " + URL + "; run examples/scripts/postgres-setup.sh");
        }
    }
}
