package io.haraft.spring.boot;

import io.haraft.MemberRole;
import io.haraft.RaftConfigException;
import io.haraft.RaftNode;
import io.haraft.TlsConfig;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.springframework.util.unit.DataSize;

/**
 * Turns {@link HaRaftProperties} into a {@link RaftNode.Builder}, and the builder's configuration
 * errors into errors that name {@code haraft.*} properties instead of builder methods.
 */
final class NodeFromProperties {

    /** Builder setting names, longest first where one is a prefix of another, with their property. */
    private static final String[][] SETTINGS = {
        {"clusterId", "haraft.cluster-id"},
        {"nodeId", "haraft.node-id"},
        {"dataDir", "haraft.data-dir"},
        {"heartbeatInterval", "haraft.heartbeat-interval"},
        {"electionTimeout", "haraft.election-timeout"},
        {"clockDriftBound", "haraft.clock-drift-bound"},
        {"maxMessageBytes", "haraft.max-message-bytes"},
        {"snapshotThresholdBytes", "haraft.snapshot-threshold-bytes"},
        {"snapshotThreshold", "haraft.snapshot-threshold"},
        {"promoteMaxLag", "haraft.promote-max-lag"},
    };
    private static final Pattern SETTING_WORD;
    /** {@code member(id, "host:port")}, {@code .witness("w1", "10.0.0.3:7001")} and the like. */
    private static final Pattern MEMBER_CALL =
            Pattern.compile("\\.?(member|witness|learner)\\((id|\"([^\"]*)\"), \"([^\"]*)\"\\)");
    private static final Pattern DURATION = Pattern.compile("Duration\\.of(Millis|Seconds)\\((\\d+)\\)");
    private static final Pattern PATH = Pattern.compile("Path\\.of\\(\"([^\"]*)\"\\)");

    static {
        StringBuilder words = new StringBuilder();
        for (String[] s : SETTINGS) {
            words.append(words.length() == 0 ? "" : "|").append(s[0]);
        }
        SETTING_WORD = Pattern.compile("\\b(" + words + ")\\b(\\(\\.\\.\\.\\))?");
    }

    private NodeFromProperties() {
    }

    /**
     * A builder with every property that is set; the listener and state machine are left to the
     * caller.
     *
     * @throws RaftConfigException if a required property is missing or a value is invalid; the
     *                             message names the property
     */
    static RaftNode.Builder builder(HaRaftProperties p) {
        requireSet(p.getClusterId(), "haraft.cluster-id",
                "Set haraft.cluster-id to the cluster's name, the same on every node, e.g. haraft.cluster-id=orders"
                        + " (or set haraft.enabled=false to run this application without an HA-Raft node).");
        requireSet(p.getNodeId(), "haraft.node-id",
                "Set haraft.node-id to this node's id, one of the ids under haraft.members, e.g. haraft.node-id=n1.");
        if (p.getMembers().isEmpty()) {
            throw new RaftConfigException("No members are configured: haraft.members is empty.",
                    "List every voter, this node included, the same on every node, as haraft.members.<id>=<host:port>,"
                            + " e.g. haraft.members.n1=10.0.0.1:7001; use 3 voters (or 2 and a witness under"
                            + " haraft.witnesses) for a cluster that survives one failure.");
        }
        if (p.getDataDir() == null) {
            throw new RaftConfigException("haraft.data-dir is not set.",
                    "Set haraft.data-dir to a directory on local persistent storage that only this node uses,"
                            + " e.g. haraft.data-dir=/var/lib/orders/raft.");
        }
        try {
            RaftNode.Builder b = RaftNode.builder().clusterId(p.getClusterId()).nodeId(p.getNodeId())
                    .dataDir(p.getDataDir());
            addAll(b, p.getMembers(), MemberRole.VOTER);
            addAll(b, p.getWitnesses(), MemberRole.WITNESS);
            addAll(b, p.getLearners(), MemberRole.LEARNER);
            if (p.getHeartbeatInterval() != null) {
                b.heartbeatInterval(p.getHeartbeatInterval());
            }
            if (p.getElectionTimeout() != null) {
                b.electionTimeout(p.getElectionTimeout());
            }
            if (p.getClockDriftBound() != null) {
                b.clockDriftBound(p.getClockDriftBound());
            }
            if (p.getFastFailoverOnRefusedConnection() != null) {
                b.fastFailoverOnRefusedConnection(p.getFastFailoverOnRefusedConnection());
            }
            if (p.getMaxMessageBytes() != null) {
                b.maxMessageBytes(toInt(p.getMaxMessageBytes()));
            }
            if (p.getSnapshotThreshold() != null) {
                b.snapshotThreshold(p.getSnapshotThreshold());
            }
            if (p.getSnapshotThresholdBytes() != null) {
                b.snapshotThresholdBytes(p.getSnapshotThresholdBytes().toBytes());
            }
            if (p.getPromoteMaxLag() != null) {
                b.promoteMaxLag(p.getPromoteMaxLag());
            }
            if (p.getTls().isConfigured()) {
                b.tls(tls(p.getTls()));
            }
            return b;
        } catch (RaftConfigException e) {
            throw inPropertyTerms(e);
        }
    }

