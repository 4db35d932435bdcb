/**
 * Spring Boot auto-configuration of an HA-Raft node: {@link io.haraft.spring.boot.HaRaftProperties}
 * ({@code haraft.*}), leadership as application events
 * ({@link io.haraft.spring.boot.LeadershipGrantedEvent}, {@link io.haraft.spring.boot.LeadershipRevokedEvent},
 * and Spring Integration's {@code OnGrantedEvent} / {@code OnRevokedEvent}), start and graceful
 * handover in the application's lifecycle ({@link io.haraft.spring.boot.RaftNodeLifecycle}), an
 * Actuator health indicator, the node's metrics on the application's Micrometer registry, and
 * configuration errors reported as start-up failure analyses.
 */
package io.haraft.spring.boot;
