package io.haraft.bench.node;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What the driver tells one node JVM, parsed from {@code key=value} arguments.
 *
 * @param system        {@code haraft}, {@code ratis} or {@code atomix}
 * @param id            this node's id, e.g. {@code n1}
 * @param dataDir       this node's private data directory
 * @param members       every member's id and {@code host:port}, in order
 * @param heartbeatMs   heartbeat interval, or 0 for the system's documented default
 * @param electionMs    (minimum) election timeout, or 0 for the system's documented default
 * @param fastPath      HA-Raft only: fast failover on a refused connection
 * @param viewPollMs    how often the node reports its view of the leader
 * @param options       system-specific options, given as {@code x.key=value} (the key without {@code x.})
 * @param groups        0: one election (the single-group node); otherwise the number of named groups
 *                      {@code g0 .. g<groups-1>} this node hosts ({@link GroupsNode})
 */
public record NodeArgs(String system, String id, Path dataDir, Map<String, String> members,
        int heartbeatMs, int electionMs, boolean fastPath, int viewPollMs, Map<String, String> options, int groups) {

    public static NodeArgs parse(String[] args) {
        if (args.length < 1) {
            throw new IllegalArgumentException("usage: NodeMain <system> id=.. dir=.. members=n1=h:p,.. [hb=ms] [el=ms]"
                    + " [fastpath=true] [poll=ms] [groups=N] [x.key=value]");
        }
        Map<String, String> kv = new LinkedHashMap<>();
        for (int i = 1; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            if (eq < 1) {
                throw new IllegalArgumentException("expected key=value, got " + args[i]);
            }
            kv.put(args[i].substring(0, eq), args[i].substring(eq + 1));
        }
        Map<String, String> options = new LinkedHashMap<>();
        kv.entrySet().removeIf(e -> {
            if (e.getKey().startsWith("x.")) {
                options.put(e.getKey().substring(2), e.getValue());
                return true;
            }
            return false;
        });
        Map<String, String> members = new LinkedHashMap<>();
        for (String m : require(kv, "members").split(",")) {
            int eq = m.indexOf('=');
            members.put(m.substring(0, eq), m.substring(eq + 1));
        }
        return new NodeArgs(args[0], require(kv, "id"), Path.of(require(kv, "dir")), members,
                Integer.parseInt(kv.getOrDefault("hb", "0")), Integer.parseInt(kv.getOrDefault("el", "0")),
                Boolean.parseBoolean(kv.getOrDefault("fastpath", "true")),
                Integer.parseInt(kv.getOrDefault("poll", "20")), Map.copyOf(options),
                Integer.parseInt(kv.getOrDefault("groups", "0")));
    }

    private static String require(Map<String, String> kv, String key) {
        String v = kv.get(key);
        if (v == null) {
            throw new IllegalArgumentException("missing argument " + key + "=...");
        }
        return v;
    }

    public String address() {
        return members.get(id);
    }

    public static int port(String address) {
        return Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
    }

    public static String host(String address) {
        return address.substring(0, address.lastIndexOf(':'));
    }
}
