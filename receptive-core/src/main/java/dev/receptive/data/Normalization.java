package dev.receptive.data;

/**
 * How pixel bytes become inputs: x = (p / 255 − mean) / std. The dataset constants are the
 * per-pixel mean and standard deviation of each training set (the values torchvision's
 * examples use), so normalized inputs have mean ≈ 0 and variance ≈ 1.
 *
 * @param mean subtracted from p / 255; finite
 * @param std divides the difference; finite and &gt; 0
 */
public record Normalization(double mean, double std) {
    /** MNIST's training-set statistics: mean 0.1307, std 0.3081. */
    public static final Normalization MNIST = new Normalization(0.1307, 0.3081);
    /** Fashion-MNIST's training-set statistics: mean 0.2860, std 0.3530. */
    public static final Normalization FASHION_MNIST = new Normalization(0.2860, 0.3530);
    /** Plain p / 255, in [0, 1]. */
    public static final Normalization UNIT_RANGE = new Normalization(0, 1);

    /**
     * Checks both values.
     *
     * @param mean finite
     * @param std finite and &gt; 0
     * @throws IllegalArgumentException when either is out of range
     */
    public Normalization {
        if (!Double.isFinite(mean) || !(std > 0) || Double.isInfinite(std)) {
            throw new IllegalArgumentException("Normalization: mean must be finite and std finite and > 0, got mean "
                    + mean + ", std " + std);
        }
    }

    /** The input value of every pixel byte 0..255, computed once so loading is a table look-up. */
    float[] table() {
        float[] t = new float[256];
        for (int p = 0; p < 256; p++) {
            t[p] = (float) ((p / 255.0 - mean) / std);
        }
        return t;
    }
}
