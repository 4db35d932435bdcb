package io.haraft.storage;

import java.nio.file.Path;
import java.util.List;

/**
 * Files that the node had made durable are gone from its data directory (deleted by hand, lost
 * with a restored backup, or an incomplete copy): a log segment, the hard state (its vote) or the
 * snapshot. The directory's {@code manifest} records what must be there; starting without those
 * files would silently forget acknowledged entries or a vote, so the store refuses.
 *
 * <p>The message names every missing file and gives the repair rule of
 * {@link StorageCorruptedException}: replace the node under a new id rather than restart it.
 */
public class StorageFilesMissingException extends StorageCorruptedException {
    private final List<Path> missing;

    /**
     * @param dir     the data directory
     * @param missing the missing files, each with why it must exist
     */
    StorageFilesMissingException(Path dir, List<Path> missing, List<String> why) {
        super(format(dir, missing, why), missing.get(0));
        this.missing = List.copyOf(missing);
    }

    private static String format(Path dir, List<Path> missing, List<String> why) {
        StringBuilder b = new StringBuilder("Files missing from HA-Raft data directory " + dir + ": ");
        for (int i = 0; i < missing.size(); i++) {
            b.append(i == 0 ? "" : "; ").append(missing.get(i).getFileName()).append(" (").append(why.get(i)).append(')');
        }
        return b.append(". Its manifest records that this node made them durable. ").append(Repair.rule(dir)).toString();
    }

    /** The missing files. */
    public List<Path> missing() {
        return missing;
    }
}
