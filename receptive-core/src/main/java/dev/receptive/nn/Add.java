package dev.receptive.nn;

import dev.receptive.backend.Backend;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import java.util.List;

/**
 * y = x₀ + x₁ + …, elementwise, for inputs of one shape: the merge of a residual connection
 * (PyTorch's {@code out + identity}). Each input's gradient is dy itself.
 */
public final class Add extends Merge {
    /** An elementwise sum of two or more inputs of the same shape. */
    public Add() {
    }

    @Override
    Shape outputShape(List<Shape> in) {
        for (Shape s : in) {
            if (!s.equals(in.get(0))) {
                throw new IllegalArgumentException("inputs of shapes " + in + " cannot be added: all must be equal");
            }
        }
        return in.get(0);
    }

    @Override
    void forward(Backend backend, Tensor y, List<Tensor> xs) {
        backend.add(y, xs.get(0), xs.get(1));
        for (int i = 2; i < xs.size(); i++) {
            backend.add(y, y, xs.get(i));
        }
    }

    @Override
    void backward(Backend backend, List<Tensor> dxs, Tensor dy, List<Shape> in) {
        for (Tensor dx : dxs) {
            if (dx != null) {
                backend.copy(dx, dy);
            }
        }
    }
}
