package io.haraft.storage;

import static org.assertj.core.api.Assertions.assertThat;

import io.haraft.core.HardState;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Power lost while the hard state is updated in place, through {@link SimFileIO}: before the
 * update's fsync (its data lost, or torn to any prefix), and after it. Recovery must yield the new
 * state or the previous one, never a term below an acknowledged one nor a forgotten acknowledged
 * vote; a torn slot of the new write recovers the previous state.
 */
class HardStateCrashTest {
    static final Path DIR = HardStateFormatTest.DIR;
    static final Path HS = HardStateFormatTest.HS;

    static LongStream seeds() {
        return LongStream.rangeClosed(1, 20);
    }

    private static HardState next(Random rnd, HardState prev) {
        long term = prev.term() + (rnd.nextInt(3) == 0 ? 0 : 1 + rnd.nextInt(3));
        String vote = term == prev.term() && prev.votedFor() != null ? prev.votedFor()
                : rnd.nextBoolean() ? null : "node-" + rnd.nextInt(5);
        long stickiness = rnd.nextInt(4) == 0 ? rnd.nextInt(2_000_000_000) : prev.stickiness();
        HardState hs = new HardState(term, vote, stickiness);
        return hs.equals(prev) ? new HardState(term + 1, null, stickiness) : hs;
    }

    private static HardState recover(SimFileIO image) {
        try (FileRaftStorage r = FileRaftStorage.open(DIR, CrashRecoveryTest.opts(image))) {
            return r.hardState();
        }
    }

    /**
     * Crash images taken at every fsync while a sequence of updates runs (each one waited for, as
     * the node waits before it sends a vote): at an update's fsync, its slot is written but not
     * durable. Each image recovers the update in flight or the last acknowledged one, and starts.
     */
    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void everyCrashPointRecoversTheNewOrThePreviousState(long seed) throws Exception {
        Random rnd = new Random(seed);
        SimFileIO io = new SimFileIO();
        List<HardState> acked = Collections.synchronizedList(new ArrayList<>());
        acked.add(HardState.INITIAL);
        HardState[] inFlight = new HardState[1];
        record Image(SimFileIO fs, HardState acked, HardState inFlight) { }
        List<Image> images = Collections.synchronizedList(new ArrayList<>());
        int torn = 0;
        try (FileRaftStorage s = FileRaftStorage.open(DIR, CrashRecoveryTest.opts(io))) {
            io.beforeForce = path -> {
                if (path.equals(HS)) {
                    HardState a = acked.get(acked.size() - 1);
                    images.add(new Image(io.crash(), a, inFlight[0]));
                    for (int i = 0; i < 3; i++) {
                        images.add(new Image(io.crash(rnd), a, inFlight[0]));
                    }
                }
            };
            HardState hs = HardState.INITIAL;
            for (int i = 0; i < 30; i++) {
                hs = next(rnd, hs);
                inFlight[0] = hs;
                s.persist(hs, List.of()).get(10, TimeUnit.SECONDS);
                acked.add(hs);
                // after the fsync returned, before the next update: the acknowledged state
                images.add(new Image(io.crash(), hs, hs));
            }
            io.beforeForce = path -> { };
        }
        assertThat(images).hasSizeGreaterThanOrEqualTo(30 * 5);
        for (Image im : images) {
            HardState got = recover(im.fs());
            assertThat(got).as("recovered (acknowledged %s, in flight %s)", im.acked(), im.inFlight())
                    .isIn(im.acked(), im.inFlight());
            assertThat(got.term()).isGreaterThanOrEqualTo(im.acked().term());
            if (got.term() == im.acked().term() && im.acked().votedFor() != null) {
                assertThat(got.votedFor()).as("acknowledged vote").isEqualTo(im.acked().votedFor());
            }
            byte[] file = im.fs().read(HS);
            String[] why = new String[1];
            if (Formats.decodeHardStateSlot(file, 0, HS, why) == null
                    || Formats.decodeHardStateSlot(file, 1, HS, why) == null) {
                torn++;
            }
        }
        assertThat(torn).as("images with a torn slot").isPositive();
        assertThat(recover(io.crash())).isEqualTo(acked.get(acked.size() - 1));
    }

