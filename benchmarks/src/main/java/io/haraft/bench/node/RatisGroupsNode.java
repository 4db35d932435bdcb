package io.haraft.bench.node;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.GroupManagementRequest;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;

/**
 * Apache Ratis hosting many groups in one {@link RaftServer} (its multi-raft mode: one port, one
 * storage directory, a division per group), with the same properties as {@link RatisNode}. Groups
 * are added through the server's group management API on first start; on a restart the server
 * recovers them from its storage directory. Ready to serve = the group's
 * {@code notifyLeaderReady()}. Load uses the in-process request path
 * ({@link RaftServer#submitClientRequestAsync}). Ratis has no leadership balancer: where leaders
 * land is up to its elections.
 */
final class RatisGroupsNode extends GroupsNode {

    private RaftServer server;
    private RaftPeerId self;
    private final Map<String, RaftGroupId> ids = new ConcurrentHashMap<>();
    private final Map<RaftGroupId, String> names = new ConcurrentHashMap<>();
    private final ClientId clientId = ClientId.randomId();
    private final AtomicLong callIds = new AtomicLong();

    static RaftGroupId groupId(String name) {
        return RaftGroupId.valueOf(UUID.nameUUIDFromBytes(("ha-raft-bench-" + name).getBytes(StandardCharsets.UTF_8)));
    }

    @Override
    public void start(NodeArgs a) throws Exception {
        self = RaftPeerId.valueOf(a.id());
        List<RaftPeer> peers = RatisNode.peers(a);
        for (int i = 0; i < a.groups(); i++) {
            String name = name(i);
            ids.put(name, groupId(name));
            names.put(groupId(name), name);
        }
        RaftProperties properties = RatisNode.properties(a);
        server = RaftServer.newBuilder()
                .setServerId(self)
                .setProperties(properties)
                .setStateMachineRegistry(gid -> new Machine(names.get(gid)))
                .build();
        server.start();
        java.util.Set<RaftGroupId> recovered = new java.util.HashSet<>();
        server.getGroupIds().forEach(recovered::add);
        for (int i = 0; i < a.groups(); i++) {
            RaftGroup group = RaftGroup.valueOf(ids.get(name(i)), peers);
            if (recovered.contains(group.getGroupId())) {
                continue;   // recovered from storage on a restart
            }
            RaftClientReply reply = server.groupManagement(
                    GroupManagementRequest.newAdd(clientId, self, callIds.incrementAndGet(), group));
            if (!reply.isSuccess()) {
                throw new IllegalStateException("adding group " + name(i) + " failed: " + reply.getException());
            }
        }
    }

    @Override
    List<String> ledNow() {
        List<String> led = new ArrayList<>();
        for (Map.Entry<String, RaftGroupId> e : ids.entrySet()) {
            try {
                if (server.getDivision(e.getValue()).getInfo().isLeaderReady()) {
                    led.add(e.getKey());
                }
            } catch (Exception ex) {
                // not hosted (yet): not led
            }
        }
        return led;
    }

    @Override
    CompletableFuture<?> submit(String group, byte[] payload) {
        return RatisNode.submitInProcess(server, clientId, self, ids.get(group), callIds.incrementAndGet(), payload);
    }

    @Override
    public void stopGracefully() throws Exception {
        server.close();
    }

    private final class Machine extends RatisNode.AppliedIndexMachine {
        private final String name;

        Machine(String name) {
            this.name = name;
        }

        @Override
        public void notifyLeaderReady() {
            try {
                Events.groupReady(name, server.getDivision(getGroupId()).getInfo().getCurrentTerm());
            } catch (Exception e) {
                System.err.println("notifyLeaderReady " + name + ": " + e);
            }
        }
    }
}
