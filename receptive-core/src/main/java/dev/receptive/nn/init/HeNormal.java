package dev.receptive.nn.init;

import java.util.random.RandomGenerator;

/** N(0, 2/fan_in), untruncated, like PyTorch's kaiming_normal_(mode='fan_in', nonlinearity='relu'). */
final class HeNormal implements Init {
    static final HeNormal INSTANCE = new HeNormal();

    private HeNormal() {
    }

    @Override
    public String name() {
        return "he";
    }

    @Override
    public void initialize(float[] values, int fanIn, int fanOut, RandomGenerator random) {
        double std = Math.sqrt(2.0 / fanIn);
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (std * random.nextGaussian());
        }
    }

    @Override
    public String toString() {
        return "Init.he()";
    }
}
