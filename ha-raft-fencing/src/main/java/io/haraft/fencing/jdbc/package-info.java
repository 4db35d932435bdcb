/**
 * Fencing for SQL databases: {@link io.haraft.fencing.jdbc.JdbcFence} makes a write commit only if
 * its fencing token is at least the highest one the database has accepted for the resource, in the
 * same transaction as the write.
 *
 * <p>Unless stated otherwise, methods of this package reject {@code null} arguments with a
 * {@link java.lang.NullPointerException} and never return {@code null}.
 */
package io.haraft.fencing.jdbc;
