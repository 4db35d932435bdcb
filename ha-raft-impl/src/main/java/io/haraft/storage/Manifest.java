package io.haraft.storage;

import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.UUID;

/**
 * What a data directory is and what it must hold: the file {@code manifest}, replaced atomically
 * (temporary file, fsync, rename, directory fsync) and rarely: at open, when a log segment was
 * started, before a truncation or a snapshot removes what it names, and when the cluster identity
 * is first learnt. Never on the path of an ordinary append.
 *
 * <p>Every claim it makes is durable when it is written, so after any crash the files it names
 * exist: a missing one was deleted or lost by something other than the store.
 *
 * <pre>
 * manifest = magic "HRMF" (int) | version 1 (int) | storage id (2 longs)
 *            | cluster id | node id            (each: length (int, -1 = none) | UTF-8)
 *            | cluster uuid known (byte) | cluster uuid (2 longs)
 *            | snapshot index (long) | last segment base (long) | durable index (long)
 *            | crc32c of all before (int)
 * </pre>
 *
 * @param clusterId       the cluster the directory belongs to, or {@code null} if opened without one
 * @param nodeId          the node it belongs to, or {@code null}
 * @param storageId       created once, when the directory was first used; never changes
 * @param clusterUuid     the identity of the cluster incarnation, or {@code null} until it is learnt
 * @param snapshotIndex   a snapshot at this index (or a newer one) must exist; 0 for none
 * @param lastSegmentBase the log segment starting at this index must exist (unless a newer snapshot
 *                        replaced the log); 0 for none
 * @param durableIndex    the log (with the snapshot) reaches at least this index
 */
record Manifest(String clusterId, String nodeId, UUID storageId, UUID clusterUuid, long snapshotIndex,
                long lastSegmentBase, long durableIndex) {
    static final int MAGIC = 0x48524D46; // HRMF
    static final int VERSION = 1;

    /** A new directory's manifest. */
    static Manifest create(String clusterId, String nodeId) {
        return new Manifest(clusterId, nodeId, UUID.randomUUID(), null, 0, 0, 0);
    }

    Manifest withIdentity(String cluster, String node) {
        return new Manifest(cluster, node, storageId, clusterUuid, snapshotIndex, lastSegmentBase, durableIndex);
    }

    Manifest withClusterUuid(UUID uuid) {
        return new Manifest(clusterId, nodeId, storageId, uuid, snapshotIndex, lastSegmentBase, durableIndex);
    }

    /** The same identity with other claims about the files. */
    Manifest withFiles(long snapshot, long lastSegment, long durable) {
        return new Manifest(clusterId, nodeId, storageId, clusterUuid, snapshot, lastSegment, durable);
    }

    byte[] encode() {
        byte[] c = clusterId == null ? null : clusterId.getBytes(StandardCharsets.UTF_8);
        byte[] n = nodeId == null ? null : nodeId.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(4 + 4 + 16 + 4 + len(c) + 4 + len(n) + 1 + 16 + 24 + 4);
        b.putInt(MAGIC).putInt(VERSION).putLong(storageId.getMostSignificantBits())
                .putLong(storageId.getLeastSignificantBits());
        putString(b, c);
        putString(b, n);
        b.put((byte) (clusterUuid == null ? 0 : 1));
        b.putLong(clusterUuid == null ? 0 : clusterUuid.getMostSignificantBits());
        b.putLong(clusterUuid == null ? 0 : clusterUuid.getLeastSignificantBits());
        b.putLong(snapshotIndex).putLong(lastSegmentBase).putLong(durableIndex);
        b.putInt(Formats.crc(b.array(), 0, b.position()));
        return b.array();
    }

    private static int len(byte[] s) {
        return s == null ? 0 : s.length;
    }

    private static void putString(ByteBuffer b, byte[] s) {
        if (s == null) {
            b.putInt(-1);
        } else {
            b.putInt(s.length).put(s);
        }
    }

    static Manifest decode(byte[] bytes, Path file) {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        try {
            if (b.getInt() != MAGIC) {
                throw new StorageCorruptedException(file, 0, "not an HA-Raft manifest (bad magic number)");
            }
            int version = b.getInt();
            if (version != VERSION) {
                throw Formats.unknownVersion(bytes, file, "manifest", version, VERSION, VERSION, copy -> copy.length >= 8
                        && Formats.crc(copy, 0, copy.length - 4) == ByteBuffer.wrap(copy, copy.length - 4, 4).getInt());
            }
            if (Formats.crc(bytes, 0, bytes.length - 4) != ByteBuffer.wrap(bytes, bytes.length - 4, 4).getInt()) {
                throw new StorageCorruptedException(file, bytes.length - 4, "manifest checksum mismatch");
            }
            UUID storage = new UUID(b.getLong(), b.getLong());
            String cluster = getString(b, file);
            String node = getString(b, file);
            boolean known = b.get() != 0;
            UUID uuid = new UUID(b.getLong(), b.getLong());
            long snapshot = b.getLong();
            long segment = b.getLong();
            long durable = b.getLong();
            if (b.remaining() != 4 || snapshot < 0 || segment < 0 || durable < 0) {
                throw new StorageCorruptedException(file, b.position(), "manifest fields inconsistent");
            }
            return new Manifest(cluster, node, storage, known ? uuid : null, snapshot, segment, durable);
        } catch (BufferUnderflowException | IllegalArgumentException e) {
            throw new StorageCorruptedException(file, b.position(), "manifest damaged or cut short");
        }
    }

    private static String getString(ByteBuffer b, Path file) {
        int n = b.getInt();
        if (n < -1 || n > b.remaining()) {
            throw new StorageCorruptedException(file, b.position() - 4, "manifest string length damaged");
        }
        if (n < 0) {
            return null;
        }
        byte[] s = new byte[n];
        b.get(s);
        return new String(s, StandardCharsets.UTF_8);
    }

    /** The manifest of {@code dir}, or {@code null} if it has none. */
    static Manifest read(FileIO io, Path dir) throws IOException {
        Path file = dir.resolve(DataDir.MANIFEST_FILE);
        return io.exists(file) ? decode(DataDir.readAll(io, file), file) : null;
    }

    /** Replaces the manifest of {@code dir} with this one, durably. */
    void write(FileIO io, Path dir) throws IOException {
        DataDir.replaceDurably(io, dir, DataDir.MANIFEST_FILE, encode());
    }
}
