package io.haraft.vip.daemon;

import io.haraft.RaftConfig;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.Writer;
import java.net.ConnectException;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * {@code ha-vipd admin}: changes the cluster's members, or shows its status, through the admin
 * socket ({@link AdminServer}) of the daemon that the given config file describes, found from its
 * {@code admin.socket.dir}, {@code cluster.id} and {@code node.id}. Run it as the daemon's user
 * (root): the socket admits no one else.
 *
 * <pre>
 * java -jar ha-vipd.jar admin --config /etc/ha-vipd/vip.properties status
 * java -jar ha-vipd.jar admin --config /etc/ha-vipd/vip.properties add n4=10.0.0.4:7001
 * java -jar ha-vipd.jar admin --config /etc/ha-vipd/vip.properties replace n3 n5=10.0.0.5:7001
 * java -jar ha-vipd.jar admin --config /etc/ha-vipd/vip.properties drain      # several VIPs: hand them away
 * </pre>
 *
 * <p><b>Guarantees.</b> Changes are made by the leader only. When the local daemon's node is not
 * the leader, the command goes to the leader's daemon if its admin socket is on this host (in the
 * same {@code admin.socket.dir}); otherwise it prints where to run the command. Every change may be run
 * again after any failure: the node's operations skip what is already done, so when leadership
 * moves under a change (its outcome is unknown, the new leader is not ready, no leader is known
 * during an election) the command asks again by itself, up to 5 times, half a second apart. Exit codes: 0 done,
 * 1 refused or failed (the message says what and whether running it again is safe), 2 wrong
 * command line.
 *
 * <p><b>Limits.</b> A daemon on another host is not reached: the command is run there. Interrupting the command (Ctrl-C) does not
 * stop a change that the leader has started; {@code status} shows where it is.
 */
final class AdminCli {

    /** How long a new member may take to answer and catch up, unless {@code --timeout} says otherwise. */
    static final Duration DEFAULT_CATCH_UP = Duration.ofSeconds(60);
    private static final int CONNECT_TIMEOUT_MS = 5000;
    private static final int MAX_HOPS = 3;
    private static final int MAX_ATTEMPTS = 5;
    private static final Duration RETRY_PAUSE = Duration.ofMillis(500);

    private final Path file;
    private final DaemonConfig config;
    private final List<String> words;
    private final Duration catchUp;
    private final PrintStream out;
    private final PrintStream err;

    private AdminCli(Path file, DaemonConfig config, List<String> words, Duration catchUp, PrintStream out,
                     PrintStream err) {
        this.file = file;
        this.config = config;
        this.words = words;
        this.catchUp = catchUp;
        this.out = out;
        this.err = err;
    }

    /** What a daemon answered: its reply and, on {@code status} of a follower, the leader it knows. */
    private record Answer(AdminReply reply, Optional<RaftConfig.Member> leader) {
    }

    /** The daemon could not be reached, or the connection broke before its reply. */
    private static final class Unreachable extends Exception {
        final boolean refused;
        final boolean connected;

        Unreachable(IOException cause, boolean connected) {
            super(cause.getMessage() == null ? cause.toString() : cause.getMessage(), cause);
            this.refused = cause instanceof ConnectException;
            this.connected = connected;
        }
    }

