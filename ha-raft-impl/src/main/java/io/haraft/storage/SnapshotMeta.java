package io.haraft.storage;

import java.util.List;
import java.util.Objects;

/**
 * What a snapshot covers: the last log entry it includes (index and term) and the cluster members
 * at that point.
 *
 * <p>Immutable; {@code members} is copied. An index of 0 with term 0 would be "nothing", so a
 * snapshot always covers at least entry 1.
 *
 * @param lastIndex index of the last entry included in the snapshot, {@code >= 1}
 * @param lastTerm  term of that entry, {@code >= 1}
 * @param members   node ids of the members at {@code lastIndex}, non-null, no null elements
 */
public record SnapshotMeta(long lastIndex, long lastTerm, List<String> members) {
    /** Validates and copies. */
    public SnapshotMeta {
        if (lastIndex < 1) {
            throw new IllegalArgumentException("snapshot lastIndex must be >= 1, got " + lastIndex);
        }
        if (lastTerm < 1) {
            throw new IllegalArgumentException("snapshot lastTerm must be >= 1, got " + lastTerm);
        }
        members = List.copyOf(Objects.requireNonNull(members, "members"));
    }
}
