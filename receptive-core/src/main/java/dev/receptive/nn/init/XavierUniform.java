package dev.receptive.nn.init;

import java.util.random.RandomGenerator;

/** U(−a, a) with a = √(6/(fan_in + fan_out)), like PyTorch's xavier_uniform_ with gain 1. */
final class XavierUniform implements Init {
    static final XavierUniform INSTANCE = new XavierUniform();

    private XavierUniform() {
    }

    @Override
    public String name() {
        return "xavier";
    }

    @Override
    public void initialize(float[] values, int fanIn, int fanOut, RandomGenerator random) {
        double a = Math.sqrt(6.0 / (fanIn + fanOut));
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextDouble(-a, a);
        }
    }

    @Override
    public String toString() {
        return "Init.xavier()";
    }
}
