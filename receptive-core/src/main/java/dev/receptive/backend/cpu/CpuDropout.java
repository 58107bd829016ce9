package dev.receptive.backend.cpu;

import dev.receptive.backend.Philox;

/** Inverted dropout with the Philox mask of docs/design.md (see dev.receptive.backend.Philox). */
final class CpuDropout {
    /** Blocks per parallel chunk at least (4096 elements, ~10 µs): less is not worth a thread hand-off. */
    private static final int GRAIN_BLOCKS = 1024;

    private CpuDropout() {
    }

    // y, x: any shape, n elements; y may be x. Element i draws the number of index offset + i.
    static void apply(CpuParallel par, float[] y, float[] x, int n, float p, long seed, int stream, int step,
            long offset) {
        if (p == 0) {
            // Every u ≥ 0 is kept and the scale is exactly 1: the identity, without drawing numbers.
            if (y != x) {
                System.arraycopy(x, 0, y, 0, n);
            }
            return;
        }
        if (n == 0) {
            return;
        }
        // The scale is rounded once in float32, as 1f / (1f − p); (float) (1.0 / (1.0 − p)) rounds a
        // different quotient and differs in the last bit for some p (0.04), so every backend uses this form.
        float scale = 1f / (1f - p);
        int threshold = Philox.keepThreshold(p);
        long firstBlock = offset >>> 2;
        int blocks = (int) (((offset + n - 1) >>> 2) - firstBlock + 1);
        // Each block of 4 elements is a pure function of its index, so chunking changes nothing.
        par.forRange(blocks, GRAIN_BLOCKS, (from, to) -> {
            int[] words = new int[4];
            for (int b = from; b < to; b++) {
                long block = firstBlock + b;
                Philox.dropoutBlock(seed, stream, step, block, words);
                // The block's elements that fall in [offset, offset + n), as indices into x and y.
                long first = 4 * block - offset;
                int lo = (int) Math.max(0, -first);
                int hi = (int) Math.min(4, n - first);
                for (int j = lo; j < hi; j++) {
                    int i = (int) (first + j);
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
