package io.haraft.storage;

import static org.assertj.core.api.Assertions.assertThat;

import io.haraft.core.HardState;
import io.haraft.core.log.Entry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Starting a log segment never waits for the spare segment's zeros: with no spare ready, the new
 * segment grows with its entries, and the next append after the spare is ready leaves it (complete
 * and forced) for the spare. A newest segment that grew before a restart, or was cut by a
 * truncation, is left the same way. Every entry survives a reopen.
 *
 * <p>The spare is written only when the test says so ({@link HeldSpareDriver}), so nothing here depends
 * on how fast the background thread is. A store that waited for the spare would block the first
 * write that starts a segment, on the test's thread: the timeout fails the test instead.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SegmentStartTest {
    private static final long SEGMENT = 64 << 10;
    private static final int ENTRY = 1000;

    @TempDir
    Path tmp;

    private static FileRaftStorage open(Path dir, HeldSpareDriver spare) {
        return FileRaftStorage.open(dir, FileRaftStorage.Options.defaults().withSegmentSize(SEGMENT), spare);
    }

    private static void append(FileRaftStorage s, long from, long to, long term) throws Exception {
        List<Entry> list = new ArrayList<>();
        for (long i = from; i <= to; i++) {
            list.add(Entry.command(i, term, new byte[ENTRY]));
        }
        s.persist(from == 1 ? new HardState(term, null) : null, list).get(10, TimeUnit.SECONDS);
    }

    /** Each segment's base index and file length, in order. */
    private static List<long[]> segments(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".seg"))
                    .map(n -> {
                        long base = Long.parseLong(n.substring("log-".length(), n.length() - ".seg".length()));
                        try {
                            return new long[] {base, Files.size(dir.resolve(n))};
                        } catch (IOException e) {
                            throw new AssertionError(e);
                        }
                    })
                    .sorted((a, b) -> Long.compare(a[0], b[0])).toList();
        }
    }

    private static void assertAllThere(Path dir, long last, long term) {
        try (FileRaftStorage again = FileRaftStorage.open(dir,
                FileRaftStorage.Options.defaults().withSegmentSize(SEGMENT))) {
            assertThat(again.lastIndex()).isEqualTo(last);
            List<Entry> read = again.entries(1, last + 1, Long.MAX_VALUE);
            assertThat(read).hasSize((int) last);
            assertThat(read.get((int) last - 1).term()).isEqualTo(term);
        }
    }

    /** Segments {@code log-1} and {@code log-<second>} (a whole preallocated one), and entries 1..last readable after a reopen. */
    private static void assertTwoSegmentsTheSecondFromTheSpare(Path dir, long second, long last, long term)
            throws IOException {
        List<long[]> segs = segments(dir);
        assertThat(segs).extracting(seg -> seg[0]).containsExactly(1L, second);
        assertThat(segs.get(1)[1]).as("log-%d came from the spare", second).isEqualTo(SEGMENT);
        assertAllThere(dir, last, term);
    }

    @Test
    void withNoSpareReadySegmentsGrowAndTheNextAppendAfterTheSpareIsReadyStartsOneFromIt() throws Exception {
        HeldSpareDriver spare = new HeldSpareDriver();
        Path dir = tmp.resolve("d");
        try (FileRaftStorage s = open(dir, spare)) {
            // about 65 entries of 1 KiB fill a 64 KiB segment: 200 start three segments, no spare ready
            for (long i = 1; i <= 200; i += 10) {
                append(s, i, i + 9, 1);
            }
            List<long[]> grown = segments(dir);
            assertThat(grown).hasSizeGreaterThanOrEqualTo(3);
            assertThat(grown).allSatisfy(seg -> assertThat(seg[1]).as("log-%d grows with its entries", seg[0])
                    .isLessThan(SEGMENT));

            spare.write();
            append(s, 201, 201, 1);
            List<long[]> after = segments(dir);
            long[] newest = after.get(after.size() - 1);
            assertThat(newest[0]).as("entry 201 starts a segment from the spare").isEqualTo(201);
            assertThat(newest[1]).as("the spare is a whole preallocated segment").isEqualTo(SEGMENT);
            long[] left = after.get(after.size() - 2);
            assertThat(left[1]).as("the growing segment was left before it was full").isLessThan(SEGMENT - 4 * ENTRY);
        }
        assertAllThere(dir, 201, 1);
    }

    @Test
    void aNewestSegmentThatGrewBeforeARestartIsLeftForTheSpare() throws Exception {
        HeldSpareDriver spare = new HeldSpareDriver();
        Path dir = tmp.resolve("d");
        try (FileRaftStorage s = open(dir, spare)) {
            append(s, 1, 10, 1);
        }
        HeldSpareDriver again = new HeldSpareDriver();
        try (FileRaftStorage s = open(dir, again)) {
            again.write();
            append(s, 11, 11, 1);
        }
        assertTwoSegmentsTheSecondFromTheSpare(dir, 11, 11, 1);
    }

    @Test
    void aSegmentCutByATruncationIsLeftForTheSpare() throws Exception {
        HeldSpareDriver spare = new HeldSpareDriver();
        Path dir = tmp.resolve("d");
        try (FileRaftStorage s = open(dir, spare)) {
            spare.write();
            append(s, 1, 10, 1);
            assertThat(segments(dir)).extracting(seg -> seg[1]).as("the first segment came from the spare")
                    .containsExactly(SEGMENT);
            spare.write();
            // a new leader's entries replace 6..10: the cut segment no longer has zeros after its data
            List<Entry> replacing = List.of(Entry.command(6, 2, new byte[ENTRY]), Entry.command(7, 2, new byte[ENTRY]));
            s.persist(new HardState(2, null), replacing).get(10, TimeUnit.SECONDS);
        }
        assertTwoSegmentsTheSecondFromTheSpare(dir, 6, 7, 2);
    }
}
