package dev.receptive.nn;

import dev.receptive.backend.Activation;

/** y = tanh(x), elementwise. */
public final class Tanh extends PointwiseActivation {

    public Tanh() {
        super(Activation.TANH);
    }
}
