package io.haraft.storage;

/**
 * A storage operation failed. Unchecked, because a Raft node cannot continue after its log or
 * hard state could not be written: the node must stop and be restarted.
 *
 * <p>Retrying the same call on the same store is never useful: after a failed write or fsync the
 * store refuses further writes (an fsync error may have dropped dirty pages, so the only safe
 * continuation is a restart, which re-reads what is really on disk).
 */
public class StorageException extends RuntimeException {
    /** A failure with a message meant for an operator. */
    public StorageException(String message) {
        super(message);
    }

    /** A failure caused by {@code cause}, usually an {@link java.io.IOException}. */
    public StorageException(String message, Throwable cause) {
        super(message, cause);
    }
}
