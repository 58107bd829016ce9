package dev.receptive.nn;

import dev.receptive.backend.Activation;

/** y = tanh(x), elementwise. */
public final class Tanh extends PointwiseActivation {

    /** The layer; it has no settings and no parameters. */
    public Tanh() {
        super(Activation.TANH);
    }
}
