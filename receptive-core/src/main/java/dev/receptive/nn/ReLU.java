package dev.receptive.nn;

import dev.receptive.backend.Activation;

/** y = max(0, x), elementwise. */
public final class ReLU extends PointwiseActivation {

    public ReLU() {
        super(Activation.RELU);
    }
}