    /**
     * The new slot torn after every byte of the 4096: the first bytes new, the rest what the slot
     * held before. The file recovers the previous state (or, once every byte that differs is
     * written, the new one), and the next update works.
     */
    @Test
    void aSlotTornAtEveryByteRecoversThePreviousState() throws Exception {
        SimFileIO io = new SimFileIO();
        HardState before = new HardState(7, "n2", 900_000_000L);
        HardState after = new HardState(8, "n3", 900_000_000L);
        try (FileRaftStorage s = FileRaftStorage.open(DIR, CrashRecoveryTest.opts(io))) {
            s.persist(new HardState(6, "n1"), List.of()).get(10, TimeUnit.SECONDS);
            s.persist(before, List.of()).get(10, TimeUnit.SECONDS);
        }
        byte[] durable = io.read(HS);
        HardStateFile.Loaded l = HardStateFile.read(io, HS);
        assertThat(l.state()).isEqualTo(before);
        int target = 1 - l.slot();
        int off = target * Formats.HARD_STATE_SLOT_SIZE;
        byte[] slot = Formats.encodeHardStateSlot(l.seq() + 1, after);
        int lastDifferent = off;
        for (int i = 0; i < slot.length; i++) {
            if (slot[i] != durable[off + i]) {
                lastDifferent = i;
            }
        }
        int previous = 0;
        for (int k = 0; k <= slot.length; k++) {
            byte[] file = durable.clone();
            System.arraycopy(slot, 0, file, off, k);
            SimFileIO torn = io.copyAll();
            torn.overwrite(HS, file);
            HardStateFile.Loaded got = HardStateFile.read(torn, HS);
            if (k > lastDifferent) {
                assertThat(got.state()).as("torn after %d bytes", k).isEqualTo(after);
            } else if (k < Formats.HARD_STATE_SLOT_SIZE - 4) {
                assertThat(got.state()).as("torn after %d bytes", k).isEqualTo(before);
                previous++;
            } else {
                // torn inside the checksum: one flipped bit may explain the rest, which is the new state
                assertThat(got.state()).as("torn after %d bytes", k).isIn(before, after);
            }
        }
        assertThat(previous).isGreaterThan(4000);
        // A whole store starts on a torn image, says so, and then writes over the torn slot.
        byte[] file = durable.clone();
        System.arraycopy(slot, 0, file, off, 100);
        SimFileIO torn = io.copyAll();
        torn.overwrite(HS, file);
        try (FileRaftStorage s = FileRaftStorage.open(DIR, CrashRecoveryTest.opts(torn))) {
            assertThat(s.hardState()).isEqualTo(before);
            assertThat(s.recoveryWarnings()).singleElement().asString().contains("slot " + target + " is invalid");
            s.persist(after, List.of()).get(10, TimeUnit.SECONDS);
        }
        assertThat(HardStateFile.read(torn.crash(), HS).slot()).isEqualTo(target);
        assertThat(recover(torn.crash())).isEqualTo(after);
    }

    /**
     * One flipped bit in the newest slot (damage on the disk after the update was acknowledged) is
     * corrected, not mistaken for a torn write: the acknowledged vote is kept, and rewritten.
     */
    @Test
    void oneFlippedBitInTheNewestSlotIsCorrectedNotForgotten() throws Exception {
        SimFileIO io = new SimFileIO();
        HardState acked = new HardState(12, "n2", 5_000L);
        try (FileRaftStorage s = FileRaftStorage.open(DIR, CrashRecoveryTest.opts(io))) {
            s.persist(new HardState(11, "n1"), List.of()).get(10, TimeUnit.SECONDS);
            s.persist(acked, List.of()).get(10, TimeUnit.SECONDS);
        }
        byte[] durable = io.read(HS);
        int newest = HardStateFile.read(io, HS).slot();
        Random rnd = new Random(5);
        for (int i = 0; i < 64; i++) {
            long bit = newest * Formats.HARD_STATE_SLOT_SIZE * 8L + (i < 32 ? i : rnd.nextInt(Formats.HARD_STATE_SLOT_SIZE * 8));
            SimFileIO damaged = io.copyAll();
            damaged.overwrite(HS, durable);
            damaged.flipBit(HS, bit);
            assertThat(Arrays.equals(damaged.read(HS), durable)).isFalse();
            try (FileRaftStorage s = FileRaftStorage.open(DIR, CrashRecoveryTest.opts(damaged))) {
                assertThat(s.hardState()).as("bit %d", bit).isEqualTo(acked);
                assertThat(s.recoveryWarnings()).singleElement().asString().contains("corrected");
            }
            HardStateFile.Loaded again = HardStateFile.read(damaged.crash(), HS);
            assertThat(again.state()).isEqualTo(acked);
            assertThat(again.slot()).as("rewritten at start into the other slot").isEqualTo(1 - newest);
        }
    }
}
