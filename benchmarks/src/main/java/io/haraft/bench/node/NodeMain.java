package io.haraft.bench.node;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;

/**
 * One benchmarked node in its own JVM: {@code java -cp <harness + one system> io.haraft.bench.node.NodeMain
 * <system> id=n1 dir=/tmp/x members=n1=127.0.0.1:7001,... [hb=ms] [el=ms] [fastpath=bool] [poll=ms]}.
 *
 * <p>Protocol, one line each way. Node to driver on standard output (see {@link Events}):
 * {@code STARTED id nanos}, {@code LEADER id term nanos}, {@code READY id term nanos},
 * {@code VIEW id leader term}, {@code HEAP bytes}, {@code LOADRESULT ...}, {@code UNAVAILABLE reason},
 * {@code STOPPED id nanos}. Driver to node on standard input: {@code STOP} (graceful shutdown, then
 * exit), {@code HEAP} (full GC, then report used heap), {@code LOAD clients warmupMs measureMs bytes}.
 * A crash is the driver's {@code kill -9}; the node does nothing for it.
 *
 * <p>With {@code groups=N} the node hosts N named groups ({@link GroupsNode}) and also emits
 * {@code GREADY id group term nanos}; {@code LOAD} then spreads its clients over the groups this
 * node leads.
 */
public final class NodeMain {

    private NodeMain() {
    }

    public static void main(String[] argv) throws Exception {
        NodeArgs args = NodeArgs.parse(argv);
        Events.install(args.id());
        SystemNode node;
        try {
            node = args.groups() > 0 ? createGroups(args.system()) : create(args.system());
            Files.createDirectories(args.dataDir());
            node.start(args);
        } catch (Throwable t) {
            t.printStackTrace();
            Events.emit("UNAVAILABLE " + oneLine(t));
            System.exit(2);
            return;
        }
        Events.emit("STARTED " + args.id() + " " + System.nanoTime());
        Thread viewer = new Thread(() -> watchView(node, args), "bench-view");
        viewer.setDaemon(true);
        viewer.start();

        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            String[] w = line.trim().split(" ");
            switch (w[0]) {
                case "STOP" -> {
                    try {
                        node.stopGracefully();
                    } catch (Throwable t) {
                        t.printStackTrace();
                    }
                    Events.emit("STOPPED " + args.id() + " " + System.nanoTime());
                    System.exit(0);
                }
                case "HEAP" -> {
                    System.gc();
                    MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
                    Events.emit("HEAP " + heap.getUsed());
                }
                case "LOAD" -> {
                    String why = node.submitUnavailable();
                    if (why != null) {
                        Events.emit("LOADRESULT UNAVAILABLE " + why);
                        continue;
                    }
                    int clients = Integer.parseInt(w[1]);
                    LoadGenerator gen = new LoadGenerator(node::submit, Integer.parseInt(w[4]));
                    Events.emit(gen.run(clients, Long.parseLong(w[2]), Long.parseLong(w[3])));
                }
                default -> System.err.println("unknown command: " + line);
            }
        }
        // The driver went away: leave as a crash would.
        Runtime.getRuntime().halt(1);
    }

    private static SystemNode create(String system) {
        return switch (system) {
            case "haraft" -> new HaRaftNode();
            case "ratis" -> new RatisNode();
            case "atomix" -> new AtomixNode();
            default -> throw new IllegalArgumentException("unknown system " + system);
        };
    }

    private static SystemNode createGroups(String system) {
        return switch (system) {
            case "haraft" -> new HaRaftGroupsNode();
            case "ratis" -> new RatisGroupsNode();
            default -> throw new IllegalArgumentException(system + " does not host many groups in this harness");
        };
    }

    private static void watchView(SystemNode node, NodeArgs args) {
        String last = null;
        while (true) {
            String v;
            try {
                v = node.view();
            } catch (RuntimeException e) {
                v = "- 0";
            }
            if (!v.equals(last)) {
                Events.emit("VIEW " + args.id() + " " + v);
                last = v;
            }
            try {
                Thread.sleep(args.viewPollMs());
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    static String oneLine(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String msg = t.getClass().getSimpleName() + ": " + t.getMessage();
        if (root != t) {
            msg += " (cause " + root.getClass().getSimpleName() + ": " + root.getMessage() + ")";
        }
        return msg.replace('\n', ' ').replace('\r', ' ');
    }
}
