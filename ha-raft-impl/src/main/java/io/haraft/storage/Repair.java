package io.haraft.storage;

import java.nio.file.Path;

/**
 * The one repair rule for a data directory the store refuses because data in it is damaged or
 * missing. Every such error message ends with it, and the storage documentation states it.
 */
final class Repair {
    private Repair() {
    }

    /** The rule, for the directory {@code dir}. */
    static String rule(Path dir) {
        return "This node will not start on this directory, and it must not come back under its node id with an"
                + " emptied or hand-repaired one either: it would have forgotten votes and log entries it acknowledged,"
                + " which can lose committed writes. To repair, replace the node: stop it, move the directory ("
                + dir + ") away (keep it to investigate), start a new node with a new node id and an empty data"
                + " directory, and on the leader call replaceMember(<this node's id>, <new id>, <new address>)"
                + " (ha-vipd: admin replace OLD_ID NEW_ID=HOST:PORT); the new node copies the log or a snapshot"
                + " from the other members. This is safe while a majority of the other members has its data.";
    }
}
