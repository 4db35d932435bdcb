package io.haraft.examples;

import java.util.Arrays;

/**
 * Entry point of {@code examples/target/ha-raft-examples.jar}. Commands: {@code demo [kills]} (the
 * local 3-node demo, the default), {@code fenced} (the stale write refused by PostgreSQL),
 * {@code job} (the leader-only job), {@code active-active} (12 partitions led across 3 nodes, one
 * node killed and restarted, see {@link ActiveActiveDemo}), {@code probe ...} (the heartbeat
 * reliability probe, see {@link LinkProbe}), and {@code node ...} and {@code aa-node ...} (one node
 * of a demo, started by the demos themselves).
 *
 * <p>The library logs at WARN and above here, so the examples' own lines stay readable; run with
 * {@code -Dorg.slf4j.simpleLogger.defaultLogLevel=info} to see its INFO lines too.
 */
public final class Main {
    static final String USAGE = "usage: java -jar ha-raft-examples.jar demo [kills] | fenced | job | active-active"
            + " | probe [options]"
            + " | node|aa-node <id> <dataDir> <id=host:port>...\n" + LinkProbe.USAGE;

    private Main() {
    }

    public static void main(String[] args) throws Exception {
        if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        }
        String what = args.length == 0 ? "demo" : args[0];
        String[] rest = args.length == 0 ? new String[0] : Arrays.copyOfRange(args, 1, args.length);
        switch (what) {
            case "demo" -> LocalClusterDemo.main(rest);
            case "node" -> DemoNode.main(rest);
            case "fenced" -> FencedWriterDemo.main(rest);
            case "job" -> LeaderOnlyJobDemo.main(rest);
            case "active-active" -> ActiveActiveDemo.main(rest);
            case "aa-node" -> ActiveActiveNode.main(rest);
            case "probe" -> LinkProbe.main(rest);
            default -> {
                System.err.println(USAGE);
                System.exit(2);
            }
        }
    }
}
