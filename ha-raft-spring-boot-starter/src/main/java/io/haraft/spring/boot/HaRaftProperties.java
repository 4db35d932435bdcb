package io.haraft.spring.boot;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.util.unit.DataSize;

/**
 * The {@code haraft.*} properties from which {@link HaRaftAutoConfiguration} builds this
 * application's {@link io.haraft.RaftNode}.
 *
 * <p><b>Guarantees.</b> Every setting of {@link io.haraft.RaftNode.Builder} has a property here;
 * a property that is not set keeps the builder's default, so the two never disagree. Values are
 * validated when the node is built, at start-up: an invalid one fails the application's start with
 * a message that names the property and says how to fix it.
 *
 * <pre>{@code
 * haraft.cluster-id=orders
 * haraft.node-id=n1
 * haraft.members.n1=10.0.0.1:7001
 * haraft.members.n2=10.0.0.2:7001
 * haraft.members.n3=10.0.0.3:7001
 * haraft.data-dir=/var/lib/orders/raft
 * haraft.election-timeout=500ms
 * }</pre>
 *
 * <p><b>Limits.</b> A mutable bean, as Spring binding needs; the application reads it once, when
 * the node is built. Members are the bootstrap configuration: membership changes of a running
 * cluster go through {@link io.haraft.RaftNode#addLearner} and its siblings, not through these
 * properties.
 */
@ConfigurationProperties(prefix = "haraft")
public class HaRaftProperties {

    /** Whether to build and start a node from these properties. */
    private boolean enabled = true;

    /** The cluster's name, the same on every node; checked on every connection. Required. */
    private String clusterId;

    /** This node's id; one of the members, witnesses or learners. Required. */
    private String nodeId;

    /**
     * The voting members, this node included, as id to "host:port" (IPv6 in brackets), the same on
     * every node. Required.
     */
    private Map<String, String> members = new LinkedHashMap<>();

    /** Witnesses: voting members that store no data and never lead, as id to "host:port". */
    private Map<String, String> witnesses = new LinkedHashMap<>();

    /** Learners: members that receive the log but do not vote, as id to "host:port". */
    private Map<String, String> learners = new LinkedHashMap<>();

    /** Where this node keeps its log, term and snapshots; created if missing. Required. */
    private Path dataDir;

    /**
     * How often the leader sends heartbeats (default 100ms, or a third of the election timeout if
     * only that is set).
     */
    private Duration heartbeatInterval;

    /**
     * The minimum election timeout; actual timeouts are random between it and twice it (default
     * 300ms, or three heartbeat intervals if only those are set).
     */
    private Duration electionTimeout;

    /**
     * The assumed bound on the rate difference between nodes' monotonic clocks, in [0, 0.1); the
     * lease is shortened by twice this bound (default 0.01).
     */
    private Double clockDriftBound;

    /**
     * Whether a follower whose connection to the leader is refused treats the leader as gone at
     * once instead of waiting out the election timeout (default true). Turn it off if something
     * between the nodes can refuse connections while the leader runs.
     */
    private Boolean fastFailoverOnRefusedConnection;

    /** The largest message sent or accepted, which bounds one command; 64KB to 1GB (default 4MB). */
    private DataSize maxMessageBytes;

    /** How many entries are applied between two snapshots (default 10000). */
    private Long snapshotThreshold;

    /** How much log is applied between two snapshots; 64KB to 1TB (default 64MB). */
    private DataSize snapshotThresholdBytes;

    /** How many entries a learner may be behind the leader and still be promoted (default 1000). */
    private Long promoteMaxLag;

    /** Mutual TLS between the nodes: all three files, or none for plain TCP. */
    private final Tls tls = new Tls();

    /** When the node starts and stops within the application context. */
    private final Lifecycle lifecycle = new Lifecycle();

    /** Leadership as Spring Integration leader events, when spring-integration-core is present. */
    private final Integration integration = new Integration();

    /** The node's metrics on the application's Micrometer MeterRegistry, when ha-raft-micrometer is present. */
    private final Metrics metrics = new Metrics();

    /** Mutual TLS files, all in PEM format. */
    public static class Tls {
        /** This node's certificate, followed by any intermediates. */
        private Path certificateChain;
        /** The private key of that certificate, unencrypted PKCS#8. */
        private Path privateKey;
        /** The CA certificates that sign the peers' certificates. */
        private Path trustCertificates;

        public Path getCertificateChain() {
            return certificateChain;
        }

        public void setCertificateChain(Path certificateChain) {
            this.certificateChain = certificateChain;
        }

        public Path getPrivateKey() {
            return privateKey;
        }

        public void setPrivateKey(Path privateKey) {
            this.privateKey = privateKey;
        }

        public Path getTrustCertificates() {
            return trustCertificates;
        }

