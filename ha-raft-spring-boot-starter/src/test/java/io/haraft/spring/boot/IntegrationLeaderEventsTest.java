package io.haraft.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.event.EventListener;
import org.springframework.integration.leader.event.AbstractLeaderEvent;
import org.springframework.integration.leader.event.OnGrantedEvent;
import org.springframework.integration.leader.event.OnRevokedEvent;
import org.springframework.integration.support.SmartLifecycleRoleController;

/**
 * Code written for a Spring Integration {@code LeaderInitiator} on HA-Raft: {@code OnGrantedEvent}
 * and {@code OnRevokedEvent} listeners, and {@link SmartLifecycleRoleController} starting the
 * endpoints of the role.
 */
class IntegrationLeaderEventsTest {

    @TempDir
    Path dir;

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(HaRaftAutoConfiguration.class));

    /** What a Spring Integration leader listener saw: the event, and whether its context led then. */
    record Seen(AbstractLeaderEvent event, boolean contextIsLeader) { }

    static class LeaderListener {
        final List<Seen> seen = new CopyOnWriteArrayList<>();

        @EventListener
        void on(AbstractLeaderEvent event) {
            seen.add(new Seen(event, event.getContext().isLeader()));
        }
    }

    /** An endpoint in a role: not started by the context, only by the role controller. */
    static class RoleEndpoint implements SmartLifecycle {
        final AtomicBoolean running = new AtomicBoolean();
        final List<String> calls = new CopyOnWriteArrayList<>();

        @Override
        public void start() {
            calls.add("start");
            running.set(true);
        }

        @Override
        public void stop() {
            calls.add("stop");
            running.set(false);
        }

        @Override
        public boolean isRunning() {
            return running.get();
        }

        @Override
        public boolean isAutoStartup() {
            return false;
        }
    }

    @Test
    void grantedAndRevokedReachSpringIntegrationWithTheRoleAndTheRoleControllerFollows() {
        LeaderListener listener = new LeaderListener();
        RoleEndpoint endpoint = new RoleEndpoint();
        runner.withPropertyValues("haraft.cluster-id=solo", "haraft.node-id=s1",
                "haraft.members.s1=" + LoopbackPorts.address(), "haraft.data-dir=" + dir.resolve("s1"),
                "haraft.integration.role=billing")
                .withBean(LeaderListener.class, () -> listener)
                .withBean(SmartLifecycleRoleController.class, () -> {
                    SmartLifecycleRoleController c = new SmartLifecycleRoleController();
                    c.addLifecycleToRole("billing", endpoint);
                    return c;
                })
                .run(context -> {
                    assertThat(context).hasNotFailed().hasSingleBean(IntegrationLeaderEvents.class);
                    Await.until(() -> endpoint.isRunning() && !listener.seen.isEmpty(), () -> "the role controller starts the endpoint; seen "
                            + listener.seen);
                    Seen granted = listener.seen.get(0);
                    assertThat(granted.event()).isInstanceOf(OnGrantedEvent.class);
                    assertThat(granted.event().getRole()).isEqualTo("billing");
                    assertThat(granted.event().getContext().getRole()).isEqualTo("billing");
                    assertThat(granted.contextIsLeader()).isTrue();
                });
        assertThat(listener.seen).hasSize(2);
        Seen revoked = listener.seen.get(1);
        assertThat(revoked.event()).isInstanceOf(OnRevokedEvent.class);
        assertThat(revoked.event().getRole()).isEqualTo("billing");
        assertThat(revoked.contextIsLeader()).isFalse();
        assertThat(endpoint.calls).containsExactly("start", "stop");
    }

    @Test
    void theRoleIsTheClusterIdByDefault() {
        runner.withPropertyValues("haraft.cluster-id=orders", "haraft.node-id=n1",
                "haraft.members.n1=127.0.0.1:7101", "haraft.data-dir=" + dir, "haraft.lifecycle.auto-startup=false")
                .run(context -> {
                    IntegrationLeaderEvents bridge = context.getBean(IntegrationLeaderEvents.class);
                    assertThat(bridge).extracting("role").isEqualTo("orders");
                });
    }

    @Test
    void absentWithoutSpringIntegrationOrWhenDisabled() {
        ApplicationContextRunner node = runner.withPropertyValues("haraft.cluster-id=orders", "haraft.node-id=n1",
                "haraft.members.n1=127.0.0.1:7101", "haraft.data-dir=" + dir, "haraft.lifecycle.auto-startup=false");
        node.withClassLoader(new FilteredClassLoader(OnGrantedEvent.class)).run(context ->
                assertThat(context).hasNotFailed().doesNotHaveBean(IntegrationLeaderEvents.class));
        node.withPropertyValues("haraft.integration.enabled=false").run(context ->
                assertThat(context).hasNotFailed().doesNotHaveBean(IntegrationLeaderEvents.class));
    }
}
