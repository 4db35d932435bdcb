package io.haraft.vip.daemon;

import io.haraft.ClusterConfiguration;
import io.haraft.MemberRole;
import io.haraft.MembershipChangeException;
import io.haraft.NodeStatus;
import io.haraft.NotLeaderException;
import io.haraft.RaftNode;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;

/**
 * What {@code ha-vipd admin} does on a daemon: the membership operations of {@link RaftNode}, run
 * on this daemon's node, and its status, each reported as text lines plus one {@link AdminReply}.
 *
 * <p><b>Guarantees.</b> Every change is one of the node's idempotent operations, so the same
 * command may be sent again after any failure. A node that is not leader changes nothing and
 * answers {@link AdminReply.Kind#NOT_LEADER} with the leader it knows. Before promoting a learner
 * (in {@code add}, {@code add-witness}, {@code promote} and {@code replace}) the leader waits until
 * the learner has answered it recently: the node's own catch-up check counts entries only, and a
 * learner that never answered lags by no more entries than a short log holds, so it would be
 * promoted although it is not running.
 *
 * <p><b>Threads.</b> Each method blocks its caller until the operation ends, at most the given
 * catch-up timeout plus {@link #COMMIT_BOUND} per committed step; callable from any thread.
 */
final class MembershipCommands {

    /** The longest a single committed step (add, remove) may take before the command reports a timeout. */
    static final Duration COMMIT_BOUND = RaftNode.DEFAULT_CATCH_UP_TIMEOUT.plusSeconds(15);

    /** Where a command writes its output lines. */
    interface Out {
        /** One line of progress or output. */
        void info(String line);

        /** On {@code status} of a node that is not leader: the leader it knows. */
        void leader(String id, String address);
    }

    /** A command ends early with this reply. */
    private static final class Stop extends Exception {
        final AdminReply reply;

        Stop(AdminReply reply) {
            super(reply.text(), null, false, false);
            this.reply = reply;
        }
    }

    private final RaftNode node;

    MembershipCommands(RaftNode node) {
        this.node = node;
    }

    // ------------------------------------------------------------------ status

    /** Prints this node's view: role, term, leader, indexes, and the configuration with roles and lag. */
    AdminReply status(Out out) {
        NodeStatus s = node.status();
        String leader = s.leaderId().map(id -> id + s.member(id).map(m -> " at " + m.address()).orElse(""))
                .orElse("unknown (no leader right now: an election may be running)");
        out.info("node " + s.nodeId() + ": " + s.role().name().toLowerCase(Locale.ROOT) + ", term " + s.term()
                + ", leader " + leader);
        out.info("commit index " + s.commitIndex() + ", applied index " + s.appliedIndex());
        if (s.removed()) {
            out.info("this node was REMOVED from the cluster and has stopped; stop its ha-vipd and disable it");
        }
        out.info("configuration" + (s.configurationPending()
                ? " (a change is in progress: this configuration is not committed yet)" : "") + ":");
        table(s).forEach(out::info);
        out.info("members = " + s.members().stream().map(m -> MemberList.entry(m.id(), m.address(), m.role()))
                .collect(Collectors.joining(",")));
        if (!s.isLeader()) {
            out.info("lag and last contact are known on the leader only");
            s.leaderId().ifPresent(id -> s.member(id).ifPresent(m -> out.leader(id, m.address())));
        }
        return AdminReply.ok("status of node " + s.nodeId());
    }

