package io.haraft.vip.daemon;

import java.nio.file.Path;

/**
 * Where a daemon serves its admin socket ({@link AdminServer}) and where {@code ha-vipd admin}
 * finds it: the Unix-domain socket {@code CLUSTER-NODE.sock} in the directory
 * {@code admin.socket.dir} (default {@value #DEFAULT_DIRECTORY_NAME}).
 *
 * <p>Immutable. The socket of another member of the same cluster on this host is found in the same
 * directory by its id ({@link #socketOf}), which is how a command given to a follower reaches the
 * leader when both run on one host (or share the directory, like network namespaces do).
 *
 * @param directory    the directory that holds the socket (created with mode 0700)
 * @param clusterId    the cluster's id
 * @param nodeId       this node's id
 * @param directorySet whether {@code admin.socket.dir} was set in the file (else the default)
 */
record AdminSettings(Path directory, String clusterId, String nodeId, boolean directorySet) {

    static final String DEFAULT_DIRECTORY_NAME = "/run/ha-vipd";
    /** The default of {@code admin.socket.dir}. */
    static final Path DEFAULT_DIRECTORY = Path.of(DEFAULT_DIRECTORY_NAME);
    /** The longest path of a Unix-domain socket on Linux (sun_path holds 108 bytes with the final NUL). */
    static final int MAX_PATH_BYTES = 107;

    /** Why {@code admin.bind} and {@code admin.port}, of earlier versions, are refused now. */
    static final String MIGRATION = "the admin endpoint is no longer a TCP port (which anyone on the host could use"
            + " to change the members) but a Unix-domain socket that only the daemon's user (root) may open, in"
            + " admin.socket.dir (default " + DEFAULT_DIRECTORY_NAME + "). Remove admin.bind and admin.port; ha-vipd"
            + " admin finds the socket from this file. Run ha-vipd admin on the host of the daemon it talks to";

    /** The socket of this node's daemon. */
    Path socket() {
        return socketOf(nodeId);
    }

    /** The socket that member {@code id} of this cluster would have in this directory. */
    Path socketOf(String id) {
        return directory.resolve(clusterId + "-" + id + ".sock");
    }

    /** For logs and {@code --check}. */
    String describe() {
        return "admin socket " + socket() + (directorySet ? "" : " (default directory)")
                + ", for the daemon's user (and root) only: run ha-vipd admin on this host as that user";
    }
}
