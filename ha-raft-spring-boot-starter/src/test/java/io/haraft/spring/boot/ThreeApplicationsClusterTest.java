package io.haraft.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import io.haraft.RaftNode;
import io.haraft.RevokeReason;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.ApplicationEvent;
import org.springframework.context.ApplicationListener;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Configuration;
import org.springframework.integration.leader.Context;
import org.springframework.integration.leader.event.OnGrantedEvent;

/**
 * Three Spring Boot applications in this JVM, each with the starter and its own node on a loopback
 * port, form one cluster: exactly one of them is granted leadership; closing that application
 * publishes its revoked event (a handover) before close returns, and another one is granted; that
 * one's Spring Integration {@link Context#yield()} hands leadership to the third.
 * Which application got which event is recorded by each application's own listener, and the node
 * id is read from the event.
 */
class ThreeApplicationsClusterTest {

    /** An application that has nothing but the starter, found through the auto-configuration imports. */
    @Configuration(proxyBeanMethods = false)
    @EnableAutoConfiguration
    static class App {
    }

    @TempDir
    Path dir;

    private final List<EventLog.Entry> events = EventLog.newList();
    /** Spring Integration's granted events, with the application that received them. */
    private final List<Map.Entry<String, OnGrantedEvent>> integrationGrants = new CopyOnWriteArrayList<>();
    private final Map<String, ConfigurableApplicationContext> apps = new LinkedHashMap<>();

    @AfterEach
    void closeAll() {
        apps.values().forEach(ConfigurableApplicationContext::close);
    }

    @Test
    void oneApplicationLeadsAndClosingItHandsLeadershipToAnother() {
        Map<String, String> members = new LinkedHashMap<>();
        for (String id : List.of("n1", "n2", "n3")) {
            members.put(id, LoopbackPorts.address());
        }
        for (String id : members.keySet()) {
            apps.put(id, start(id, members));
        }

        // A load spike may move leadership before things settle: wait for one application that
        // holds a grant, is leader, and is followed by the two others.
        AtomicReference<EventLog.Entry> settled = new AtomicReference<>();
        Await.until(() -> settled.compareAndSet(null, settledLeader().orElse(null)) && settled.get() != null,
                () -> "one application holding a grant, followed by the others; events " + events);
        EventLog.Entry leaderGrant = settled.get();
        String leader = leaderGrant.context();
        for (EventLog.Entry e : events) {
            assertThat(e.event().getNodeId()).as("node id in an event received by " + e.context())
                    .isEqualTo(e.context());
            assertThat(e.event().getClusterId()).isEqualTo("spring-test");
        }
        assertThat(grants().stream().map(EventLog.Entry::token)).as("tokens of all grants: each granted once")
                .doesNotHaveDuplicates();

        long leaderToken = leaderGrant.token();
        int eventsBeforeClose = events.size();
        apps.remove(leader).close();

        // close() returns only after the node delivered its last callback: the revoked event is there.
        EventLog.Entry revoked = events.stream().filter(e -> e.context().equals(leader) && !e.granted()
                && e.token() == leaderToken).findFirst().orElseThrow(() -> new AssertionError(
                        "no revoked event of " + leader + " for token " + leaderToken + " after its close; events "
                                + events));
        if (events.indexOf(revoked) >= eventsBeforeClose) {
            // Revoked by close (not by a lease that ran out just before it): a handover to a peer.
            assertThat(((LeadershipRevokedEvent) revoked.event()).getReason())
                    .isEqualTo(RevokeReason.LEADERSHIP_TRANSFERRED);
        }
        assertThat(revoked.event().getNodeId()).isEqualTo(leader);

        Await.until(() -> grants().stream().anyMatch(g -> !g.context().equals(leader) && g.token() > leaderToken),
                () -> "another application granted with a token above " + leaderToken + "; events " + events);
        EventLog.Entry next = grants().stream().filter(g -> g.token() > leaderToken).findFirst().orElseThrow();
        assertThat(next.context()).isNotEqualTo(leader).isIn(apps.keySet());
        assertThat(next.event().getNodeId()).isEqualTo(next.context());
        assertThat(grants().stream().filter(g -> g.token() == next.token())).as("grants of " + next.event().getToken())
                .hasSize(1);

        // The same leadership as Spring Integration sees it: yield() hands it over to the other one.
        Await.until(() -> integrationGrants.stream().anyMatch(g -> g.getKey().equals(next.context())),
                () -> "Spring Integration's OnGrantedEvent in " + next.context());
        Context context = integrationGrants.stream().filter(g -> g.getKey().equals(next.context())).findFirst()
                .orElseThrow().getValue().getContext();
        assertThat(context.getRole()).isEqualTo("spring-test");
        // A handover prefers a peer heard from within an election timeout, and the closed leader may
        // have answered a heartbeat of the new one while it closed: yield once the new leader no
        // longer counts it as heard, so that the live peer is the one it hands over to.
        RaftNode nextNode = node(next.context());
        Duration recent = nextNode.config().electionTimeout();
        Await.until(() -> nextNode.status().peers().stream().filter(p -> p.peerId().equals(leader))
                        .allMatch(p -> p.lastContact().map(d -> d.compareTo(recent) >= 0).orElse(true)),
                () -> next.context() + " no longer counts the closed " + leader + " as heard; peers "
                        + nextNode.status().peers());
        int eventsBeforeYield = events.size();
        context.yield();
        Await.until(() -> grants().stream().anyMatch(g -> g.token() > next.token()),
                () -> "a grant after " + next.context() + " yielded; events " + events);
        EventLog.Entry afterYield = grants().stream().filter(g -> g.token() > next.token()).findFirst().orElseThrow();
        assertThat(afterYield.context()).isNotEqualTo(next.context()).isNotEqualTo(leader);
        EventLog.Entry yielded = events.stream().filter(e -> e.context().equals(next.context()) && !e.granted()
                && e.token() == next.token()).findFirst().orElseThrow();
        if (events.indexOf(yielded) >= eventsBeforeYield) {
            // Revoked by the yield (not by a lease that ran out just before it): a handover.
            assertThat(((LeadershipRevokedEvent) yielded.event()).getReason())
                    .isEqualTo(RevokeReason.LEADERSHIP_TRANSFERRED);
        }
        assertThat(context.isLeader()).isFalse();
    }

