package io.haraft.storage;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The file {@value #FILE_NAME} in the data directory of a node hosting Raft groups, beside its
 * {@code groups} directory: while it exists, the node is drained (in maintenance), also after a
 * restart, until the drain is ended.
 *
 * <p><b>Guarantees.</b>
 * <ul>
 *   <li>When {@link #record()} returns, the file is durable: it was written to
 *       {@value #FILE_NAME}{@code .tmp}, fsynced, renamed over any older one, and the directory was
 *       fsynced (and its parent, if {@code record()} created the directory). A crash leaves the old
 *       file or the new one, never a part of one.</li>
 *   <li>When {@link #remove} returns, the removal is durable (the directory was fsynced).</li>
 *   <li>{@link #read} never throws: a file it cannot read or parse is reported as drained, with
 *       the problem ({@link Reading#problem()}), because starting drained is the side that never
 *       takes leaderships from the other members.</li>
 *   <li>Not thread-safe: the caller serialises the calls for one directory.</li>
 * </ul>
 *
 * <pre>{@code
 * DrainedMarker m = DrainedMarker.in(dataDir, FileIO.standard());
 * m.record();                       // drained, durably
 * m.read().drained();               // true, also in a later process
 * m.remove();                       // not drained, durably
 * }</pre>
 *
 * <p>The file is UTF-8 text: the line {@value #FIRST_LINE}, the line {@code since <instant>}
 * (ISO-8601, when the node was first drained; wall-clock time, for people), then comment lines
 * starting with {@code #} that say what the file means and how to end the drain.
 *
 * <p><b>Limits.</b> The directory holds no lock of its own: the stores of the groups below it
 * refuse a second process, but only once it opens them.
 */
public final class DrainedMarker {
    /** The name of the file in the node's data directory. */
    public static final String FILE_NAME = "drained";
    /** The first line of the file: what it is and its format version. */
    static final String FIRST_LINE = "ha-raft-drained 1";
    /** A larger file is not one this class wrote. */
    private static final int MAX_BYTES = 4096;
    private static final String SINCE = "since ";

    private final Path dir;
    private final FileIO io;

    private DrainedMarker(Path dir, FileIO io) {
        this.dir = dir.toAbsolutePath();
        this.io = Objects.requireNonNull(io, "io");
    }

    /** The marker of the node whose data directory is {@code dataDir}; touches no file. */
    public static DrainedMarker in(Path dataDir, FileIO io) {
        return new DrainedMarker(Objects.requireNonNull(dataDir, "dataDir"), io);
    }

    /**
     * What the data directory says.
     *
     * @param drained whether the node is drained: the file exists (readable or not)
     * @param since   when it was first drained, as the file records it
     * @param problem why the file could not be read or parsed; empty if it could, or if there is none
     */
    public record Reading(boolean drained, Optional<Instant> since, Optional<String> problem) {
        static final Reading NONE = new Reading(false, Optional.empty(), Optional.empty());
    }

    /** The file. */
    public Path path() {
        return dir.resolve(FILE_NAME);
    }

    /** Reads the file; never throws (see {@link Reading}). */
    public Reading read() {
        Path file = path();
        byte[] bytes;
        try {
            if (!io.exists(file)) {
                return Reading.NONE;
            }
            try (FileIO.Handle h = io.open(file, false)) {
                long size = h.size();
                if (size > MAX_BYTES) {
                    return unreadable("it has " + size + " bytes, more than this file ever holds");
                }
                bytes = DataDir.readAll(h);
            }
        } catch (IOException | RuntimeException e) {
            return unreadable("it cannot be read: " + e);
        }
        List<String> lines = new String(bytes, StandardCharsets.UTF_8).lines().toList();
        if (lines.isEmpty() || !lines.get(0).equals(FIRST_LINE)) {
            return unreadable("its first line is " + (lines.isEmpty() ? "missing" : "'" + shorten(lines.get(0)) + "'")
                    + ", not '" + FIRST_LINE + "'");
        }
        if (lines.size() < 2 || !lines.get(1).startsWith(SINCE)) {
            return unreadable("its second line is not 'since <instant>'");
        }
        try {
            return new Reading(true, Optional.of(Instant.parse(lines.get(1).substring(SINCE.length()))),
                    Optional.empty());
        } catch (DateTimeParseException e) {
            return unreadable("its second line '" + shorten(lines.get(1)) + "' holds no valid instant");
        }
    }

    private static Reading unreadable(String why) {
        return new Reading(true, Optional.empty(), Optional.of(why));
    }

    private static String shorten(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "...";
    }

    /**
     * Records that the node is drained, durably (see the class guarantees), replacing any file
     * there is; creates the data directory if it does not exist yet. The time it records is the
     * one a valid file there records already, else now: the time the node was first drained.
     *
     * @throws IOException if the file could not be made durable; whether it exists then is unknown
     */
    public void record() throws IOException {
        record(read().since().orElseGet(Instant::now));
    }

    /** {@link #record()} with the time {@code since}. */
    void record(Instant since) throws IOException {
        Objects.requireNonNull(since, "since");
        boolean created = !io.exists(dir);
        if (created) {
            io.createDirectories(dir);
        }
        String text = FIRST_LINE + "\n" + SINCE + since + "\n"
                + "# This node is drained (in maintenance), also after a restart: it leads no Raft group while\n"
                + "# another member can take it. RaftGroups.undrain() (ha-vipd: admin undrain) ends the drain\n"
                + "# and deletes this file; deleting it while the node is stopped ends it too.\n";
        DataDir.replaceDurably(io, dir, FILE_NAME, text.getBytes(StandardCharsets.UTF_8));
        if (created && dir.getParent() != null) {
            io.syncDirectory(dir.getParent());
        }
    }

    /**
     * Deletes the file, durably; nothing to do if the data directory does not exist.
     *
     * @throws IOException if the deletion could not be made durable; whether the file exists then is unknown
     */
    public void remove() throws IOException {
        io.delete(path());
        try {
            io.syncDirectory(dir);
        } catch (NoSuchFileException e) {
            // no data directory, so no file: nothing to make durable
        }
    }

    /**
     * Deletes {@value #FILE_NAME}{@code .tmp} if a {@link #record()} interrupted by a crash left it.
     *
     * @return whether there was one
     * @throws IOException if it could not be deleted
     */
    public boolean deleteLeftover() throws IOException {
        Path tmp = dir.resolve(FILE_NAME + DataDir.TMP_SUFFIX);
        if (!io.exists(tmp)) {
            return false;
        }
        io.delete(tmp);
        return true;
    }

    /**
     * What an operator should fix after {@code e} failed {@link #record()} or {@link #remove}: free
     * space if the file system is full, else make the directory writable.
     */
    public String whatToFix(IOException e) {
        if (DataDir.isDiskFull(e)) {
            return "The file system holding " + dir + " is full: free space on it (do not delete anything inside"
                    + " the data directory)";
        }
        return "Make " + dir + " a writable directory on a file system mounted read-write, with nothing in the"
                + " way of " + FILE_NAME + " and " + FILE_NAME + DataDir.TMP_SUFFIX + " inside it";
    }
}
