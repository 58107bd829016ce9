package dev.receptive.backend;

/** Pointwise activations; each derivative is expressed through the output y. */
public enum Activation {
    /** y = max(0, x); dy/dx = [y > 0]. */
    RELU,
    /** y = tanh(x); dy/dx = 1 − y². */
    TANH,
    /** y = 1 / (1 + e^−x); dy/dx = y·(1 − y). */
    SIGMOID
}