    private static List<String> table(NodeStatus s) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"ID", "ADDRESS", "ROLE", "LAG", "LAST HEARD"});
        for (NodeStatus.MemberStatus m : s.members()) {
            String role = role(m.role()) + (s.leaderId().filter(m.id()::equals).isPresent() ? " (leader)" : "")
                    + (m.id().equals(s.nodeId()) ? " (this node)" : "");
            String lag = m.lag().isPresent() ? m.lag().getAsLong() + " entries" : "-";
            String heard = "-";
            if (s.isLeader() && !m.id().equals(s.nodeId())) {
                heard = s.peers().stream().filter(p -> p.peerId().equals(m.id())).findFirst()
                        .flatMap(NodeStatus.PeerStats::lastContact).map(d -> d.toMillis() + " ms ago").orElse("never");
            }
            rows.add(new String[] {m.id(), m.address(), role, lag, heard});
        }
        int[] w = new int[5];
        rows.forEach(r -> {
            for (int i = 0; i < r.length; i++) {
                w[i] = Math.max(w[i], r[i].length());
            }
        });
        List<String> lines = new ArrayList<>();
        for (String[] r : rows) {
            lines.add(String.format("  %-" + w[0] + "s  %-" + w[1] + "s  %-" + w[2] + "s  %-" + w[3] + "s  %s",
                    (Object[]) r).stripTrailing());
        }
        return lines;
    }

    static String role(MemberRole role) {
        return role.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    // ------------------------------------------------------------------ changes

    /**
     * Adds {@code id} as a learner (a witness learner if {@code witness}) and, if {@code promote},
     * waits until it answers and has caught up, then makes it vote.
     */
    AdminReply add(String id, String address, boolean witness, boolean promote, Duration catchUp, Out out) {
        long deadline = System.nanoTime() + catchUp.toNanos();
        try {
            leaderStatus();
            ClusterConfiguration c = await(call(() -> witness ? node.addWitness(id, address)
                    : node.addLearner(id, address)), COMMIT_BOUND, "adding " + id);
            MemberRole role = c.member(id).map(ClusterConfiguration.Member::role).orElse(MemberRole.LEARNER);
            out.info(id + " at " + address + " is a member as " + role(role) + (role.votes() ? ""
                    : ": it receives the log but does not vote") + " (configuration index " + c.index() + ")");
            if (!promote) {
                return done(c, "added " + id + " as " + role(role) + (role.votes() ? "" : "; make it vote with"
                        + " 'promote " + id + "' once it has caught up"));
            }
            return promoteMember(id, deadline, out);
        } catch (Stop s) {
            return s.reply;
        }
    }

    /** Makes learner {@code id} vote, once it answers and has caught up (within {@code catchUp}). */
    AdminReply promote(String id, Duration catchUp, Out out) {
        try {
            NodeStatus s = leaderStatus();
            NodeStatus.MemberStatus m = s.member(id).orElseThrow(() -> unknown(s, id,
                    "add it first ('add' or 'add-learner')"));
            if (m.role().votes()) {
                return AdminReply.ok(id + " already votes (" + role(m.role()) + "); nothing to do");
            }
            return promoteMember(id, System.nanoTime() + catchUp.toNanos(), out);
        } catch (Stop s) {
            return s.reply;
        }
    }

    private AdminReply promoteMember(String id, long deadline, Out out) throws Stop {
        awaitContact(id, deadline, out);
        ClusterConfiguration c = await(call(() -> node.promote(id, remaining(deadline))),
                remaining(deadline).plus(COMMIT_BOUND), "promoting " + id);
        return done(c, "promoted " + id + "; it votes now");
    }

    /** Removes {@code id}; the leader hands leadership over first if it removes itself. */
    AdminReply remove(String id, Out out) {
        try {
            NodeStatus s = leaderStatus();
            s.member(id).orElseThrow(() -> unknown(s, id, "nothing to remove (if an earlier remove of " + id
                    + " succeeded, it is done)"));
            if (id.equals(s.nodeId())) {
                out.info(id + " is the leader: it hands leadership over first, and the new leader removes it");
            }
            ClusterConfiguration c = await(call(() -> node.removeMember(id)), COMMIT_BOUND, "removing " + id);
            return done(c, "removed " + id + "; its node stops itself (stop and disable its ha-vipd)");
        } catch (Stop s) {
            return s.reply;
        }
    }

    /**
     * Replaces {@code oldId} by a new node: adds it as a learner of the same kind, waits until it
     * answers, then {@link RaftNode#replaceMember} (catch-up, promote, remove the old member).
     */
    AdminReply replace(String oldId, String newId, String address, Duration catchUp, Out out) {
        long deadline = System.nanoTime() + catchUp.toNanos();
        try {
            NodeStatus s = leaderStatus();
            Optional<NodeStatus.MemberStatus> old = s.member(oldId);
            Optional<NodeStatus.MemberStatus> fresh = s.member(newId);
            if (old.isEmpty()) {
                if (fresh.isPresent() && fresh.get().role().votes()) {
                    return AdminReply.ok(oldId + " is not a member and " + newId + " votes: the replacement is done"
                            + " already");
                }
                throw unknown(s, oldId, "nothing to replace");
            }
            if (fresh.isEmpty()) {
                boolean witness = old.get().role().isWitness();
                ClusterConfiguration c = await(call(() -> witness ? node.addWitness(newId, address)
                        : node.addLearner(newId, address)), COMMIT_BOUND, "adding " + newId);
                out.info(newId + " at " + address + " is a member as " + (witness ? "witness-learner" : "learner")
                        + " (configuration index " + c.index() + ")");
            }
            if (fresh.isEmpty() || !fresh.get().role().votes()) {
                awaitContact(newId, deadline, out);
            }
            if (oldId.equals(s.nodeId())) {
                out.info(oldId + " is the leader: once " + newId + " votes, it hands leadership over, and the new"
                        + " leader removes it");
            }
            ClusterConfiguration c = await(call(() -> node.replaceMember(oldId, newId, address, remaining(deadline))),
                    remaining(deadline).plus(COMMIT_BOUND).plus(COMMIT_BOUND), "replacing " + oldId);
            return done(c, "replaced " + oldId + " by " + newId + "; " + oldId + " stops itself if it still runs");
        } catch (Stop s) {
            return s.reply;
        }
    }

    // ------------------------------------------------------------------ helpers

    /** This node's status if it is leader; else stops with NOT_LEADER. */
    private NodeStatus leaderStatus() throws Stop {
        NodeStatus s = node.status();
        if (s.isLeader()) {
            return s;
        }
        Optional<String> address = s.leaderId().flatMap(s::member).map(NodeStatus.MemberStatus::address);
        throw new Stop(AdminReply.notLeader(s.leaderId(), address, "node " + s.nodeId() + " is not the leader"
                + s.leaderId().map(id -> "; the leader is " + id + address.map(a -> " at " + a).orElse(""))
                .orElse(" and knows no leader right now (an election may be running); retry in a few seconds")
                + ". Nothing was changed"));
    }

    private static Stop unknown(NodeStatus s, String id, String what) {
        return new Stop(AdminReply.failed(AdminReply.UNKNOWN_MEMBER, "unknown member " + id + ": the members are "
                + s.members().stream().map(m -> m.id() + " (" + role(m.role()) + ")").collect(Collectors.joining(", "))
                + "; " + what + ". Nothing was changed"));
    }

    /**
     * Waits until the leader has heard from {@code id} within two election timeouts, so that a
     * learner that is not running is not promoted.
     */
    private void awaitContact(String id, long deadline, Out out) throws Stop {
        Duration recent = node.config().electionTimeout().multipliedBy(2);
        boolean said = false;
        while (true) {
            NodeStatus s = leaderStatus();
            Optional<Duration> heard = s.peers().stream().filter(p -> p.peerId().equals(id)).findFirst()
                    .flatMap(NodeStatus.PeerStats::lastContact);
            if (heard.isPresent() && heard.get().compareTo(recent) <= 0) {
                return;
            }
            if (System.nanoTime() - deadline >= 0) {
                String address = s.member(id).map(NodeStatus.MemberStatus::address).orElse("its address");
                throw new Stop(AdminReply.failed(AdminReply.NOT_CAUGHT_UP, id + " has " + heard.map(d -> "not answered"
                        + " the leader " + s.nodeId() + " for " + d.toMillis() + " ms").orElse("never answered the"
                        + " leader " + s.nodeId()) + ": is its ha-vipd running at " + address + ", with this cluster's"
                        + " members plus itself as a learner in its members? It stays a learner, which does not vote,"
                        + " so availability is unchanged. Start it, then run the same command again (safe: it skips"
                        + " what is done), or remove it with 'remove " + id + "'"));
            }
            if (!said) {
                out.info("waiting for " + id + " to answer the leader (at most "
                        + Duration.ofNanos(Math.max(0, deadline - System.nanoTime())).toSeconds() + " s)");
                said = true;
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
        }
    }

    private static Duration remaining(long deadline) {
        return Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
    }

    /** Calls a membership method, turning a synchronous refusal of its arguments into a reply. */
    private static CompletableFuture<ClusterConfiguration> call(
            java.util.function.Supplier<CompletableFuture<ClusterConfiguration>> op) throws Stop {
        try {
            return op.get();
        } catch (IllegalArgumentException e) {
            throw new Stop(AdminReply.failed(MembershipChangeException.Reason.INVALID.name(), e.getMessage()
                    + " Nothing was changed"));
        }
    }

    /** The committed configuration, or a stop that says what went wrong and whether to retry. */
    private static ClusterConfiguration await(CompletableFuture<ClusterConfiguration> f, Duration bound, String what)
            throws Stop {
        try {
            return f.get(bound.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof MembershipChangeException m) {
                String more = m.reason() == MembershipChangeException.Reason.INVALID
                        ? ". Nothing was changed; the same command cannot succeed as it is" + cliHint(m.getMessage())
                        : "";
                throw new Stop(AdminReply.failed(m.reason().name(), m.getMessage() + more));
            }
            if (cause instanceof NotLeaderException n) {
                throw new Stop(AdminReply.notLeader(n.leaderId(), n.leaderAddress(), n.getMessage()));
            }
            throw new Stop(AdminReply.failed(AdminReply.ERROR, what + " failed: " + cause
                    + ". Run status; running the same command again is safe"));
        } catch (TimeoutException e) {
            throw new Stop(AdminReply.failed(AdminReply.TIMEOUT, what + " did not finish within " + bound.toSeconds()
                    + " s; it may or may not have been made. Run status, then the same command again (safe: it skips"
                    + " what is done)"));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Stop(AdminReply.failed(AdminReply.ERROR, what + " was interrupted (the daemon is stopping); it"
                    + " may or may not have been made. Run status on the leader, then the same command again"));
        }
    }

    /** The node's messages name its Java methods; say what to type instead. */
    private static String cliHint(String message) {
        return message.contains("2 voters") ? ". With ha-vipd admin: 'replace OLD_ID NEW_ID=HOST:PORT', or"
                + " 'add-witness W_ID=HOST:PORT' before removing" : "";
    }

    private static AdminReply done(ClusterConfiguration c, String what) {
        return AdminReply.ok(what + ". Configuration (index " + c.index() + "): " + c.members().stream()
                .map(m -> m.id() + " " + role(m.role())).collect(Collectors.joining(", ")) + ". Put it into every"
                + " node's file: members = " + c.members().stream().map(m -> MemberList.entry(m.id(), m.address(),
                m.role())).collect(Collectors.joining(",")));
    }
}
