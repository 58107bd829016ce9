package dev.receptive.nn;

import dev.receptive.tensor.Tensor;

/** Parameters outside a model, for tests of the optimizers. */
public final class TestParameters {
    private TestParameters() {
    }

    /** A parameter named {@code name} holding {@code value} and {@code grad} (same shape). */
    public static Parameter of(String name, Tensor value, Tensor grad) {
        Parameter p = new Parameter(name, value.shape(), null, 0, 0, 0f);
        p.attach(value, grad);
        return p;
    }
}
