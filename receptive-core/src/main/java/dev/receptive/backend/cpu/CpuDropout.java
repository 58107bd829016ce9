package dev.receptive.backend.cpu;

import dev.receptive.backend.Philox;

/** Inverted dropout with the Philox mask of DESIGN (see dev.receptive.backend.Philox). */
final class CpuDropout {
    /** Blocks per parallel chunk at least (4096 elements, ~10 µs): less is not worth a thread hand-off. */
    private static final int GRAIN_BLOCKS = 1024;

    private CpuDropout() {
    }

    // y, x: any shape, n elements; y may be x
    static void apply(CpuParallel par, float[] y, float[] x, int n, float p, long seed, int stream, int step) {
        if (p == 0) {
            // Every u ≥ 0 is kept and the scale is exactly 1: the identity, without drawing numbers.
            if (y != x) {
                System.arraycopy(x, 0, y, 0, n);
            }
            return;
        }
        // The scale is rounded once in float32, as 1f / (1f − p); (float) (1.0 / (1.0 − p)) rounds a
        // different quotient and differs in the last bit for some p (0.04), so every backend uses this form.
        float scale = 1f / (1f - p);
        int threshold = Philox.keepThreshold(p);
        int blocks = (int) (((long) n + 3) / 4);
        // Each block of 4 elements is a pure function of its index, so chunking changes nothing.
        par.forRange(blocks, GRAIN_BLOCKS, (from, to) -> {
            int[] words = new int[4];
            for (int b = from; b < to; b++) {
                Philox.dropoutBlock(seed, stream, step, b, words);
                int base = 4 * b;
                int end = Math.min(4, n - base);
                for (int j = 0; j < end; j++) {
                    int i = base + j;
                    // keep ⟺ u ≥ p ⟺ (word >>> 8) ≥ threshold, as an all-ones or all-zeros mask: a
                    // branch here is mispredicted for half the elements at p = 0.5, and this
                    // branch-free form measured 2.4× faster. Dropped elements become +0.
                    int keep = ~(((words[j] >>> 8) - threshold) >> 31);
                    y[i] = Float.intBitsToFloat(Float.floatToRawIntBits(x[i] * scale) & keep);
                }
            }
        });
    }
}
