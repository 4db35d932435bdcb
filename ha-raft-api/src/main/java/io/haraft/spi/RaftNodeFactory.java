package io.haraft.spi;

import io.haraft.LeadershipListener;
import io.haraft.RaftConfig;
import io.haraft.RaftGroups;
import io.haraft.RaftNode;
import io.haraft.StateMachine;
import io.haraft.metrics.RaftMetrics;

/**
 * Creates {@link RaftNode}s: the seam between the public API and an implementation such as
 * {@code io.haraft:ha-raft-impl}. Found by {@link RaftNode.Builder#build()} through
 * {@link java.util.ServiceLoader}, so an implementation registers itself in
 * {@code META-INF/services/io.haraft.spi.RaftNodeFactory}.
 *
 * <p><b>Contract.</b> Exactly one implementation must be on the class path. It needs a public
 * no-argument constructor and must be thread-safe (the builder may be used from any thread).
 * {@link #create(RaftConfig, LeadershipListener, StateMachine, RaftMetrics)} is called once per
 * {@code build()}, on the caller's thread. It must not start
 * threads, bind ports or open storage: {@link RaftNode#start()} does that, so that a node that is
 * built but never started holds no resources. It may throw {@link io.haraft.RaftConfigException}
 * for a configuration that this implementation cannot support.
 *
 * <pre>{@code
 * public final class GrpcRaftNodeFactory implements RaftNodeFactory {
 *     public RaftNode create(RaftConfig config, LeadershipListener listener, StateMachine sm) {
 *         return new DefaultRaftNode(config, listener, sm);
 *     }
 * }
 * }</pre>
 *
 * <p><b>Limits.</b> Applications do not call this interface; they call {@link RaftNode#builder()}.
 */
public interface RaftNodeFactory {

    /**
     * Creates a node that is not started yet.
     *
     * @param config       the validated configuration; its data directory exists and is writable
     * @param listener     where to deliver leadership transitions; a listener that ignores them
     *                     if the application configured none; never {@code null}
     * @param stateMachine the application's state machine, or one that keeps no state and returns
     *                     empty results if the application configured none; never {@code null}
     * @return the node, never {@code null}
     */
    RaftNode create(RaftConfig config, LeadershipListener listener, StateMachine stateMachine);

    /**
     * Creates a node that is not started yet and reports its measurements to {@code metrics}
     * (see {@link RaftMetrics} for what the node promises). This is the method
     * {@link RaftNode.Builder#build()} calls. The default, for implementations written before
     * metrics existed, calls {@link #create(RaftConfig, LeadershipListener, StateMachine)} and
     * reports nothing (it logs a WARN if metrics were configured).
     *
     * @param metrics where to report measurements; {@link RaftMetrics#none()} if the application
     *                configured none; never {@code null}
     * @return the node, never {@code null}
     */
    default RaftNode create(RaftConfig config, LeadershipListener listener, StateMachine stateMachine,
                            RaftMetrics metrics) {
        if (metrics != RaftMetrics.none()) {
            org.slf4j.LoggerFactory.getLogger(RaftNodeFactory.class).warn("The HA-Raft implementation {} does not"
                    + " support metrics: node {} reports none to {}. Use an ha-raft-impl of the same version as"
                    + " ha-raft-api", getClass().getName(), config.nodeId(), metrics);
        }
        return create(config, listener, stateMachine);
    }

    /**
     * Creates a node that hosts many named Raft groups ({@link RaftGroups}), not started yet;
     * called by {@link RaftNode.Builder#buildGroups()}. The same rules as for {@code create}: no
     * thread, port or file is opened before {@link RaftGroups#start()}. The default, for
     * implementations that host a single group, throws {@link UnsupportedOperationException}.
     *
     * @param config   the validated configuration; its data directory exists and is writable
     * @param listener a listener every group gets in addition to its own; never {@code null}
     * @return the node, never {@code null}
     * @throws UnsupportedOperationException if the implementation cannot host groups
     */
    default RaftGroups createGroups(RaftConfig config, LeadershipListener listener) {
        throw new UnsupportedOperationException("The HA-Raft implementation " + getClass().getName()
                + " cannot host several Raft groups per node; use an ha-raft-impl of the same version as ha-raft-api");
    }

    /**
     * {@link #createGroups(RaftConfig, LeadershipListener)} whose groups report to {@code metrics},
     * each with its name as the {@code group} tag; called by {@link RaftNode.Builder#buildGroups()}.
     * The default, for implementations without metrics for groups, logs a WARN when given metrics
     * other than {@link RaftMetrics#none()} and creates the node without them.
     *
     * @param metrics where the groups report; {@link RaftMetrics#none()} when none were set
     */
    default RaftGroups createGroups(RaftConfig config, LeadershipListener listener, RaftMetrics metrics) {
        if (metrics != RaftMetrics.none()) {
            org.slf4j.LoggerFactory.getLogger(RaftNodeFactory.class).warn("The HA-Raft implementation {} does not"
                    + " support metrics for groups: node {} reports none to {}. Use an ha-raft-impl of the same"
                    + " version as ha-raft-api", getClass().getName(), config.nodeId(), metrics);
        }
        return createGroups(config, listener);
    }
}
