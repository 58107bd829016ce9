package dev.receptive.nn;

import dev.receptive.backend.Activation;

/** y = max(0, x), elementwise. */
public final class ReLU extends PointwiseActivation {

    /** The layer; it has no settings and no parameters. */
    public ReLU() {
        super(Activation.RELU);
    }
}
