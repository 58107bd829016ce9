package dev.receptive.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.receptive.testing.Close;
import org.junit.jupiter.api.Test;

/** Philox4x32-10 against the known answers and the check vector of docs/design.md, "Dropout RNG". */
class PhiloxTest {
    private static final long SEED = 0x0123456789ABCDEFL;
    private static final int STREAM = 7;
    private static final int STEP = 3;

    @Test
    void zeroKeyAndCounterGiveTheKnownAnswer() {
        int[] out = new int[4];
        Philox.block(0, 0, 0, 0, 0, 0, out);
        assertArrayEquals(new int[] {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}, out);
    }

    @Test
    void piDigitsGiveTheKnownAnswer() {
        int[] out = new int[4];
        Philox.block(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, out);
        assertArrayEquals(new int[] {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}, out);
    }

    @Test
    void checkVectorUniforms() {
        float[] u = {
            Philox.uniform(SEED, STREAM, STEP, 0),
            Philox.uniform(SEED, STREAM, STEP, 1),
            Philox.uniform(SEED, STREAM, STEP, 2),
            Philox.uniform(SEED, STREAM, STEP, 3),
            // 2³³ + 5: the high counter word is 2 and word 1 of the block is used.
            Philox.uniform(SEED, STREAM, STEP, (1L << 33) + 5),
        };
        // docs/design.md prints 8 decimals: half a unit of the last digit.
        Close.assertClose("u", new double[] {0.13735640, 0.23019934, 0.59017342, 0.67420077, 0.83657801}, u, 5e-9, 0);
    }

    @Test
    void checkVectorKeepMask() {
        StringBuilder mask = new StringBuilder();
        for (int i = 0; i < 32; i++) {
            mask.append(Philox.keep(SEED, STREAM, STEP, i, 0.5f) ? '1' : '0');
        }
        assertEquals("00111001011110111010000010101100", mask.toString());
    }

    @Test
    void wordsMapOntoTheUnitIntervalWithoutReachingOne() {
        assertEquals(0f, Philox.toUniform(0));
        assertEquals(0f, Philox.toUniform(0xFF), "the low 8 bits are dropped");
        assertEquals(0.5f, Philox.toUniform(0x80000000));
        assertEquals(1f - 0x1p-24f, Philox.toUniform(0xFFFFFFFF));
    }

    @Test
    void keepThresholdDecidesLikeTheUniformComparison() {
        float[] ps = {0.5f, 0.3f, 0.1f, 0.04f, 1e-30f, Float.MIN_VALUE, 0x1p-24f, Math.nextUp(0x1p-24f),
            Math.nextDown(1f), 0.999f};
        for (float p : ps) {
            int threshold = Philox.keepThreshold(p);
            for (int k = Math.max(0, threshold - 2); k <= Math.min((1 << 24) - 1, threshold + 2); k++) {
                boolean byUniform = Philox.toUniform(k << 8) >= p;
                assertEquals(byUniform, k >= threshold, "p " + p + ", k " + k + ", threshold " + threshold);
            }
        }
    }

    @Test
    void dropoutBlockSplitsTheGroupAndSeedIntoCounterAndKey() {
        long group = 0x0000000500000009L;
        int[] viaDropout = new int[4];
        int[] direct = new int[4];
        Philox.dropoutBlock(SEED, STREAM, STEP, group, viaDropout);
        Philox.block(9, 5, STEP, STREAM, 0x89ABCDEF, 0x01234567, direct);
        assertArrayEquals(direct, viaDropout);
    }
}
