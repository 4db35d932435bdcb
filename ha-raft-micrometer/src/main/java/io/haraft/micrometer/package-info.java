/**
 * HA-Raft metrics on Micrometer: {@link io.haraft.micrometer.MicrometerRaftMetrics} binds the
 * {@link io.haraft.metrics.RaftMetrics} SPI of {@code ha-raft-api} to a
 * {@code io.micrometer.core.instrument.MeterRegistry}.
 */
package io.haraft.micrometer;
