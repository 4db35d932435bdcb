package io.haraft.runtime;

import io.haraft.core.RaftCore;
import io.haraft.core.Role;
import io.haraft.core.progress.Progress;
import io.haraft.core.quorum.Membership;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What {@code status()} shows of one node, published by its loop after every iteration: role,
 * term, known leader, commit index, the latest configuration, whether that configuration is still
 * uncommitted, and on a leader each member's lag (entries behind the leader's last index; 0 for
 * itself) and, once its election was reported, its last index. Immutable; built and compared on
 * the loop thread only, read from any thread.
 *
 * @param leaderLastIndex on a leader whose election was reported (the first entry of its term is
 *                        committed), its last log index; 0 on any other node
 */
record NodeView(Role role, long term, String leader, long commitIndex, Membership membership, boolean pending,
                Map<String, Long> lag, long leaderLastIndex) {
    NodeView {
        lag = Map.copyOf(lag);
    }

    /** The view of {@code core} now, on node {@code self} (loop thread). */
    static NodeView of(RaftCore core, String self) {
        Map<String, Long> lag = new HashMap<>();
        if (core.role() == Role.LEADER) {
            long last = core.lastIndex();
            for (String id : core.membership().ids()) {
                lag.put(id, lagOf(core, self, id, last));
            }
        }
        return new NodeView(core.role(), core.term(), core.leader(), core.commitIndex(), core.membership(),
                core.log().latestMembershipIndex() > core.commitIndex(), lag,
                core.isElected() ? core.lastIndex() : 0);
    }

    /**
     * Whether {@link #of} would now differ from this view: the same comparison as
     * {@code !of(core, self).equals(this)}, without building a view and its lag map (most
     * iterations of an idle node handle one heartbeat and change nothing a view shows).
     */
    boolean differsFrom(RaftCore core, String self) {
        Membership m = core.membership();
        if (role != core.role() || term != core.term() || commitIndex != core.commitIndex()
                || !Objects.equals(leader, core.leader())
                || membership != m && !membership.equals(m)
                || pending != core.log().latestMembershipIndex() > core.commitIndex()) {
            return true;
        }
        if (core.role() != Role.LEADER) {
            return !lag.isEmpty() || leaderLastIndex != 0;
        }
        List<String> ids = m.ids();
        long last = core.lastIndex();
        if (lag.size() != ids.size() || leaderLastIndex != (core.isElected() ? last : 0)) {
            return true;
        }
        for (String id : ids) {
            Long shown = lag.get(id);
            if (shown == null || shown != lagOf(core, self, id, last)) {
                return true;
            }
        }
        return false;
    }

    /**
     * On a leader whose election was reported: how many committed entries member {@code id} lacks
     * (its lag less the entries not committed yet, which every follower lacks for a moment under
     * load); {@link Long#MAX_VALUE} if this view is not such a leader's (a leader that has not yet
     * committed in its term knows neither its followers' logs nor the commit index) or {@code id}
     * is not a member.
     */
    long committedLag(String id) {
        Long l = lag.get(id);
        return l == null || leaderLastIndex == 0 ? Long.MAX_VALUE
                : Math.max(0, l - Math.max(0, leaderLastIndex - commitIndex));
    }

    /** On a leader whose last index is {@code last}: how many entries member {@code id} lacks (0 for itself). */
    private static long lagOf(RaftCore core, String self, String id, long last) {
        if (id.equals(self)) {
            return 0;
        }
        Progress pr = core.progress(id);
        return Math.max(0, last - (pr == null ? 0 : pr.match()));
    }
}
