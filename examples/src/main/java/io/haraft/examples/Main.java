package io.haraft.examples;

import java.util.Arrays;

/**
 * Entry point of {@code examples/target/ha-raft-examples.jar}: {@code demo} runs the local
 * 3-node demo; {@code node} runs one demo node (used by the demo itself).
 */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) throws Exception {
        String what = args.length == 0 ? "demo" : args[0];
        String[] rest = args.length == 0 ? new String[0] : Arrays.copyOfRange(args, 1, args.length);
        switch (what) {
            case "demo" -> LocalClusterDemo.main(rest);
            case "node" -> DemoNode.main(rest);
            case "fenced" -> FencedWriterDemo.main(rest);
            case "job" -> LeaderOnlyJobDemo.main(rest);
            case "probe" -> LinkProbe.main(rest);
            default -> {
                System.err.println("usage: java -jar ha-raft-examples.jar demo [kills] | fenced | job | probe [seconds] [nodes] | node <id> <dataDir> <id=host:port>...");
                System.exit(2);
            }
        }
    }
}