    private ConfigurableApplicationContext start(String id, Map<String, String> members) {
        return StarterApplications.node("spring-test", id, members, dir)
                .initializers(context -> context.addApplicationListener((ApplicationListener<ApplicationEvent>) e -> {
                    if (e instanceof LeadershipEvent l) {
                        events.add(new EventLog.Entry(id, l));
                    } else if (e instanceof OnGrantedEvent g) {
                        integrationGrants.add(Map.entry(id, g));
                    }
                }))
                .run();
    }

    private RaftNode node(String id) {
        return apps.get(id).getBean(RaftNode.class);
    }

    private List<EventLog.Entry> grants() {
        return events.stream().filter(EventLog.Entry::granted).toList();
    }

    /**
     * The grant held by the one application whose latest event is a grant, if that application
     * leads and the others follow it.
     */
    private Optional<EventLog.Entry> settledLeader() {
        Map<String, EventLog.Entry> latest = latestEvents();
        List<EventLog.Entry> held = latest.values().stream().filter(EventLog.Entry::granted).toList();
        if (held.size() != 1) {
            return Optional.empty();
        }
        String h = held.get(0).context();
        boolean settled = node(h).leadership().isPresent() && apps.keySet().stream().filter(id -> !id.equals(h))
                .allMatch(id -> node(id).status().leaderId().equals(Optional.of(h)));
        return settled ? Optional.of(held.get(0)) : Optional.empty();
    }

    /** The latest event of each application that received one. */
    private Map<String, EventLog.Entry> latestEvents() {
        Map<String, EventLog.Entry> latest = new LinkedHashMap<>();
        events.forEach(e -> latest.put(e.context(), e));
        return latest;
    }
}