    private static void addAll(RaftNode.Builder b, Map<String, String> members, MemberRole role) {
        members.forEach((id, address) -> b.member(id, address, role));
    }

    private static int toInt(DataSize size) {
        long bytes = size.toBytes();
        if (bytes < 0 || bytes > Integer.MAX_VALUE) {
            throw new RaftConfigException("haraft.max-message-bytes " + size + " is outside [64KB, 1GB].",
                    "Use a size between 64KB and 1GB that is larger than your biggest command; the default is 4MB.");
        }
        return (int) bytes;
    }

    private static TlsConfig tls(HaRaftProperties.Tls t) {
        if (t.getCertificateChain() == null || t.getPrivateKey() == null || t.getTrustCertificates() == null) {
            throw new RaftConfigException("TLS is configured only in part: haraft.tls.certificate-chain is "
                    + describe(t.getCertificateChain()) + ", haraft.tls.private-key is " + describe(t.getPrivateKey())
                    + ", haraft.tls.trust-certificates is " + describe(t.getTrustCertificates()) + ".",
                    "Set all three (PEM files) for mutual TLS between the nodes, or none for plain TCP.");
        }
        return new TlsConfig(t.getCertificateChain(), t.getPrivateKey(), t.getTrustCertificates());
    }

    private static String describe(Object value) {
        return value == null ? "not set" : value.toString();
    }

    private static void requireSet(String value, String property, String fix) {
        if (value == null || value.isBlank()) {
            throw new RaftConfigException(property + " is " + (value == null ? "not set" : "blank") + ".", fix);
        }
    }

    /**
     * The same error, in the words of the properties: {@code electionTimeout} becomes
     * {@code haraft.election-timeout}, {@code member(id, "host:port")} becomes
     * {@code haraft.members.<id>=<host:port>}, {@code Duration.ofMillis(100)} becomes {@code 100ms}.
     * The original is kept as the cause. Errors raised at start (TLS files that cannot be parsed)
     * and by a node the application built itself keep their words.
     */
    static RaftConfigException inPropertyTerms(RaftConfigException e) {
        String problem = translate(e.problem());
        String fix = translate(e.fix());
        if (problem.equals(e.problem()) && fix.equals(e.fix())) {
            return e;
        }
        return new RaftConfigException(problem, fix, e);
    }

    static String translate(String text) {
        Matcher m = MEMBER_CALL.matcher(text);
        StringBuilder out = new StringBuilder();
        int lastEnd = -1;
        while (m.find()) {
            String property = switch (m.group(1)) {
                case "witness" -> "haraft.witnesses.";
                case "learner" -> "haraft.learners.";
                default -> "haraft.members.";
            };
            String address = "host:port".equals(m.group(4)) ? "<host:port>" : m.group(4);
            m.appendReplacement(out, Matcher.quoteReplacement((m.start() == lastEnd ? ", " : "") + property
                    + (m.group(3) != null ? m.group(3) : "<id>") + "=" + address));
            lastEnd = m.end();
        }
        m.appendTail(out);
        String s = out.toString();
        s = DURATION.matcher(s).replaceAll(r -> r.group(2) + ("Millis".equals(r.group(1)) ? "ms" : "s"));
        s = PATH.matcher(s).replaceAll(r -> Matcher.quoteReplacement(r.group(1)));
        s = s.replace("The TLS certificate chain", "The TLS certificate chain (haraft.tls.certificate-chain)")
                .replace("The TLS private key", "The TLS private key (haraft.tls.private-key)")
                .replace("The TLS trust certificates", "The TLS trust certificates (haraft.tls.trust-certificates)");
        return SETTING_WORD.matcher(s).replaceAll(r -> {
            for (String[] setting : SETTINGS) {
                if (setting[0].equals(r.group(1))) {
                    return setting[1];
                }
            }
            return r.group();
        });
    }
}