    /**
     * Runs {@code ha-vipd admin} with the arguments that follow {@code admin}.
     *
     * @return the exit code: 0 done, 1 refused or failed, 2 wrong command line
     */
    static int run(String[] args, PrintStream out, PrintStream err) {
        Path file = null;
        Duration catchUp = DEFAULT_CATCH_UP;
        List<String> positional = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--config" -> {
                    if (i + 1 >= args.length) {
                        return usage(err, "--config needs a file");
                    }
                    file = Path.of(args[++i]);
                }
                case "--timeout" -> {
                    if (i + 1 >= args.length || !args[i + 1].matches("[1-9][0-9]{0,5}")) {
                        return usage(err, "--timeout needs a whole number of seconds, like 120");
                    }
                    catchUp = Duration.ofSeconds(Long.parseLong(args[++i]));
                }
                case "--help", "-h" -> {
                    out.print(help());
                    return 0;
                }
                default -> {
                    if (args[i].startsWith("--")) {
                        return usage(err, "unknown option '" + args[i] + "'");
                    }
                    positional.add(args[i]);
                }
            }
        }
        if (file == null) {
            return usage(err, "--config FILE is required: the config file of the ha-vipd on this host");
        }
        List<String> words;
        try {
            words = request(positional);
        } catch (IllegalArgumentException e) {
            return usage(err, e.getMessage());
        }
        DaemonConfig config;
        try {
            config = DaemonConfig.parse(file);
        } catch (DaemonConfigException e) {
            err.println("ha-vipd admin: " + e.getMessage());
            return 1;
        }
        AdminCli cli = new AdminCli(file, config, words, catchUp, out, err);
        return words.get(0).equals("status") ? cli.status() : cli.change();
    }

    /**
     * The request words for the command line's positional arguments: the command, then ids and
     * addresses ({@code ID=HOST:PORT} split in two).
     *
     * @throws IllegalArgumentException with a usage message
     */
    static List<String> request(List<String> p) {
        if (p.isEmpty()) {
            throw new IllegalArgumentException("a command is needed");
        }
        String c = p.get(0);
        int want = switch (c) {
            case "status", "drain", "undrain" -> 0;
            case "add", "add-learner", "add-witness", "promote", "remove" -> 1;
            case "replace" -> 2;
            default -> throw new IllegalArgumentException("unknown command '" + c + "'");
        };
        if (p.size() - 1 != want) {
            throw new IllegalArgumentException("'" + c + "' takes " + switch (c) {
                case "status", "drain", "undrain" -> "no argument";
                case "promote", "remove" -> "one argument, the member's id";
                case "replace" -> "two arguments: OLD_ID NEW_ID=HOST:PORT";
                default -> "one argument: ID=HOST:PORT";
            } + ", got " + (p.size() - 1));
        }
        List<String> words = new ArrayList<>();
        words.add(c);
        switch (c) {
            case "add", "add-learner", "add-witness" -> words.addAll(member(p.get(1)));
            case "promote", "remove" -> words.add(id(p.get(1)));
            case "replace" -> {
                words.add(id(p.get(1)));
                words.addAll(member(p.get(2)));
            }
            default -> {
                // status
            }
        }
        return words;
    }

    private static String id(String id) {
        if (id.contains("=")) {
            throw new IllegalArgumentException("'" + id + "' is not a member id; give the id alone, like n3");
        }
        RaftConfig.Member.parse(id, "localhost:1");
        return id;
    }

    private static List<String> member(String arg) {
        int eq = arg.indexOf('=');
        if (eq <= 0) {
            throw new IllegalArgumentException("'" + arg + "' is not ID=HOST:PORT (the new node's id and its Raft"
                    + " address, as in its members line), like n4=10.0.0.4:7001");
        }
        RaftConfig.Member m = RaftConfig.Member.parse(arg.substring(0, eq), arg.substring(eq + 1));
        return List.of(m.id(), m.address());
    }

    private static int usage(PrintStream err, String problem) {
        err.println("ha-vipd admin: " + problem);
        err.print(help());
        return 2;
    }

    static String help() {
        return """
                usage: java -jar ha-vipd.jar admin --config FILE [--timeout SECONDS] COMMAND
                  --config FILE      the config file of the ha-vipd running on this host (run as its user, root)
                  --timeout SECONDS  how long a new member may take to answer and catch up (default 60)
                commands (a change is made by the leader; from another node it goes to the leader's daemon
                if its admin socket is on this host, else the command says where to run it):
                  status                        configuration, roles, leader, term, learners' lag; with several
                                                VIPs: each VIP, its group, its leader, whether this host holds it
                  drain                         (several VIPs) hand every VIP held here to the other nodes, and
                                                take none until undrain, also across restarts of this daemon
                  undrain                       (several VIPs) end drain: the others hand this node its share back
                  add ID=HOST:PORT              a new data node joins as a learner, catches up, then votes
                  add-learner ID=HOST:PORT      a new node joins as a learner (receives the log, does not vote)
                  add-witness ID=HOST:PORT      a new witness joins, catches up, then votes (no data, never leads)
                  promote ID                    a learner (or witness learner) that has caught up votes
                  remove ID                     remove a member (a leader hands leadership over first)
                  replace OLD_ID NEW_ID=HOST:PORT
                                                NEW_ID joins, catches up, votes, then OLD_ID is removed
                Start the new node's ha-vipd first, with the current members plus itself in members:
                  ID=HOST:PORT/learner (or /witness-learner for add-witness, and for replacing a witness).
                exit: 0 done, 1 refused or failed (the message says whether running it again is safe), 2 usage
                """;
    }

    // ------------------------------------------------------------------ commands

    private int status() {
        Answer a;
        try {
            a = ask(config.raftConfig().nodeId(), config.admin().socket());
        } catch (Unreachable e) {
            return unreachableLocal(e);
        }
        if (a.reply().kind() != AdminReply.Kind.OK) {
            return failed(a.reply());
        }
        if (a.leader().isEmpty()) {
            return 0;
        }
        RaftConfig.Member leader = a.leader().get();
        Optional<Path> endpoint = socketOf(leader);
        if (endpoint.isEmpty()) {
            out.println("for lag and last contact, run status on the leader " + leader.id() + "'s host " + leader.host()
                    + ": java -jar ha-vipd.jar admin --config <" + leader.id() + "'s config file> status");
            return 0;
        }
        out.println("the leader " + leader.id() + "'s view (its daemon at " + endpoint.get() + "):");
        try {
            Answer l = ask(leader.id(), endpoint.get());
            if (l.reply().kind() != AdminReply.Kind.OK) {
                out.println("  (the leader's daemon answered: " + l.reply().text() + ")");
            }
        } catch (Unreachable e) {
            out.println("  (its admin socket did not answer: " + e.getMessage() + ")");
        }
        return 0;
    }

    /**
     * Sends the change, and sends it again (every change is idempotent) while the answer says that
     * leadership moved under it: the outcome is unknown, the new leader is not ready yet, or no
     * leader is known during an election.
     */
    private int change() {
        for (int attempt = 1; ; attempt++) {
            Optional<Integer> code = changeOnce(attempt == MAX_ATTEMPTS);
            if (code.isPresent()) {
                return code.get();
            }
            out.println("asking again in " + RETRY_PAUSE.toMillis() + " ms (attempt " + (attempt + 1) + " of "
                    + MAX_ATTEMPTS + "; safe: the change skips what is done)");
            try {
                Thread.sleep(RETRY_PAUSE.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return 1;
            }
        }
    }

    /** Whether asking again soon can succeed: leadership moved while the change ran or was asked. */
    private static boolean leadershipMoved(AdminReply r) {
        return (r.kind() == AdminReply.Kind.NOT_LEADER && r.leaderId().isEmpty())
                || r.code().equals("OUTCOME_UNKNOWN") || r.code().equals("LEADER_NOT_READY");
    }

    /** One attempt: the exit code, or empty to ask again (unless {@code last}). */
    private Optional<Integer> changeOnce(boolean last) {
        String target = config.raftConfig().nodeId();
        Path endpoint = config.admin().socket();
        for (int hop = 0; hop <= MAX_HOPS; hop++) {
            Answer a;
            try {
                a = ask(target, endpoint);
            } catch (Unreachable e) {
                if (hop == 0 || e.connected) {
                    return Optional.of(hop == 0 ? unreachableLocal(e) : lost(target, e));
                }
                return Optional.of(whereToRun(target, "its admin socket " + endpoint + " did not answer ("
                        + e.getMessage() + ")"));
            }
            AdminReply r = a.reply();
            if (!last && leadershipMoved(r)) {
                out.println(target + ": " + r.text());
                return Optional.empty();
            }
            if (r.kind() != AdminReply.Kind.NOT_LEADER) {
                if (r.kind() == AdminReply.Kind.OK) {
                    out.println(r.text());
                    return Optional.of(0);
                }
                return Optional.of(failed(r));
            }
            RaftConfig.Member leader;
            try {
                leader = leaderMember(r);
            } catch (IllegalArgumentException | java.util.NoSuchElementException e) {
                err.println("ha-vipd admin: " + r.text());
                return Optional.of(1);
            }
            Optional<Path> next = socketOf(leader);
            if (next.isEmpty()) {
                return Optional.of(whereToRun(leader.id() + "@" + leader.host(), "its admin socket is not on this"
                        + " host (no " + config.admin().socketOf(leader.id()) + "), so it cannot be reached from here"));
            }
            out.println("node " + target + " is not the leader; sending the command to the leader " + leader.id()
                    + "'s daemon at " + next.get());
            target = leader.id() + "@" + leader.host();
            endpoint = next.get();
        }
        if (!last) {
            return Optional.empty();
        }
        err.println("ha-vipd admin: the leader changed " + MAX_HOPS + " times while the command was sent; nothing was"
                + " changed. Run it again in a few seconds");
        return Optional.of(1);
    }

    private RaftConfig.Member leaderMember(AdminReply r) {
        String id = r.leaderId().orElseThrow();
        String address = r.leaderAddress().or(() -> config.raftConfig().member(id).map(RaftConfig.Member::address))
                .orElseThrow(() -> new IllegalArgumentException("no address"));
        return RaftConfig.Member.parse(id, address);
    }

    // ------------------------------------------------------------------ outcomes

    private int failed(AdminReply r) {
        err.println("ha-vipd admin: refused (" + r.code() + "): " + r.text());
        return 1;
    }

    private int unreachableLocal(Unreachable e) {
        Path a = config.admin().socket();
        if (e.connected) {
            return lost(config.raftConfig().nodeId(), e);
        }
        if (e.getMessage().contains("Permission denied")) {
            err.println("ha-vipd admin: may not open the admin socket " + a + " of node " + config.raftConfig().nodeId()
                    + " (Permission denied): only the daemon's user (root) may; run ha-vipd admin as that user."
                    + " Nothing was changed");
            return 1;
        }
        err.println("ha-vipd admin: cannot reach the admin socket of node " + config.raftConfig().nodeId() + " at "
                + a + " (" + e.getMessage() + "): is ha-vipd running with this config (" + file + ")?"
                + (e.refused ? " Nothing listens there." : "") + " Nothing was changed");
        return 1;
    }

    /** The admin socket of {@code member}'s daemon, if it is on this host (in the same directory as ours). */
    private Optional<Path> socketOf(RaftConfig.Member member) {
        Path p = config.admin().socketOf(member.id());
        return Files.exists(p) ? Optional.of(p) : Optional.empty();
    }

    private int lost(String target, Unreachable e) {
        err.println("ha-vipd admin: the connection to " + target + "'s daemon broke before its answer ("
                + e.getMessage() + "): the command may or may not have been carried out. Run status, then the same"
                + " command again (safe: it skips what is done)");
        return 1;
    }

    private int whereToRun(String leader, String why) {
        err.println("ha-vipd admin: node " + config.raftConfig().nodeId() + " is not the leader; the leader is "
                + leader.replace("@", " on host ") + ", and " + why + ". Nothing was changed. Run the command on the"
                + " leader's host: java -jar ha-vipd.jar admin --config <its config file> " + String.join(" ",
                commandLine()));
        return 1;
    }

    /** The command as the operator typed it (ids and addresses joined back). */
    private List<String> commandLine() {
        List<String> c = new ArrayList<>(List.of(words.get(0)));
        switch (words.get(0)) {
            case "add", "add-learner", "add-witness" -> c.add(words.get(1) + "=" + words.get(2));
            case "replace" -> c.addAll(List.of(words.get(1), words.get(2) + "=" + words.get(3)));
            default -> c.addAll(words.subList(1, words.size()));
        }
        if (!catchUp.equals(DEFAULT_CATCH_UP)) {
            c.addAll(0, List.of("--timeout", String.valueOf(catchUp.toSeconds())));
        }
        return c;
    }

    // ------------------------------------------------------------------ the exchange

    /** Sends the request to one daemon, printing its INFO lines as they come, and returns its reply. */
    private Answer ask(String who, Path socket) throws Unreachable {
        boolean connected = false;
        // the longest silence: a wait for catch-up, or one committed step, plus a margin
        Duration silence = catchUp.plus(MembershipCommands.COMMIT_BOUND).plusSeconds(30);
        try (Deadlines deadlines = new Deadlines("ha-vipd-admin-client");
             SocketChannel s = SocketChannel.open(UnixDomainSocketAddress.of(socket));
             Deadlines.Armed d = deadlines.arm(s, silence)) {
            connected = true;
            Writer w = new OutputStreamWriter(Channels.newOutputStream(s), StandardCharsets.UTF_8);
            try {
                w.write(AdminReply.HELLO + " " + config.raftConfig().clusterId() + "\n" + catchUp.toMillis() + " "
                        + String.join(" ", words) + "\n");
                w.flush();
            } catch (IOException e) {
                // a daemon that refuses at once (BUSY) may close before the request is written: read its answer
            }
            BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(s),
                    StandardCharsets.UTF_8));
            Optional<RaftConfig.Member> leader = Optional.empty();
            String line;
            while ((line = in.readLine()) != null) {
                if (line.startsWith(AdminReply.INFO + " ")) {
                    out.println(line.substring(AdminReply.INFO.length() + 1));
                    continue;
                }
                if (line.startsWith(AdminReply.LEADER + " ")) {
                    String[] f = line.split(" ");
                    try {
                        leader = Optional.of(RaftConfig.Member.parse(f[1], f[2]));
                    } catch (RuntimeException e) {
                        leader = Optional.empty();
                    }
                    continue;
                }
                Optional<AdminReply> reply = AdminReply.parse(line);
                if (reply.isPresent()) {
                    return new Answer(reply.get(), leader);
                }
                throw new IOException(who + "'s socket " + socket + " sent '" + line + "': is that an ha-vipd admin"
                        + " socket?");
            }
            throw new IOException("the daemon closed the connection without an answer");
        } catch (IOException e) {
            throw new Unreachable(e, connected);
        }
    }
}
