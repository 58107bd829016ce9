package dev.receptive.backend;

/**
 * Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11), the
 * counter-based generator behind every dropout mask; see docs/design.md, "Dropout RNG".
 *
 * <p>Element i of a dropout call draws word i &amp; 3 of the block with key (lo32(seed),
 * hi32(seed)) and counter (lo32(i &gt;&gt; 2), hi32(i &gt;&gt; 2), step, stream). Being a pure
 * function of those numbers, the mask is the same on every backend and for every thread count,
 * and a GPU test can recompute it from here.
 */
public final class Philox {
    private static final int M0 = 0xD2511F53;
    private static final int M1 = 0xCD9E8D57;
    private static final int W0 = 0x9E3779B9;
    private static final int W1 = 0xBB67AE85;
    private static final int ROUNDS = 10;
    /** 2⁻²⁴: the top 24 bits of a word make a float in [0, 1) exactly. */
    private static final float INV_2_24 = 0x1p-24f;

    private Philox() {
    }

    /**
     * One Philox4x32-10 block: the four output words for a counter and a key.
     *
     * @param c0 counter word 0
     * @param c1 counter word 1
     * @param c2 counter word 2
     * @param c3 counter word 3
     * @param k0 key word 0
     * @param k1 key word 1
     * @param out receives the four words in out[0..3]
     */
    public static void block(int c0, int c1, int c2, int c3, int k0, int k1, int[] out) {
        for (int r = 0; r < ROUNDS; r++) {
            if (r > 0) {
                k0 += W0;
                k1 += W1;
            }
            // Unsigned 32×32 → 64-bit products; int overflow in the key bump is the intended mod 2³².
            long p0 = (M0 & 0xFFFFFFFFL) * (c0 & 0xFFFFFFFFL);
            long p1 = (M1 & 0xFFFFFFFFL) * (c2 & 0xFFFFFFFFL);
            int n0 = (int) (p1 >>> 32) ^ c1 ^ k0;
            int n1 = (int) p1;
            int n2 = (int) (p0 >>> 32) ^ c3 ^ k1;
            int n3 = (int) p0;
            c0 = n0;
            c1 = n1;
            c2 = n2;
            c3 = n3;
        }
        out[0] = c0;
        out[1] = c1;
        out[2] = c2;
        out[3] = c3;
    }

    /**
     * The block that holds elements 4·group … 4·group + 3 of a dropout call.
     *
     * @param seed the call's seed (the key)
     * @param stream the call's stream (counter word 3)
     * @param step the call's step (counter word 2)
     * @param group the element index divided by 4 (counter words 0 and 1)
     * @param out receives the four words in out[0..3]
     */
    public static void dropoutBlock(long seed, int stream, int step, long group, int[] out) {
        block((int) group, (int) (group >>> 32), step, stream, (int) seed, (int) (seed >>> 32), out);
    }

    /**
     * A word's top 24 bits as a float in [0, 1), exact in float32.
     *
     * @param word a Philox output word
     * @return (word &gt;&gt;&gt; 8) · 2⁻²⁴
     */
    public static float toUniform(int word) {
        return (word >>> 8) * INV_2_24;
    }

    /**
     * The keep test in integers: keep ⟺ (word &gt;&gt;&gt; 8) ≥ threshold, the same test as
     * {@code toUniform(word) >= p} (p · 2²⁴ is exact in double).
     *
     * @param p the drop probability
     * @return the smallest k with k · 2⁻²⁴ ≥ p
     */
    public static int keepThreshold(float p) {
        return (int) Math.ceil(p * 0x1p24);
    }

    /**
     * The uniform number of one element of a dropout call.
     *
     * @param seed the call's seed
     * @param stream the call's stream
     * @param step the call's step
     * @param index the element's index in the whole batch (offset + i)
     * @return u in [0, 1)
     */
    public static float uniform(long seed, int stream, int step, long index) {
        int[] out = new int[4];
        dropoutBlock(seed, stream, step, index >>> 2, out);
        return toUniform(out[(int) (index & 3)]);
    }

    /**
     * Whether dropout keeps one element.
     *
     * @param seed the call's seed
     * @param stream the call's stream
     * @param step the call's step
     * @param index the element's index in the whole batch (offset + i)
     * @param p the drop probability
     * @return u ≥ p
     */
    public static boolean keep(long seed, int stream, int step, long index, float p) {
        return uniform(seed, stream, step, index) >= p;
    }
}
