package io.haraft.bench.node;

import java.util.List;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.util.TimeDuration;

/**
 * The Ratis settings that the benchmarks call "tuned", knob by knob, so that each can be measured
 * alone. Every knob keeps the log fsync-safe: unsafe and async flush stay off.
 */
public final class RatisTuning {

    private RatisTuning() {
    }

    /** The knobs "tuned" turns on, by name; {@code tuning=} takes "shipped", "tuned" or a comma list of them. */
    public static final List<String> TUNED = List.of("waitmin0", "appends128", "sync512");

    /**
     * Ratis's documented knobs for a faster log that stays fsync-safe (unsafe and async flush stay off).
     * <ul>
     *   <li>{@code waitmin0}: {@code raft.server.log.appender.wait-time.min} = 0 (default 1 ms): the log
     *       appender sends the next AppendEntries as soon as there is something to send (Apache Ozone
     *       ships 0 ms).</li>
     *   <li>{@code appends128}: {@code raft.grpc.server.leader.outstanding.appends.max} = 128 (default 8):
     *       more AppendEntries in flight per follower on the gRPC stream.</li>
     *   <li>{@code sync512}: {@code raft.server.log.force.sync.num} = 512 (default 128): at most one fsync
     *       per 512 queued writes under load; each entry is still fsynced before it counts.</li>
     * </ul>
     */
    public static void apply(RaftProperties p, List<String> knobs) {
        for (String k : knobs) {
            switch (k) {
                case "waitmin0" -> RaftServerConfigKeys.Log.Appender.setWaitTimeMin(p, TimeDuration.ZERO);
                case "appends128" -> GrpcConfigKeys.Server.setLeaderOutstandingAppendsMax(p, 128);
                case "sync512" -> RaftServerConfigKeys.Log.setForceSyncNum(p, 512);
                default -> throw new IllegalArgumentException("unknown knob " + k + " (" + TUNED + ")");
            }
        }
    }

    /** "shipped" = none, "tuned" = all of {@link #TUNED}, otherwise knob names joined by "," or "+". */
    public static List<String> knobs(String tuning) {
        return switch (tuning) {
            case "shipped" -> List.of();
            case "tuned" -> TUNED;
            default -> List.of(tuning.split("[,+]"));
        };
    }
}
