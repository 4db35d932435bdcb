package io.haraft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.haraft.spi.RaftNodeFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Group names, group options, {@code buildGroups()} and the defaults that keep older code compiling. */
class GroupsApiTest {

    @TempDir
    Path tmp;

    private RaftNode.Builder three() {
        return RaftNode.builder().clusterId("jobs").nodeId("n1")
                .member("n1", "10.0.0.1:7001").member("n2", "10.0.0.2:7001").member("n3", "10.0.0.3:7001")
                .dataDir(tmp.resolve("raft"));
    }

    @Test
    void validNames() {
        for (String name : List.of("a", "0", "orders-7", "eu.west_1", "default", "x".repeat(GroupNames.MAX_LENGTH))) {
            assertThat(GroupNames.isValid(name)).as(name).isTrue();
            assertThat(GroupNames.check(name)).isSameAs(name);
        }
    }

    @Test
    void invalidNamesAreRefusedWithTheRuleTheyBreak() {
        assertThatThrownBy(() -> GroupNames.check("")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("it is empty");
        assertThatThrownBy(() -> GroupNames.check("x".repeat(GroupNames.MAX_LENGTH + 1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("65 characters, more than 64");
        assertThatThrownBy(() -> GroupNames.check("Orders")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'Orders'").hasMessageContaining("starts with 'O'");
        assertThatThrownBy(() -> GroupNames.check("ordErs")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("upper-case character 'E' at position 3");
        assertThatThrownBy(() -> GroupNames.check("a/b")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("character '/' at position 1");
        assertThatThrownBy(() -> GroupNames.check("a\nb")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("\\u000a");
        for (String bad : List.of(".", "..", ".hidden", "-x", "_x", "a b", "ä")) {
            assertThat(GroupNames.isValid(bad)).as(bad).isFalse();
            assertThatThrownBy(() -> GroupNames.check(bad)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("1 to 64 characters from [a-z0-9._-]");
        }
        assertThat(GroupNames.isValid(null)).isFalse();
        assertThatThrownBy(() -> GroupNames.check(null)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void groupOptionsAreImmutable() {
        GroupOptions none = GroupOptions.defaults();
        LeadershipListener l = new LeadershipListener() {
            @Override
            public void elected(Leadership leadership) {
            }

            @Override
            public void revoked(Leadership leadership, RevokeReason reason) {
            }
        };
        GroupOptions withListener = none.withListener(l);
        assertThat(none.listener()).isEmpty();
        assertThat(none.stateMachine()).isEmpty();
        assertThat(withListener.listener()).containsSame(l);
        assertThat(withListener.stateMachine()).isEmpty();
        assertThatThrownBy(() -> none.withListener(null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> none.withStateMachine(null)).isInstanceOf(NullPointerException.class);

        GroupOptions preferring = withListener.withPreferredLeader("n2");
        assertThat(none.preferredLeader()).isEmpty();
        assertThat(withListener.preferredLeader()).isEmpty();
        assertThat(preferring.preferredLeader()).contains("n2");
        assertThat(preferring.listener()).containsSame(l);
        assertThat(preferring.withStateMachine(noState()).preferredLeader()).as("kept by the other copies").contains("n2");
        assertThat(preferring.toString()).contains("preferredLeader=n2");
        assertThatThrownBy(() -> none.withPreferredLeader(null)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void aLeadershipOfAnOlderImplementationBelongsToTheDefaultGroup() {
        Leadership old = new Leadership() {
            @Override
            public FencingToken token() {
                return FencingToken.of(3);
            }

            @Override
            public long term() {
                return 3;
            }

            @Override
            public String nodeId() {
                return "n1";
            }

            @Override
            public boolean isValid() {
                return false;
            }

            @Override
            public Duration remainingLease() {
                return Duration.ZERO;
            }

            @Override
            public FencingToken checkValid() {
                throw new LeaseExpiredException(token(), "n1", Duration.ZERO, RevokeReason.SHUT_DOWN);
            }
        };
        assertThat(old.group()).isEqualTo(GroupNames.DEFAULT);
    }

    @Test
    void buildGroupsRefusesAnImplementationThatHostsOneGroupAndSettingsOfOneGroup() {
        RaftNodeFactory single = (config, listener, sm) -> null;
        assertThatThrownBy(() -> three().buildGroups(List.of(single)))
                .isInstanceOf(UnsupportedOperationException.class)
                .hasMessageContaining("cannot host several Raft groups");
        assertThatThrownBy(() -> three().stateMachine(noState()).buildGroups(List.of(single))).isInstanceOf(RaftConfigException.class)
                .hasMessageContaining("withStateMachine");
    }

    @Test
    void buildGroupsHandsTheBuildersMetricsToTheImplementation() {
        List<io.haraft.metrics.RaftMetrics> given = new java.util.ArrayList<>();
        RaftGroups made = stub(RaftGroups.class);
        RaftNodeFactory groupsFactory = new RaftNodeFactory() {
            @Override
            public RaftNode create(RaftConfig config, LeadershipListener listener, StateMachine sm) {
                return null;
            }

            @Override
            public RaftGroups createGroups(RaftConfig config, LeadershipListener listener,
                                           io.haraft.metrics.RaftMetrics metrics) {
                given.add(metrics);
                return made;
            }
        };
        io.haraft.metrics.RaftMetrics mine = stub(io.haraft.metrics.RaftMetrics.class);
        assertThat(three().metrics(mine).buildGroups(List.of(groupsFactory))).isSameAs(made);
        assertThat(three().buildGroups(List.of(groupsFactory))).isSameAs(made);
        assertThat(given).containsExactly(mine, io.haraft.metrics.RaftMetrics.none());
    }

    /** An implementation of {@code type} whose every method returns null (enough for identity checks). */
    private static <T> T stub(Class<T> type) {
        return type.cast(java.lang.reflect.Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type},
                (proxy, method, args) -> method.getName().equals("equals") ? proxy == args[0]
                        : method.getName().equals("hashCode") ? System.identityHashCode(proxy)
                        : method.getName().equals("toString") ? type.getSimpleName() + " stub" : null));
    }

    /** A state machine that keeps nothing. */
    private static StateMachine noState() {
        return new StateMachine() {
            @Override
            public byte[] apply(Committed entry) {
                return new byte[0];
            }

            @Override
            public void snapshot(java.io.OutputStream out) {
            }

            @Override
            public void restore(java.io.InputStream in) {
            }
        };
    }
}
