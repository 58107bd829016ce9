package dev.receptive.testing;

import java.util.SplittableRandom;

/** Seeded random test data, so every failure can be replayed. */
public final class Rand {
    private final SplittableRandom random;

    public Rand(long seed) {
        this.random = new SplittableRandom(seed);
    }

    /** n values uniform in [lo, hi). */
    public float[] uniform(int n, double lo, double hi) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (lo + (hi - lo) * random.nextDouble());
        }
        return a;
    }

    public int nextInt(int lo, int hiInclusive) {
        return random.nextInt(lo, hiInclusive + 1);
    }

    /** n class labels in [0, classes), as floats (the op contract stores labels as floats). */
    public float[] labels(int n, int classes) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = random.nextInt(classes);
        }
        return a;
    }
}
