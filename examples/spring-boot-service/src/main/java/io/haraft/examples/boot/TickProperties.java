package io.haraft.examples.boot;

import org.springframework.boot.context.properties.ConfigurationProperties;

import java.time.Duration;

/**
 * The example's own settings, {@code example.*}; their defaults are in {@code application.properties}.
 *
 * @param interval   how long the leader's job waits between two ticks
 * @param table      the table the job writes one row to per tick (created if missing)
 * @param fenceTable the fence table of {@code JdbcFence} (created if missing)
 * @param resource   the fenced resource: the key of the fence row that holds the highest token
 */
@ConfigurationProperties("example")
public record TickProperties(Duration interval, String table, String fenceTable, String resource) {
}
