package io.haraft.fencing.jdbc;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The builder's validation and defaults; no database needed. */
class JdbcFenceBuilderTest {
    private static final ConnectionSource NONE = () -> {
        throw new AssertionError("no connection is opened while building");
    };

    @Test
    void defaults() {
        JdbcFence f = JdbcFence.builder(NONE).resource("billing").build();
        assertThat(f.resource()).isEqualTo("billing");
        assertThat(f.table()).isEqualTo("haraft_fence");
        assertThat(f.rowLock()).isEqualTo(RowLock.FOR_UPDATE);
        assertThat(f.lockTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(f.toString()).contains("billing", "haraft_fence(resource, token)");
    }

    @Test
    void aMissingOrTooLongResourceIsRefusedWithTheFix() {
        assertThatThrownBy(() -> JdbcFence.builder(NONE).build()).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("resource is not set").hasMessageContaining("resource(\"billing\")");
        assertThatThrownBy(() -> JdbcFence.builder(NONE).resource("x".repeat(256)).build())
                .hasMessageContaining("256 characters");
    }

    @Test
    void namesThatAreNotPlainIdentifiersAreRefused() {
        assertThat(JdbcFence.builder(NONE).resource("r").table("ops.haraft_fence").build().table())
                .isEqualTo("ops.haraft_fence");
        assertThatThrownBy(() -> JdbcFence.builder(NONE).resource("r").table("fence; DROP TABLE x").build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("table is 'fence; DROP TABLE x'")
                .hasMessageContaining("plain identifier");
        assertThatThrownBy(() -> JdbcFence.builder(NONE).resource("r").tokenColumn("1token").build())
                .hasMessageContaining("tokenColumn");
        assertThatThrownBy(() -> JdbcFence.builder(NONE).resource("r").resourceColumn("token").build())
                .hasMessageContaining("two different columns");
    }

    @Test
    void aNegativeLockTimeoutIsRefused() {
        assertThatThrownBy(() -> JdbcFence.builder(NONE).resource("r").lockTimeout(Duration.ofSeconds(-1)).build())
                .hasMessageContaining("lockTimeout is PT-1S");
        assertThat(JdbcFence.builder(NONE).resource("r").lockTimeout(Duration.ZERO).build().lockTimeout()).isZero();
    }
}
