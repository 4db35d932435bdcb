package io.haraft.bench.node;

import io.haraft.GroupOptions;
import io.haraft.Leadership;
import io.haraft.LeadershipListener;
import io.haraft.RaftGroups;
import io.haraft.RaftNode;
import io.haraft.RevokeReason;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * HA-Raft hosting many groups through its public API ({@link RaftNode.Builder#buildGroups()}), with
 * its leadership balancer on (the default). Ready to serve = a group's {@code elected} callback.
 * Graceful stop = {@code close()}.
 */
final class HaRaftGroupsNode extends GroupsNode {

    private RaftGroups node;
    private final Map<String, RaftNode> groups = new ConcurrentHashMap<>();

    @Override
    public void start(NodeArgs a) {
        node = HaRaftNode.builder(a).buildGroups();
        node.start();
        for (int i = 0; i < a.groups(); i++) {
            String name = name(i);
            RaftNode g = node.newGroup(name, GroupOptions.defaults().withListener(new LeadershipListener() {
                @Override
                public void elected(Leadership l) {
                    Events.groupReady(name, l.term());
                }

                @Override
                public void revoked(Leadership l, RevokeReason why) {
                }
            }));
            groups.put(name, g);
        }
    }

    @Override
    List<String> ledNow() {
        List<String> led = new ArrayList<>();
        groups.forEach((name, g) -> {
            if (g.isLeader()) {
                led.add(name);
            }
        });
        return led;
    }

    @Override
    CompletableFuture<?> submit(String group, byte[] payload) {
        return groups.get(group).submit(payload);
    }

    @Override
    public void stopGracefully() {
        node.close();
    }
}