        public void setTrustCertificates(Path trustCertificates) {
            this.trustCertificates = trustCertificates;
        }

        /** Whether any of the three files is set. */
        boolean isConfigured() {
            return certificateChain != null || privateKey != null || trustCertificates != null;
        }
    }

    /** The node's place in the application context's lifecycle. */
    public static class Lifecycle {
        /** Whether the node starts with the application context. */
        private boolean autoStartup = true;
        /**
         * The SmartLifecycle phase: high, so the node starts after the rest of the application and
         * stops, handing its leadership over, before it.
         */
        private int phase = RaftNodeLifecycle.DEFAULT_PHASE;

        public boolean isAutoStartup() {
            return autoStartup;
        }

        public void setAutoStartup(boolean autoStartup) {
            this.autoStartup = autoStartup;
        }

        public int getPhase() {
            return phase;
        }

        public void setPhase(int phase) {
            this.phase = phase;
        }
    }

    /** The Spring Integration leader events. */
    public static class Integration {
        /** Whether to publish OnGrantedEvent and OnRevokedEvent when spring-integration-core is present. */
        private boolean enabled = true;
        /** The role of those events (the role of @Role endpoints); the cluster id if not set. */
        private String role;

        public boolean isEnabled() {
            return enabled;
        }

        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        public String getRole() {
            return role;
        }

        public void setRole(String role) {
            this.role = role;
        }
    }

    /** The node's metrics. */
    public static class Metrics {
        /**
         * Whether to report the node's metrics to the application's MeterRegistry when
         * ha-raft-micrometer is on the class path and the application has a MeterRegistry bean.
         */
        private boolean enabled = true;

        public boolean isEnabled() {
            return enabled;
        }

        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }
    }

    public boolean isEnabled() {
        return enabled;
    }

    public void setEnabled(boolean enabled) {
        this.enabled = enabled;
    }

    public String getClusterId() {
        return clusterId;
    }

    public void setClusterId(String clusterId) {
        this.clusterId = clusterId;
    }

    public String getNodeId() {
        return nodeId;
    }

    public void setNodeId(String nodeId) {
        this.nodeId = nodeId;
    }

    public Map<String, String> getMembers() {
        return members;
    }

    public void setMembers(Map<String, String> members) {
        this.members = members;
    }

    public Map<String, String> getWitnesses() {
        return witnesses;
    }

    public void setWitnesses(Map<String, String> witnesses) {
        this.witnesses = witnesses;
    }

    public Map<String, String> getLearners() {
        return learners;
    }

    public void setLearners(Map<String, String> learners) {
        this.learners = learners;
    }

    public Path getDataDir() {
        return dataDir;
    }

    public void setDataDir(Path dataDir) {
        this.dataDir = dataDir;
    }

    public Duration getHeartbeatInterval() {
        return heartbeatInterval;
    }

    public void setHeartbeatInterval(Duration heartbeatInterval) {
        this.heartbeatInterval = heartbeatInterval;
    }

    public Duration getElectionTimeout() {
        return electionTimeout;
    }

    public void setElectionTimeout(Duration electionTimeout) {
        this.electionTimeout = electionTimeout;
    }

    public Double getClockDriftBound() {
        return clockDriftBound;
    }

    public void setClockDriftBound(Double clockDriftBound) {
        this.clockDriftBound = clockDriftBound;
    }

    public Boolean getFastFailoverOnRefusedConnection() {
        return fastFailoverOnRefusedConnection;
    }

    public void setFastFailoverOnRefusedConnection(Boolean fastFailoverOnRefusedConnection) {
        this.fastFailoverOnRefusedConnection = fastFailoverOnRefusedConnection;
    }

    public DataSize getMaxMessageBytes() {
        return maxMessageBytes;
    }

    public void setMaxMessageBytes(DataSize maxMessageBytes) {
        this.maxMessageBytes = maxMessageBytes;
    }

    public Long getSnapshotThreshold() {
        return snapshotThreshold;
    }

    public void setSnapshotThreshold(Long snapshotThreshold) {
        this.snapshotThreshold = snapshotThreshold;
    }

    public DataSize getSnapshotThresholdBytes() {
        return snapshotThresholdBytes;
    }

    public void setSnapshotThresholdBytes(DataSize snapshotThresholdBytes) {
        this.snapshotThresholdBytes = snapshotThresholdBytes;
    }

    public Long getPromoteMaxLag() {
        return promoteMaxLag;
    }

    public void setPromoteMaxLag(Long promoteMaxLag) {
        this.promoteMaxLag = promoteMaxLag;
    }

    public Tls getTls() {
        return tls;
    }

    public Lifecycle getLifecycle() {
        return lifecycle;
    }

    public Integration getIntegration() {
        return integration;
    }

    public Metrics getMetrics() {
        return metrics;
    }
}
