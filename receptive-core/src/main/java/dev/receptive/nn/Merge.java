package dev.receptive.nn;

import dev.receptive.backend.Backend;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import java.util.List;

/**
 * A graph node that combines the outputs of two or more nodes: {@link Add} (a residual
 * connection) or {@link Concat} (channels side by side). Merges have no parameters or settings.
 */
public abstract sealed class Merge permits Add, Concat {
    Merge() {
    }

    /** {@return the type as written in architecture JSON: "Add" or "Concat"} */
    public final String type() {
        return getClass().getSimpleName();
    }

    /**
     * The item output shape for item inputs {@code in} (at least two).
     *
     * @throws IllegalArgumentException saying what does not fit, with the shapes
     */
    abstract Shape outputShape(List<Shape> in);

    /** y = merge(x₀, x₁, …). y: (N, output...); xs: (N, input_i...). */
    abstract void forward(Backend backend, Tensor y, List<Tensor> xs);

    /**
     * Writes dx_i = ∂L/∂x_i for every non-null dx_i (overwriting it) from dy. Shapes as in
     * {@link #forward}; {@code in} are the item input shapes.
     */
    abstract void backward(Backend backend, List<Tensor> dxs, Tensor dy, List<Shape> in);
}
