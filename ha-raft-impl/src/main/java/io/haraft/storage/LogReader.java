package io.haraft.storage;

import io.haraft.core.log.Entry;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/** Reads entries back from log segments: each run of records in one segment with one read call. */
final class LogReader {
    private LogReader() {
    }

    /**
     * Entries {@code from} .. {@code toExclusive - 1} of {@code segments} (the range checked by the
     * caller, the records written out), bounded by {@code maxBytes} as {@link RaftStorage#entries} says.
     */
    static List<Entry> read(List<Segment> segments, long from, long toExclusive, long maxBytes) {
        List<Entry> out = new ArrayList<>();
        long bytes = 0;
        long i = from;
        int segIdx = segmentFor(segments, from);
        while (i < toExclusive) {
            Segment seg = segments.get(segIdx);
            long end = Math.min(toExclusive, seg.base + seg.count);
            // Read a run of records from this segment in one call, bounded by maxBytes.
            long j = i;
            long runBytes = 0;
            while (j < end) {
                long rec = seg.endOf(j) - seg.offsetOf(j);
                long payload = rec - Formats.FRAME_HEADER_SIZE - Formats.PAYLOAD_FIXED_SIZE;
                if (!out.isEmpty() || j > i) {
                    if (bytes + runBytes + payload > maxBytes) {
                        break;
                    }
                }
                runBytes += payload;
                j++;
            }
            if (j == i) {
                return out;
            }
            long start = seg.offsetOf(i);
            long stop = seg.endOf(j - 1);
            byte[] buf = new byte[(int) (stop - start)];
            ByteBuffer bb = ByteBuffer.wrap(buf);
            try {
                while (bb.hasRemaining()) {
                    if (seg.handle.read(bb, start + bb.position()) < 0) {
                        throw new StorageCorruptedException(seg.path, start + bb.position(), "log segment shorter than expected");
                    }
                }
            } catch (IOException e) {
                throw new StorageException("cannot read " + seg.path + ": " + e.getMessage(), e);
            }
            for (long k = i; k < j; k++) {
                int off = (int) (seg.offsetOf(k) - start);
                int len = (int) (seg.endOf(k) - seg.offsetOf(k));
                out.add(Formats.decodeFrame(buf, off, len, seg.path, seg.offsetOf(k), k));
            }
            bytes += runBytes;
            i = j;
            if (j < end) {
                return out;
            }
            segIdx++;
        }
        return out;
    }

    private static int segmentFor(List<Segment> segments, long index) {
        int lo = 0;
        int hi = segments.size() - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (segments.get(mid).base <= index) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return lo;
    }
}
