package io.haraft.bench;

/**
 * One configuration of one system.
 *
 * @param system      haraft, ratis or atomix
 * @param label       what the report prints in its settings column
 * @param heartbeatMs heartbeat interval passed to the node, 0 = the system's default
 * @param electionMs  election timeout passed to the node, 0 = the system's default
 * @param fastPath    HA-Raft's fast failover on a refused connection
 * @param options     system-specific node options, passed to the node as {@code x.key=value}
 *                    (Ratis: {@code path}, {@code leader}, {@code tuning}; see {@code RatisNode})
 */
record Settings(String system, String label, int heartbeatMs, int electionMs, boolean fastPath,
        java.util.Map<String, String> options) {

    Settings(String system, String label, int heartbeatMs, int electionMs, boolean fastPath) {
        this(system, label, heartbeatMs, electionMs, fastPath, java.util.Map.of());
    }

    /** These settings with {@code label} and node options {@code options} instead. */
    Settings with(String newLabel, java.util.Map<String, String> newOptions) {
        return new Settings(system, newLabel, heartbeatMs, electionMs, fastPath, newOptions);
    }

    /** Our timeouts: heartbeat 100 ms, election 300 ms (randomised in [300, 600) ms). */
    static Settings equal(String system) {
        return switch (system) {
            case "haraft" -> new Settings(system, "hb100/el300 fastpath=on", 100, 300, true);
            case "ratis" -> new Settings(system, "equal: rpc timeout 300-600ms", 100, 300, true);
            case "atomix" -> new Settings(system, "equal: hb100/el300", 100, 300, true);
            default -> throw new IllegalArgumentException(system);
        };
    }

    /** The peers' documented defaults; for HA-Raft, the timeout path (fast path off). */
    static Settings alternative(String system) {
        return switch (system) {
            case "haraft" -> new Settings(system, "hb100/el300 fastpath=off", 100, 300, false);
            case "ratis" -> new Settings(system, "default: rpc timeout 150-300ms", 0, 0, true);
            case "atomix" -> new Settings(system, "default: hb250/el750", 0, 0, true);
            default -> throw new IllegalArgumentException(system);
        };
    }
}
