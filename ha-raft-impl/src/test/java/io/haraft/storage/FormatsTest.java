package io.haraft.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The single-bit-flip detector that tells a flipped bit from a torn write. */
class FormatsTest {
    @Test
    void everySingleBitFlipIsRecognised() {
        Random rnd = new Random(5);
        for (int len : new int[] {1, 17, 145, 600}) {
            byte[] b = new byte[len];
            rnd.nextBytes(b);
            int crc = Formats.crc(b, 0, len);
            assertThat(Formats.singleBitFlip(b, 0, len, crc ^ 0x10)).isTrue();
            for (int bit = 0; bit < len * 8; bit++) {
                b[bit / 8] ^= (byte) (1 << (bit % 8));
                assertThat(Formats.singleBitFlip(b, 0, len, crc)).as("len %d bit %d", len, bit).isTrue();
                b[bit / 8] ^= (byte) (1 << (bit % 8));
            }
        }
    }

    @Test
    void zeroedTailsAreAlmostNeverMistakenForAFlip() {
        Random rnd = new Random(6);
        int mistaken = 0;
        for (int t = 0; t < 2000; t++) {
            byte[] b = new byte[17 + rnd.nextInt(300)];
            rnd.nextBytes(b);
            int crc = Formats.crc(b, 0, b.length);
            int cut = rnd.nextInt(b.length - 1);
            for (int i = cut; i < b.length; i++) {
                b[i] = 0;
            }
            if (b.length - cut > 1 && Formats.singleBitFlip(b, 0, b.length, crc)) {
                mistaken++;
            }
        }
        assertThat(mistaken).isLessThan(5);
    }

    @Test
    void aFlippedBitIsLocatedInItsByte() {
        Random rnd = new Random(11);
        for (int t = 0; t < 300; t++) {
            byte[] b = new byte[1 + rnd.nextInt(200)];
            rnd.nextBytes(b);
            int crc = Formats.crc(b, 0, b.length);
            int at = rnd.nextInt(b.length);
            b[at] ^= (byte) (1 << rnd.nextInt(8));
            assertThat(Formats.flippedByte(b, 0, b.length, crc)).as("byte %d of %d", at, b.length).isEqualTo(at);
            b[at] ^= (byte) 0xFF; // now several bits differ there
            assertThat(Formats.flippedByte(b, 0, b.length, crc)).isIn(Formats.NO_FLIP, at);
        }
        byte[] b = {1, 2, 3};
        assertThat(Formats.flippedByte(b, 0, 3, Formats.crc(b, 0, 3) ^ 0x100)).isEqualTo(Formats.FLIP_IN_CHECKSUM);
    }
}
