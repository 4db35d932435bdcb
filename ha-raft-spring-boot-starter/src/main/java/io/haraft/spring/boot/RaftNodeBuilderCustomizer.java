package io.haraft.spring.boot;

import io.haraft.RaftNode;

/**
 * Adjusts the builder of the auto-configured {@link RaftNode} after the {@code haraft.*}
 * properties were applied and before the node is built: for settings that do not come from
 * properties (TLS files fetched at start-up, say). Declare one or more as beans; they run in
 * {@link org.springframework.core.annotation.Order @Order}.
 *
 * <pre>{@code
 * @Bean
 * RaftNodeBuilderCustomizer tls(Vault vault) {
 *     return builder -> builder.tls(vault.raftTlsConfig());
 * }
 * }</pre>
 *
 * <p><b>Limits.</b> The builder's listener publishes the leadership events: a customizer that
 * replaces it turns those events off.
 */
@FunctionalInterface
public interface RaftNodeBuilderCustomizer {

    /** Adjusts the builder; may throw {@link io.haraft.RaftConfigException} for an invalid value. */
    void customize(RaftNode.Builder builder);
}
