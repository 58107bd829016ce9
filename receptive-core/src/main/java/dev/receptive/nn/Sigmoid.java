package dev.receptive.nn;

import dev.receptive.backend.Activation;

/** y = 1 / (1 + e^−x), elementwise. */
public final class Sigmoid extends PointwiseActivation {

    public Sigmoid() {
        super(Activation.SIGMOID);
    }
}
