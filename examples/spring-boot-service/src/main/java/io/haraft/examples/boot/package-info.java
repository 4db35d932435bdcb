/**
 * An example Spring Boot service on {@code ha-raft-spring-boot-starter}: a job that runs on the
 * leader only and writes to PostgreSQL through a {@code JdbcFence}, and an HTTP endpoint that says
 * who leads.
 */
package io.haraft.examples.boot;
