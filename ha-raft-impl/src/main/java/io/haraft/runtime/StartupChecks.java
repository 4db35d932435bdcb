package io.haraft.runtime;

import io.haraft.RaftConfig;
import io.haraft.core.log.Entry;
import io.haraft.core.quorum.Membership;
import io.haraft.storage.Snapshot;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Optional;

/**
 * The checks {@link RaftNodeImpl#start()} makes on what it recovers from its store: the log fits
 * the heap, the log continues the latest snapshot, and the stored configuration against the
 * start-up members. Stateless.
 */
final class StartupChecks {
    private static final Logger LOG = LoggerFactory.getLogger(RaftNodeImpl.class);

    private StartupChecks() {
    }

    /**
     * Reads the log since the latest snapshot, which the core keeps in memory. A log larger than
     * {@link RaftConfig#snapshotThresholdBytes()} (written with a larger bound, or by a version
     * without one) is used, with a WARN; one too large for the heap fails the start with an
     * explanation instead of a bare {@link OutOfMemoryError}.
     */
    static List<Entry> readLog(RaftConfig config, LogStore s) {
        List<Entry> entries;
        try {
            entries = s.entries();
        } catch (OutOfMemoryError e) {
            // The list being read is garbage now: the heap is usable again for the message and close().
            throw new IllegalStateException("node " + config.nodeId() + " cannot read its log since the latest snapshot"
                    + " (after index " + s.snapshotIndex() + ") into its heap of " + (Runtime.getRuntime().maxMemory() >> 20)
                    + " MiB: the log was written with a larger snapshotThresholdBytes, or by a version without that"
                    + " bound. Start it once with a larger heap (-Xmx), so that it takes a snapshot and compacts the log,"
                    + " and keep snapshotThresholdBytes (now " + config.snapshotThresholdBytes() + " bytes) below half"
                    + " the heap", e);
        }
        long bytes = 0;
        for (Entry e : entries) {
            bytes += Applier.logBytes(e);
        }
        if (bytes > config.snapshotThresholdBytes()) {
            LOG.warn("node {} recovered {} MiB of log ({} entries) since its latest snapshot, more than snapshotThresholdBytes"
                    + " ({} MiB): it was written with a larger bound or by a version without one. The node takes a snapshot"
                    + " once those entries are applied again; until then it needs heap for all of them", config.nodeId(),
                    bytes >> 20, entries.size(), config.snapshotThresholdBytes() >> 20);
        }
        long heap = Runtime.getRuntime().maxMemory();
        if (heap != Long.MAX_VALUE && config.snapshotThresholdBytes() > heap / 2) {
            LOG.warn("node {}: snapshotThresholdBytes ({} MiB) is more than half of the heap ({} MiB); the log since the"
                    + " latest snapshot may not fit in memory, also when the node restarts. Lower snapshotThresholdBytes"
                    + " or raise -Xmx", config.nodeId(), config.snapshotThresholdBytes() >> 20, heap >> 20);
        }
        return entries;
    }

    /**
     * A restarted node uses the latest configuration it has stored (log, else snapshot), not its
     * start-up arguments: if the two differ, says so once, naming both.
     */
    static void warnIfConfigurationDiffers(RaftConfig config, Membership inUse, long index) {
        Membership startup = Configurations.bootstrap(config);
        if (!inUse.equals(startup)) {
            LOG.warn("node {} uses the cluster configuration {} stored at log index {}, not the members of its start-up"
                    + " configuration {}: the stored one is newer (membership changed while the cluster ran). Update"
                    + " the start-up members to {} to silence this warning", config.nodeId(),
                    Configurations.toApi(inUse, index).members(), index, config.members(),
                    Configurations.toApi(inUse, index).members());
        }
    }

    /** The store's log must start right after its latest snapshot, or the state cannot be rebuilt. */
    static void checkSnapshotMatchesLog(RaftConfig config, Optional<Snapshot> snapshot, long snapshotIndex,
                                        long snapshotTerm) {
        long index = snapshot.map(x -> x.meta().lastIndex()).orElse(0L);
        long term = snapshot.map(x -> x.meta().lastTerm()).orElse(0L);
        if (index != snapshotIndex || term != snapshotTerm) {
            throw new IllegalStateException("node " + config.nodeId() + ": the log store's log starts after index "
                    + snapshotIndex + " (term " + snapshotTerm + ") but its latest snapshot "
                    + (snapshot.isEmpty() ? "is missing" : "ends at index " + index + " (term " + term + ")")
                    + ", so the state machine cannot be rebuilt. "
                    + io.haraft.storage.StorageCorruptedException.repairRule(config.dataDir()));
        }
    }
}
