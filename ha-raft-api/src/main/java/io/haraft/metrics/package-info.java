/**
 * The metrics SPI: how a node reports what it measures to a metrics system, without HA-Raft
 * depending on one. {@link io.haraft.metrics.RaftMetrics} is set on the builder
 * ({@code RaftNode.builder().metrics(...)}); the module {@code io.haraft:ha-raft-micrometer}
 * implements it for a Micrometer {@code MeterRegistry}.
 */
package io.haraft.metrics;
