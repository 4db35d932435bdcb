package io.haraft.examples;

import io.haraft.FencingToken;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The fenced store of the active-active example: one append-only file per partition,
 * {@code <dir>/<partition>.ledger}, shared by the node processes. Each line is one write,
 * {@code <token> <node> <seq>}. A write is appended under an exclusive file lock, and only if its
 * token is at least the highest token in the file: a write of an older leadership that arrives
 * after a newer leadership wrote is rejected, as a database fenced by the token would reject it.
 */
public final class PartitionLedger {
    /** One line of a partition's file. */
    public record Entry(long token, String node, long seq) {
    }

    private final Path dir;

    public PartitionLedger(Path dir) throws IOException {
        this.dir = Files.createDirectories(dir);
    }

    /**
     * Appends a write of {@code node} with {@code token} to {@code partition}'s file, unless the
     * file holds a write with a higher token.
     *
     * @return {@code -1} if appended, else the highest token in the file (the write was rejected)
     */
    public long append(String partition, FencingToken token, String node, long seq) throws IOException {
        try (FileChannel ch = FileChannel.open(file(partition), StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE); FileLock ignored = ch.lock()) {
            long highest = highest(ch);
            if (token.value() < highest) {
                return highest;
            }
            ByteBuffer line = ByteBuffer.wrap((token.value() + " " + node + " " + seq + "\n")
                    .getBytes(StandardCharsets.UTF_8));
            ch.position(ch.size());
            while (line.hasRemaining()) {
                ch.write(line);
            }
            return -1;
        }
    }

    /** Every write appended to {@code partition}, in order. */
    public List<Entry> read(String partition) throws IOException {
        List<Entry> entries = new ArrayList<>();
        Path f = file(partition);
        if (!Files.exists(f)) {
            return entries;
        }
        for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
            String[] w = line.split(" ");
            entries.add(new Entry(Long.parseLong(w[0]), w[1], Long.parseLong(w[2])));
        }
        return entries;
    }

    /** The token of the file's last line (its highest, as tokens never go down in it), or 0 if empty. */
    private static long highest(FileChannel ch) throws IOException {
        long size = ch.size();
        if (size == 0) {
            return 0;
        }
        int n = (int) Math.min(size, 256);   // a line is far shorter
        ByteBuffer tail = ByteBuffer.allocate(n);
        while (tail.hasRemaining() && ch.read(tail, size - n + tail.position()) >= 0) {
            // a file read may return fewer bytes than asked
        }
        String s = new String(tail.array(), 0, tail.position(), StandardCharsets.UTF_8);
        String last = s.substring(s.lastIndexOf('\n', s.length() - 2) + 1).strip();
        return Long.parseLong(last.split(" ")[0]);
    }

    private Path file(String partition) {
        return dir.resolve(partition + ".ledger");
    }
}
