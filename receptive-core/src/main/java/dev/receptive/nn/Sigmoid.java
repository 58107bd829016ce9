package dev.receptive.nn;

import dev.receptive.backend.Activation;

/** y = 1 / (1 + e^−x), elementwise. */
public final class Sigmoid extends PointwiseActivation {

    /** The layer; it has no settings and no parameters. */
    public Sigmoid() {
        super(Activation.SIGMOID);
    }
}
