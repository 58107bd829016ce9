package dev.receptive.nn.init;

import java.util.random.RandomGenerator;

/**
 * How a weight tensor starts. Biases always start at zero.
 *
 * <p>PyTorch differs: its Conv2d and Linear draw weights (and biases) from
 * U(−1/√fan_in, 1/√fan_in) (kaiming_uniform_ with a = √5). Receptive defaults to He normal with
 * zero biases, the choice He et al. derived for ReLU networks and what Keras and most CNN
 * recipes use; {@link #xavier()} is Glorot uniform, Keras's default.
 */
public interface Init {

    /** {@return the name used in architecture JSON: "he" or "xavier"} */
    String name();

    /**
     * Fills {@code values} (one weight tensor, any layout) given its fans: for a dense layer
     * (out, in) fan_in = in and fan_out = out; for a conv layer (K, C, R, S) fan_in = C·R·S and
     * fan_out = K·R·S.
     *
     * @param values overwritten with the drawn weights
     * @param fanIn inputs per output unit, ≥ 1
     * @param fanOut outputs per input unit, ≥ 1
     * @param random the source of the draws; the same source state gives the same values
     */
    void initialize(float[] values, int fanIn, int fanOut, RandomGenerator random);

    /** {@return Kaiming normal, fan_in mode, gain √2 (He et al. 2015): N(0, 2/fan_in)} */
    static Init he() {
        return HeNormal.INSTANCE;
    }

    /** {@return Glorot uniform (Glorot and Bengio 2010): U(−a, a) with a = √(6/(fan_in + fan_out))} */
    static Init xavier() {
        return XavierUniform.INSTANCE;
    }

    /**
     * The init called {@code name} in architecture JSON.
     *
     * @param name "he" or "xavier"
     * @return that init
     * @throws IllegalArgumentException for any other name
     */
    static Init byName(String name) {
        return switch (name) {
            case "he" -> he();
            case "xavier" -> xavier();
            default -> throw new IllegalArgumentException("Init: unknown init '" + name + "' (known: he, xavier)");
        };
    }
}
